from __future__ import annotations

from ctxgate.budget import TIER_ACTIONS, Result
from ctxgate.report.fmt import estimate_error, num, pct, per_line, signed
from ctxgate.report.text import target_label


def md_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def render(result: Result, color: bool = False) -> str:
    lim = result.limits
    lines = [f"# ctxgate budget report: {target_label(result)}", ""]
    lines.append(f"Encoding `{result.encoding}`" + (f", scale {result.scale:g}" if result.scale != 1.0 else "")
                 + (f"; base `{result.base_commit[:12]}`" if result.base_commit else "") + ".")
    lines += ["", "## Limits and tiers", ""]
    lines += md_table(["tier", "footprint", "action"], [
        ["green", f"≤ {num(lim.optimal)}", TIER_ACTIONS["green"]],
        ["yellow", f"{num(lim.optimal + 1)} – {num(lim.warning)}", TIER_ACTIONS["yellow"]],
        ["orange", f"{num(lim.warning + 1)} – {num(lim.split)}", TIER_ACTIONS["orange"]],
        ["red", f"{num(lim.split + 1)} – {num(lim.emergency)}", TIER_ACTIONS["red"]],
        ["emergency", f"> {num(lim.emergency)}", TIER_ACTIONS["emergency"]],
    ])
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
              f"unowned: {num(t.unowned_tokens)} tokens in {num(t.unowned_files)} files."]
    skipped = ", ".join(f"{k} {v}" for k, v in t.skipped.items() if v)
    if skipped:
        lines.append(f"Skipped: {skipped}.")
    return "\n".join(lines) + "\n"
