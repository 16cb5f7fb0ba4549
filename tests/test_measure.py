"""Measuring: tests, context, exclusions, special files, targets and exact counts."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, run
from ctxgate import encodings


def count(data: str | bytes, encoding: str = "o200k_base") -> int:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return len(encodings.load(encoding).encode_ordinary(text))


def report(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, "report", "--format", "json", "--files", *args)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def comps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["components"]}


def detail(doc: dict[str, Any]) -> dict[str, int]:
    """Every owned file's tokens, by path."""
    return {f["path"]: f["tokens"] for c in doc["components"] for f in c["files_detail"]}


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, "explain", *args)
    assert code == 0, err
    return out


SRC = "def main() -> int:\n    return 42\n"
TEST = "def test_main() -> None:\n    assert main() == 42\n"


# --- tests and context ----------------------------------------------------------------------

@pytest.mark.parametrize("count_tests", [False, True])
def test_test_files_are_reported_apart(repo: Repo, capsys: pytest.CaptureFixture[str], count_tests: bool) -> None:
    repo.write("ctxgate.toml", textwrap.dedent(f'''
        tests = ["**/tests/**", "**/test_*.py"]
        count_tests = {str(count_tests).lower()}

        [[component]]
        each = "*"

        [[component]]
        name = "b"
        tests = ["b/spec/"]
    '''))
    repo.write("a/main.py", SRC)
    repo.write("a/tests/check.py", TEST)
    repo.write("a/test_more.py", TEST + "\n")
    repo.write("b/main.py", SRC)
    repo.write("b/spec/x.py", TEST)
    repo.write("c/spec/x.py", TEST)
    c = comps(report(capsys))
    tests_a = count(TEST) + count(TEST + "\n")
    assert (c["a"]["tokens"], c["a"]["test_tokens"], c["a"]["files"]) == (count(SRC), tests_a, 3)
    assert c["a"]["footprint"] == count(SRC) + (tests_a if count_tests else 0)
    assert (c["b"]["tokens"], c["b"]["test_tokens"]) == (count(SRC), count(TEST))
    assert (c["c"]["tokens"], c["c"]["test_tokens"]) == (count(TEST), 0)  # b's tests do not apply to c
    assert "test file: yes" in explain(capsys, "a/tests/check.py")
    assert "test file: no" in explain(capsys, "c/spec/x.py")


