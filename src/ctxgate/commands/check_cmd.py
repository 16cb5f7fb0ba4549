"""The gate (SPEC §6): which components a change touches, and whether it may pass."""
from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from ctxgate import budget, git
from ctxgate.commands.common import add_common, add_target, emit, staged
from ctxgate.commands.explain_cmd import repo_path
from ctxgate.engine import Pair, Workspace
from ctxgate.measure import Classifier
from ctxgate.snapshot import Target

FORMATS = ("text", "json", "markdown", "github")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="the gate: fail when a change takes a component over its limit")
    add_common(p, FORMATS)
    add_target(p, default_staged=True)
    p.add_argument("--all", action="store_true", help="judge every component (an audit)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="judge only the components owning these paths")
    p.set_defaults(func=run)


def base_commit(ws: Workspace, target: Target, base_ref: str | None) -> str | None:
    if base_ref is not None:
        return ws.base_for(target, base_ref)
    if target.kind == "commit":
        assert target.commit is not None
        return git.first_parent(ws.root, target.commit)
    return git.head_commit(ws.root)


def changed_paths(ws: Workspace, target: Target, base: str | None) -> list[str]:
    old = base or git.EMPTY_TREE
    if target.kind == "commit":
        changes = git.diff_tree(ws.root, old, target.commit)
    elif target.kind == "index":
        changes = git.diff_tree(ws.root, old, None)
    else:
        changes = git.diff_worktree(ws.root, old)
    paths = [p for c in changes for p in c.paths]
    if target.kind == "worktree":
        paths += git.untracked(ws.root)
    return list(dict.fromkeys(paths))


def touched(pair: Pair, classifier: Classifier, paths: Sequence[str]) -> tuple[set[str], list[str]]:
    names = {c.name for c in pair.target.components}
    comps: set[str] = set()
    unowned: list[str] = []
    records = pair.target.by_path()
    for path in paths:
        owner = classifier.owners.decide(path).component
        if owner is not None:
            comps.add(owner)
        else:
            rec = records.get(path)
            if rec is not None and rec.skipped is None:
                unowned.append(path)
        if classifier.context[""].match(path) is not None:
            comps |= names
        for name, matcher in classifier.context.items():
            if name and matcher.match(path) is not None:
                comps.add(name)
    return comps & names, unowned


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        base = base_commit(ws, target, args.base)
        pair = ws.measure(target, config_path=args.config, base_commit=base, quiet=args.quiet)
        classifier = pair.classifier
        notes: list[str] = []
        unowned: list[str] = []
        judged: set[str] | None
        if args.paths:
            rels = [repo_path(ws.root, p) for p in args.paths]
            judged, unowned = touched(pair, classifier, rels)
        elif args.all:
            judged = None
        else:
            changed = changed_paths(ws, target, base)
            if changed:
                judged, unowned = touched(pair, classifier, changed)
            else:
                judged = None
                notes.append("no change to compare: auditing every component")
        result = budget.build(
            "check", pair.target, pair.base, judged=None if judged is None else sorted(judged),
            base_commit=base, unowned_touched=unowned if pair.config.unowned != "ignore" else (),
            notes=notes,
        )
    if args.format == "github":
        from ctxgate import github

        github.publish(result, args)
    else:
        emit(args, result)
    return 1 if result.status == "fail" else 0
