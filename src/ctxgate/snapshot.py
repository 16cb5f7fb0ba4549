"""What a target holds: the file list with blob ids, and a way to read blobs."""
from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from ctxgate import git
from ctxgate.catfile import CatFile
from ctxgate.git import Entry

LINGUIST = ("linguist-generated", "linguist-vendored")


@dataclass(frozen=True)
class Target:
    kind: str  # "index" | "worktree" | "commit"
    commit: str | None = None


class BlobReader:
    """Reads blobs: work-tree contents held in memory first, then git's object store.

    Token counting also looks at ``root``, ``local`` and ``disk`` so parallel
    workers can open their own `git cat-file`, and read clean work-tree files
    straight from disk (see :func:`read_clean`), instead of receiving every
    blob through a pipe.
    """

    def __init__(self, root: str, cat: CatFile, local: Mapping[str, bytes],
                 disk: Mapping[str, str] | None = None, since_ns: int = 0) -> None:
        self.root = root
        self.cat = cat
        self.local = local
        # Blob id -> work-tree path of a file whose bytes are that blob's, if unchanged since *since_ns*.
        self.disk: Mapping[str, str] = disk or {}
        self.since_ns = since_ns

    def __call__(self, blobs: list[str]) -> Iterator[tuple[str, bytes]]:
        for b in blobs:
            if b in self.local:
                yield b, self.local[b]
        yield from self.cat.read_many(b for b in blobs if b not in self.local)


class Snapshot:
    """The tracked files of a target; for the index and commits the list is read on first use."""

    def __init__(self, root: str, target: Target, cat: CatFile, entries: list[Entry] | None = None,
                 local: Mapping[str, bytes] | None = None, *, attr_source: Snapshot | None = None,
                 disk: Mapping[str, str] | None = None, since_ns: int = 0,
                 attr_files: Sequence[str] = ()) -> None:
        self.root = root
        self.target = target
        # Attribute files outside the tree that git applies (see global_attribute_files).
        self.attr_files = tuple(attr_files)
        # `git ls-files --others` as listed for a work-tree snapshot.
        self.untracked: tuple[str, ...] = ()
        self.cat = cat
        self._entries = entries
        # Work-tree contents that differ from the index, keyed by their blob id.
        self.local: Mapping[str, bytes] = local or {}
        self.read = BlobReader(root, cat, self.local, disk, since_ns)
        self._attr_source = attr_source
        self._attrs: dict[str, dict[str, str]] = {}
        self._by_path: dict[str, Entry] | None = None

    @property
    def entries(self) -> list[Entry]:
        if self._entries is None:
            if self.target.kind == "commit":
                assert self.target.commit is not None
                self._entries = git.ls_tree(self.root, self.target.commit)
            else:
                self._entries = git.ls_files_stage(self.root)
        return self._entries

    def entries_under(self, paths: Sequence[str]) -> list[Entry]:
        """Entries at or below *paths*; for the index and commits git lists only those."""
        if self._entries is None and self.target.kind == "index":
            return git.ls_files_stage(self.root, paths)
        if self._entries is None and self.target.kind == "commit":
            assert self.target.commit is not None
            return git.ls_tree(self.root, self.target.commit, paths)
        return [e for e in self.entries if any(e.path == p or e.path.startswith(p + "/") for p in paths)]

    def subset(self, entries: list[Entry]) -> Snapshot:
        """A snapshot of some entries that answers attribute questions as this one does."""
        return Snapshot(self.root, self.target, self.cat, entries, self.local, attr_source=self,
                        attr_files=self.attr_files)

    def by_path(self) -> dict[str, Entry]:
        if self._by_path is None:
            self._by_path = {e.path: e for e in self.entries}
        return self._by_path

    def read_path(self, path: str) -> bytes | None:
        """Content of a regular file of the target, None when absent (or a link)."""
        if self._entries is None and self.target.kind in ("index", "commit"):
            # One request to the running cat-file instead of listing every file.
            spec = f":{path}" if self.target.kind == "index" else f"{self.target.commit}:{path}"
            got = self.cat.lookup([spec])[0]
            return got[2] if got is not None and got[1] == "blob" else None
        entry = self.by_path().get(path)
        if entry is None or entry.mode in (git.MODE_GITLINK, git.MODE_SYMLINK):
            return None
        return next(self.read([entry.blob]))[1]

    def attributes(self, paths: Sequence[str]) -> dict[str, dict[str, str]]:
        """linguist-* attributes that are set, per path, as the target's attribute files say."""
        if self._attr_source is not None:
            return self._attr_source.attributes(paths)
        todo = [p for p in dict.fromkeys(paths) if p not in self._attrs]
        if todo:
            found = self._check_attr(todo) if self._has_attribute_sources() else {}
            for p in todo:
                self._attrs[p] = found.get(p, {})
        return {p: self._attrs[p] for p in paths if self._attrs.get(p)}

    def _check_attr(self, paths: list[str]) -> dict[str, dict[str, str]]:
        if self.target.kind == "worktree":
            return git.check_attr(self.root, paths, LINGUIST, cached=False)
        if self.target.kind == "index":
            return git.check_attr(self.root, paths, LINGUIST, cached=True)
        # git < 2.40 has no `check-attr --source`; a throw-away index holding
        # the commit's tree gives the same answer without touching the real one.
        import tempfile  # only --rev with attributes needs it; kept off the hook's start-up

        with tempfile.TemporaryDirectory(prefix="ctxgate-") as tmp:
            index = os.path.join(tmp, "index")
            env = {**os.environ, "GIT_INDEX_FILE": index}
            git.run(["read-tree", self.target.commit or git.EMPTY_TREE], self.root, env=env)
            return git.check_attr(self.root, paths, LINGUIST, cached=True, index_file=index)

    def _has_attribute_sources(self) -> bool:
        if self._entries is None and self.target.kind == "index":
            return True  # asking git is cheaper than listing the index to find out
        if any(is_attributes_file(e.path) for e in self.entries):
            return True
        return bool(self.attr_files)