def test_context_files(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", textwrap.dedent('''
        context = ["CLAUDE.md"]

        [[component]]
        name = "a"
        paths = ["a/"]
        context = ["contracts/api.yaml", "a/AGENTS.md"]

        [[component]]
        name = "b"
        paths = ["b/"]
        context = ["contracts/api.yaml"]

        [[component]]
        name = "contracts"
        paths = ["contracts/", "/CLAUDE.md"]
    '''))
    claude, api, agents = "Be brief.\n", "openapi: 3.1.0\npaths: {}\n", "# a agents\nrules\n"
    repo.write("CLAUDE.md", claude)
    repo.write("sub/CLAUDE.md", "not context: the pattern is anchored\n")
    repo.write("contracts/api.yaml", api)
    repo.write("a/main.py", SRC)
    repo.write("a/AGENTS.md", agents)
    repo.write("b/main.py", SRC)
    doc = report(capsys)
    c = comps(doc)
    # a owns AGENTS.md: counted once, in its own tokens
    assert (c["a"]["tokens"], c["a"]["context_tokens"]) == (count(SRC) + count(agents), count(claude) + count(api))
    assert c["a"]["footprint"] == count(SRC) + count(agents) + count(claude) + count(api)
    assert (c["b"]["tokens"], c["b"]["context_tokens"]) == (count(SRC), count(claude) + count(api))
    # contracts owns both context files: no double counting
    assert (c["contracts"]["tokens"], c["contracts"]["context_tokens"]) == (count(claude) + count(api), 0)
    assert c["contracts"]["footprint"] == count(claude) + count(api)
    # context files are counted once in the totals
    assert doc["totals"]["tokens"] == sum(count(t) for t in (claude, api, SRC, agents, SRC)) + count(
        "not context: the pattern is anchored\n") + count(Path("ctxgate.toml").read_text())
    out = explain(capsys, "contracts/api.yaml", "CLAUDE.md", "a/AGENTS.md")
    assert "contracts/api.yaml\n  component: contracts\n" in out
    assert out.count("context file of: a, b\n") == 2
    assert out.count("context file of") == 2  # a/AGENTS.md is a's own file


# --- exclusions -----------------------------------------------------------------------------

def test_exclude_global_and_per_component(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", textwrap.dedent('''
        exclude = ["**/*.lock", "!keep.lock"]

        [[component]]
        each = "*"

        [[component]]
        name = "a"
        exclude = ["a/big.txt"]
    '''))
    repo.write("a/main.py", SRC)
    repo.write("a/big.txt", "big " * 100)
    repo.write("a/deps.lock", "x = 1\n")
    repo.write("b/big.txt", "big " * 10)
    repo.write("keep.lock", "kept\n")
    doc = report(capsys)
    assert detail(doc) == {"a/main.py": count(SRC), "b/big.txt": count("big " * 10)}
    assert doc["skipped"]["excluded"] == 2
    assert doc["unowned"] == {"files": 2, "tokens": count("kept\n") + count(Path("ctxgate.toml").read_text())}
    out = explain(capsys, "a/deps.lock", "a/big.txt")
    assert "excluded: matches exclude pattern '**/*.lock' (counted as 'excluded' in skipped)" in out
    assert "excluded: matches exclude pattern 'a/big.txt'" in out


@pytest.mark.parametrize(("data", "binary"), [
    (b"\0", True),
    (b"abc\0def", True),
    (b"x" * 7999 + b"\0", True),
    (b"x" * 8000 + b"\0" + b"tail", False),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), True),
    (b"caf\xe9 \xff\xfe latin-1 and junk\n", False),
    (b"", False),
])
def test_binary_is_a_nul_in_the_first_8000_bytes(repo: Repo, capsys: pytest.CaptureFixture[str],
                                                  data: bytes, binary: bool) -> None:
    repo.write("a/file.bin", data)
    repo.write("a/main.py", SRC)
    for target in (("--worktree",), ("--staged",)):
        if target == ("--staged",):
            repo.add()
        doc = report(capsys, *target)
        assert doc["skipped"]["binary"] == int(binary)
        files = detail(doc)
        if binary:
            assert "a/file.bin" not in files
        else:
            assert files["a/file.bin"] == count(data)
    if binary:
        assert "excluded: binary (NUL byte in the first 8,000 bytes)" in explain(capsys, "a/file.bin")


def test_symlinks_are_skipped(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/main.py", SRC)
    os.symlink("main.py", "a/link.py")
    os.symlink("../a", "b")
    repo.commit()
    for target in ((), ("--staged",), ("--rev", "HEAD")):
        doc = report(capsys, *target)
        assert doc["skipped"]["symlink"] == 2
        assert detail(doc) == {"a/main.py": count(SRC)}
    assert "excluded: symbolic link" in explain(capsys, "a/link.py")


def test_gitlink_from_update_index(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/main.py", SRC)
    repo.commit()
    sha = repo.head()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},a/vendored")
    repo.git("commit", "-q", "-m", "gitlink")
    for target in ((), ("--staged",), ("--rev", "HEAD")):
        doc = report(capsys, *target)
        assert doc["skipped"]["submodule"] == 1
        assert detail(doc) == {"a/main.py": count(SRC)}
    assert "excluded: submodule (gitlink)" in explain(capsys, "a/vendored", "--rev", "HEAD")


def test_real_submodule(repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lib = Repo(tmp_path / "lib")
    lib.path.mkdir()
    lib.git("init", "-q", "-b", "main")
    lib.write("big.py", SRC * 50)
    lib.commit()
    repo.write("a/main.py", SRC)
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "a/lib")
    repo.commit()
    for target in ((), ("--staged",), ("--rev", "HEAD")):
        doc = report(capsys, *target)
        assert doc["skipped"]["submodule"] == 1
        assert "a/lib/big.py" not in detail(doc)
        assert comps(doc)["a"]["tokens"] == count(SRC)


ATTRS = textwrap.dedent('''\
    gen/** linguist-generated
    *.min.js linguist-vendored=true
    gen/keep.py linguist-generated=false
    gen/unset.py -linguist-generated
''')


@pytest.mark.parametrize("respect", [True, False])
def test_linguist_attributes(repo: Repo, capsys: pytest.CaptureFixture[str], respect: bool) -> None:
    if not respect:
        repo.write("ctxgate.toml", "respect_gitattributes = false\n")
    repo.write(".gitattributes", ATTRS)
    for path in ("gen/out.py", "gen/keep.py", "gen/unset.py", "web/app.min.js", "web/app.js"):
        repo.write(path, f"# {path}\nvalue = 1\n")
    repo.commit()
    expected = {"gen/keep.py", "gen/unset.py", "web/app.js"}
    if not respect:
        expected |= {"gen/out.py", "web/app.min.js"}
    for target in ((), ("--staged",), ("--rev", "HEAD")):
        doc = report(capsys, *target)
        assert set(detail(doc)) == expected
        assert doc["skipped"]["generated"] == (0 if respect else 0) + (2 if respect else 0)
    if respect:
        assert "excluded: marked linguist-generated in .gitattributes" in explain(capsys, "gen/out.py")
        assert "excluded: marked linguist-vendored in .gitattributes" in explain(capsys, "web/app.min.js")


def test_attributes_are_read_from_the_target(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("gen/out.py", "x = 1\n")
    repo.write(".gitattributes", "gen/** linguist-generated\n")
    repo.commit()
    repo.write(".gitattributes", "")
    assert set(detail(report(capsys, "--rev", "HEAD"))) == set()
    assert set(detail(report(capsys, "--staged"))) == set()
    assert set(detail(report(capsys))) == {"gen/out.py"}


# --- targets and contents -------------------------------------------------------------------

def test_staged_worktree_and_commit_contents(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    v1, v2, v3 = "one = 1\n", "two = 2\nmore = [1, 2, 3]\n", "three = 3\n" * 7
    repo.write("a/f.py", v1)
    repo.write("a/gone.py", SRC)
    repo.write(".gitignore", "*.log\n")
    repo.commit()
    repo.write("a/f.py", v2)
    repo.add("a/f.py")
    repo.write("a/f.py", v3)
    repo.write("a/new.py", "untracked = True\n")
    repo.write("a/debug.log", "ignored\n")
    Path("a/gone.py").unlink()
    assert detail(report(capsys, "--rev", "HEAD")) == {"a/f.py": count(v1), "a/gone.py": count(SRC)}
    assert detail(report(capsys, "--staged")) == {"a/f.py": count(v2), "a/gone.py": count(SRC)}
    assert detail(report(capsys, "--worktree")) == {"a/f.py": count(v3), "a/new.py": count("untracked = True\n")}
    assert detail(report(capsys)) == detail(report(capsys, "--worktree"))
    assert "lines: 7" in explain(capsys, "a/f.py")
    assert "lines: 2" in explain(capsys, "a/f.py", "--staged")


def test_before_the_first_commit(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/f.py", SRC)
    repo.add()
    assert detail(report(capsys, "--staged")) == {"a/f.py": count(SRC)}
    assert detail(report(capsys)) == {"a/f.py": count(SRC)}


def test_renames(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/moving.py", SRC * 3)
    repo.write("b/stays.py", SRC)
    repo.commit()
    repo.git("mv", "a/moving.py", "b/moved.py")
    doc = report(capsys, "--staged", "--base", "HEAD")
    c = comps(doc)
    assert detail(doc) == {"b/moved.py": count(SRC * 3), "b/stays.py": count(SRC)}
    assert (c["a"]["footprint"], c["a"]["base_footprint"], c["a"]["delta"]) == (0, count(SRC * 3), -count(SRC * 3))
    assert (c["b"]["footprint"], c["b"]["delta"]) == (count(SRC * 4), count(SRC * 3))
    repo.commit()
    doc = report(capsys, "--rev", "HEAD", "--base", "HEAD~1")
    assert comps(doc)["b"]["delta"] == count(SRC * 3)


ODD_PATHS = [
    "dir with space/file name.py",
    "ünïcødé/日本語.py",
    'quo"tes/it\'s.py',
    "new\nline/a\tb.py",
    "back\\slash/x.py",
    "-dash/x.py",
]


def test_odd_paths(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    for i, path in enumerate(ODD_PATHS):
        repo.write(path, SRC * (i + 1))
    repo.write(".gitattributes", "*.py text\n")
    expected = {p: count(SRC * (i + 1)) for i, p in enumerate(ODD_PATHS)}
    assert detail(report(capsys)) == expected
    repo.commit()
    for target in ((), ("--staged",), ("--rev", "HEAD")):
        doc = report(capsys, *target)
        assert detail(doc) == expected
        assert sorted(comps(doc)) == sorted(p.split("/")[0] for p in ODD_PATHS)
    # modified in the work tree: contents read from disk
    repo.write(ODD_PATHS[3], "changed\n")
    assert detail(report(capsys))[ODD_PATHS[3]] == count("changed\n")
    out = explain(capsys, ODD_PATHS[0], ODD_PATHS[1], ODD_PATHS[2])
    assert "component: dir with space" in out and "component: ünïcødé" in out and "component: quo\"tes" in out


def test_each_with_odd_directory_names(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", '[[component]]\neach = "pkgs/*"\n')
    repo.write("pkgs/my lib/x.py", SRC)
    repo.write("pkgs/[brackets]/x.py", SRC * 2)
    repo.write("pkgs/star*/x.py", SRC * 3)
    c = comps(report(capsys))
    assert {n: v["tokens"] for n, v in c.items()} == {
        "[brackets]": count(SRC * 2), "my lib": count(SRC), "star*": count(SRC * 3)}


# --- counting -------------------------------------------------------------------------------

@pytest.mark.parametrize(("scale", "encoding"), [(1.0, "o200k_base"), (1.5, "o200k_base"), (0.3, "cl100k_base")])
def test_scale_rounds_per_file(repo: Repo, capsys: pytest.CaptureFixture[str], scale: float, encoding: str) -> None:
    repo.write("ctxgate.toml", f'encoding = "{encoding}"\nscale = {scale}\n')
    texts = ["a = 1\n", "word " * 7, SRC]
    for i, t in enumerate(texts):
        repo.write(f"a/f{i}.py", t)
    doc = report(capsys)
    expected = [round(count(t, encoding) * scale) for t in texts]
    assert [detail(doc)[f"a/f{i}.py"] for i in range(3)] == expected
    assert comps(doc)["a"]["tokens"] == sum(expected)
    assert (doc["scale"], doc["encoding"]) == (scale, encoding)
    code, out, _ = run(capsys, "report")
    assert code == 0
    assert (f"scale {scale:g}" in out) == (scale != 1.0)


@pytest.mark.parametrize(("data", "lines"), [
    (b"", 0), (b"x", 1), (b"x\n", 1), (b"x\ny", 2), (b"\n\n", 2), (b"a\r\nb\r\n", 2),
])
def test_lines(repo: Repo, capsys: pytest.CaptureFixture[str], data: bytes, lines: int) -> None:
    repo.write("a/f.txt", data)
    doc = report(capsys)
    assert comps(doc)["a"]["files_detail"] == [{"path": "a/f.txt", "tokens": count(data), "lines": lines}]
    assert comps(doc)["a"]["bytes"] == len(data)


def test_special_and_invalid_text_is_counted_as_ordinary(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    special = "before <|endoftext|> middle <|fim_prefix|><|endofprompt|> after\n"
    invalid = b"ok \xff\xfe\xc3( bad utf-8 \xe2\x82 end\n"
    repo.write("a/special.txt", special)
    repo.write("a/invalid.txt", invalid)
    doc = report(capsys)
    assert detail(doc) == {"a/invalid.txt": count(invalid), "a/special.txt": count(special)}
    assert count(special) > 5  # not collapsed into one special token


def test_totals_cover_owned_and_unowned(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/x.py", SRC)
    repo.write("README.md", "# readme\n")
    repo.write("a/blob.bin", b"\0\1\2")
    doc = report(capsys)
    assert doc["totals"] == {"files": 2, "tokens": count(SRC) + count("# readme\n"), "lines": 3}
    assert doc["unowned"] == {"files": 1, "tokens": count("# readme\n")}


def test_worktree_sees_typechange_and_nested_repository(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/x.py", SRC)
    repo.write("a/y.py", SRC)
    repo.commit()
    Path("a/y.py").unlink()
    os.symlink("x.py", "a/y.py")
    nested = repo.path / "a" / "nested"
    nested.mkdir()
    subprocess.run(("git", "init", "-q"), cwd=nested, check=True)
    (nested / "f.py").write_text(SRC)
    subprocess.run(("git", "add", "."), cwd=nested, check=True)
    subprocess.run(("git", "commit", "-qm", "x"), cwd=nested, check=True)
    doc = report(capsys)
    assert detail(doc) == {"a/x.py": count(SRC)}
    assert (doc["skipped"]["symlink"], doc["skipped"]["submodule"]) == (1, 1)
