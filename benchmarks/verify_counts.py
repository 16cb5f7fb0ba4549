"""Recount a commit's top-level components with tiktoken alone and compare.

Usage: python benchmarks/verify_counts.py REPO [REV] [--encoding NAME]

The reference count uses git and tiktoken only (no ctxgate code): every
regular, non-binary file of REV's tree is decoded as UTF-8 with
errors="replace" and measured with encode_ordinary; files are grouped by
top-level directory, which is what ctxgate does with no config. The script
then runs `ctxgate report --rev REV --format json` and compares component by
component. Exit 0 when every footprint matches exactly.
"""
from __future__ import annotations

import argparse
import base64
import gzip
import json
import subprocess
import sys
from collections import defaultdict
from importlib import resources

import tiktoken
import tiktoken_ext.openai_public as public


def reference_encoding(name: str) -> tiktoken.Encoding:
    # tiktoken's own constructor, with the rank file read from the package
    # data instead of downloaded; the constructor's pattern and special tokens
    # are tiktoken's, not ours.
    raw = gzip.decompress(resources.files("ctxgate").joinpath("data", f"{name}.tiktoken.gz").read_bytes())
    ranks = {base64.b64decode(t): int(r) for t, r in (line.split() for line in raw.splitlines() if line)}
    original = public.load_tiktoken_bpe
    public.load_tiktoken_bpe = lambda *a, **k: ranks  # type: ignore[assignment]
    try:
        params = getattr(public, name)()
    finally:
        public.load_tiktoken_bpe = original
    return tiktoken.Encoding(**params)


def git(repo: str, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(("git", *args), cwd=repo, input=stdin, capture_output=True, check=True).stdout


def reference(repo: str, rev: str, enc: tiktoken.Encoding) -> dict[str, int]:
    entries = []
    for rec in git(repo, "ls-tree", "-r", "-z", rev).split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, blob = meta.decode().split()
        if kind == "blob" and mode in ("100644", "100755"):
            entries.append((path.decode("utf-8", "surrogateescape"), blob))
    out: dict[str, int] = defaultdict(int)
    for path, blob in entries:
        data = git(repo, "cat-file", "blob", blob)
        if b"\0" in data[:8000] or "/" not in path:
            continue
        out[path.split("/", 1)[0]] += len(enc.encode_ordinary(data.decode("utf-8", errors="replace")))
    return dict(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("rev", nargs="?", default="HEAD")
    ap.add_argument("--encoding", default="o200k_base")
    args = ap.parse_args()
    config = f'encoding = "{args.encoding}"\nrespect_gitattributes = false\n'
    with open(f"{args.repo}/.git/ctxgate-verify.toml", "w") as f:
        f.write(config)
    proc = subprocess.run(
        (sys.executable, "-m", "ctxgate", "report", "--rev", args.rev, "--format", "json", "--no-cache",
         "--config", ".git/ctxgate-verify.toml"),
        cwd=args.repo, capture_output=True, text=True, check=True,
    )
    ours = {c["name"]: c["footprint"] for c in json.loads(proc.stdout)["components"]}
    ref = reference(args.repo, args.rev, reference_encoding(args.encoding))
    bad = 0
    for name in sorted(set(ours) | set(ref)):
        a, b = ours.get(name, 0), ref.get(name, 0)
        bad += a != b
        print(f"{'ok  ' if a == b else 'DIFF'} {name:40} ctxgate {a:>10,}  tiktoken {b:>10,}")
    print(f"{len(set(ours) | set(ref))} components, {bad} differ, total {sum(ref.values()):,} tokens")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
