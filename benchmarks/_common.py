"""Helpers shared by the benchmark scripts: timing, git, and the ctxgate command."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def env() -> dict[str, str]:
    out = {**os.environ, **GIT_ENV}
    out.pop("CTXGATE_CACHE_DIR", None)
    return out


def git(cwd: str, *args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(("git", *args), cwd=cwd, input=stdin, capture_output=True, env=env())
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def ctxgate_cmd() -> list[str]:
    """The installed console script next to this interpreter, else `python -m ctxgate`."""
    script = os.path.join(os.path.dirname(sys.executable), "ctxgate")
    if os.path.exists(script):
        return [script]
    found = shutil.which("ctxgate")
    return [found] if found else [sys.executable, "-m", "ctxgate"]


def precompile() -> None:
    """Write ctxgate's bytecode, as `pip install` does, so no run pays for compiling it."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("ctxgate")
    if spec is not None and spec.submodule_search_locations:
        for where in spec.submodule_search_locations:
            compileall.compile_dir(where, quiet=1)


def timed(cmd: Sequence[str], cwd: str, *, ok: Sequence[int] = (0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, env=env())
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return elapsed


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
