"""Per-tree footprints kept between runs, and how a change moves them.

Every number in a component's usage and in the totals is a sum over files,
so the footprints of a tree follow from those of another tree plus the files
that differ between the two. The gate uses this to measure only what a
commit changes: the base is looked up (or derived from the last tree seen),
the target is the base plus the diff.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ctxgate import __version__
from ctxgate.budget import Totals, Usage, totals, usage
from ctxgate.cache import COUNTER_VERSION
from ctxgate.cache import BlobStats
from ctxgate.config import Config
from ctxgate.measure import SKIP_KEYS, FileRecord, Measurement

# Bump when what a summary holds, or how it is derived, changes.
SUMMARY_VERSION = 1


@dataclass(frozen=True)
class Summary:
    usage: dict[str, Usage]
    totals: Totals
    # Directories of the tree (they decide which components exist).
    dirs: frozenset[str]
    # Counted files owned by no component, kept only when the config cares.
    unowned: frozenset[str] = frozenset()
    # Components the numbers were computed for, and the counted files a
    # context pattern matches: a component that appears later (a new
    # directory) still gets the context files the tree already had.
    known: frozenset[str] = frozenset()
    context: tuple[FileRecord, ...] = ()


def empty() -> Summary:
    return Summary({}, _zero_totals(), frozenset())


def _zero_totals() -> Totals:
    return Totals(0, 0, 0, 0, 0, dict.fromkeys(SKIP_KEYS, 0))


def _context_records(m: Measurement) -> list[FileRecord]:
    """Counted files any context pattern matches. A component that appears later
    can only add the global patterns (a named one always exists already), so
    these are all the context files it could ever list."""
    matchers = list(m.context.values())
    return [f for f in m.files if f.skipped is None and f.stats is not None
            and any(mt.match(f.path) is not None for mt in matchers)]


def fingerprint(cfg: Config, extra: Iterable[bytes] = ()) -> str:
    """What, besides a file's path and content, decides how it counts."""
    h = hashlib.sha256()
    h.update(f"{SUMMARY_VERSION}|{COUNTER_VERSION}|{__version__}|{cfg!r}".encode())
    for blob in extra:
        h.update(b"\0" + hashlib.sha256(blob).digest())
    return h.hexdigest()


def unowned_paths(m: Measurement) -> frozenset[str]:
    return frozenset(f.path for f in m.files if f.component is None and f.skipped is None and f.stats is not None)


def of(m: Measurement, dirs: Iterable[str]) -> Summary:
    """The summary of a full measurement (per-file rows dropped)."""
    keep = m.config.unowned != "ignore"
    return Summary({name: dataclasses.replace(u, rows=()) for name, u in usage(m).items()},
                   totals(m), frozenset(dirs), unowned_paths(m) if keep else frozenset(),
                   frozenset(c.name for c in m.components),
                   tuple(_context_records(m)))


def extended(s: Summary, like: Measurement) -> dict[str, Usage]:
    """Usage of *like*'s components that *s* has not seen: they own no file of that tree,
    so only the context files it holds count for them."""
    unknown = tuple(c for c in like.components if c.name not in s.known)
    if not unknown or not s.context:
        return dict(s.usage)
    m = Measurement(like.snapshot, like.config, unknown, s.context, like.context)
    return {**s.usage, **usage(m)}


def _combine(a: Any, plus: Any, minus: Any) -> Any:
    if isinstance(a, bool):
        return a
    if isinstance(a, int):
        return a + plus - minus
    if isinstance(a, dict):
        return {k: a.get(k, 0) + plus.get(k, 0) - minus.get(k, 0) for k in dict.fromkeys([*a, *plus, *minus])}
    return a


def _usage_delta(base: Usage, plus: Usage, minus: Usage) -> Usage:
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(Usage):
        name = f.name
        if name == "rows":
            changes[name] = ()
        elif name == "context_files":
            kept = set(base.context_files) - set(minus.context_files)
            changes[name] = tuple(sorted(kept | set(plus.context_files)))
        else:
            changes[name] = _combine(getattr(base, name), getattr(plus, name), getattr(minus, name))
    return Usage(**changes)


def apply(s: Summary, old: Measurement, new: Measurement, dirs: Iterable[str]) -> Summary:
    """*s* with the files of *old* replaced by those of *new* (both measured with one config)."""
    before, after = usage(old), usage(new)
    start = extended(s, new)
    # Only the components *new* was measured with can be kept up to date; any
    # other owns no file in either tree and is rebuilt from context if it returns.
    names = [c.name for c in new.components]
    zero = Usage()
    merged = {n: _usage_delta(start.get(n, zero), after.get(n, zero), before.get(n, zero)) for n in names}
    t_old, t_new = totals(old), totals(new)
    tot = Totals(**{f.name: _combine(getattr(s.totals, f.name), getattr(t_new, f.name), getattr(t_old, f.name))
                    for f in dataclasses.fields(Totals)})
    unowned = s.unowned
    gone = {f.path for f in old.files}
    if new.config.unowned != "ignore":
        unowned = frozenset((unowned - gone) | unowned_paths(new))
    context = [f for f in s.context if f.path not in gone] + _context_records(new)
    return Summary({n: u for n, u in merged.items() if u != zero}, tot, frozenset(dirs), unowned,
                   frozenset(names), tuple(sorted(context, key=lambda f: f.path)))


def dumps(s: Summary) -> bytes:
    doc = {
        "usage": {n: {k: v for k, v in dataclasses.asdict(u).items() if k != "rows"} for n, u in s.usage.items()},
        "totals": dataclasses.asdict(s.totals),
        "dirs": sorted(s.dirs),
        "unowned": sorted(s.unowned),
        "known": sorted(s.known),
        "context": [[f.path, f.blob, f.component, f.rule, f.test, f.stats.binary, f.stats.size, f.stats.lines,
                     f.stats.tokens] for f in s.context if f.stats is not None],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def loads(raw: bytes) -> Summary | None:
    """The stored summary, None when it cannot be read (then it is rebuilt)."""
    try:
        doc = json.loads(raw)
        use = {n: Usage(**{**u, "context_files": tuple(u["context_files"])}) for n, u in doc["usage"].items()}
        context = tuple(FileRecord(path, blob, comp, rule, None, "", test, BlobStats(binary, size, lines, tok))
                        for path, blob, comp, rule, test, binary, size, lines, tok in doc["context"])
        return Summary(use, Totals(**doc["totals"]), frozenset(doc["dirs"]), frozenset(doc["unowned"]),
                       frozenset(doc["known"]), context)
    except (ValueError, KeyError, TypeError):
        return None


def usage_of(s: Summary, like: Measurement) -> dict[str, Usage]:
    """Usage of each of *like*'s components in the tree *s* summarises."""
    use = extended(s, like)
    return {c.name: use.get(c.name, Usage()) for c in like.components}
