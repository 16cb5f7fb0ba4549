"""`ctxgate preflight` (SPEC §8): will a planned piece of work fit the context budget?"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from ctxgate.budget import tier, usage
from ctxgate.commands.common import add_common, add_target, positive, staged, write
from ctxgate.config import Limits, Planning
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.report.json_report import dump

FORMATS = ("text", "json")
# Beyond this relative gap an estimate is flagged as off (the standard's ±10%).
ESTIMATE_TOLERANCE = 10.0


@dataclass(frozen=True)
class Check:
    name: str
    exists: bool
    estimate: int
    source: str  # where E came from: "--estimate" | "config estimate" | "measured footprint"
    limits: Limits
    planning: Planning
    measured: int | None  # footprint, for an existing component
    lines: int | None

    @property
    def needed(self) -> int:
        return self.estimate + self.planning.safety_margin

    @property
    def verdict(self) -> str:
        if self.estimate > self.limits.split:
            return "ABORT"
        if self.needed > self.planning.context_budget:
            return "WARNING"
        # At or below split, so one of the three lower tiers.
        return {"green": "SAFE", "yellow": "MONITOR", "orange": "CAUTION"}[tier(self.estimate, self.limits)]

    @property
    def advice(self) -> str:
        lim, pl = self.limits, self.planning
        return {
            "ABORT": f"the design exceeds the split limit ({lim.split:,}): split it first",
            "WARNING": f"{self.needed:,} tokens needed exceeds the context budget ({pl.context_budget:,}): "
                       "monitor the context closely",
            "SAFE": f"within optimal ({lim.optimal:,})",
            "MONITOR": f"above optimal, within warning ({lim.warning:,}): monitor growth",
            "CAUTION": f"above warning, within split ({lim.split:,}): plan a split before major work",
        }[self.verdict]

    @property
    def error_pct(self) -> float | None:
        """How far the measured footprint is from E, when E is an estimate."""
        if self.measured is None or self.source == "measured footprint" or self.estimate == 0:
            return None
        return (self.measured - self.estimate) / self.estimate * 100

    @property
    def heuristic(self) -> int | None:
        if self.lines is None:
            return None
        return round(self.lines * self.planning.tokens_per_line)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("preflight", help="pre-flight check before work on a component")
    p.add_argument("name", metavar="NAME", help="an existing component, or a planned one with --estimate")
    p.add_argument("--estimate", type=positive, metavar="N", help="planned footprint in tokens")
    add_common(p, FORMATS)
    add_target(p, default_staged=False, base=False)
    p.set_defaults(func=run)


def render_text(c: Check) -> str:
    out = [f"ctxgate preflight: {c.name}" + ("" if c.exists else " (planned, not in the repository)"),
           f"  estimate:       {c.estimate:,} tokens ({c.source})",
           f"  safety margin:  {c.planning.safety_margin:,}",
           f"  needed:         {c.needed:,} of a {c.planning.context_budget:,} context budget",
           f"  verdict:        {c.verdict}: {c.advice}"]
    if c.measured is not None:
        err = c.error_pct
        if err is None and c.source == "measured footprint":
            out.append(f"  measured:       {c.measured:,} tokens (no estimate to compare: "
                       "pass --estimate or set estimate in the config)")
        elif err is None:
            out.append(f"  measured:       {c.measured:,} tokens (an estimate of 0 cannot be compared)")
        else:
            tol = f"{ESTIMATE_TOLERANCE:g}%"
            flag = f"off by more than {tol}" if abs(err) > ESTIMATE_TOLERANCE else f"within {tol}"
            out.append(f"  measured:       {c.measured:,} tokens ({err:+.1f}% vs the estimate: {flag})")
        if c.heuristic is not None and c.lines is not None:
            out.append(f"  line heuristic: {c.heuristic:,} tokens ({c.lines:,} lines × "
                       f"{c.planning.tokens_per_line:g} tokens/line)")
    return "\n".join(out) + "\n"


def render_json(c: Check) -> str:
    err = c.error_pct
    doc = {
        "name": c.name, "exists": c.exists,
        "estimate": c.estimate, "estimate_source": c.source,
        "safety_margin": c.planning.safety_margin, "needed": c.needed,
        "context_budget": c.planning.context_budget, "limits": c.limits.as_dict(),
        "verdict": c.verdict, "message": c.advice, "measured": c.measured,
        "estimate_error": None if err is None else round(err, 1),
        "estimate_off": None if err is None else abs(err) > ESTIMATE_TOLERANCE,
        "heuristic": c.heuristic,
    }
    return dump(doc)


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        pair = ws.measure(target, config_path=args.config, base_commit=None, quiet=args.quiet)
    cfg = pair.config
    comp = next((c for c in pair.target.components if c.name == args.name), None)
    if comp is None:
        if args.estimate is None:
            names = ", ".join(c.name for c in pair.target.components) or "none"
            raise FatalError(f"{args.name!r} is not a component (components: {names}); "
                             "for a planned one pass --estimate N")
        check = Check(args.name, False, args.estimate, "--estimate", cfg.limits, cfg.planning, None, None)
    else:
        u = usage(pair.target)[comp.name]
        if args.estimate is not None:
            e, source = args.estimate, "--estimate"
        elif comp.estimate is not None:
            e, source = comp.estimate, "config estimate"
        else:
            e, source = u.footprint, "measured footprint"
        # The heuristic sizes what the footprint counts, so test lines only with count_tests.
        lines = sum(r.lines for r in u.rows if cfg.count_tests or not r.test)
        check = Check(comp.name, True, e, source, comp.limits, cfg.planning, u.footprint, lines)
    write(args, render_json(check) if args.format == "json" else render_text(check))
    return 1 if check.verdict == "ABORT" else 0
