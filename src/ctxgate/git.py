"""Every git call goes through :func:`run` (or :class:`CatFile`) so failures read the same way."""
from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ctxgate.errors import FatalError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
MODE_SYMLINK = "120000"
MODE_GITLINK = "160000"
MODE_ABSENT = "000000"


def run(
    args: Sequence[str],
    cwd: str,
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """stdout of `git ARGS`; a non-zero exit raises unless *check* is false (then b"" is returned)."""
    cmd = ("git", *args)
    try:
        proc = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, env=env)
    except FileNotFoundError:
        raise FatalError("git is not installed or not on PATH; install git") from None
    if proc.returncode != 0:
        if not check:
            return b""
        raise FatalError(describe_failure(cmd, proc.returncode, proc.stderr))
    return proc.stdout


def describe_failure(cmd: Sequence[str], code: int, stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    reason = lines[0] if lines else "no message"
    return f"`{' '.join(cmd)}` failed with exit {code}: {reason}"


def decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def encode_path(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def split_z(out: bytes) -> list[str]:
    return [decode_path(p) for p in out.split(b"\0") if p]


@dataclass(frozen=True)
class Layout:
    root: str
    git_dir: str
    common_dir: str


def layout(cwd: str) -> Layout:
    """Work-tree root, git dir and common dir in one call (a linked worktree has its own git dir)."""
    try:
        out = run(["rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"], cwd)
    except FatalError:
        raise FatalError(
            f"{os.path.abspath(cwd)} is not inside a git work tree; "
            "run ctxgate from a git checkout (or `git init` first)"
        ) from None
    root, gdir, common = decode_path(out).split("\n")[:3]
    # --git-common-dir is relative to the current directory when not absolute.
    return Layout(root, gdir, os.path.normpath(os.path.join(os.path.abspath(cwd), common)))


def repo_root(cwd: str) -> str:
    return layout(cwd).root


def common_dir(root: str) -> str:
    return layout(root).common_dir


def git_dir(root: str) -> str:
    return layout(root).git_dir


def _rev_parse(root: str, rev: str) -> str | None:
    out = run(["rev-parse", "--verify", "--quiet", "--end-of-options", rev], root, check=False)
    return out.decode().strip() or None


def resolve_commit(root: str, rev: str) -> str:
    found = _rev_parse(root, f"{rev}^{{commit}}")
    if found is None:
        raise FatalError(
            f"{rev!r} is not a commit in this repository; "
            "pass a branch, tag or sha that `git rev-parse` knows "
            "(in a shallow clone, fetch more history)"
        )
    return found


def head_commit(root: str) -> str | None:
    return _rev_parse(root, "HEAD^{commit}")


def first_parent(root: str, commit: str) -> str | None:
    return _rev_parse(root, f"{commit}^1")


def merge_base(root: str, a: str, b: str) -> str:
    out = run(["merge-base", a, b], root, check=False).decode().strip()
    if not out:
        raise FatalError(
            f"no common ancestor between {a[:12]} and {b[:12]}; "
            "the history may be shallow: fetch full history "
            "(actions/checkout with fetch-depth: 0)"
        )
    return out


class Entry(NamedTuple):
    path: str
    mode: str
    blob: str


def ls_files_stage(root: str, paths: Sequence[str] | None = None) -> list[Entry]:
    """The index, one entry per path (stage 0, or the first conflict stage); *paths* limits it."""
    args = ["ls-files", "-s", "-z", "--full-name"]
    if paths is not None:
        args += ["--", *(f":(top,literal){p}" for p in paths)]
    entries: dict[str, Entry] = {}
    for rec in run(args, root).split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, blob, _stage = meta.decode().split(" ")
        p = decode_path(path)
        if p not in entries:
            entries[p] = Entry(p, mode, blob)
    return list(entries.values())


def ls_tree(root: str, commit: str, paths: Sequence[str] | None = None) -> list[Entry]:
    args = ["ls-tree", "-r", "-z", "--full-tree", commit]
    if paths is not None:
        args += ["--", *paths]
    entries = []
    for rec in run(args, root).split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, _kind, blob = meta.decode().split(" ")
        entries.append(Entry(decode_path(path), mode, blob))
    return entries


def untracked(root: str) -> list[str]:
    return split_z(run(["ls-files", "-z", "--others", "--exclude-standard", "--full-name"], root))


def modified_in_worktree(root: str) -> set[str]:
    """Tracked paths whose work-tree file differs from the index (or is gone)."""
    return set(split_z(run(["diff-files", "-z", "--name-only", "--no-renames"], root)))


def hash_blob(data: bytes) -> str:
    """The blob id git would give *data* (no filters applied)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def hash_paths(root: str, paths: Sequence[str]) -> dict[str, str]:
    """Blob ids `git add` would record for work-tree files (clean filters and eol rules applied)."""
    # --stdin-paths reads one path per line; a path with a newline cannot be asked.
    todo = [p for p in paths if "\n" not in p]
    if not todo:
        return {}
    out = run(["hash-object", "--stdin-paths"], root, check=False,
              stdin=b"".join(encode_path(p) + b"\n" for p in todo)).decode().split()
    # A file that vanished mid-way fails the whole call: then no answer at all.
    return dict(zip(todo, out)) if len(out) == len(todo) else {}


class Change(NamedTuple):
    """One path of a raw diff: the old and new side (mode "000000" when absent)."""

    status: str
    path: str
    old_mode: str
    old_blob: str
    new_mode: str
    new_blob: str

    @property
    def old(self) -> Entry | None:
        return None if self.old_mode == MODE_ABSENT else Entry(self.path, self.old_mode, self.old_blob)

    @property
    def new(self) -> Entry | None:
        return None if self.new_mode == MODE_ABSENT else Entry(self.path, self.new_mode, self.new_blob)


def diff_raw(root: str, base: str, target: str | None, *, cached: bool = True) -> list[Change]:
    """Per-path changes from the tree *base* to the commit *target*, or to the index.

    Renames are reported as a deletion plus an addition: both paths are
    what a change touches, and it keeps each record to one path.
    """
    opts = ["-z", "--raw", "--no-renames", "--no-abbrev", "--no-ext-diff", "--ignore-submodules=none"]
    if target is not None:
        args = ["diff-tree", "-r", *opts, base, target]
    else:
        args = ["diff-index", *opts, *(["--cached"] if cached else []), base]
    fields = run(args, root).split(b"\0")
    changes = []
    for i in range(0, len(fields) - 1, 2):
        meta = fields[i].decode()
        if not meta:
            break
        old_mode, new_mode, old_blob, new_blob, status = meta.lstrip(":").split(" ")
        changes.append(Change(status[0], decode_path(fields[i + 1]), old_mode, old_blob, new_mode, new_blob))
    return changes


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
    out = run([*args, *attrs], root, stdin=b"".join(encode_path(p) + b"\0" for p in paths), env=env)
    fields = out.split(b"\0")
    result: dict[str, dict[str, str]] = {}
    for i in range(0, len(fields) - 2, 3):
        attr, value = fields[i + 1].decode(), fields[i + 2].decode()
        if value not in ("unspecified", "unset"):
            result.setdefault(decode_path(fields[i]), {})[attr] = value
    return result


def attributes_file(root: str) -> str | None:
    """The global attributes file git reads (core.attributesFile or its XDG default), if any."""
    configured = run(["config", "--path", "--get", "core.attributesFile"], root, check=False)
    path = decode_path(configured).strip()
    if not path:
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        path = os.path.join(xdg, "git", "attributes")
    return path if os.path.isfile(path) else None


def blob_sizes(root: str, blobs: Sequence[str]) -> dict[str, int]:
    """Object sizes from one `git cat-file --batch-check` call."""
    if not blobs:
        return {}
    out = run(["cat-file", "--batch-check"], root, stdin="".join(f"{b}\n" for b in blobs).encode())
    sizes: dict[str, int] = {}
    for line in out.decode().splitlines():
        parts = line.split(" ")
        if len(parts) == 3:
            sizes[parts[0]] = int(parts[2])
    return sizes


class CatFile:
    """One `git cat-file --batch` process for all object reads."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ("git", "cat-file", "--batch"), cwd=self._root,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                )
            except FileNotFoundError:
                raise FatalError("git is not installed or not on PATH; install git") from None
        return self._proc

    def _ask(self, specs: Sequence[str]) -> Iterator[tuple[str, str, bytes] | None]:
        """(object id, type, content) per spec, None for a missing object, in order."""
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        # Requests go in bounded chunks and every answer is read before the
        # next chunk is sent, so neither pipe can fill up and deadlock.
        chunk = 256
        for i in range(0, len(specs), chunk):
            part = specs[i:i + chunk]
            try:
                proc.stdin.write(b"".join(encode_path(s) + b"\n" for s in part))
                proc.stdin.flush()
            except BrokenPipeError:
                raise FatalError("git cat-file stopped unexpectedly; is the repository readable?") from None
            for spec in part:
                header = proc.stdout.readline()
                fields = header.split(b" ")
                if len(fields) != 3:
                    if header.endswith(b" missing\n") or header.endswith(b" ambiguous\n"):
                        yield None
                        continue
                    raise FatalError(f"git cat-file could not read {spec}: {header.decode(errors='replace').strip()}")
                size = int(fields[2])
                data = proc.stdout.read(size)
                proc.stdout.read(1)
                yield fields[0].decode(), fields[1].decode(), data

    def read_many(self, blobs: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        wanted = list(blobs)
        for blob, got in zip(wanted, self._ask(wanted)):
            if got is None:
                raise FatalError(f"git object {blob} is missing; the repository may be incomplete (shallow?)")
            yield blob, got[2]

    def read(self, blob: str) -> bytes:
        return next(iter(self.read_many([blob])))[1]

    def lookup(self, specs: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """Objects named by `rev:path`, `:path` (the index) or ids; None where there is none."""
        return list(self._ask(specs))

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
            self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def commit_info(cat: CatFile, rev: str) -> tuple[str, str, list[str]] | None:
    """(commit id, tree id, parent ids) of *rev*, read through the batch process; None if not a commit."""
    got = cat.lookup([f"{rev}^{{commit}}"])[0]
    if got is None or got[1] != "commit":
        return None
    tree = ""
    parents = []
    for line in got[2].split(b"\n"):
        if not line:
            break
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents.append(value.decode())
    return got[0], tree, parents
