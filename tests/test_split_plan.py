"""split-plan: parts along directories, each within the target, that measure as planned."""
from __future__ import annotations

import json
import re
import textwrap
import tomllib
from typing import Any

import pytest

from conftest import Repo, run
from ctxgate.ownership import literal as escape

BIG = {  # path under components/big -> words ("word " * n is n + 1 tokens)
    "a/x.py": 3000, "a/y.py": 2000, "b/z.py": 4000, "c/deep/q.py": 1500, "c/r.py": 1000,
    "top.py": 500, "huge.py": 9000,
}


def report(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    code, out, err = run(capsys, "report", "--format", "json", "--files")
    assert code == 0, err
    return {c["name"]: c for c in json.loads(out)["components"]}


def planned(out: str) -> dict[str, int]:
    """Each part's footprint, from the comment above its table."""
    return {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"(?m)^# (\S+): footprint ([\d,]+) tokens", out)}


def parts(out: str) -> dict[str, list[str]]:
    return {c["name"]: c["paths"] for c in tomllib.loads(out).get("component", [])}


@pytest.fixture
def big(repo: Repo) -> Repo:
    for rel, n in BIG.items():
        repo.write(f"components/big/{rel}", "word " * n)
    repo.write("components/small/s.py", "word " * 100)
    repo.write("ctxgate.toml", '[[component]]\neach = "components/*"\n')
    repo.commit()
    return repo


