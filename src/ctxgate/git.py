"""Every git call goes through :func:`run` (or :class:`CatFile`) so failures read the same way."""
from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Sequence
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
    except OSError as e:
        raise FatalError(no_git(e)) from None
    if proc.returncode != 0:
        if not check:
            return b""
        raise FatalError(describe_failure(cmd, proc.returncode, proc.stderr))
    return proc.stdout


def no_git(err: OSError) -> str:
    return f"git could not be run ({err.strerror}); install git and make sure it is on PATH"


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
    return ls_files_tagged(root, paths)[0]


def ls_files_tagged(root: str, paths: Sequence[str] | None = None) -> tuple[list[Entry], set[str]]:
    """The index, and the paths git compares with the work tree as usual: not assume-unchanged,
    skip-worktree or unmerged (`git diff-files` can call those clean when they are not)."""
    args = ["ls-files", "-s", "-v", "-z", "--full-name"]
    if paths is not None:
        args += ["--", *(f":(top,literal){p}" for p in paths)]
    entries: dict[str, Entry] = {}
    plain: set[str] = set()
    for rec in run(args, root).split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        tag, mode, blob, _stage = meta.decode().split(" ")
        p = decode_path(path)
        if p not in entries:
            entries[p] = Entry(p, mode, blob)
            if tag == "H":
                plain.add(p)
        else:
            plain.discard(p)  # more than one stage: unmerged
    return list(entries.values()), plain


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
