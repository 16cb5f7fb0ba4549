"""Small formatting helpers shared by the human-readable renderers."""
from __future__ import annotations

from ctxgate.budget import ComponentResult


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
