"""Options shared by the commands, and writing their output."""
from __future__ import annotations

import argparse
import os
import sys

from ctxgate.budget import Result
from ctxgate.errors import FatalError
from ctxgate.report import REPORTERS


def add_common(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    p.add_argument("--config", metavar="PATH", help="config file (default: looked up in the target)")
    p.add_argument("--format", choices=formats, default=formats[0], help="output format")
    p.add_argument("--output", metavar="FILE", help="write the output to FILE instead of stdout")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the token cache")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.add_argument("-v", "--verbose", action="store_true", help="say more")


def add_target(p: argparse.ArgumentParser, *, default_staged: bool, base: bool = True) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--staged", action="store_true", default=None,
                   help="measure the git index" + (" (default)" if default_staged else ""))
    g.add_argument("--worktree", action="store_true", default=None,
                   help="measure the work tree" + ("" if default_staged else " (default)"))
    g.add_argument("--rev", metavar="REV", help="measure a commit")
    if base:
        p.add_argument("--base", metavar="REF", help="compare with the merge-base of REF and the target")
    p.set_defaults(default_staged=default_staged)


def staged(args: argparse.Namespace) -> bool:
    if args.staged:
        return True
    if args.worktree:
        return False
    return bool(args.default_staged)


def use_color(args: argparse.Namespace, stream: object) -> bool:
    if args.color == "always":
        return True
    if args.color == "never" or os.environ.get("NO_COLOR") or args.output:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def emit(args: argparse.Namespace, result: Result) -> None:
    text = REPORTERS[args.format](result, use_color(args, sys.stdout))
    write(args, text)


def write(args: argparse.Namespace, text: str) -> None:
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise FatalError(f"cannot write {args.output}: {e.strerror}; check the --output path") from None
    else:
        sys.stdout.write(text)


def positive(text: str) -> int:
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of tokens") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of tokens")
    return n
