"""Footprints, tiers and verdicts (SPEC §1, §2, §6)."""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from ctxgate.config import Limits
from ctxgate.measure import SKIP_KEYS, FileRecord, Measurement
from ctxgate.ownership import Component

TIERS = ("green", "yellow", "orange", "red", "emergency")
TIER_ACTIONS = {
    "green": "ideal size",
    "yellow": "monitor growth, plan a split",
    "orange": "split before major work",
    "red": "split trigger crossed: split now",
    "emergency": "STOP: split before any work",
}


@dataclass(frozen=True)
class FileRow:
    path: str
    tokens: int
    lines: int
    test: bool = False


@dataclass(frozen=True)
class Usage:
    files: int = 0
    lines: int = 0
    bytes: int = 0
    tokens: int = 0
    test_tokens: int = 0
    context_tokens: int = 0
    footprint: int = 0
    rows: tuple[FileRow, ...] = ()
    context_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Totals:
    files: int
    tokens: int
    lines: int
    unowned_files: int
    unowned_tokens: int
    skipped: dict[str, int]


def tier(footprint: int, limits: Limits) -> str:
    for name, limit in zip(TIERS, (limits.optimal, limits.warning, limits.split, limits.emergency)):
        if footprint <= limit:
            return name
    return "emergency"


def _tokens(f: FileRecord) -> int:
    return f.stats.tokens if f.stats is not None else 0


def usage(m: Measurement) -> dict[str, Usage]:
    count_tests = m.config.count_tests
    own: dict[str, list[FileRow]] = {c.name: [] for c in m.components}
    sizes: dict[str, int] = {c.name: 0 for c in m.components}
    counted: dict[str, FileRecord] = {}
    for f in m.files:
        if f.skipped is not None or f.stats is None:
            continue
        counted[f.path] = f
        if f.component is not None and f.component in own:
            own[f.component].append(FileRow(f.path, f.stats.tokens, f.stats.lines, f.test))
            sizes[f.component] += f.stats.size
    shared = [p for p in counted if m.context[""].match(p) is not None]
    out: dict[str, Usage] = {}
    for c in m.components:
        rows = own[c.name]
        ctx_paths = list(shared)
        if c.name in m.context:
            ctx_paths += [p for p in counted if m.context[c.name].match(p) is not None]
        ctx = [p for p in dict.fromkeys(ctx_paths) if counted[p].component != c.name]
        tokens = sum(r.tokens for r in rows if not r.test)
        test_tokens = sum(r.tokens for r in rows if r.test)
        context_tokens = sum(_tokens(counted[p]) for p in ctx)
        out[c.name] = Usage(
            files=len(rows), lines=sum(r.lines for r in rows), bytes=sizes[c.name],
            tokens=tokens, test_tokens=test_tokens, context_tokens=context_tokens,
            footprint=tokens + (test_tokens if count_tests else 0) + context_tokens,
            rows=tuple(sorted(rows, key=lambda r: r.path)), context_files=tuple(sorted(ctx)),
        )
    return out


def totals(m: Measurement) -> Totals:
    skipped = dict.fromkeys(SKIP_KEYS, 0)
    files = tokens = lines = un_files = un_tokens = 0
    for f in m.files:
        if f.skipped is not None:
            skipped[f.skipped] += 1
            continue
        assert f.stats is not None
        files += 1
        tokens += f.stats.tokens
        lines += f.stats.lines
        if f.component is None:
            un_files += 1
            un_tokens += f.stats.tokens
    return Totals(files, tokens, lines, un_files, un_tokens, skipped)


def fail_limit(limits: Limits, fail_on: str) -> int:
    return int(getattr(limits, fail_on))


@dataclass(frozen=True)
class Verdict:
    verdict: str  # ok | notice | warn | blocked
    message: str
    emergency: bool = False


