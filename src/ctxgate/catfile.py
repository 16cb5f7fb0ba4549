"""Reading git objects through one long-running `git cat-file --batch` process."""
from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence

from ctxgate.errors import FatalError
from ctxgate.git import encode_path, no_git


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
            except OSError as e:
                raise FatalError(no_git(e)) from None
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
