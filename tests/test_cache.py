"""The token cache (SPEC §10): keys, sharing, degrading without failing, `cache info|clear`."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, run
from ctxgate import cache as cache_mod
from ctxgate import encodings
from ctxgate.cache import BlobStats, TokenCache


def words(n: int) -> str:
    return " ".join(["x"] * n)



@pytest.fixture
def small(repo: Repo) -> Repo:
    repo.write("ctxgate.toml", '[[component]]\neach = "pkg/*"\n')
    for name in ("a", "b"):
        for i in range(3):
            repo.write(f"pkg/{name}/f{i}.txt", words(10 + i) + f" {name}")
    repo.commit("base")
    return repo


def cache_file(repo: Repo) -> Path:
    return repo.path / ".git" / "ctxgate" / cache_mod.CACHE_FILE


def test_a_warm_run_tokenizes_nothing_and_never_loads_the_encoding(
        small: Repo, capsys: pytest.CaptureFixture[str], counted: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "check")[0] == 0
    assert len(counted) == 7  # six files and the config
    counted.clear()
    small.write("pkg/a/f0.txt", words(11))
    small.add()
    assert run(capsys, "check")[0] == 0
    assert len(counted) == 1  # only the new blob

    def refuse(name: str) -> None:
        raise AssertionError("the encoding was loaded on a warm run")

    monkeypatch.setattr(encodings, "load", refuse)
    counted.clear()
    code, out, err = run(capsys, "check")
    assert (code, counted, err) == (0, [], "")
    assert run(capsys, "report")[0] == 0
    assert run(capsys, "check", "--rev", "HEAD")[0] == 0


def test_no_cache_reads_and_writes_nothing(small: Repo, capsys: pytest.CaptureFixture[str],
                                           counted: list[int]) -> None:
    code, out, _ = run(capsys, "report", "--no-cache", "--format", "json")
    assert code == 0 and not cache_file(small).exists()
    assert json.loads(out)["totals"]["tokens"] > 0
    run(capsys, "report")
    counted.clear()
    run(capsys, "report", "--no-cache")
    assert len(counted) == 7


def test_the_key_holds_encoding_and_scale(small: Repo, capsys: pytest.CaptureFixture[str],
                                          counted: list[int]) -> None:
    def footprints() -> dict[str, int]:
        code, out, err = run(capsys, "report", "--format", "json")
        assert code == 0, err
        return {c["name"]: c["footprint"] for c in json.loads(out)["components"]}

    plain = footprints()
    small.write("ctxgate.toml", 'scale = 2.0\n[[component]]\neach = "pkg/*"\n')
    counted.clear()
    assert footprints() == {name: 2 * n for name, n in plain.items()}
    assert len(counted) == 7  # every blob again: the scale is part of the key
    small.write("ctxgate.toml", 'encoding = "cl100k_base"\n[[component]]\neach = "pkg/*"\n')
    counted.clear()
    footprints()
    assert len(counted) == 7


def test_cache_dir_override(small: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    where = tmp_path / "elsewhere"
    monkeypatch.setenv("CTXGATE_CACHE_DIR", str(where))
    assert run(capsys, "check")[0] == 0
    assert (where / cache_mod.CACHE_FILE).exists() and not cache_file(small).exists()
    _, out, _ = run(capsys, "cache", "info")
    assert f"path: {where / cache_mod.CACHE_FILE}" in out


def test_linked_worktrees_share_the_cache(small: Repo, capsys: pytest.CaptureFixture[str], counted: list[int],
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(capsys, "report")
    small.git("worktree", "add", "-q", str(tmp_path / "wt"))
    monkeypatch.chdir(tmp_path / "wt")
    counted.clear()
    assert run(capsys, "report")[0] == 0
    assert counted == []
    _, out, _ = run(capsys, "cache", "info")
    assert f"path: {cache_file(small)}" in out


def test_info_and_clear(small: Repo, capsys: pytest.CaptureFixture[str], counted: list[int]) -> None:
    run(capsys, "check")
    code, out, _ = run(capsys, "cache", "info")
    assert code == 0
    assert "usable: yes" in out and "entries: 7 blobs counted with o200k_base (scale 1)" in out
    assert "summaries: 1" in out
    code, out, _ = run(capsys, "cache", "clear")
    assert code == 0 and "cleared 7 cached counts" in out
    assert "entries: none" in run(capsys, "cache", "info")[1]
    counted.clear()
    run(capsys, "check")
    assert len(counted) == 7


def test_a_corrupt_cache_warns_counts_anyway_and_clear_repairs_it(
        small: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    good = run(capsys, "check", "--format", "json", "--no-cache")[1]
    cache_file(small).parent.mkdir(parents=True, exist_ok=True)
    cache_file(small).write_bytes(b"this is not a database" * 100)
    code, out, err = run(capsys, "check", "--format", "json")
    assert (code, out) == (0, good)
    assert "warning: token cache" in err and "counting without it" in err and err.count("\n") == 1
    assert "usable: no" in run(capsys, "cache", "info")[1]
    assert run(capsys, "cache", "clear")[0] == 0
    code, out, err = run(capsys, "check", "--format", "json")
    assert (code, out, err) == (0, good, "")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_cache_warns_and_counts_anyway(small: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "check")
    directory = cache_file(small).parent
    for p in directory.iterdir():
        p.chmod(0o444)
    directory.chmod(0o555)
    try:
        code, _, err = run(capsys, "check")
        assert code == 0 and "counting without it" in err
    finally:
        directory.chmod(0o755)


def test_an_unwritable_cache_location_warns_and_counts_anyway(
        small: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("CTXGATE_CACHE_DIR", str(blocker / "cache"))
    good = run(capsys, "check", "--format", "json", "--no-cache")[1]
    code, out, err = run(capsys, "check", "--format", "json")
    assert (code, out) == (0, good)
    assert "warning: token cache" in err


def test_a_locked_cache_warns_and_counts_anyway(small: Repo, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    run(capsys, "cache", "info")  # creates the database
    monkeypatch.setattr(cache_mod, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(cache_file(small), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        good = run(capsys, "check", "--format", "json", "--no-cache")[1]
        code, out, err = run(capsys, "check", "--format", "json")
        assert (code, out) == (0, good)
        assert "locked" in err
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_two_concurrent_runs_both_finish(repo: Repo) -> None:
    repo.write("ctxgate.toml", '[[component]]\neach = "pkg/*"\n')
    for i in range(400):
        repo.write(f"pkg/p{i % 4}/f{i}.txt", words(1 + i % 50) + f" {i}")
    repo.commit("many files")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # Each round starts with no cache: both runs create it, switch it to WAL and fill it at once.
    for _ in range(3):
        shutil.rmtree(cache_file(repo).parent, ignore_errors=True)
        procs = [subprocess.Popen([sys.executable, "-m", "ctxgate", "report", "--format", "json"],
                                  cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0]
        assert outs[0][0] == outs[1][0]
        assert outs[0][1] == outs[1][1] == b""
        cache = TokenCache(str(cache_file(repo).parent))
        try:
            info = cache.info()
        finally:
            cache.close()
        assert info["entries"] == [{"encoding": "o200k_base", "scale": 1.0, "blobs": 401}]


def test_an_edited_work_tree_file_is_keyed_as_git_would_hash_it(
        small: Repo, capsys: pytest.CaptureFixture[str], counted: list[int]) -> None:
    run(capsys, "check")
    small.write("pkg/a/f1.txt", words(40))
    counted.clear()
    assert run(capsys, "report")[0] == 0  # the work tree: counts the edit
    assert len(counted) == 1
    small.add()
    counted.clear()
    assert run(capsys, "check")[0] == 0  # staged, the same blob: a cache hit
    assert counted == []


def test_summaries_are_kept_per_tree_and_pruned(repo: Repo, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_mod, "KEEP_SUMMARIES", 3)
    repo.write("pkg/a/f.txt", words(1))
    for i in range(5):
        repo.write("pkg/a/f.txt", words(i + 2))
        repo.commit(f"c{i}")
        assert run(capsys, "check", "--rev", "HEAD")[0] == 0
    db = sqlite3.connect(cache_file(repo))
    try:
        assert db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0] == 3
    finally:
        db.close()


@pytest.mark.parametrize("call", [
    lambda c: c.get_many(["a" * 40], "o200k_base", 1.0) == {},
    lambda c: c.put_many({"a" * 40: BlobStats(False, 1, 1, 1)}, "o200k_base", 1.0) is None,
    lambda c: c.get_summary("t" * 40, "f") is None,
    lambda c: c.recent_trees("f") == [],
    lambda c: c.put_summary("t" * 40, "f", b"{}") is None,
    lambda c: c.info()["usable"] is False,
])
def test_every_operation_degrades_with_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   call: object) -> None:
    cache = TokenCache(str(tmp_path))
    assert cache.active
    assert cache._db is not None
    cache._db.close()  # any later use raises sqlite3.ProgrammingError, a sqlite3.Error
    assert call(cache)  # type: ignore[operator]
    assert not cache.active
    call(cache)  # type: ignore[operator]
    err = capsys.readouterr().err
    assert err.count("warning: token cache") == 1
