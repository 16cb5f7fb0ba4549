"""The gate (SPEC §6): which components a change touches, and whether it may pass."""
from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ctxgate.budget import Result, judge_all
from ctxgate.catfile import commit_info
from ctxgate.commands.common import add_common, add_target, emit, staged
from ctxgate.commands.explain_cmd import repo_path
from ctxgate.config import FAIL_ON
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.incremental import Gate
from ctxgate.measure import FileRecord, measure
from ctxgate.snapshot import Target

FORMATS = ("text", "json", "markdown", "github")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="the gate: fail when a change takes a component over its limit")
    add_common(p, FORMATS)
    add_target(p, default_staged=True)
    p.add_argument("--all", action="store_true", help="judge every component (an audit)")
    p.add_argument("--fail-on", choices=FAIL_ON, help="which limit blocks (overrides the config's fail_on)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="judge only the components owning these paths")
    p.set_defaults(func=run)


def base_commit(ws: Workspace, target: Target, base_ref: str | None) -> str | None:
    """HEAD for the index and work tree, the first parent for a commit, else merge-base with --base."""
    if base_ref is not None:
        return ws.base_for(target, base_ref)
    # Read through the running cat-file rather than starting rev-parse: this is the hook's hot path.
    info = commit_info(ws.cat, target.commit or "HEAD")
    if target.kind == "commit":
        return info[2][0] if info is not None and info[2] else None
    return info[0] if info is not None else None


@dataclass(frozen=True)
class Scope:
    judged: frozenset[str] | None  # None: every component
    unowned: tuple[str, ...]  # counted files owned by no component among those judged
    notes: tuple[str, ...] = ()


def touched(gate: Gate, paths: Iterable[str], records: Mapping[str, FileRecord] | None = None
            ) -> tuple[set[str], list[str]]:
    """Components owning *paths* or listing one of them as a context file; unowned counted paths.

    *records* are the target's records of the paths (default: the gate's records of changed paths)."""
    records = gate.records if records is None else records
    names = {c.name for c in gate.components}
    owners = gate.classifier.owners
    comps: set[str] = set()
    unowned: list[str] = []
    for path in paths:
        owner = owners.decide(path).component
        if owner is not None:
            comps.add(owner)
        else:
            rec = records.get(path)
            # A deleted unowned file blocks nothing: only counted files do.
            if rec is not None and rec.skipped is None and rec.stats is not None:
                unowned.append(path)
        for name, matcher in gate.classifier.context.items():
            if matcher.match(path) is not None:
                comps |= names if name == "" else {name}
    return comps & names, unowned


def explicit_scope(ws: Workspace, gate: Gate, raw: Sequence[str]) -> Scope:
    """PATHS: the components owning them (a directory stands for the files under it)."""
    rels = [repo_path(ws.root, p) for p in raw]
    if "." in rels:
        return Scope(None, tuple(sorted(gate.unowned)))
    snap = gate.snapshot
    entries = snap.entries_under(rels)
    m = measure(snap.subset(entries), gate.classifier, gate.components, ws.cache)
    # "dir/" asks for the owner of a directory whose files may all be gone.
    asked = rels + [f"{r}/" for r in rels if not r.endswith("/")] + [e.path for e in entries]
    comps, unowned = touched(gate, list(dict.fromkeys(asked)), {**gate.records, **m.by_path()})
    return Scope(frozenset(comps), tuple(unowned))


def scope(ws: Workspace, gate: Gate, args: argparse.Namespace) -> Scope:
    if args.paths:
        return explicit_scope(ws, gate, args.paths)
    audit = tuple(sorted(gate.unowned))
    if args.all:
        return Scope(None, audit)
    if not gate.changed:
        return Scope(None, audit, ("no change to compare: auditing every component",))
    comps, unowned = touched(gate, gate.changed)
    return Scope(frozenset(comps), tuple(unowned))


def result(gate: Gate, sc: Scope, target: Target, base: str | None, fail_on: str | None) -> Result:
    cfg = gate.config
    fail_on = fail_on or cfg.fail_on
    rows = judge_all(gate.components, gate.target, gate.base, sc.judged, fail_on)
    notes = list(sc.notes)
    if base is None:
        notes.append("no earlier commit: compared with the empty tree")
    return Result(
        command="check", encoding=cfg.encoding, scale=cfg.scale, target_kind=target.kind,
        target_commit=target.commit, base_commit=base, limits=cfg.limits, fail_on=fail_on,
        components=rows, totals=gate.totals,
        unowned_touched=sc.unowned if cfg.unowned != "ignore" else (), unowned_policy=cfg.unowned,
        notes=tuple(notes),
    )


def from_pre_commit(args: argparse.Namespace) -> None:
    """Under pre-commit's pre-push (or --from-ref/--to-ref), judge the pushed range."""
    to_ref, from_ref = os.environ.get("PRE_COMMIT_TO_REF"), os.environ.get("PRE_COMMIT_FROM_REF")
    if to_ref and from_ref and args.rev is None and not args.staged and not args.worktree:
        args.rev = to_ref
        args.base = args.base or from_ref


def run(args: argparse.Namespace) -> int:
    from_pre_commit(args)
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        try:
            base = base_commit(ws, target, args.base)
        except FatalError as e:
            if args.format != "github":
                raise
            from ctxgate import github

            # On a runner a missing base is nearly always a shallow checkout.
            raise github.missing_base(ws.root, args.base, e) from None
        gate = ws.gate(target, config_path=args.config, base_commit=base, quiet=args.quiet)
        res = result(gate, scope(ws, gate, args), target, base, args.fail_on)
    if args.format == "github":
        from ctxgate import github

        github.publish(res, args)
    elif args.output or not (args.quiet and res.status == "pass"):
        emit(args, res)
    return 1 if res.status == "fail" else 0
