from __future__ import annotations

import argparse
import os
import posixpath

from ctxgate.budget import usage
from ctxgate.commands.common import add_target, staged, write
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.measure import FileRecord, Measurement


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="why a path counts where it counts")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--output", metavar="FILE")
    p.add_argument("--no-cache", action="store_true")
    add_target(p, default_staged=False)
    p.set_defaults(func=run)


def repo_path(root: str, path: str) -> str:
    full = os.path.abspath(path)
    rel = os.path.relpath(full, os.path.realpath(root)) if not full.startswith(root) else os.path.relpath(full, root)
    rel = rel.replace(os.sep, "/")
    if rel.startswith("../"):
        raise FatalError(f"{path} is outside the repository {root}; pass a path inside it")
    return posixpath.normpath(rel)


def describe(m: Measurement, rec: FileRecord) -> list[str]:
    lines = [rec.path]
    if rec.component is not None:
        lines.append(f"  component: {rec.component}")
        comp = next(c for c in m.components if c.name == rec.component)
        lines.append(f"  decided by: pattern {rec.rule!r} of {comp.origin}")
    else:
        lines.append("  component: none (unowned)")
    if rec.skipped is not None:
        lines.append(f"  excluded: {rec.why}")
        return lines
    assert rec.stats is not None
    lines.append(f"  test file: {'yes' if rec.test else 'no'}")
    users = [name for name, u in usage(m).items() if rec.path in u.context_files]
    if users:
        lines.append(f"  context file of: {', '.join(users)}")
    lines.append(f"  tokens: {rec.stats.tokens:,} ({m.config.encoding})")
    lines.append(f"  lines: {rec.stats.lines:,}")
    return lines


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        pair = ws.measure(target, config_path=args.config, base_commit=None, quiet=True)
        records = pair.target.by_path()
        out: list[str] = []
        for path in args.paths:
            rel = repo_path(ws.root, path)
            rec = records.get(rel)
            if rec is None:
                raise FatalError(f"{path} is not a file in the {target.kind} target; "
                                 "ctxgate only measures files git tracks (or untracked, not ignored, files with --worktree)")
            out += describe(pair.target, rec)
    write(args, "\n".join(out) + "\n")
    return 0