def is_attributes_file(path: str) -> bool:
    return path == ".gitattributes" or path.endswith("/.gitattributes")


def global_attribute_files(root: str, common_dir: str) -> tuple[str, ...]:
    """Attribute files outside the tree that git applies ($GIT_DIR/info/attributes, the global one)."""
    candidates = (os.path.join(common_dir, "info", "attributes"), git.attributes_file(root))
    return tuple(p for p in candidates if p and os.path.isfile(p))


def open_snapshot(root: str, target: Target, cat: CatFile, attr_files: Sequence[str] = ()) -> Snapshot:
    if target.kind == "worktree":
        return _worktree(root, target, cat, tuple(attr_files))
    return Snapshot(root, target, cat, attr_files=attr_files)


def read_local(root: str, path: str) -> tuple[str, bytes] | None:
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


def read_clean(path: str, since_ns: int, sniff: int | None = None) -> tuple[bytes, int] | None:
    """(content, size) of a work-tree file `git diff-files` found clean at *since_ns*, or None.

    Only used when no attribute or config can make the checked-out bytes
    differ from the blob. The file must be regular, untouched since the check
    (its ctime, which no tool can set back, is older, with a margin) and
    stable across the read; otherwise the caller reads git's copy. With
    *sniff*, a file with a NUL byte in its first *sniff* bytes (a binary
    file) is read no further.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        before = os.fstat(fd)
        # A margin for file systems that keep coarse (up to 2 s) timestamps.
        settled = since_ns - 2_000_000_000
        if not stat.S_ISREG(before.st_mode) or before.st_ctime_ns >= settled or before.st_mtime_ns >= settled:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(sniff) if sniff is not None else b""
            whole = sniff is None or b"\0" not in data
            if whole:
                data += f.read()
        after = os.fstat(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    same = (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns,
                                                                        after.st_ctime_ns)
    if not same or (whole and len(data) != before.st_size):
        return None
    return data, before.st_size


def _direct_reads(root: str, paths: list[str], attr_files: Sequence[str]) -> bool:
    """Whether clean work-tree files hold exactly their blobs' bytes: no attribute
    files (so no eol conversion, filter or encoding) and no core.autocrlf."""
    if any(is_attributes_file(p) for p in paths):
        return False
    if attr_files:
        return False
    autocrlf = git.run(["config", "--get", "core.autocrlf"], root, check=False).strip().lower()
    return autocrlf in (b"", b"false")


def _worktree(root: str, target: Target, cat: CatFile, attr_files: tuple[str, ...]) -> Snapshot:
    entries, plain = git.ls_files_tagged(root)
    since_ns = time.time_ns()
    dirty = git.modified_in_worktree(root)
    out: list[Entry] = []
    found: list[tuple[str, str, bytes]] = []
    for e in entries:
        if e.path not in dirty or e.mode == git.MODE_GITLINK:
            out.append(e)
            continue
        got = read_local(root, e.path)
        if got is not None:  # else deleted in the work tree
            found.append((e.path, *got))
    others = git.untracked(root)
    for path in others:
        if path.endswith("/"):
            # A nested repository: git would record it as a gitlink.
            out.append(Entry(path.rstrip("/"), git.MODE_GITLINK, ""))
            continue
        got = read_local(root, path)
        if got is not None:
            found.append((path, *got))
    local: dict[str, bytes] = {}
    out += _identify(root, found, cat, local)
    out.sort(key=lambda e: e.path)
    disk: dict[str, str] = {}
    if _direct_reads(root, [e.path for e in entries] + others, attr_files):
        disk = {e.blob: e.path for e in entries
                if e.path not in dirty and e.path in plain and e.mode in ("100644", "100755")}
    snap = Snapshot(root, target, cat, out, local, disk=disk, since_ns=since_ns, attr_files=attr_files)
    snap.untracked = tuple(others)
    return snap


def _identify(root: str, found: list[tuple[str, str, bytes]], cat: CatFile,
              local: dict[str, bytes]) -> list[Entry]:
    """Entries for work-tree files, with the blob id `git add` would give them.

    The id is the cache key, so an edit that is later staged or committed
    is tokenized once. When a clean filter or eol rule makes git's blob differ
    from the bytes on disk, the blob is read from git if it exists; otherwise
    the bytes on disk are counted under their own hash, never under git's id.
    """
    files = [f for f in found if f[1] != git.MODE_GITLINK]
    ids = git.hash_paths(root, [f[0] for f in files]) if files else {}
    out = [Entry(p, m, "") for p, m, _ in found if m == git.MODE_GITLINK]
    unfiltered: dict[str, str] = {}
    for path, mode, data in files:
        raw = git.hash_blob(data)
        blob = ids.get(path, raw)
        if blob != raw:
            unfiltered[path] = raw
        else:
            local[blob] = data
        out.append(Entry(path, mode, blob))
    filtered = [e for e in out if e.path in unfiltered]
    if filtered:
        data_of = {p: d for p, _, d in files}
        fixed: dict[str, Entry] = {}
        for e, got in zip(filtered, cat.lookup([e.blob for e in filtered])):
            if got is None:
                raw = unfiltered[e.path]
                local[raw] = data_of[e.path]
                fixed[e.path] = Entry(e.path, e.mode, raw)
        out = [fixed.get(e.path, e) for e in out]
    return out
