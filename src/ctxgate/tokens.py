"""Counting tokens and lines of blobs, through the cache, in parallel when cold."""
from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from ctxgate import encodings
from ctxgate.cache import BlobStats, TokenCache

BINARY_SNIFF = 8000
# Below these a worker pool costs more than it saves.
PARALLEL_MIN_BYTES = 2_000_000
PARALLEL_MIN_FILES = 16
_CHUNK_BYTES = 1_000_000

Reader = Callable[[list[str]], Iterator[tuple[str, bytes]]]


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


def count_lines(data: bytes) -> int:
    n = data.count(b"\n")
    return n + 1 if data and not data.endswith(b"\n") else n


def stats_for(data: bytes, encoding_name: str, scale: float) -> BlobStats:
    if is_binary(data):
        return BlobStats(True, len(data), 0, 0)
    text = data.decode("utf-8", errors="replace")
    raw = len(encodings.load(encoding_name).encode_ordinary(text))
    tokens = raw if scale == 1.0 else round(raw * scale)
    return BlobStats(False, len(data), count_lines(data), tokens)


def _count_chunk(args: tuple[str, float, list[tuple[str, bytes]]]) -> list[tuple[str, BlobStats]]:
    name, scale, items = args
    return [(blob, stats_for(data, name, scale)) for blob, data in items]


def _chunks(items: Iterable[tuple[str, bytes]], name: str, scale: float
            ) -> Iterator[tuple[str, float, list[tuple[str, bytes]]]]:
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for blob, data in items:
        chunk.append((blob, data))
        size += len(data)
        if size >= _CHUNK_BYTES:
            yield name, scale, chunk
            chunk, size = [], 0
    if chunk:
        yield name, scale, chunk


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
            sys.stderr.write(f"\rctxgate: tokenizing {self.done}/{self.total} files")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


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
    # Loaded here, in the parent, so forked workers inherit it instead of
    # parsing the rank file again.
    encodings.load(encoding_name)
    show = sys.stderr.isatty() if progress is None else progress
    bar = Progress(len(missing), show)
    fresh: dict[str, BlobStats] = {}
    items = list(read(missing))
    n_workers = workers()
    parallel = (
        n_workers > 1 and len(items) >= PARALLEL_MIN_FILES
        and sum(len(data) for _, data in items) >= PARALLEL_MIN_BYTES
    )
    if parallel:
        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
            for part in pool.map(_count_chunk, _chunks(items, encoding_name, scale)):
                fresh.update(part)
                bar.advance(len(part))
    else:
        for blob, data in items:
            fresh[blob] = stats_for(data, encoding_name, scale)
            bar.advance(1)
    bar.close()
    cache.put_many(fresh, encoding_name, scale)
    result.update(fresh)
    return result
