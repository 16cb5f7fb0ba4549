"""SQLite cache of per-blob counts and per-tree summaries (SPEC §10).

The cache is an optimisation only: every failure degrades to counting
without it, with one warning, and never fails a run.
"""
from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Bump when counting rules change so stale counts are never reused.
COUNTER_VERSION = 1
CACHE_FILE = "cache.sqlite3"
# Long enough for another hook's write to finish, short enough that a stuck
# lock only delays a commit a little before counting goes on without the cache.
BUSY_TIMEOUT_MS = 5000
KEEP_SUMMARIES = 64
_BATCH = 500
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counts (blob TEXT NOT NULL, encoding TEXT NOT NULL,"
    " scale REAL NOT NULL, version INTEGER NOT NULL, binary INTEGER NOT NULL,"
    " size INTEGER NOT NULL, lines INTEGER NOT NULL, tokens INTEGER NOT NULL,"
    " PRIMARY KEY (blob, encoding, scale, version)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS summaries (tree TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " data BLOB NOT NULL, used REAL NOT NULL, PRIMARY KEY (tree, fingerprint)) WITHOUT ROWID",
)


@dataclass(frozen=True)
class BlobStats:
    binary: bool
    size: int
    lines: int
    tokens: int


def cache_dir(common_dir: str) -> str:
    """Where the cache lives: $CTXGATE_CACHE_DIR, else <git common dir>/ctxgate (shared by worktrees)."""
    return os.environ.get("CTXGATE_CACHE_DIR") or os.path.join(common_dir, "ctxgate")


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL, where readers never wait for a writer, so hooks in two worktrees overlap freely.

    SQLite answers "locked" at once, without waiting, when two connections
    make the switch together; the other one has done it then, or soon will.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class TokenCache:
    def __init__(self, directory: str | None) -> None:
        self.path = None if directory is None else os.path.join(directory, CACHE_FILE)
        self._db: sqlite3.Connection | None = None
        self._warned = False
        if directory is not None:
            self._open(directory)

    def _warn(self, err: BaseException) -> None:
        if not self._warned:
            print(f"ctxgate: warning: token cache {self.path} unusable ({err}); counting without it "
                  "(`ctxgate cache clear` starts a new one)", file=sys.stderr)
            self._warned = True
        self.close()

    def _open(self, directory: str) -> None:
        try:
            os.makedirs(directory, exist_ok=True)
            db = sqlite3.connect(self.path or "", timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db = db
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _use_wal(db)
            db.execute("PRAGMA synchronous = NORMAL")
            if not db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'summaries'").fetchone()[0]:
                for stmt in _SCHEMA:
                    db.execute(stmt)
            if not os.access(self.path or "", os.W_OK):
                raise PermissionError("the cache file is read-only")
        except (sqlite3.Error, OSError) as e:
            self._warn(e)

    @property
    def active(self) -> bool:
        return self._db is not None

    def _write(self, sql: str, rows: list[tuple[object, ...]], *more: tuple[str, list[tuple[object, ...]]]) -> None:
        """Statements (each with its rows) in one transaction."""
        if self._db is None or not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement, params in ((sql, rows), *more):
                    self._db.executemany(statement, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            self._warn(e)

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
            return {}
        return found

    def put_many(self, stats: Mapping[str, BlobStats], encoding: str, scale: float) -> None:
        self._write("INSERT OR REPLACE INTO counts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(b, encoding, scale, COUNTER_VERSION, int(s.binary), s.size, s.lines, s.tokens)
                     for b, s in stats.items()])

    def get_summary(self, tree: str, fingerprint: str) -> bytes | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT data, used FROM summaries WHERE tree = ? AND fingerprint = ?",
                                   (tree, fingerprint)).fetchone()
        except sqlite3.Error as e:
            self._warn(e)
            return None
        if row is None:
            return None
        if time.time() - row[1] > 3600:  # recency decides eviction; an hour's precision is plenty
            self._write("UPDATE summaries SET used = ? WHERE tree = ? AND fingerprint = ?",
                        [(time.time(), tree, fingerprint)])
        return bytes(row[0])

    def recent_trees(self, fingerprint: str, limit: int = 1) -> list[str]:
        """Trees with a summary for *fingerprint*, most recently used first."""
        if self._db is None:
            return []
        try:
            rows = self._db.execute("SELECT tree FROM summaries WHERE fingerprint = ? ORDER BY used DESC LIMIT ?",
                                    (fingerprint, limit)).fetchall()
        except sqlite3.Error as e:
            self._warn(e)
            return []
        return [r[0] for r in rows]

    def put_summary(self, tree: str, fingerprint: str, data: bytes) -> None:
        self._write("INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?)", [(tree, fingerprint, data, time.time())],
                    ("DELETE FROM summaries WHERE used < (SELECT used FROM summaries ORDER BY used DESC"
                     " LIMIT 1 OFFSET ?)", [(KEEP_SUMMARIES - 1,)]))

    def info(self) -> dict[str, object]:
        rows: list[tuple[str, float, int]] = []
        summaries = 0
        if self._db is not None:
            try:
                rows = self._db.execute(
                    "SELECT encoding, scale, COUNT(*) FROM counts GROUP BY encoding, scale ORDER BY 1, 2"
                ).fetchall()
                summaries = self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0]
            except sqlite3.Error as e:
                self._warn(e)
        return {
            "path": self.path, "usable": self._db is not None, "bytes": self.size(),
            "entries": [{"encoding": e, "scale": s, "blobs": n} for e, s, n in rows],
            "summaries": summaries,
        }

    def size(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.path.getsize(f"{self.path}{suffix}")
            except OSError:
                pass
        return total

    def clear(self) -> int:
        """Forget everything; a cache that cannot be opened is deleted and started afresh."""
        if self.path is None:
            return 0
        n = 0
        if self._db is not None:
            try:
                n = int(self._db.execute("SELECT COUNT(*) FROM counts").fetchone()[0])
                self._db.execute("DELETE FROM counts")
                self._db.execute("DELETE FROM summaries")
                self._db.execute("VACUUM")
                return n
            except sqlite3.Error:
                self.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
        self._warned = False
        self._open(os.path.dirname(self.path))
        return n

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
