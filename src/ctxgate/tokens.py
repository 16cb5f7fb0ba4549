"""Counting tokens and lines of blobs, through the cache, in parallel when cold."""
from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterable
from typing import Any

from ctxgate.cache import BlobStats, TokenCache
from ctxgate.catfile import CatFile
from ctxgate.snapshot import BlobReader, read_clean

BINARY_SNIFF = 8000
# Below this many cold blobs a worker pool costs more than it saves; where
# workers cannot be forked each one loads the encoding again, which pays off
# only for large runs.
PARALLEL_MIN_FILES = 48
PARALLEL_MIN_FILES_SPAWN = 1000

# (repo root, encoding, scale, blobs to read from git, blobs in memory,
#  blobs to read from clean work-tree files, the time they were found clean)
Task = tuple[str, str, float, list[str], list[tuple[str, bytes]], list[tuple[str, str]], int]


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


def count_lines(data: bytes) -> int:
    n = data.count(b"\n")
    return n + 1 if data and not data.endswith(b"\n") else n


def stats_for(data: bytes, encoding_name: str, scale: float) -> BlobStats:
    if is_binary(data):
        return BlobStats(True, len(data), 0, 0)
    from ctxgate import encodings

    text = data.decode("utf-8", errors="replace")
    raw = len(encodings.load(encoding_name).encode_ordinary(text))
    tokens = raw if scale == 1.0 else round(raw * scale)
    return BlobStats(False, len(data), count_lines(data), tokens)


def workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled and total > 0

    def advance(self, n: int) -> None:
        self.done += n
        if self.enabled:
            sys.stderr.write(f"\rctxgate: tokenizing {self.done:,}/{self.total:,} files")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


# One cat-file per worker process, started on its first task.
_worker_cat: dict[str, CatFile] = {}


def disk_stats(root: str, path: str, since_ns: int, name: str, scale: float) -> BlobStats | None:
    """Stats from a clean work-tree file; a binary one is told from its first bytes, never read whole."""
    got = read_clean(os.path.join(root, path), since_ns, BINARY_SNIFF)
    if got is None:
        return None
    data, size = got
    return BlobStats(True, size, 0, 0) if is_binary(data) else stats_for(data, name, scale)


def _count(root: str, cat: CatFile, name: str, scale: float, blobs: list[str],
           local: list[tuple[str, bytes]], disk: list[tuple[str, str]], since_ns: int,
           bar: Progress | None = None) -> list[tuple[str, BlobStats]]:
    out = [(blob, stats_for(data, name, scale)) for blob, data in local]
    blobs = list(blobs)
    for blob, path in disk:
        st = disk_stats(root, path, since_ns, name, scale)
        if st is None:
            blobs.append(blob)  # changed meanwhile, or unreadable: git's copy
        else:
            out.append((blob, st))
    if bar is not None:
        bar.advance(len(out))
    for blob, data in cat.read_many(blobs):
        out.append((blob, stats_for(data, name, scale)))
        if bar is not None:
            bar.advance(1)
    return out


def _count_task(task: Task) -> list[tuple[str, BlobStats]]:
    root, name, scale, blobs, local, disk, since_ns = task
    cat = _worker_cat.get(root)
    if cat is None:
        cat = _worker_cat[root] = CatFile(root)
    return _count(root, cat, name, scale, blobs, local, disk, since_ns)


def _split(blobs: list[str], read: BlobReader
           ) -> tuple[list[str], list[tuple[str, bytes]], list[tuple[str, str]]]:
    """*blobs* by source: git objects, contents in memory, clean work-tree files."""
    local, disk = read.local, read.disk
    return ([b for b in blobs if b not in local and b not in disk],
            [(b, local[b]) for b in blobs if b in local],
            [(b, disk[b]) for b in blobs if b in disk and b not in local])


def _plan(name: str, scale: float, missing: list[str], read: BlobReader, n_workers: int) -> list[Task]:
    """Tasks that shrink as the work runs out (guided scheduling), so workers finish together
    without knowing blob sizes in advance (asking git for them costs as much as a worker's share)."""
    tasks: list[Task] = []
    i = 0
    while i < len(missing):
        size = max(1, min(64, (len(missing) - i) // (n_workers * 4)))
        tasks.append((read.root, name, scale, *_split(missing[i:i + size], read), read.since_ns))
        i += size
    return tasks


def _min_files() -> int:
    import multiprocessing

    return PARALLEL_MIN_FILES if "fork" in multiprocessing.get_all_start_methods() else PARALLEL_MIN_FILES_SPAWN


def _parallel(tasks: list[Task], n_workers: int, bar: Progress) -> dict[str, BlobStats]:
    import multiprocessing

    fresh: dict[str, BlobStats] = {}
    methods = multiprocessing.get_all_start_methods()
    # fork lets the workers inherit the loaded encoding instead of parsing
    # the rank file again; elsewhere each worker loads it once.
    ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    # Objects made so far (the encoding's rank table above all) are never
    # collected in the workers, so their pages stay shared with this process.
    gc.freeze()
    with ctx.Pool(min(n_workers, len(tasks))) as pool:
        for part in pool.imap_unordered(_count_task, tasks):
            fresh.update(part)
            bar.advance(len(part))
        pool.close()
        pool.join()
    gc.unfreeze()
    return fresh


def count_blobs(
    blobs: Iterable[str],
    read: BlobReader,
    encoding_name: str,
    scale: float,
    cache: TokenCache,
    *,
    progress: bool | None = None,
) -> dict[str, BlobStats]:
    """Stats for every blob; only blobs missing from the cache are read and tokenized."""
    wanted = list(dict.fromkeys(blobs))
    result = cache.get_many(wanted, encoding_name, scale)
    missing = [b for b in wanted if b not in result]
    if not missing:
        return result
    from ctxgate import encodings

    # Loaded here, in the parent, so forked workers inherit it.
    encodings.load(encoding_name)
    show = sys.stderr.isatty() if progress is None else progress
    bar = Progress(len(missing), show)
    fresh: dict[str, BlobStats] = {}
    n_workers = workers()
    if n_workers > 1 and len(missing) >= _min_files():
        fresh = _parallel(_plan(encoding_name, scale, missing, read, n_workers), n_workers, bar)
    else:
        fresh = dict(_count(read.root, read.cat, encoding_name, scale, *_split(missing, read), read.since_ns, bar))
    bar.close()
    cache.put_many(fresh, encoding_name, scale)
    result.update(fresh)
    return result
