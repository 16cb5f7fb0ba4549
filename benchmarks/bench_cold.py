"""Cold full-report speed: `ctxgate report --no-cache` against a one-process tokenizer loop.

Commits the running interpreter's standard library (sysconfig "stdlib",
without site-packages and bytecode) into a temporary repository, then times,
alternately and as whole processes, `ctxgate report --no-cache` and a
single-process Python script that loads the same encoding and calls
encode_ordinary on the same files (read from disk, binary files skipped as
ctxgate skips them). Target (issue 3): ctxgate at least 1.6x faster on a
2-core machine. The script's loop alone (without interpreter start and
encoding load) is shown too: on 2 cores the serial encoding load makes 1.6x
against the bare loop out of reach for any tool that has to load it.

    python benchmarks/bench_cold.py [--runs 3] [--encoding o200k_base]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctxgate import encodings  # noqa: E402
from _common import ctxgate_cmd, env, git, precompile, table, timed  # noqa: E402

IGNORED = ("site-packages", "dist-packages", "__pycache__")

# Runs in a fresh interpreter so it pays nothing for this script's imports.
BASELINE = textwrap.dedent("""
    import os, sys, time
    if sys.argv[3] == "tiktoken":
        # What tiktoken.get_encoding does from its cache: tiktoken's parser
        # and constructor, on a local copy of the official rank file.
        import tiktoken, tiktoken.load, tiktoken_ext.openai_public as pub
        ranks = tiktoken.load.load_tiktoken_bpe(sys.argv[4])
        pub.load_tiktoken_bpe = lambda *a, **k: ranks
        enc = tiktoken.Encoding(**getattr(pub, sys.argv[2])())
    else:
        from ctxgate import encodings
        enc = encodings.load(sys.argv[2])
    paths = sys.stdin.read().split("\\0")[:-1]
    start = time.perf_counter()
    total = files = 0
    for rel in paths:
        with open(os.path.join(sys.argv[1], rel), "rb") as f:
            data = f.read()
        if b"\\0" in data[:8000]:
            continue
        total += len(enc.encode_ordinary(data.decode("utf-8", errors="replace")))
        files += 1
    print(time.perf_counter() - start, total, files)
""")


def build_repo(root: str) -> None:
    src = sysconfig.get_paths()["stdlib"]
    shutil.copytree(src, os.path.join(root, "stdlib"), symlinks=True,
                    ignore=shutil.ignore_patterns(*IGNORED, "*.pyc"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "stdlib")


def baseline(root: str, encoding: str, loader: str, rank_file: str) -> tuple[float, float, int, int]:
    """(whole process seconds, loop seconds, tokens, files) of the one-process script."""
    listed = git(root, "ls-files", "-z", "-s")
    paths = [rec.split(b"\t", 1)[1] for rec in listed.split(b"\0") if rec and not rec.startswith((b"120000", b"160000"))]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", BASELINE, root, encoding, loader, rank_file], input=b"\0".join(paths) + b"\0",
                          capture_output=True, env=env(), check=True)
    whole = time.perf_counter() - start
    secs, tokens, files = proc.stdout.split()
    return whole, float(secs), int(tokens), int(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--encoding", default="o200k_base")
    args = ap.parse_args()
    precompile()
    with tempfile.TemporaryDirectory(prefix="ctxgate-cold-") as root:
        build_repo(root)
        with open(os.path.join(root, "ctxgate.toml"), "w") as f:
            f.write(f'encoding = "{args.encoding}"\n')
        git(root, "add", "ctxgate.toml")
        git(root, "commit", "-q", "-m", "config")
        report = [*ctxgate_cmd(), "report", "--no-cache", "--format", "json", "--output", os.devnull]
        rank_file = os.path.join(root, ".git", f"{args.encoding}.tiktoken")
        with open(rank_file, "wb") as f:
            f.write(gzip.decompress(encodings._read_data(f"{args.encoding}.tiktoken.gz")))
        t_gate, t_whole, t_loop, t_plain = [], [], [], []
        tokens = files = 0
        for _ in range(args.runs):
            t_gate.append(timed(report, root))
            whole, loop, tokens, files = baseline(root, args.encoding, "ctxgate", rank_file)
            t_whole.append(whole)
            t_loop.append(loop)
            t_plain.append(baseline(root, args.encoding, "tiktoken", rank_file)[0])
        proc = subprocess.run([*ctxgate_cmd(), "report", "--no-cache", "--format", "json"], cwd=root,
                              capture_output=True, env=env(), check=True)
        doc = json.loads(proc.stdout)
    g, w, b = statistics.median(t_gate), statistics.median(t_whole), statistics.median(t_loop)
    p = statistics.median(t_plain)
    print(table([
        ["command", "median s", "runs (s)"],
        ["same script, encoding loaded by tiktoken's own parser", f"{p:.2f}", " ".join(f"{t:.2f}" for t in t_plain)],
        ["one-process encode_ordinary script (whole process)", f"{w:.2f}", " ".join(f"{t:.2f}" for t in t_whole)],
        ["  of which the loop alone", f"{b:.2f}", " ".join(f"{t:.2f}" for t in t_loop)],
        ["ctxgate report --no-cache (whole process)", f"{g:.2f}", " ".join(f"{t:.2f}" for t in t_gate)],
    ]))
    same = doc["totals"]["tokens"] == tokens
    print(f"\nfiles tokenized: {files:,} ({tokens:,} tokens, {args.encoding}); ctxgate counted "
          f"{doc['totals']['files']:,} files, {doc['totals']['tokens']:,} tokens ({'same' if same else 'DIFFERENT'})")
    speedup = w / g
    verdict = "met" if speedup >= 1.6 else "NOT met"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cores: {cores}; speedup = {speedup:.2f}x against the script ({p / g:.2f}x when it loads the "
          f"encoding with tiktoken's parser), {b / g:.2f}x against its loop alone "
          f"(target >= 1.6x on 2 cores: {verdict})")
    return 0 if speedup >= 1.6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
