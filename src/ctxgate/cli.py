"""Command line entry point: parse, dispatch, turn errors into exit codes."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ctxgate import __version__
from ctxgate.errors import FatalError

# Command name -> module. Only the module of the command being run is
# imported: start-up time is paid on every commit by the hook.
COMMANDS = {
    "check": "check_cmd", "report": "report_cmd", "explain": "explain_cmd", "init": "init_cmd",
    "preflight": "preflight_cmd", "history": "history_cmd", "split-plan": "split_plan_cmd",
    "cache": "cache_cmd",
}


def _wanted(argv: Sequence[str]) -> list[str]:
    first = next((a for a in argv if not a.startswith("-")), None)
    return [first] if first in COMMANDS else list(COMMANDS)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctxgate",
        description="Measure each component's size in real tokens and gate commits that "
                    "take one over its budget.",
    )
    parser.add_argument("--version", action="version", version=f"ctxgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _wanted(argv):
        importlib.import_module(f"ctxgate.commands.{COMMANDS[name]}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
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


def run() -> None:
    """Console entry point: main(), then exit without tearing the heap down.

    Freeing a loaded encoding (hundreds of thousands of objects) at
    interpreter shutdown costs a noticeable part of a short run; everything
    that must outlive the process is closed or flushed by then.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 1
    os._exit(code)
