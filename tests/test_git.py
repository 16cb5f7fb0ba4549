"""The git layer: listing, diffs, the batch reader, hashing, errors (real repositories)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Repo
from ctxgate import git
from ctxgate.catfile import CatFile, commit_info
from ctxgate.errors import FatalError

ODD = ["with space.txt", "caf\xe9.txt", "tab\there.txt", "new\nline.txt", "quote\".txt", "-dash.txt"]


def test_layout_from_a_subdirectory_and_a_linked_worktree(repo: Repo, tmp_path: Path) -> None:
    repo.write("sub/f.txt", "x")
    repo.commit()
    lay = git.layout(str(repo.path / "sub"))
    assert (lay.root, lay.common_dir) == (str(repo.path), str(repo.path / ".git"))
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"))
    wt = git.layout(str(tmp_path / "wt"))
    assert wt.root == str(tmp_path / "wt") and wt.common_dir == str(repo.path / ".git")
    assert wt.git_dir != wt.common_dir


def test_outside_a_repository_is_a_fatal_error_that_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="not inside a git work tree; run ctxgate from a git checkout"):
        git.layout(str(tmp_path))


def test_listing_handles_any_path(repo: Repo) -> None:
    for name in ODD:
        repo.write(f"d/{name}", name)
    repo.commit()
    root = str(repo.path)
    expected = sorted(f"d/{n}" for n in ODD)
    assert sorted(e.path for e in git.ls_files_stage(root)) == expected
    assert sorted(e.path for e in git.ls_tree(root, "HEAD")) == expected
    with CatFile(root) as cat:
        for e in git.ls_tree(root, "HEAD"):
            assert cat.read(e.blob).decode() == e.path[2:]


def test_paths_limit_a_listing(repo: Repo) -> None:
    repo.write("a/x.txt", "1")
    repo.write("a/y.txt", "2")
    repo.write("b/z.txt", "3")
    repo.write("a*/lit.txt", "4")
    repo.commit()
    root = str(repo.path)
    assert [e.path for e in git.ls_files_stage(root, ["a"])] == ["a/x.txt", "a/y.txt"]
    assert [e.path for e in git.ls_files_stage(root, ["a*"])] == ["a*/lit.txt"]  # literal, not a glob
    assert [e.path for e in git.ls_tree(root, "HEAD", ["b"])] == ["b/z.txt"]


def test_an_unmerged_path_is_listed_once(repo: Repo) -> None:
    repo.write("f.txt", "base\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "other")
    repo.write("f.txt", "other\n")
    repo.commit("other")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "main\n")
    repo.commit("main")
    repo.git("merge", "-q", "other", check=False)
    entries = git.ls_files_stage(str(repo.path))
    assert [e.path for e in entries] == ["f.txt"]
    changes = git.diff_raw(str(repo.path), "HEAD", None)
    assert [c.status for c in changes] == ["U"]


def test_diff_raw_reports_both_sides(repo: Repo) -> None:
    repo.write("keep.txt", "same")
    repo.write("mod.txt", "before")
    repo.write("gone.txt", "bye")
    repo.write("old name.txt", "moved content that is long enough to be a rename\n" * 3)
    base = repo.commit("base")
    repo.write("mod.txt", "after")
    repo.git("rm", "-q", "gone.txt")
    repo.git("mv", "old name.txt", "new\nname.txt")
    repo.write("add.txt", "hi")
    repo.add()
    root = str(repo.path)
    staged = {c.path: c for c in git.diff_raw(root, base, None)}
    assert {p: c.status for p, c in staged.items()} == {
        "add.txt": "A", "gone.txt": "D", "mod.txt": "M", "new\nname.txt": "A", "old name.txt": "D"}
    assert staged["gone.txt"].new is None and staged["add.txt"].old is None
    mod = staged["mod.txt"]
    assert mod.old is not None and mod.new is not None
    with CatFile(root) as cat:
        assert (cat.read(mod.old.blob), cat.read(mod.new.blob)) == (b"before", b"after")
    tip = repo.commit("tip")
    assert {c.path: c.status for c in git.diff_raw(root, base, tip)} == {p: c.status for p, c in staged.items()}
    assert git.diff_raw(root, git.EMPTY_TREE, base)[0].status == "A"
    repo.write("mod.txt", "unstaged")
    assert [c.path for c in git.diff_raw(root, tip, None, cached=False)] == ["mod.txt"]


def test_cat_file_lookup_by_name(repo: Repo) -> None:
    repo.write("a.txt", "committed")
    first = repo.commit()
    repo.write("a.txt", "staged")
    repo.add()
    with CatFile(str(repo.path)) as cat:
        got = cat.lookup([":a.txt", f"{first}:a.txt", ":missing.txt", "HEAD:missing.txt", "0" * 40])
    assert [g[2] if g else None for g in got] == [b"staged", b"committed", None, None, None]
    with CatFile(str(repo.path)) as cat, pytest.raises(FatalError, match="is missing"):
        cat.read("1" * 40)


def test_commit_info(repo: Repo) -> None:
    first = repo.commit("one")
    second = repo.commit("two")
    with CatFile(str(repo.path)) as cat:
        info = commit_info(cat, "HEAD")
        assert info == (second, repo.git("rev-parse", "HEAD^{tree}").strip(), [first])
        assert commit_info(cat, first)[2] == []  # type: ignore[index]
        assert commit_info(cat, "nope") is None


@pytest.mark.parametrize("attributes, content", [
    ("", b"plain\n"),
    ("", b"crlf\r\nline\r\n"),
    ("*.txt text eol=lf\n", b"crlf\r\nline\r\n"),  # git stores it with LF
])
def test_hash_paths_equals_git_hash_object(repo: Repo, attributes: str, content: bytes) -> None:
    repo.write(".gitattributes", attributes)
    repo.write("f.txt", content)
    ids = git.hash_paths(str(repo.path), ["f.txt"])
    assert ids == {"f.txt": repo.git("hash-object", "f.txt").strip()}
    assert (ids["f.txt"] == git.hash_blob(content)) == (attributes == "")


def test_check_attr(repo: Repo) -> None:
    repo.write(".gitattributes", "gen/* linguist-generated\nvendor/** linguist-vendored=false\n")
    repo.write("gen/a.js", "12345")
    repo.write("vendor/b.js", "1")
    repo.commit()
    root = str(repo.path)
    attrs = git.check_attr(root, ["gen/a.js", "vendor/b.js", "other"], ("linguist-generated", "linguist-vendored"),
                           cached=True)
    assert attrs == {"gen/a.js": {"linguist-generated": "set"}, "vendor/b.js": {"linguist-vendored": "false"}}


def test_rev_errors_say_what_to_do(repo: Repo) -> None:
    root = str(repo.path)
    assert git.head_commit(root) is None
    with pytest.raises(FatalError, match="'nope' is not a commit in this repository; pass a branch"):
        git.resolve_commit(root, "nope")
    first = repo.commit()
    repo.git("checkout", "-q", "--orphan", "island")
    other = repo.commit("unrelated")
    with pytest.raises(FatalError, match="no common ancestor .* fetch-depth: 0"):
        git.merge_base(root, first, other)


def test_a_failing_git_command_is_one_readable_line(repo: Repo) -> None:
    with pytest.raises(FatalError) as err:
        git.run(["cat-file", "-p", "nope"], str(repo.path))
    assert str(err.value).startswith("`git cat-file -p nope` failed with exit 128: ")
    assert "\n" not in str(err.value)
    assert git.run(["cat-file", "-p", "nope"], str(repo.path), check=False) == b""


def test_git_missing_from_path(repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(FatalError, match="git could not be run .*install git"):
        git.run(["status"], str(repo.path))
    with pytest.raises(FatalError, match="install git"), CatFile(str(repo.path)) as cat:
        cat.lookup(["HEAD"])
