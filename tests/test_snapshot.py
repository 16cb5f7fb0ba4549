"""Snapshots: what the index, a commit and the work tree hold, and their attributes."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import Repo
from ctxgate import git
from ctxgate.catfile import CatFile
from ctxgate.snapshot import Snapshot, Target, open_snapshot


def snap(repo: Repo, target: Target) -> tuple[Snapshot, CatFile]:
    cat = CatFile(str(repo.path))
    return open_snapshot(str(repo.path), target, cat), cat


@pytest.fixture
def three(repo: Repo) -> Repo:
    """A file that differs in HEAD, the index and the work tree."""
    repo.write("f.txt", "committed\n")
    repo.write("keep.txt", "same\n")
    repo.commit()
    repo.write("f.txt", "staged\n")
    repo.add()
    repo.write("f.txt", "edited\n")
    return repo


@pytest.mark.parametrize("target, content", [
    (Target("index"), b"staged\n"), (Target("worktree"), b"edited\n"), (Target("commit", "HEAD"), b"committed\n"),
])
def test_each_target_reads_its_own_version(three: Repo, target: Target, content: bytes) -> None:
    if target.commit:
        target = Target("commit", three.head())
    s, cat = snap(three, target)
    with cat:
        assert s.read_path("f.txt") == content
        assert s.read_path("missing.txt") is None
        by_path = s.by_path()
        assert sorted(by_path) == ["f.txt", "keep.txt"]
        assert dict(s.read([by_path["f.txt"].blob]))[by_path["f.txt"].blob] == content


def test_the_index_and_commits_are_listed_only_when_asked(three: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("listed every file to read one")

    monkeypatch.setattr(git, "ls_files_stage", refuse)
    monkeypatch.setattr(git, "ls_tree", refuse)
    for target in (Target("index"), Target("commit", three.head())):
        s, cat = snap(three, target)
        with cat:
            assert s.read_path("keep.txt") == b"same\n"


def test_work_tree_entries_are_what_git_add_would_record(repo: Repo, tmp_path: Path) -> None:
    repo.write(".gitattributes", "*.crlf text eol=lf\n")
    repo.write("tracked.txt", "one\n")
    repo.write("gone.txt", "bye\n")
    repo.write("eol.crlf", "a\nb\n")
    repo.commit()
    repo.write("tracked.txt", "two\n")
    (repo.path / "gone.txt").unlink()
    repo.write("new.txt", "untracked\n")
    repo.write("ignored.log", "x")
    repo.write(".gitignore", "*.log\n")
    (repo.path / "eol.crlf").write_bytes(b"a\r\nb\r\n")  # the same blob after the eol rule
    (repo.path / "link").symlink_to("tracked.txt")
    nested = repo.path / "nested"
    nested.mkdir()
    subprocess.run(("git", "init", "-q"), cwd=nested, check=True)
    s, cat = snap(repo, Target("worktree"))
    with cat:
        entries = s.by_path()
        assert sorted(entries) == [".gitattributes", ".gitignore", "eol.crlf", "link", "nested", "new.txt",
                                   "tracked.txt"]
        for path in ("tracked.txt", "new.txt", ".gitignore", "eol.crlf"):
            assert entries[path].blob == repo.git("hash-object", path).strip(), path
        assert entries["link"].mode == git.MODE_SYMLINK and entries["nested"].mode == git.MODE_GITLINK
        # Git's blob for the CRLF file exists (it is the committed one): that is what is counted.
        assert s.read_path("eol.crlf") == b"a\nb\n"
        assert s.read_path("tracked.txt") == b"two\n"


def test_a_filtered_file_without_a_git_blob_is_counted_as_it_is_on_disk(repo: Repo) -> None:
    repo.write(".gitattributes", "*.crlf text eol=lf\n")
    repo.commit()
    (repo.path / "new.crlf").write_bytes(b"x\r\ny\r\n")
    s, cat = snap(repo, Target("worktree"))
    with cat:
        entry = s.by_path()["new.crlf"]
        assert entry.blob == git.hash_blob(b"x\r\ny\r\n")
        assert s.read_path("new.crlf") == b"x\r\ny\r\n"


@pytest.mark.parametrize("kind", ["index", "commit", "worktree"])
def test_attributes_come_from_the_target(repo: Repo, kind: str) -> None:
    repo.write(".gitattributes", "gen/* linguist-generated\n")
    repo.write("gen/a.js", "1")
    repo.write("src/b.js", "2")
    head = repo.commit()
    before = (repo.path / ".git" / "index").read_bytes()
    s, cat = snap(repo, Target(kind, head if kind == "commit" else None))
    with cat:
        attrs = s.attributes(["gen/a.js", "src/b.js"])
        sub = s.subset([e for e in s.entries if e.path == "gen/a.js"])
        assert sub.attributes(["gen/a.js"]) == attrs
    assert attrs == {"gen/a.js": {"linguist-generated": "set"}}
    assert (repo.path / ".git" / "index").read_bytes() == before  # the real index is untouched


def test_no_attribute_files_means_no_git_call(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("a.txt", "1")
    head = repo.commit()

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("asked git about attributes nobody set")

    monkeypatch.setattr(git, "check_attr", refuse)
    s, cat = snap(repo, Target("commit", head))
    with cat:
        assert s.attributes(["a.txt"]) == {}
