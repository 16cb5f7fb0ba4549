"""What a target holds: the file list with blob ids, and a way to read blobs."""
from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from ctxgate import git
from ctxgate.git import Entry

LINGUIST = ("linguist-generated", "linguist-vendored")


@dataclass(frozen=True)
class Target:
    kind: str  # "index" | "worktree" | "commit"
    commit: str | None = None

    @property
    def label(self) -> str:
        return {"index": "staged", "worktree": "work tree"}.get(self.kind, (self.commit or "")[:12])


@dataclass
class Snapshot:
    root: str
    target: Target
    entries: list[Entry]
    cat: git.CatFile
    # Work-tree contents that differ from the index, keyed by their blob id.
    local: dict[str, bytes] = field(default_factory=dict)

    def by_path(self) -> dict[str, Entry]:
        return {e.path: e for e in self.entries}

    def read(self, blobs: list[str]) -> Iterator[tuple[str, bytes]]:
        from_git = [b for b in blobs if b not in self.local]
        for b in blobs:
            if b in self.local:
                yield b, self.local[b]
        yield from self.cat.read_many(from_git)

    def read_path(self, path: str) -> bytes | None:
        entry = self.by_path().get(path)
        if entry is None or entry.mode in (git.MODE_GITLINK, git.MODE_SYMLINK):
            return None
        return next(self.read([entry.blob]))[1]

    def attributes(self, paths: list[str]) -> dict[str, dict[str, str]]:
        if not paths or not self._has_attribute_sources():
            return {}
        if self.target.kind == "worktree":
            return git.check_attr(self.root, paths, LINGUIST, cached=False)
        if self.target.kind == "index":
            return git.check_attr(self.root, paths, LINGUIST, cached=True)
        # git < 2.40 has no `check-attr --source`; a throw-away index holding
        # the commit's tree gives the same answer without touching the real one.
        with tempfile.TemporaryDirectory(prefix="ctxgate-") as tmp:
            index = os.path.join(tmp, "index")
            env = {**os.environ, "GIT_INDEX_FILE": index}
            git.run(["read-tree", self.target.commit or git.EMPTY_TREE], self.root, env=env)
            return git.check_attr(self.root, paths, LINGUIST, cached=True, index_file=index)

    def _has_attribute_sources(self) -> bool:
        if any(e.path == ".gitattributes" or e.path.endswith("/.gitattributes") for e in self.entries):
            return True
        if os.path.exists(os.path.join(git.git_dir(self.root), "info", "attributes")):
            return True
        proc = subprocess.run(("git", "config", "--path", "core.attributesFile"),
                              cwd=self.root, capture_output=True)
        configured = proc.stdout.decode().strip()
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        default = os.path.join(xdg, "git", "attributes")
        return os.path.exists(configured or default)


def open_snapshot(root: str, target: Target, cat: git.CatFile) -> Snapshot:
    if target.kind == "commit":
        assert target.commit is not None
        return Snapshot(root, target, git.ls_tree(root, target.commit), cat)
    entries = git.ls_files_stage(root)
    if target.kind == "index":
        return Snapshot(root, target, entries, cat)
    return _worktree(root, target, entries, cat)


def _read_local(root: str, path: str) -> tuple[str, bytes] | None:
    """(mode, content) of a work-tree path as git would store it, None if absent."""
    full = os.path.join(root, path)
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            return git.MODE_SYMLINK, os.fsencode(os.readlink(full))
        if stat.S_ISDIR(st.st_mode):
            return git.MODE_GITLINK, b""
        if not stat.S_ISREG(st.st_mode):
            return None
        with open(full, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return ("100755" if st.st_mode & 0o111 else "100644"), data


def _worktree(root: str, target: Target, entries: list[Entry], cat: git.CatFile) -> Snapshot:
    dirty = git.modified_in_worktree(root)
    out: list[Entry] = []
    local: dict[str, bytes] = {}
    for e in entries:
        if e.path not in dirty or e.mode == git.MODE_GITLINK:
            out.append(e)
            continue
        got = _read_local(root, e.path)
        if got is None:
            continue  # deleted in the work tree
        mode, data = got
        blob = git.hash_blob(data)
        local[blob] = data
        out.append(Entry(e.path, mode, blob))
    for path in git.untracked(root):
        if path.endswith("/"):
            # A nested repository: git would record it as a gitlink.
            out.append(Entry(path.rstrip("/"), git.MODE_GITLINK, ""))
            continue
        got = _read_local(root, path)
        if got is None:
            continue
        mode, data = got
        blob = git.hash_blob(data)
        local[blob] = data
        out.append(Entry(path, mode, blob))
    out.sort(key=lambda e: e.path)
    return Snapshot(root, target, out, cat, local)
