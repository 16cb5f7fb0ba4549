"""Counting tokens and lines of blobs: exact counts, the cache, the parallel path, progress."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from conftest import Repo
from ctxgate import encodings, git, tokens
from ctxgate.cache import BlobStats, TokenCache
from ctxgate.catfile import CatFile
from ctxgate.snapshot import BlobReader


@pytest.mark.parametrize("data, lines", [
    (b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n", 2), (b"\n\n", 2), (b"a\r\nb\r\n", 2),
])
def test_lines(data: bytes, lines: int) -> None:
    assert tokens.count_lines(data) == lines


@pytest.mark.parametrize("data, binary", [
    (b"text", False), (b"a\0b", True), (b"x" * 7999 + b"\0", True), (b"x" * 8000 + b"\0", False),
])
def test_binary_is_a_nul_in_the_first_8000_bytes(data: bytes, binary: bool) -> None:
    assert tokens.is_binary(data) == binary


@pytest.mark.parametrize("text, scale", [
    ("hello world", 1.0), ("<|endoftext|> is ordinary text here", 1.0), ("caf\xe9 \u2603 \U0001f600", 1.0),
    ("a b c d e f g", 1.5), ("a b c", 0.5),
])
def test_counts_equal_tiktoken_encode_ordinary(text: str, scale: float) -> None:
    data = text.encode()
    raw = len(encodings.load("o200k_base").encode_ordinary(text))
    assert tokens.stats_for(data, "o200k_base", scale) == BlobStats(False, len(data), 1, round(raw * scale))


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    st = tokens.stats_for(b"ok \xff\xfe end", "o200k_base", 1.0)
    assert st.tokens == len(encodings.load("o200k_base").encode_ordinary("ok \ufffd\ufffd end"))


@pytest.fixture
def blobs(repo: Repo) -> list[str]:
    for i in range(40):
        repo.write(f"f{i}.txt", ("word " * (i * 700 + 1)) + str(i))
    repo.write("bin.dat", b"\0" * 100)
    repo.commit("files")
    return [e.blob for e in git.ls_tree(str(repo.path), "HEAD")]


def count(repo: Repo, blobs: list[str], cache: TokenCache, **kw: bool) -> dict[str, BlobStats]:
    with CatFile(str(repo.path)) as cat:
        return tokens.count_blobs(blobs, BlobReader(str(repo.path), cat, {}), "o200k_base", 1.0, cache, **kw)


def test_the_parallel_path_gives_the_serial_answer(repo: Repo, blobs: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    serial = count(repo, blobs, TokenCache(None))
    monkeypatch.setattr(tokens, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(tokens, "workers", lambda: 2)
    calls: list[int] = []
    real = tokens._parallel

    def spy(tasks: list[tokens.Task], n: int, bar: tokens.Progress) -> dict[str, BlobStats]:
        calls.append(len(tasks))
        return real(tasks, n, bar)

    monkeypatch.setattr(tokens, "_parallel", spy)
    assert count(repo, blobs, TokenCache(None)) == serial
    assert calls and calls[0] > 1
    assert sum(1 for s in serial.values() if s.binary) == 1


def test_only_missing_blobs_are_read(repo: Repo, blobs: list[str], tmp_path: pytest.TempPathFactory) -> None:
    cache = TokenCache(str(tmp_path))
    first = count(repo, blobs[:10], cache)
    read: list[str] = []

    class Recording(CatFile):
        def read_many(self, wanted: Iterable[str]) -> Iterator[tuple[str, bytes]]:
            wanted = list(wanted)
            read.extend(wanted)
            return super().read_many(wanted)

    with Recording(str(repo.path)) as cat:
        got = tokens.count_blobs(blobs, BlobReader(str(repo.path), cat, {}), "o200k_base", 1.0, cache)
    cache.close()
    assert sorted(read) == sorted(blobs[10:])
    assert {b: got[b] for b in first} == first


@pytest.mark.parametrize("enabled", [True, False])
def test_progress_goes_to_stderr_when_enabled(repo: Repo, blobs: list[str], capsys: pytest.CaptureFixture[str],
                                              enabled: bool) -> None:
    count(repo, blobs, TokenCache(None), progress=enabled)
    out, err = capsys.readouterr()
    assert out == ""
    assert ("ctxgate: tokenizing 41/41 files" in err) == enabled


def test_clean_files_are_read_from_disk_only_when_provably_unchanged(tmp_path: pytest.TempPathFactory) -> None:
    import os
    import time

    from ctxgate.snapshot import read_clean

    f = tmp_path / "f.txt"  # type: ignore[operator]
    f.write_bytes(b"hello\0world" + b"x" * 10_000)
    link = tmp_path / "link"  # type: ignore[operator]
    link.symlink_to(f)
    later = time.time_ns() + 3 * 10**9
    assert read_clean(str(f), later) == (f.read_bytes(), 10_011)
    assert read_clean(str(f), later, 8) == (b"hello\0wo", 10_011)  # binary: read no further
    assert read_clean(str(f), later, 5) == (f.read_bytes(), 10_011)
    assert read_clean(str(link), later) is None  # never follows a link
    assert read_clean(str(f), os.stat(f).st_ctime_ns) is None  # changed since the check
    assert read_clean(str(tmp_path / "missing"), later) is None  # type: ignore[operator]
    st = tokens.disk_stats(str(tmp_path), "f.txt", later, "o200k_base", 1.0)
    assert st == BlobStats(True, 10_011, 0, 0)


def test_a_file_edited_after_the_check_is_read_from_git(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    from ctxgate.snapshot import Target, open_snapshot

    repo.write("a.txt", "one two three")
    repo.commit()
    with CatFile(str(repo.path)) as cat:
        snap = open_snapshot(str(repo.path), Target("worktree"), cat)
        entry = snap.by_path()["a.txt"]
        assert snap.read.disk == {entry.blob: "a.txt"}
        repo.write("a.txt", "changed behind our back, after git said it was clean")
        got = tokens.count_blobs([entry.blob], snap.read, "o200k_base", 1.0, TokenCache(None))
    assert got[entry.blob].tokens == 3  # the blob's own content, not the file's
