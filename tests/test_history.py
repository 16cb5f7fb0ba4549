"""history: footprints along first-parent history, measured with the newest config."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from conftest import Repo, run

CONFIG = '[[component]]\nname = "api"\npaths = ["/api/"]\n\n[[component]]\nname = "web"\npaths = ["/web/"]\n'


@pytest.fixture
def three(repo: Repo) -> tuple[Repo, list[str]]:
    """Three commits; the config only arrives in the last one."""
    repo.write("api/a.py", "word " * 99)
    shas = [repo.commit("one")]
    repo.write("api/b.py", "word " * 199)
    repo.write("web/w.js", "word " * 49)
    shas.append(repo.commit("two"))
    repo.write("web/w.js", "word " * 9)
    repo.write("ctxgate.toml", CONFIG)
    shas.append(repo.commit("three, with a config"))
    return repo, shas[::-1]


def rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_csv(three: tuple[Repo, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    repo, shas = three
    code, out, err = run(capsys, "history")
    assert (code, err) == (0, "")
    got = rows(out)
    assert out.splitlines()[0] == "commit,date,subject,api,web,total_tokens"
    # Older commits are measured with the newest config: its components are the columns.
    assert [(r["commit"], r["subject"], r["api"], r["web"]) for r in got] == [
        (shas[0], "three, with a config", "300", "10"),
        (shas[1], "two", "300", "50"),
        (shas[2], "one", "100", "0"),
    ]
    config_tokens = int(got[0]["total_tokens"]) - 310
    assert [int(r["total_tokens"]) for r in got] == [310 + config_tokens, 350, 100]
    dates = [r["date"] for r in got]
    assert all(d[:4].isdigit() and "T" in d for d in dates)


@pytest.mark.parametrize("args, count", [(("--max-count", "2"), 2), (("-n", "1"), 1), ((), 3)])
def test_max_count(three: tuple[Repo, list[str]], capsys: pytest.CaptureFixture[str],
                   args: tuple[str, ...], count: int) -> None:
    repo, shas = three
    code, out, _ = run(capsys, "history", *args)
    assert code == 0
    assert [r["commit"] for r in rows(out)] == shas[:count]


def test_json(three: tuple[Repo, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    repo, shas = three
    code, out, _ = run(capsys, "history", "--format", "json", "--rev", "HEAD~1")
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    assert (doc["schema"], doc["tool"], doc["encoding"], doc["scale"]) == (1, "ctxgate", "o200k_base", 1.0)
    assert doc["config_commit"] == shas[1]
    # HEAD~1 has no config: one component per top-level directory.
    assert doc["components"] == ["api", "web"]
    assert [(c["commit"], c["subject"], c["footprints"], c["total_tokens"]) for c in doc["commits"]] == [
        (shas[1], "two", {"api": 300, "web": 50}, 350),
        (shas[2], "one", {"api": 100, "web": 0}, 100),
    ]


def test_markdown(three: tuple[Repo, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    repo, shas = three
    code, out, _ = run(capsys, "history", "--format", "markdown", "-n", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[:4] == ["# ctxgate history: footprint per component (o200k_base)", "",
                         "| commit | date | api | web | total |", "|---|---|---|---|---|"]
    assert lines[4].startswith(f"| `{shas[0][:12]}` | ")
    assert lines[4].split(" | ")[2:4] == ["300", "10"]
    assert lines[5].split(" | ")[2:] == ["300", "50", "350 |"]
    assert len(lines) == 6


def test_default_is_fifty_commits(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("src/a.py", "x = 1\n")
    repo.commit("first")
    for i in range(51):
        repo.git("commit", "-q", "--allow-empty", "-m", f"empty {i}")
    code, out, _ = run(capsys, "history", "-q")
    assert code == 0
    got = rows(out)
    assert len(got) == 50
    assert got[0]["subject"] == "empty 50" and got[-1]["subject"] == "empty 1"


def test_first_parent_only(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("src/a.py", "word " * 9)
    base = repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("src/b.py", "word " * 19)
    repo.commit("side work")
    repo.git("checkout", "-q", "main")
    repo.write("src/c.py", "word " * 29)
    repo.commit("main work")
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    code, out, _ = run(capsys, "history", "-q")
    got = rows(out)
    assert [(r["subject"], r["src"]) for r in got] == [
        ("merge side", "60"), ("main work", "40"), ("base", "10")]
    assert got[-1]["commit"] == base


def test_a_component_gone_at_the_tip_keeps_its_column(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", '[[component]]\neach = "pkgs/*"\n')
    repo.write("pkgs/old/a.py", "word " * 9)
    repo.write("pkgs/new/a.py", "word " * 19)
    repo.commit("both")
    repo.git("rm", "-q", "-r", "pkgs/old")
    repo.commit("drop old")
    code, out, _ = run(capsys, "history")
    assert code == 0
    assert [(r["new"], r["old"]) for r in rows(out)] == [("20", "0"), ("20", "10")]


def test_each_blob_is_tokenized_once(three: tuple[Repo, list[str]], capsys: pytest.CaptureFixture[str],
                                     counted: list[int]) -> None:
    seen = counted
    code, _, _ = run(capsys, "history", "--no-cache")
    assert code == 0
    # a.py, b.py, two versions of w.js, ctxgate.toml
    assert len(seen) == 5
    seen.clear()
    assert run(capsys, "history")[0] == 0
    assert len(seen) == 5  # the first run used no cache, so this one fills it
    seen.clear()
    assert run(capsys, "history")[0] == 0
    assert seen == []


@pytest.mark.parametrize("setup, args, message", [
    (False, (), "this repository has no commits yet"),
    (True, ("--rev", "nope"), "'nope' is not a commit in this repository"),
    (True, ("--max-count", "0"), "must be a positive number"),
])
def test_errors(repo: Repo, capsys: pytest.CaptureFixture[str], setup: bool, args: tuple[str, ...],
                message: str) -> None:
    if setup:
        repo.write("a.py", "x\n")
        repo.commit()
    code, out, err = run(capsys, "history", *args)
    assert (code, out) == (2, "")
    assert message in err
