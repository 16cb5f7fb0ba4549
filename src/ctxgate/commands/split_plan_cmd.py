"""`ctxgate split-plan`: new components along directory boundaries, as config to paste."""
from __future__ import annotations

import argparse
import os

from ctxgate import tomlout
from ctxgate.commands.common import add_common, add_target, positive, staged, write
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.measure import Measurement
from ctxgate.ownership import Component
from ctxgate.splitplan import Part, Plan, plan

FORMATS = ("toml",)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("split-plan", help="propose new components along directory boundaries")
    p.add_argument("component", metavar="COMPONENT", help="the component to split")
    p.add_argument("--target", type=positive, metavar="N",
                   help="largest footprint of a part (default: the component's optimal limit)")
    add_common(p, FORMATS)
    add_target(p, default_staged=False, base=False)
    p.set_defaults(func=run)


def find(m: Measurement, name: str) -> Component:
    for comp in m.components:
        if comp.name == name:
            return comp
    names = ", ".join(c.name for c in m.components) or "none"
    raise FatalError(f"no component named {name!r}; components: {names}")


def _placement(comp: Component) -> str:
    if comp.origin.startswith("each ="):
        return (f"# {comp.name!r} comes from {comp.origin}: paste these after that entry so they take\n"
                f"# precedence (later entries win); {comp.name!r} is then left without files.")
    if comp.origin.startswith("component "):
        return f"# Replace {comp.origin} with these."
    return "# There is no config yet: add these to ctxgate.toml (`ctxgate init` drafts the rest)."


def _part(p: Part, comp: Component, target: int) -> list[str]:
    size = f"{p.tokens:,} in {len(p.files):,} file{'s' if len(p.files) != 1 else ''}"
    if p.context_tokens:
        size += f" + {p.context_tokens:,} context"
    lines = [f"# {p.name}: footprint {p.footprint:,} tokens ({size})"]
    if p.oversized:
        lines.append(f"# OVER the target {target:,}: {p.files[0]} alone is too big and cannot be split "
                     "along directories; split the file itself")
    lines += ["[[component]]", f"name = {tomlout.string(p.name)}", f"paths = {tomlout.array(p.patterns)}"]
    # Carry over what changes a footprint or a report, so the parts measure as planned.
    if comp.kind is not None:
        lines.append(f"kind = {tomlout.string(comp.kind)}")
    if comp.level is not None:
        lines.append(f"level = {comp.level}")
    for key, values in (("context", comp.context), ("tests", comp.tests), ("exclude", comp.exclude)):
        if values:
            lines.append(f"{key} = {tomlout.array(values)}")
    return lines


def render(pl: Plan) -> str:
    comp = pl.component
    where = f"/{pl.root}/" if pl.root else "the repository root"
    head = [f"# Split plan for {comp.name!r}: footprint {pl.footprint:,} tokens under {where}, "
            f"target {pl.target:,} per part."]
    if not pl.parts:
        head.append(f"# {comp.name!r} is within the target already: nothing to split.")
        return "\n".join(head) + "\n"
    over = sum(1 for p in pl.parts if p.footprint > pl.target)
    head.append(f"# {len(pl.parts)} parts" + (f", {over} over the target (see below)." if over else "."))
    head.append(_placement(comp))
    blocks = ["\n".join(head)] + ["\n".join(_part(p, comp, pl.target)) for p in pl.parts]
    return "\n\n".join(blocks) + "\n"


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        pair = ws.measure(target, config_path=args.config, base_commit=None, quiet=args.quiet)
    m = pair.target
    comp = find(m, args.component)
    limit = args.target if args.target is not None else comp.limits.optimal
    try:
        pl = plan(m, comp, limit)
    except ValueError as e:
        raise FatalError(f"cannot split {comp.name!r}: {e}; raise --target or trim its context list") from None
    write(args, render(pl))
    return 0
