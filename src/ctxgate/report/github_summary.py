"""The markdown shown on GitHub: job summary and sticky PR comment (SPEC §9)."""
from __future__ import annotations

from collections.abc import Callable

from ctxgate import __version__
from ctxgate.budget import TIER_ACTIONS, TIERS, ComponentResult, Result
from ctxgate.report.fmt import limit_label, num, signed, target_label, tier_ranges, unowned_summary
from ctxgate.report.markdown import md_escape, md_table

Measure = Callable[[str], int]

STATUS = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail"}
TIER_ICON = {"green": "🟢", "yellow": "🟡", "orange": "🟠", "red": "🔴", "emergency": "🛑"}
VERDICT_RANK = {"blocked": 0, "warn": 1, "notice": 2, "ok": 3}
MAX_LISTED = 20  # blocked/warned components spelled out above the table

def utf8_size(s: str) -> int:
    return len(s.encode("utf-8"))


def utf16_size(s: str) -> int:
    # GitHub counts comment length in characters; UTF-16 units never undercount them.
    return len(s.encode("utf-16-le")) // 2


def rank(c: ComponentResult) -> tuple[int, int, int, str]:
    """Sort key: judged first, worst verdict first, then the largest footprints."""
    return (0 if c.judged else 1, VERDICT_RANK[c.verdict.verdict] if c.judged else 0,
            -c.usage.footprint, c.name)


def ordered(result: Result) -> list[ComponentResult]:
    return sorted(result.components, key=rank)


def _row(c: ComponentResult, fail_on: str) -> list[str]:
    base = num(c.base.footprint) if c.base is not None else "–"
    verdict = c.verdict.verdict if c.judged else "not touched"
    if c.judged and c.verdict.verdict == "blocked":
        verdict = "**EMERGENCY**" if c.verdict.emergency else "**blocked**"
    return [TIER_ICON[c.tier], md_escape(c.name), f"{base} → {num(c.usage.footprint)}", signed(c.delta), c.tier,
            limit_label(c, fail_on), verdict]


def _headline(result: Result) -> list[str]:
    judged = sum(1 for c in result.components if c.judged)
    target = target_label(result.target_kind, result.target_commit, code=True)
    base = f" vs base `{result.base_commit[:12]}`" if result.base_commit else ""
    blocked = len(result.blocked)
    title = f"## ctxgate: {STATUS[result.status]}"
    if blocked:
        title += f" — {blocked} component{'s' if blocked != 1 else ''} blocked"
    return [title, "",
            # The label starts the sentence: "Commit `1a2b…`", "Staged index", "Work tree".
            f"{target[:1].upper()}{target[1:]}{base} · `{result.encoding}`"
            + (f" × {result.scale:g}" if result.scale != 1.0 else "")
            + f" · blocks above the **{result.fail_on}** limit · {judged} of {len(result.components)} "
            "components judged.", ""]


def _problems(result: Result) -> list[str]:
    out: list[str] = []
    blocked = result.blocked
    for c in blocked[:MAX_LISTED]:
        word = "EMERGENCY" if c.verdict.emergency else "Blocked"
        out.append(f"- **{word}: {md_escape(c.name)}** — {md_escape(c.verdict.message)}. Split it "
                   f"(`ctxgate split-plan` proposes how) or raise its `{result.fail_on}` limit "
                   "in the config with a `reason`.")
    warned = result.warned
    for c in warned[:MAX_LISTED]:
        out.append(f"- Warning: **{md_escape(c.name)}** — {md_escape(c.verdict.message)}.")
    more = max(0, len(blocked) - MAX_LISTED) + max(0, len(warned) - MAX_LISTED)
    if more:
        out.append(f"- …and {more} more, in the table below.")
    if result.unowned_touched:
        word = "Blocked" if result.unowned_policy == "error" else "Warning"
        files = ", ".join(f"`{md_escape(p)}`" for p in result.unowned_touched[:10])
        extra = f" and {len(result.unowned_touched) - 10} more" if len(result.unowned_touched) > 10 else ""
        out.append(f"- {word}: files owned by no component: {files}{extra}.")
    return out + [""] if out else out


def _legend(result: Result) -> list[str]:
    rows = [[f"{TIER_ICON[t]} {t}", r, TIER_ACTIONS[t]] for t, r in zip(TIERS, tier_ranges(result.limits))]
    return ["", "<details><summary>Tiers (footprint in tokens; per-component limits may differ)</summary>",
            "", *md_table(["tier", "footprint", "meaning"], rows), "", "</details>"]


def _footer(result: Result, run_url: str | None) -> list[str]:
    t = result.totals
    out = ["", f"Total: {num(t.tokens)} tokens in {num(t.files)} files; {unowned_summary(t)}."]
    out += [f"Note: {md_escape(n)}." for n in result.notes]
    link = f" · [workflow run]({run_url})" if run_url else ""
    out += ["", f"<sub>ctxgate {__version__} · full data in the JSON report (`report` output){link}</sub>"]
    return out


def render(result: Result, *, limit: int, measure: Measure = utf8_size, run_url: str | None = None,
           prefix: str = "") -> str:
    """The summary, cut row by row (with a note) so that ``measure(text) <= limit``."""
    head = [*_headline(result), *_problems(result)]
    rows = [_row(c, result.fail_on) for c in ordered(result)]
    columns = ["", "component", "base → head", "delta", "tier", "limit", "verdict"]
    tail = [*_legend(result), *_footer(result, run_url)]

    def compose(k: int) -> str:
        shown = md_table(columns, rows[:k])
        if k < len(rows):
            shown.append(f"| | …{len(rows) - k} more components not shown: the summary is limited in size; "
                         "see the JSON report | | | | | |")
        return prefix + "\n".join([*head, *shown, *tail]) + "\n"

    full = compose(len(rows))
    if measure(full) <= limit:
        return full
    lo, hi = 0, len(rows)  # invariant: compose(lo) fits or lo == 0; compose(hi) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if measure(compose(mid)) <= limit:
            lo = mid
        else:
            hi = mid
    text = compose(lo)
    return text if measure(text) <= limit else cut(text, limit, measure)


def cut(text: str, limit: int, measure: Measure) -> str:
    """Last resort when even the header is too big: cut the text and say so."""
    note = "\n\n…(cut: the summary is limited in size; see the JSON report)\n"
    room = limit - measure(note)
    if room <= 0:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + note
