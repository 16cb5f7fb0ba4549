"""Command line entry point: parse, dispatch, turn errors into exit codes."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ctxgate import __version__
from ctxgate.commands import (cache_cmd, check_cmd, explain_cmd, history_cmd, init_cmd, preflight_cmd,
                               report_cmd, split_plan_cmd)
from ctxgate.errors import FatalError

COMMANDS = (check_cmd, report_cmd, explain_cmd, init_cmd, preflight_cmd, history_cmd, split_plan_cmd, cache_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctxgate",
        description="Measure each component's size in real tokens and gate commits that "
                    "take one over its budget.",
    )
    parser.add_argument("--version", action="version", version=f"ctxgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMANDS:
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse has printed usage or --version already
        return e.code if isinstance(e.code, int) else 2
    try:
        code: int = args.func(args)
        return code
    except FatalError as e:
        print(f"ctxgate: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ctxgate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