def test_word_files_have_the_sizes_the_tables_assume(big: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    rows = {f["path"]: f["tokens"] for f in report(capsys)["big"]["files_detail"]}
    assert rows == {f"components/big/{rel}": n + 1 for rel, n in BIG.items()}


D = "/components/big/"


@pytest.mark.parametrize("target, expected", [
    (5000, {"big-a-x": [D + "a/x.py"], "big-a-y": [D + "a/y.py"], "big-b-top": [D + "b/", D + "top.py"],
            "big-c": [D + "c/"], "big-huge": [D + "huge.py"]}),
    (9001, {"big-a-c-top": [D + "a/", D + "c/", D + "top.py"], "big-b": [D + "b/"],
            "big-huge": [D + "huge.py"]}),
    (10000, {"big-a-b": [D + "a/", D + "b/"], "big-c": [D + "c/"], "big-files": [D + "huge.py", D + "top.py"]}),
    (12000, {"big-a-b-c": [D + "a/", D + "b/", D + "c/"], "big-files": [D + "huge.py", D + "top.py"]}),
])
def test_parts_cover_the_component_within_the_target_and_measure_as_planned(
        big: Repo, capsys: pytest.CaptureFixture[str], target: int, expected: dict[str, list[str]]) -> None:
    before = report(capsys)
    code, out, err = run(capsys, "split-plan", "big", "--target", str(target))
    assert (code, err) == (0, "")
    assert parts(out) == expected
    sizes = planned(out)
    assert sum(sizes.values()) == before["big"]["tokens"] == 21007
    oversized = {"big-huge"} if target < 9001 else set()
    assert {n for n, s in sizes.items() if s > target} == oversized
    assert ("cannot be split along directories" in out) == bool(oversized)

    # Pasted after the `each` entry, the parts own exactly what they were planned to own.
    big.write("ctxgate.toml", '[[component]]\neach = "components/*"\n\n' + out)
    after = report(capsys)
    assert {n: after[n]["footprint"] for n in sizes} == sizes
    assert after["big"]["files"] == 0
    assert after["small"]["footprint"] == before["small"]["footprint"]


def test_full_output(big: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "split-plan", "big", "--target", "10000")
    assert code == 0
    assert out == textwrap.dedent("""\
        # Split plan for 'big': footprint 21,007 tokens under /components/big/, target 10,000 per part.
        # 3 parts.
        # 'big' comes from each = 'components/*' (ctxgate.toml:1): paste these after that entry so they take
        # precedence (later entries win); 'big' is then left without files.

        # big-a-b: footprint 9,003 tokens (9,003 in 3 files)
        [[component]]
        name = "big-a-b"
        paths = [
            "/components/big/a/",
            "/components/big/b/",
        ]

        # big-c: footprint 2,502 tokens (2,502 in 2 files)
        [[component]]
        name = "big-c"
        paths = ["/components/big/c/"]

        # big-files: footprint 9,502 tokens (9,502 in 2 files)
        [[component]]
        name = "big-files"
        paths = [
            "/components/big/huge.py",
            "/components/big/top.py",
        ]
        """)
    assert run(capsys, "split-plan", "big", "--target", "10000")[1] == out  # deterministic


def test_oversized_file_is_called_out(big: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "split-plan", "big", "--target", "5000")
    assert "# 5 parts, 1 over the target (see below)." in out
    assert ("# big-huge: footprint 9,001 tokens (9,001 in 1 file)\n"
            "# OVER the target 5,000: components/big/huge.py alone is too big and cannot be split "
            "along directories; split the file itself\n[[component]]") in out


@pytest.mark.parametrize("args", [(), ("--target", "21007")])
def test_component_within_the_target_needs_no_split(
        big: Repo, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    code, out, _ = run(capsys, "split-plan", "big", *args)
    assert code == 0
    assert out.endswith("# 'big' is within the target already: nothing to split.\n")
    assert "[[component]]" not in out


def test_default_target_is_the_components_optimal_limit(big: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    big.write("ctxgate.toml", textwrap.dedent("""\
        [limits]
        optimal = 10_000
        warning = 11_000
        split = 12_000
        emergency = 13_000

        [[component]]
        each = "components/*"
        """))
    code, out, _ = run(capsys, "split-plan", "big")
    assert code == 0
    assert "target 10,000 per part" in out
    assert parts(out) == parts(run(capsys, "split-plan", "big", "--target", "10000")[1])


@pytest.mark.parametrize("argv, message", [
    (("split-plan", "nope"), "no component named 'nope'; components: big, small"),
    (("split-plan", "big", "--target", "0"), "must be a positive number of tokens"),
    (("split-plan", "big", "--target", "many"), "is not a whole number of tokens"),
])
def test_usage_errors(big: Repo, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_context_is_carried_by_every_part(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("CONTEXT.md", "word " * 300)
    for rel, n in BIG.items():
        repo.write(f"components/big/{rel}", "word " * n)
    # A context file the component owns counts once, wherever it lands.
    repo.write("components/big/NOTES.md", "word " * 200)
    repo.write("ctxgate.toml", textwrap.dedent("""\
        context = ["CONTEXT.md"]

        [[component]]
        each = "components/*"

        [[component]]
        name = "big"
        kind = "core"
        context = ["components/big/NOTES.md"]
        """))
    before = report(capsys)["big"]
    assert before["context_tokens"] == 301
    code, out, _ = run(capsys, "split-plan", "big", "--target", "10000")
    assert code == 0
    sizes = planned(out)
    assert all(s <= 10000 for s in sizes.values())
    assert sum(sizes.values()) - 301 * len(sizes) - 201 * (len(sizes) - 1) == before["tokens"]
    tables = tomllib.loads(out)["component"]
    assert all(t["context"] == ["components/big/NOTES.md"] and t["kind"] == "core" for t in tables)
    repo.write("ctxgate.toml", 'context = ["CONTEXT.md"]\n\n[[component]]\neach = "components/*"\n\n' + out)
    after = report(capsys)
    assert {n: after[n]["footprint"] for n in sizes} == sizes


def test_context_alone_over_the_target_is_an_error(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("CONTEXT.md", "word " * 999)
    repo.write("src/a.py", "word " * 3000)
    repo.write("ctxgate.toml", 'context = ["CONTEXT.md"]\n[[component]]\nname = "src"\npaths = ["/src/"]\n')
    code, _, err = run(capsys, "split-plan", "src", "--target", "1000")
    assert code == 2
    assert "cannot split 'src': its context files alone take 1,000 tokens" in err


def test_directories_holding_files_of_others_are_listed_file_by_file(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("src/lib/a.py", "word " * 1000)
    repo.write("src/lib/gen.py", "word " * 50)
    repo.write("src/app/m.py", "word " * 2000)
    repo.write("src/app/n.py", "word " * 2000)
    config = '[[component]]\nname = "core"\npaths = ["/src/", "!/src/lib/gen.py"]\n'
    repo.write("ctxgate.toml", config)
    code, out, _ = run(capsys, "split-plan", "core", "--target", "4500")
    assert code == 0
    assert "# Replace component 'core' (ctxgate.toml:1) with these." in out
    # "/src/lib/" would take gen.py, which core leaves unowned.
    assert parts(out) == {"core-app": ["/src/app/"], "core-lib-files": ["/src/lib/a.py"]}
    repo.write("ctxgate.toml", out)
    code, out2, _ = run(capsys, "explain", "src/lib/gen.py")
    assert "component: none" in out2


@pytest.mark.parametrize("count_tests, expected", [
    # Uncounted test files weigh nothing but still go with their directory.
    (False, {"pkg-one": ["/pkg/one/"], "pkg-two": ["/pkg/two/"]}),
    (True, {"pkg-one-files": ["/pkg/one/code.py"], "pkg-one-tests": ["/pkg/one/tests/"],
            "pkg-two": ["/pkg/two/"]}),
])
def test_test_files_stay_with_their_directory(
        repo: Repo, capsys: pytest.CaptureFixture[str], count_tests: bool, expected: dict[str, list[str]]) -> None:
    repo.write("pkg/one/code.py", "word " * 3000)
    repo.write("pkg/one/tests/test_code.py", "word " * 2500)
    repo.write("pkg/two/code.py", "word " * 3000)
    head = f'tests = ["**/tests/**"]\ncount_tests = {str(count_tests).lower()}\n'
    repo.write("ctxgate.toml", head + '[[component]]\nname = "pkg"\npaths = ["/pkg/"]\n')
    before = report(capsys)["pkg"]
    code, out, _ = run(capsys, "split-plan", "pkg", "--target", "5000")
    assert code == 0
    assert parts(out) == expected
    sizes = planned(out)
    assert sum(sizes.values()) == before["footprint"] == 6002 + (2501 if count_tests else 0)
    repo.write("ctxgate.toml", head + out)
    after = report(capsys)
    assert {n: after[n]["footprint"] for n in sizes} == sizes
    assert sum(after[n]["test_tokens"] for n in sizes) == before["test_tokens"] == 2501


@pytest.mark.parametrize("path, pattern", [
    ("src/a.py", "src/a.py"),
    ("src/*star?.py", "src/\\*star\\?.py"),
    ("src/[x].py", "src/\\[x].py"),
    ("src/back\\slash", "src/back\\\\slash"),
    ("src/trailing  ", "src/trailing\\ \\ "),
])
def test_escape(path: str, pattern: str) -> None:
    assert escape(path) == pattern


def test_names_for_many_directories_and_taken_names(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("lib/big/a.py", "word " * 6000)
    for d in ("d1", "d2", "d3", "d4", "d5"):
        repo.write(f"lib/{d}/a.py", "word " * 1000)
    # Without a config every top-level directory is a component; "lib-big" is taken.
    repo.write("lib-big/x.py", "word " * 10)
    code, out, _ = run(capsys, "split-plan", "lib", "--target", "7000", "-q")
    assert code == 0
    assert "# There is no config yet: add these to ctxgate.toml" in out
    assert parts(out) == {"lib-big-2": ["/lib/big/"],
                          "lib-d1-d2-and-3-more": [f"/lib/d{i}/" for i in range(1, 6)]}


def test_kind_level_tests_and_exclude_are_carried(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("core/a/x.py", "word " * 3000)
    repo.write("core/b/y.py", "word " * 3000)
    repo.write("ctxgate.toml", textwrap.dedent("""\
        [[component]]
        name = "core"
        paths = ["/core/"]
        kind = "service"
        level = 2
        tests = ["**/spec/**"]
        exclude = ["**/*.snap"]
        """))
    code, out, _ = run(capsys, "split-plan", "core", "--target", "4000")
    assert code == 0
    tables = tomllib.loads(out)["component"]
    assert [(t["name"], t["kind"], t["level"], t["tests"], t["exclude"]) for t in tables] == [
        ("core-a", "service", 2, ["**/spec/**"], ["**/*.snap"]),
        ("core-b", "service", 2, ["**/spec/**"], ["**/*.snap"]),
    ]
