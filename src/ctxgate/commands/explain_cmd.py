from __future__ import annotations

import argparse
import os
import posixpath

from ctxgate.budget import usage
from ctxgate.commands.common import add_target, staged, write
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.measure import FileRecord, Measurement
from ctxgate.ownership import Decision
from ctxgate.report.fmt import target_label


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="why a path counts where it counts")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--output", metavar="FILE")
    p.add_argument("--no-cache", action="store_true")
    add_target(p, default_staged=False)
    p.set_defaults(func=run)


def repo_path(root: str, path: str) -> str:
    """*path* (relative to the current directory) as a repository-relative POSIX path."""
    head, tail = os.path.split(os.path.abspath(path))
    # Resolve symlinked directories (/tmp → /private/tmp) the way git reports
    # the root, but not the last component: it may be a symlink git tracks.
    rel = os.path.relpath(os.path.join(os.path.realpath(head), tail), os.path.realpath(root))
    rel = posixpath.normpath(rel.replace(os.sep, "/"))
    if rel == ".." or rel.startswith("../"):
        raise FatalError(f"{path} is outside the repository {root}; pass a path inside it")
    return rel


def describe(m: Measurement, rec: FileRecord, decision: Decision, context_of: list[str]) -> list[str]:
    lines = [rec.path]
    if rec.component is not None:
        lines.append(f"  component: {rec.component}")
        lines.append(f"  decided by: pattern {decision.pattern!r} of {decision.origin}")
    elif decision.pattern is not None:
        lines.append(f"  component: none (unowned: pattern {decision.pattern!r} of {decision.origin} "
                     "takes it out, and no earlier component claims it)")
    else:
        lines.append("  component: none (unowned: no component pattern matches)")
    if rec.skipped is not None:
        lines.append(f"  excluded: {rec.why} (counted as {rec.skipped!r} in skipped)")
        return lines
    assert rec.stats is not None
    lines.append(f"  test file: {'yes' if rec.test else 'no'}")
    if context_of:
        lines.append(f"  context file of: {', '.join(context_of)}")
    scale = f", scale {m.config.scale:g}" if m.config.scale != 1.0 else ""
    lines.append(f"  tokens: {rec.stats.tokens:,} ({m.config.encoding}{scale})")
    lines.append(f"  lines: {rec.stats.lines:,}")
    return lines


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        pair = ws.measure(target, config_path=args.config, base_commit=None, quiet=True)
        records = pair.target.by_path()
        uses = usage(pair.target)
        where = target_label(target.kind, target.commit)
        out: list[str] = []
        for path in args.paths:
            rel = repo_path(ws.root, path)
            rec = records.get(rel)
            if rec is None:
                raise FatalError(
                    f"{path} is not a file in the {where}; ctxgate only measures files "
                    "git tracks (and untracked, not ignored, files with --worktree)"
                )
            context_of = [name for name, u in uses.items() if rec.path in u.context_files]
            out += describe(pair.target, rec, pair.classifier.owners.decide(rec.path), context_of)
    write(args, "\n".join(out) + "\n")
    return 0
