"""Every git call goes through :func:`run` so failures read the same way."""
from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ctxgate.errors import FatalError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
MODE_SYMLINK = "120000"
MODE_GITLINK = "160000"


def run(
    args: Sequence[str],
    cwd: str,
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> bytes:
    cmd = ("git", *args)
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, input=stdin, capture_output=True, env=env,
        )
    except FileNotFoundError:
        raise FatalError("git is not installed or not on PATH; install git")
    if proc.returncode != 0:
        raise FatalError(describe_failure(cmd, proc.returncode, proc.stderr))
    return proc.stdout


def describe_failure(cmd: Sequence[str], code: int, stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    reason = lines[0] if lines else "no message"
    return f"`{' '.join(cmd)}` failed with exit {code}: {reason}"


def split_z(out: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def repo_root(cwd: str) -> str:
    try:
        out = run(["rev-parse", "--show-toplevel"], cwd)
    except FatalError:
        raise FatalError(
            f"{os.path.abspath(cwd)} is not inside a git repository; "
            "run ctxgate from a git checkout (or `git init` first)"
        ) from None
    return out.decode("utf-8", "surrogateescape").rstrip("\n")


def common_dir(root: str) -> str:
    out = run(["rev-parse", "--git-common-dir"], root)
    return os.path.join(root, out.decode("utf-8", "surrogateescape").rstrip("\n"))


def git_dir(root: str) -> str:
    out = run(["rev-parse", "--git-dir"], root)
    return os.path.join(root, out.decode("utf-8", "surrogateescape").rstrip("\n"))


def resolve_commit(root: str, rev: str) -> str:
    proc = subprocess.run(
        ("git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"),
        cwd=root, capture_output=True,
    )
    if proc.returncode != 0:
        raise FatalError(
            f"{rev!r} is not a commit in this repository; "
            "pass a branch, tag or sha that `git rev-parse` knows "
            "(in a shallow clone, fetch more history)"
        )
    return proc.stdout.decode().strip()


def head_commit(root: str) -> str | None:
    proc = subprocess.run(
        ("git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"),
        cwd=root, capture_output=True,
    )
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def first_parent(root: str, commit: str) -> str | None:
    proc = subprocess.run(
        ("git", "rev-parse", "--verify", "--quiet", f"{commit}^1"),
        cwd=root, capture_output=True,
    )
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def merge_base(root: str, a: str, b: str) -> str:
    proc = subprocess.run(
        ("git", "merge-base", a, b), cwd=root, capture_output=True,
    )
    if proc.returncode != 0:
        raise FatalError(
            f"no common ancestor between {a[:12]} and {b[:12]}; "
            "the history may be shallow: fetch full history "
            "(actions/checkout with fetch-depth: 0)"
        )
    return proc.stdout.decode().strip()


@dataclass(frozen=True)
class Entry:
    path: str
    mode: str
    blob: str


def ls_files_stage(root: str) -> list[Entry]:
    """The index, one entry per path (stage 0, or the first conflict stage)."""
    out = run(["ls-files", "-s", "-z", "--full-name"], root)
    entries: dict[str, Entry] = {}
    for rec in split_z(out):
        meta, path = rec.split("\t", 1)
        mode, blob, _stage = meta.split(" ")
        entries.setdefault(path, Entry(path, mode, blob))
    return list(entries.values())


def ls_tree(root: str, commit: str) -> list[Entry]:
    out = run(["ls-tree", "-r", "-z", "--full-tree", commit], root)
    entries = []
    for rec in split_z(out):
        meta, path = rec.split("\t", 1)
        mode, _kind, blob = meta.split(" ")
        entries.append(Entry(path, mode, blob))
    return entries


def untracked(root: str) -> list[str]:
    return split_z(run(["ls-files", "-z", "--others", "--exclude-standard", "--full-name"], root))


def modified_in_worktree(root: str) -> set[str]:
    """Tracked paths whose work-tree file differs from the index (or is gone)."""
    return set(split_z(run(["diff-files", "-z", "--name-only", "--no-renames"], root)))


def hash_blob(data: bytes) -> str:
    """The blob id git would give *data* (no filters applied)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class CatFile:
    """One `git cat-file --batch` process for all object reads."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ("git", "cat-file", "--batch"), cwd=self._root,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
        return self._proc

    def read_many(self, blobs: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        blobs = list(blobs)
        if not blobs:
            return
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        # A writer thread is not needed: requests are written in bounded
        # chunks and each answer is read before the next chunk is sent.
        chunk = 256
        for i in range(0, len(blobs), chunk):
            part = blobs[i:i + chunk]
            proc.stdin.write(b"".join(b.encode() + b"\n" for b in part))
            proc.stdin.flush()
            for blob in part:
                header = proc.stdout.readline().decode().split()
                if len(header) < 3:
                    raise FatalError(f"git cat-file could not read object {blob}: {' '.join(header)}")
                size = int(header[2])
                data = proc.stdout.read(size)
                proc.stdout.read(1)
                yield blob, data

    def read(self, blob: str) -> bytes:
        return next(iter(self.read_many([blob])))[1]

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_attr(
    root: str, paths: Sequence[str], attrs: Sequence[str], *, cached: bool,
    index_file: str | None = None,
) -> dict[str, dict[str, str]]:
    """Attribute values that are set (not unspecified) per path."""
    if not paths:
        return {}
    args = ["check-attr", "-z", "--stdin"]
    if cached:
        args.append("--cached")
    env = None
    if index_file is not None:
        env = {**os.environ, "GIT_INDEX_FILE": index_file}
    out = run([*args, *attrs], root, stdin=b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths), env=env)
    fields = out.split(b"\0")
    result: dict[str, dict[str, str]] = {}
    for i in range(0, len(fields) - 2, 3):
        path = fields[i].decode("utf-8", "surrogateescape")
        attr, value = fields[i + 1].decode(), fields[i + 2].decode()
        if value not in ("unspecified", "unset"):
            result.setdefault(path, {})[attr] = value
    return result


@dataclass(frozen=True)
class Change:
    status: str
    paths: tuple[str, ...]


def diff_tree(root: str, base: str, target: str | None) -> list[Change]:
    """Changes from *base* to *target* (a commit, or the index when None)."""
    if target is None:
        return _changes(root, ["diff-index", "--cached", base])
    return _changes(root, ["diff-tree", "-r", base, target])


def diff_worktree(root: str, base: str) -> list[Change]:
    """Changes from *base* to the tracked files of the work tree."""
    return _changes(root, ["diff-index", base])


def _changes(root: str, cmd: list[str]) -> list[Change]:
    args = [*cmd[:-1], "-z", "-M", "--name-status", "--no-ext-diff", *cmd[-1:]]
    if cmd[0] == "diff-tree":
        args = [*cmd[:2], "-z", "-M", "--name-status", "--no-ext-diff", *cmd[2:]]
    fields = split_z(run(args, root))
    changes = []
    i = 0
    while i < len(fields):
        status = fields[i]
        n = 2 if status[0] in "RC" else 1
        changes.append(Change(status[0], tuple(fields[i + 1:i + 1 + n])))
        i += 1 + n
    return changes
