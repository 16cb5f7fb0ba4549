"""Warm pre-commit hook speed: `ctxgate check --staged` against `git status --porcelain`.

Generates a repository of N small files (default 50,000) spread over
components, commits it, warms the token cache with one check, stages one
modified file, then times both commands alternately (median of --runs).
Target (issue 3): ctxgate at most 4x git status.

    python benchmarks/bench_hook.py [--files 50000] [--runs 5] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import ctxgate_cmd, git, precompile, table, timed  # noqa: E402

WORDS = ("alpha beta gamma delta epsilon lambda kappa sigma omega tokens budget "
         "component split limit commit index blob tree cache").split()

CONFIG = """\
encoding = "o200k_base"
exclude = ["**/*.lock"]
tests = ["**/tests/**"]
context = ["CLAUDE.md"]

[[component]]
each = "components/*"

[[component]]
name = "tools"
paths = ["tools/", "scripts/"]
"""


def content(rng: random.Random, i: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))
    return f"# file {i}\ndef f_{i}():\n    return {body!r}\n"


def generate(root: str, files: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    git(root, "init", "-q", "-b", "main")
    n_components = max(1, files // 500)
    paths = []
    for i in range(files):
        comp = i % n_components
        sub = (i // n_components) % 10
        kind = "tests" if sub == 9 else f"pkg{sub}"
        paths.append(f"components/c{comp:03d}/{kind}/m{i}.py")
    for i, rel in enumerate(paths):
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content(rng, i))
    os.makedirs(os.path.join(root, "tools"), exist_ok=True)
    with open(os.path.join(root, "tools", "build.py"), "w") as f:
        f.write("print('build')\n")
    with open(os.path.join(root, "CLAUDE.md"), "w") as f:
        f.write("# Instructions\nKeep components small.\n")
    with open(os.path.join(root, "ctxgate.toml"), "w") as f:
        f.write(CONFIG)
    with open(os.path.join(root, ".gitattributes"), "w") as f:
        f.write("*.lock linguist-generated\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "generated")
    # What a long-lived checkout has: an up-to-date index and untracked cache.
    git(root, "update-index", "--refresh")
    return paths[len(paths) // 2]


def stage_edit(root: str, rel: str, line: str) -> None:
    with open(os.path.join(root, rel), "a") as f:
        f.write(line)
    git(root, "add", "--", rel)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = ap.parse_args()
    precompile()
    tmp = None
    if args.keep:
        root = os.path.abspath(args.keep)
        os.makedirs(root, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ctxgate-bench-")
        root = tmp.name
    print(f"generating {args.files:,} files in {root} ...", file=sys.stderr)
    victim = generate(root, args.files)
    stage_edit(root, victim, "# one more line\n")
    check = [*ctxgate_cmd(), "check", "--staged", "--quiet"]
    status = ["git", "status", "--porcelain"]
    first = timed(check, root)  # an empty cache: measures HEAD in full, tokenizing every blob
    timed(status, root)
    t_git: list[float] = []
    t_gate: list[float] = []
    for _ in range(args.runs):
        t_git.append(timed(status, root))
        t_gate.append(timed(check, root))
    # The next commit's hook: HEAD moved, its summary is derived from its parent's.
    git(root, "commit", "-q", "--no-verify", "-m", "edit")
    stage_edit(root, victim, "# and another\n")
    after_commit = timed(check, root)
    g, c = statistics.median(t_git), statistics.median(t_gate)
    print(table([
        ["command", "median ms", "runs (ms)"],
        ["git status --porcelain", f"{g * 1000:.0f}", " ".join(f"{t * 1000:.0f}" for t in t_git)],
        ["ctxgate check --staged (warm)", f"{c * 1000:.0f}", " ".join(f"{t * 1000:.0f}" for t in t_gate)],
        ["ctxgate check --staged (first run, empty cache)", f"{first * 1000:.0f}", ""],
        ["ctxgate check --staged (first run after a commit)", f"{after_commit * 1000:.0f}", ""],
    ]))
    ratio = c / g
    verdict = "met" if ratio <= 4 else "NOT met"
    print(f"\nfiles: {args.files:,}; cores: {os.cpu_count()}; ratio warm ctxgate / git status = {ratio:.2f}x "
          f"(target <= 4x: {verdict})")
    if tmp is not None:
        tmp.cleanup()
    return 0 if ratio <= 4 else 1


if __name__ == "__main__":
    raise SystemExit(main())
