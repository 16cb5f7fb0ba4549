"""SQLite cache of per-blob counts (SPEC §10).

The cache is an optimisation only: every failure degrades to counting
without it, with one warning, and never fails a run.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ctxgate import git

# Bump when counting rules change so stale counts are never reused.
COUNTER_VERSION = 1
CACHE_FILE = "cache.sqlite3"
_BATCH = 500


@dataclass(frozen=True)
class BlobStats:
    binary: bool
    size: int
    lines: int
    tokens: int


def cache_dir(root: str) -> str:
    return os.environ.get("CTXGATE_CACHE_DIR") or os.path.join(git.common_dir(root), "ctxgate")


class TokenCache:
    def __init__(self, directory: str | None) -> None:
        self.path = None if directory is None else os.path.join(directory, CACHE_FILE)
        self._db: sqlite3.Connection | None = None
        self._warned = False
        if self.path is not None:
            self._open(directory or "")

    def _warn(self, err: Exception) -> None:
        if not self._warned:
            print(f"ctxgate: warning: token cache {self.path} unusable ({err}); counting without it",
                  file=sys.stderr)
            self._warned = True
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def _open(self, directory: str) -> None:
        try:
            os.makedirs(directory, exist_ok=True)
            db = sqlite3.connect(self.path or "", timeout=10, isolation_level=None)
            self._db = db
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS counts (blob TEXT NOT NULL, encoding TEXT NOT NULL,"
                " scale REAL NOT NULL, version INTEGER NOT NULL, binary INTEGER NOT NULL,"
                " size INTEGER NOT NULL, lines INTEGER NOT NULL, tokens INTEGER NOT NULL,"
                " PRIMARY KEY (blob, encoding, scale, version)) WITHOUT ROWID"
            )
        except (sqlite3.Error, OSError) as e:
            self._warn(e)

    @property
    def active(self) -> bool:
        return self._db is not None

    def get_many(self, blobs: Iterable[str], encoding: str, scale: float) -> dict[str, BlobStats]:
        found: dict[str, BlobStats] = {}
        if self._db is None:
            return found
        todo = list(blobs)
        try:
            for i in range(0, len(todo), _BATCH):
                part = todo[i:i + _BATCH]
                rows = self._db.execute(
                    "SELECT blob, binary, size, lines, tokens FROM counts WHERE encoding = ? AND scale = ?"
                    f" AND version = ? AND blob IN ({','.join('?' * len(part))})",
                    (encoding, scale, COUNTER_VERSION, *part),
                )
                for blob, binary, size, lines, tokens in rows:
                    found[blob] = BlobStats(bool(binary), size, lines, tokens)
        except sqlite3.Error as e:
            self._warn(e)
        return found

    def put_many(self, stats: Mapping[str, BlobStats], encoding: str, scale: float) -> None:
        if self._db is None or not stats:
            return
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO counts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(b, encoding, scale, COUNTER_VERSION, int(s.binary), s.size, s.lines, s.tokens)
                     for b, s in stats.items()],
                )
        except sqlite3.Error as e:
            self._warn(e)

    def info(self) -> dict[str, object]:
        rows: list[tuple[str, float, int]] = []
        if self._db is not None:
            try:
                rows = self._db.execute(
                    "SELECT encoding, scale, COUNT(*) FROM counts GROUP BY encoding, scale ORDER BY 1, 2"
                ).fetchall()
            except sqlite3.Error as e:
                self._warn(e)
        size = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                size += os.path.getsize(f"{self.path}{suffix}")
            except OSError:
                pass
        return {
            "path": self.path, "usable": self._db is not None, "bytes": size,
            "entries": [{"encoding": e, "scale": s, "blobs": n} for e, s, n in rows],
        }

    def clear(self) -> int:
        if self._db is None:
            return 0
        try:
            with self._db:
                n: int = self._db.execute("DELETE FROM counts").rowcount
            self._db.execute("VACUUM")
            return n
        except sqlite3.Error as e:
            self._warn(e)
            return 0

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
