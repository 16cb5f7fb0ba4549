from __future__ import annotations

import re

from ctxgate.budget import TIER_ACTIONS, TIERS, Result
from ctxgate.report.fmt import (
    estimate_error, num, pct, per_line, signed, skipped_summary, target_label, tier_ranges, unowned_summary,
)


# What can start markup inside a table cell or a bullet (code, emphasis,
# links, entities, math, a cell break); an underscore inside a word cannot,
# so dns_resolver stays greppable. `<` (HTML) becomes an entity; `>` only
# quotes at the start of a line, which a cell or a bullet's name never is.
_MARKUP = re.compile(r"[\\`*\[\]&|~$]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def md_escape(s: str) -> str:
    """Inline-safe markdown: names are data, never markup, HTML or a table break."""
    return _MARKUP.sub(lambda m: "\\" + m.group(), _CONTROL.sub(" ", s)).replace("<", "&lt;")


def md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render(result: Result, color: bool = False) -> str:
    lines = [f"# ctxgate budget report: {target_label(result.target_kind, result.target_commit)}", ""]
    lines.append(f"Encoding `{result.encoding}`" + (f", scale {result.scale:g}" if result.scale != 1.0 else "")
                 + (f"; base `{result.base_commit[:12]}`" if result.base_commit else "") + ".")
    lines += ["", "## Limits and tiers", ""]
    lines += md_table(["tier", "footprint", "action"],
                      [[t, r, TIER_ACTIONS[t]] for t, r in zip(TIERS, tier_ranges(result.limits))])
    lines += ["", "## Components", ""]
    head = ["component", "kind", "level", "tokens", "test tokens", "context tokens", "footprint", "lines",
            "tokens/line", "tier", "estimate", "estimate error"]
    if result.base_commit:
        head += ["base", "delta"]
    rows = []
    for c in result.components:
        u = c.usage
        row = [md_escape(c.name), md_escape(c.component.kind or ""), "" if c.component.level is None
               else str(c.component.level), num(u.tokens), num(u.test_tokens), num(u.context_tokens),
               f"**{num(u.footprint)}**", num(u.lines), per_line(u.tokens + u.test_tokens, u.lines), c.tier,
               num(c.component.estimate), pct(estimate_error(c))]
        if result.base_commit:
            row += [num(c.base.footprint if c.base else None), signed(c.delta)]
        rows.append(row)
    lines += md_table(head, rows)
    if result.files_detail:
        lines += ["", "## Files", ""]
        lines += md_table(["component", "path", "tokens", "lines"], [
            [md_escape(c.name), md_escape(r.path), num(r.tokens), num(r.lines)]
            for c in result.components for r in c.usage.rows
        ])
    t = result.totals
    lines += ["", f"Total: **{num(t.tokens)}** tokens in {num(t.files)} files ({num(t.lines)} lines); "
              f"{unowned_summary(t)}."]
    skipped = skipped_summary(t)
    if skipped:
        lines.append(f"Skipped: {skipped}.")
    return "\n".join(lines) + "\n"