def judge(target: int, base: int | None, limits: Limits, fail_on: str) -> Verdict:
    """The gate's rule for one component (SPEC §6)."""
    limit = fail_limit(limits, fail_on)
    b = base or 0
    if target > limit:
        over = target - limit
        if target < b:
            return Verdict("warn", f"shrinks by {b - target:,} but is still {over:,} over its "
                                   f"{fail_on} limit ({limit:,})")
        emergency = fail_on == "split" and target > limits.emergency
        if emergency:
            return Verdict("blocked", f"EMERGENCY: {target:,} tokens is over the emergency limit "
                                      f"({limits.emergency:,}); stop and split before any work", True)
        return Verdict("blocked", f"{target:,} tokens is {over:,} over the {fail_on} limit ({limit:,})")
    if target > limits.warning:
        return Verdict("warn", f"above the warning limit ({limits.warning:,}): split before major work")
    if target > limits.optimal:
        return Verdict("notice", f"above optimal ({limits.optimal:,}): monitor growth, plan a split")
    return Verdict("ok", "")


@dataclass(frozen=True)
class ComponentResult:
    component: Component
    usage: Usage
    tier: str
    base: Usage | None
    judged: bool
    verdict: Verdict

    @property
    def name(self) -> str:
        return self.component.name

    @property
    def delta(self) -> int | None:
        return None if self.base is None else self.usage.footprint - self.base.footprint


@dataclass(frozen=True)
class Result:
    command: str
    encoding: str
    scale: float
    target_kind: str
    target_commit: str | None
    base_commit: str | None
    limits: Limits
    fail_on: str
    components: tuple[ComponentResult, ...]
    totals: Totals
    unowned_touched: tuple[str, ...] = ()
    unowned_policy: str = "ignore"
    notes: tuple[str, ...] = field(default_factory=tuple)
    files_detail: bool = False

    @property
    def status(self) -> str:
        if any(c.judged and c.verdict.verdict == "blocked" for c in self.components):
            return "fail"
        if self.unowned_policy == "error" and self.unowned_touched:
            return "fail"
        if self.warned:
            return "warn"
        return "pass"

    @property
    def blocked(self) -> list[ComponentResult]:
        return [c for c in self.components if c.judged and c.verdict.verdict == "blocked"]

    @property
    def warned(self) -> list[ComponentResult]:
        return [c for c in self.components if c.judged and c.verdict.verdict == "warn"]


def judge_all(components: Sequence[Component], now: Mapping[str, Usage], before: Mapping[str, Usage] | None,
              judged: Collection[str] | None, fail_on: str) -> tuple[ComponentResult, ...]:
    """One result per component; *before* None means no base, *judged* None every component."""
    results = []
    for comp in components:
        u = now.get(comp.name, Usage())
        b = before.get(comp.name, Usage()) if before is not None else None
        v = judge(u.footprint, b.footprint if b is not None else None, comp.limits, fail_on)
        is_judged = judged is None or comp.name in judged
        results.append(ComponentResult(comp, u, tier(u.footprint, comp.limits), b, is_judged, v))
    return tuple(results)


def build(
    command: str, target: Measurement, base: Measurement | None, *, judged: Sequence[str] | None,
    base_commit: str | None, files_detail: bool = False, unowned_touched: Sequence[str] = (),
    notes: Sequence[str] = (), fail_on: str | None = None,
) -> Result:
    """Combine measurements into a result; *judged* None means every component.

    *fail_on* overrides the config's (``check --fail-on``, the action's input).
    """
    cfg = target.config
    fail_on = fail_on or cfg.fail_on
    results = judge_all(target.components, usage(target), usage(base) if base is not None else None,
                        judged, fail_on)
    return Result(
        command=command, encoding=cfg.encoding, scale=cfg.scale,
        target_kind=target.snapshot.target.kind, target_commit=target.snapshot.target.commit,
        base_commit=base_commit, limits=cfg.limits, fail_on=fail_on,
        components=results, totals=totals(target), unowned_touched=tuple(unowned_touched),
        unowned_policy=cfg.unowned, notes=tuple(notes), files_detail=files_detail,
    )
