from __future__ import annotations

import argparse
import os

from ctxgate import budget
from ctxgate.commands.common import add_common, add_target, emit, staged
from ctxgate.engine import Workspace

FORMATS = ("text", "json", "csv", "markdown")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="the budget analysis of every component")
    add_common(p, FORMATS)
    add_target(p, default_staged=False)
    p.add_argument("--files", action="store_true", help="add per-file rows")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        target = ws.target(rev=args.rev, staged=staged(args))
        base = ws.base_for(target, args.base) if args.base else None
        pair = ws.measure(target, config_path=args.config, base_commit=base, quiet=args.quiet)
        result = budget.build("report", pair.target, pair.base, judged=None, base_commit=base,
                              files_detail=args.files)
    emit(args, result)
    return 0
