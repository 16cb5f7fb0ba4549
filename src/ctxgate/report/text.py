from __future__ import annotations

from ctxgate import tomlout
from ctxgate.budget import ComponentResult, Result, fail_limit
from ctxgate.report.fmt import first_paths, limit_label, num, signed, skipped_summary, target_label, unowned_summary

COLORS = {"green": "32", "yellow": "33", "orange": "38;5;208", "red": "31", "emergency": "1;31",
          "blocked": "1;31", "warn": "33", "notice": "36", "ok": "32"}


def paint(s: str, key: str, color: bool) -> str:
    return f"\033[{COLORS[key]}m{s}\033[0m" if color and key in COLORS else s


def table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    return out


def _colorize(lines: list[str], tiers: list[str], color: bool) -> list[str]:
    if not color:
        return lines
    return [lines[0]] + [paint(line, t, True) for line, t in zip(lines[1:], tiers)]


def header(result: Result) -> str:
    scale = f", scale {result.scale:g}" if result.scale != 1.0 else ""
    base = f" vs base {result.base_commit[:12]}" if result.base_commit else ""
    target = target_label(result.target_kind, result.target_commit)
    return f"ctxgate {result.command}: {target}{base} ({result.encoding}{scale})"


def render_report(result: Result, color: bool) -> str:
    with_base = result.base_commit is not None
    head = ["component", "files", "tokens", "tests", "context", "footprint", "tier"]
    if with_base:
        head += ["base", "delta"]
    rows = [head]
    tiers = []  # the colour of each body row: a component's tier, none for its file rows
    for c in result.components:
        u = c.usage
        tiers.append(c.tier)
        row = [c.name, num(u.files), num(u.tokens), num(u.test_tokens), num(u.context_tokens),
               num(u.footprint), c.tier]
        if with_base:
            row += [num(c.base.footprint if c.base else None), signed(c.delta)]
        rows.append(row)
        if result.files_detail:
            for r in u.rows:
                label = f"  {r.path}" + (" (test)" if r.test else "")
                rows.append([label, "", num(r.tokens), "", "", "", ""] + (["", ""] if with_base else []))
                tiers.append("")
    lines = [header(result), ""]
    body = table(rows, {1, 2, 3, 4, 5, 7, 8})
    lines += _colorize(body, tiers, color)
    t = result.totals
    lines.append("")
    lines.append(f"total: {num(t.tokens)} tokens in {num(t.files)} files ({num(t.lines)} lines); "
                 + unowned_summary(t))
    skipped = skipped_summary(t)
    if skipped:
        lines.append(f"skipped: {skipped}")
    lim = result.limits
    lines.append(f"limits: optimal {num(lim.optimal)}, warning {num(lim.warning)}, split {num(lim.split)}, "
                 f"emergency {num(lim.emergency)}")
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def _raise_hint(c: ComponentResult, fail_on: str) -> list[str]:
    """A limits table that would let the component pass, kept in increasing order."""
    from ctxgate.config import LIMIT_NAMES

    lim = c.component.limits.as_dict()
    # Rounded up to two significant digits: 121,030 -> 130,000.
    step = 10 ** max(0, len(str(c.usage.footprint)) - 2)
    need = -(-c.usage.footprint // step) * step
    raised = {fail_on: need}
    for name in LIMIT_NAMES[LIMIT_NAMES.index(fail_on) + 1:]:
        if lim[name] <= need:
            need += 2 * step
            raised[name] = need
    table_ = ", ".join(f"{k} = {v:_}" for k, v in raised.items())
    return [
        "        or raise its limit in the config, with a reason:",
        "          [[component]]",
        # A real TOML string: a name may hold a quote or a backslash.
        f"          name = {tomlout.string(c.name)}",
        f"          limits = {{ {table_} }}",
        "          reason = \"why it must stay this big\"",
        "        (a component that already has a [[component]] table takes these keys there)",
    ]


def _blocked(c: ComponentResult, fail_on: str, color: bool) -> list[str]:
    word = "EMERGENCY" if c.verdict.emergency else "BLOCKED"
    message = c.verdict.message.removeprefix(f"{word}: ")
    return [
        "",
        paint(f"{word}: {c.name}: {message}", "blocked", color),
        f"  next: run `ctxgate split-plan {c.name}` and split it into smaller components,",
        *_raise_hint(c, fail_on),
    ]


def render_check(result: Result, color: bool) -> str:
    """The gate for a person at a terminal: judged rows first, then what blocks and what to do."""
    judged = [c for c in result.components if c.judged]
    rows = [["component", "base", "", "target", "delta", "tier", "limit", "verdict"]]
    for c in judged:
        base = c.base.footprint if c.base is not None else None
        rows.append([c.name, num(base), "→", num(c.usage.footprint), signed(c.delta), c.tier,
                     limit_label(c, result.fail_on), c.verdict.verdict])
    lines = [header(result), ""]
    if judged:
        body = table(rows, {1, 3, 4})
        lines += _colorize(body, [c.verdict.verdict for c in judged], color)
    else:
        lines.append("no component judged")
    for c in judged:
        if c.verdict.verdict in ("warn", "notice") and c.verdict.message:
            lines.append(paint(f"{c.verdict.verdict}: {c.name}: {c.verdict.message}", c.verdict.verdict, color))
    for c in sorted(result.blocked, key=lambda c: (not c.verdict.emergency, c.name)):
        lines += _blocked(c, result.fail_on, color)
    reminders = [c for c in result.components
                 if not c.judged and c.usage.footprint > fail_limit(c.component.limits, result.fail_on)]
    if reminders:
        lines.append("")
    for c in reminders:
        lines.append(f"reminder: {c.name} is over its {result.fail_on} limit "
                     f"({num(c.usage.footprint)} tokens); not touched by this change")
    if result.unowned_touched:
        error = result.unowned_policy == "error"
        shown = first_paths(result.unowned_touched)
        lines += ["", paint(f"{'BLOCKED' if error else 'warning'}: files owned by no component: {shown}",
                            "blocked" if error else "warn", color),
                  "  next: add them to a component's paths, or to exclude"]
    lines += [f"note: {n}" for n in result.notes]
    status_color = {"fail": "blocked", "warn": "warn"}.get(result.status, "ok")
    lines.append(paint(f"status: {result.status}", status_color, color))
    return "\n".join(lines) + "\n"


def render(result: Result, color: bool = False) -> str:
    return render_check(result, color) if result.command == "check" else render_report(result, color)
