"""Small formatting helpers shared by the human-readable renderers."""
from __future__ import annotations

from collections.abc import Sequence

from ctxgate.budget import TIERS, ComponentResult, Totals, fail_limit
from ctxgate.config import Limits

# Where a target is not a commit, the words a person reads for it.
_TARGET_WORDS = {"index": "staged index", "worktree": "work tree"}


def num(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def signed(n: int | None) -> str:
    if n is None:
        return "–"
    return f"+{n:,}" if n > 0 else (f"{n:,}" if n < 0 else "0")


def per_line(tokens: int, lines: int) -> str:
    return f"{tokens / lines:.1f}" if lines else "–"


def estimate_error(c: ComponentResult) -> float | None:
    est = c.component.estimate
    if not est:
        return None
    return (c.usage.footprint - est) / est * 100


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:+.0f}%"


def target_label(kind: str, commit: str | None, *, code: bool = False) -> str:
    """``commit 1a2b3c4d5e6f``, ``staged index`` or ``work tree``.

    *code* puts the short sha in backticks, for markdown.
    """
    if kind == "commit":
        sha = (commit or "")[:12]
        return f"commit `{sha}`" if code else f"commit {sha}"
    return _TARGET_WORDS[kind]


def limit_label(c: ComponentResult, fail_on: str) -> str:
    """The limit the gate holds *c* to, e.g. ``split 120,000``."""
    return f"{fail_on} {num(fail_limit(c.component.limits, fail_on))}"


def tier_ranges(limits: Limits) -> list[str]:
    """The footprint range of each tier, in the order of :data:`ctxgate.budget.TIERS`."""
    ranges = [f"≤ {num(limits.optimal)}", f"{num(limits.optimal + 1)} – {num(limits.warning)}",
              f"{num(limits.warning + 1)} – {num(limits.split)}",
              f"{num(limits.split + 1)} – {num(limits.emergency)}", f"> {num(limits.emergency)}"]
    assert len(ranges) == len(TIERS)  # a new tier needs its range here too
    return ranges


def unowned_summary(t: Totals) -> str:
    return f"unowned: {num(t.unowned_tokens)} tokens in {num(t.unowned_files)} files"


def skipped_summary(t: Totals) -> str:
    """``binary 1, excluded 2``: the non-zero skip counts; empty when nothing was skipped."""
    return ", ".join(f"{k} {v}" for k, v in t.skipped.items() if v)


def first_paths(paths: Sequence[str], n: int = 10) -> str:
    """The first *n* paths, with `` …`` when some are left out (one line of terminal or annotation)."""
    return ", ".join(paths[:n]) + (" …" if len(paths) > n else "")
