"""Counting tokens and lines of blobs, through the cache, in parallel when cold."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ctxgate import git
from ctxgate.cache import BlobStats, TokenCache

BINARY_SNIFF = 8000
# Below these a worker pool costs more than it saves.
PARALLEL_MIN_BYTES = 2_000_000
PARALLEL_MIN_FILES = 16
# Work is handed out in pieces of about this size, largest blobs first, so
# the workers finish together.
_CHUNK_BYTES = 256_000

Reader = Callable[[list[str]], Iterator[tuple[str, bytes]]]
Task = tuple[str, str, float, list[str], list[tuple[str, bytes]]]


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
_worker_cat: dict[str, git.CatFile] = {}


def _count_task(task: Task) -> list[tuple[str, BlobStats]]:
    root, name, scale, blobs, local = task
    cat = _worker_cat.get(root)
    if cat is None:
        cat = _worker_cat[root] = git.CatFile(root)
    out = [(blob, stats_for(data, name, scale)) for blob, data in local]
    out += [(blob, stats_for(data, name, scale)) for blob, data in cat.read_many(blobs)]
    return out


def _plan(root: str, name: str, scale: float, sizes: Mapping[str, int],
          local: Mapping[str, bytes], n_workers: int) -> list[Task]:
    total = sum(sizes.values())
    target = max(64_000, min(_CHUNK_BYTES, total // (n_workers * 8) or 1))
    tasks: list[Task] = []
    blobs: list[str] = []
    datas: list[tuple[str, bytes]] = []
    size = 0
    for blob in sorted(sizes, key=lambda b: -sizes[b]):
        if blob in local:
            datas.append((blob, local[blob]))
        else:
            blobs.append(blob)
        size += sizes[blob]
        if size >= target:
            tasks.append((root, name, scale, blobs, datas))
            blobs, datas, size = [], [], 0
    if blobs or datas:
        tasks.append((root, name, scale, blobs, datas))
    return tasks


def _parallel(tasks: list[Task], n_workers: int, bar: Progress) -> dict[str, BlobStats]:
    import multiprocessing

    fresh: dict[str, BlobStats] = {}
    methods = multiprocessing.get_all_start_methods()
    # fork lets the workers inherit the loaded encoding instead of parsing
    # the rank file again; elsewhere each worker loads it once.
    ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ctx.Pool(min(n_workers, len(tasks))) as pool:
        for part in pool.imap_unordered(_count_task, tasks):
            fresh.update(part)
            bar.advance(len(part))
        pool.close()
        pool.join()
    return fresh


def count_blobs(
    blobs: Iterable[str],
    read: Reader,
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
    root: str | None = getattr(read, "root", None)
    local: Mapping[str, bytes] = getattr(read, "local", {})
    n_workers = workers()
    fresh: dict[str, BlobStats] = {}
    if root is not None and n_workers > 1 and len(missing) >= PARALLEL_MIN_FILES:
        in_git = [b for b in missing if b not in local]
        sizes = git.blob_sizes(root, in_git)
        sizes.update({b: len(local[b]) for b in missing if b in local})
        if sum(sizes.values()) >= PARALLEL_MIN_BYTES and len(sizes) == len(missing):
            fresh = _parallel(_plan(root, encoding_name, scale, sizes, local, n_workers), n_workers, bar)
    if not fresh:
        for blob, data in read(missing):
            fresh[blob] = stats_for(data, encoding_name, scale)
            bar.advance(1)
    bar.close()
    cache.put_many(fresh, encoding_name, scale)
    result.update(fresh)
    return result
