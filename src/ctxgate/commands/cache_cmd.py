"""`ctxgate cache info|clear`: where the token cache is, what it holds, and starting afresh."""
from __future__ import annotations

import argparse
import os

from ctxgate import git
from ctxgate.cache import TokenCache, cache_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cache", help="inspect or clear the token cache")
    p.add_argument("action", choices=("info", "clear"),
                   help="info: location and contents; clear: forget everything (also repairs a corrupt cache)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cache = TokenCache(cache_dir(git.layout(os.getcwd()).common_dir))
    try:
        if args.action == "clear":
            n = cache.clear()
            print(f"cleared {n:,} cached counts from {cache.path}")
            return 0
        info = cache.info()
        print(f"path: {info['path']}")
        print(f"usable: {'yes' if info['usable'] else 'no'}")
        print(f"size: {info['bytes']:,} bytes")
        entries = info["entries"]
        assert isinstance(entries, list)
        if not entries:
            print("entries: none")
        for e in entries:
            print(f"entries: {e['blobs']:,} blobs counted with {e['encoding']} (scale {e['scale']:g})")
        print(f"summaries: {info['summaries']} trees")
    finally:
        cache.close()
    return 0
