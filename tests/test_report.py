"""`ctxgate report`: the JSON schema, csv, markdown and text renderings, tiers and verdicts."""
from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, run
from ctxgate import __version__, encodings
from ctxgate.budget import judge, tier
from ctxgate.report import fmt
from ctxgate.config import DEFAULT_LIMITS, Limits

TOP_KEYS = ["schema", "tool", "version", "encoding", "scale", "target", "base", "limits", "status",
            "components", "unowned", "skipped", "totals"]
COMPONENT_KEYS = ["name", "kind", "level", "files", "lines", "bytes", "tokens", "test_tokens", "context_tokens",
                  "footprint", "base_footprint", "delta", "estimate", "limits", "tier", "judged", "verdict",
                  "message"]
SMALL = '[limits]\noptimal = 10\nwarning = 20\nsplit = 30\nemergency = 40\n'
DEFAULTS = Limits(**DEFAULT_LIMITS)


def words(n: int) -> str:
    """Text of exactly *n* tokens in both bundled encodings."""
    return " x" * n


def get(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, "report", *args)
    assert code == 0, err
    return out


def get_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(get(capsys, "--format", "json", *args))
    return doc


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("ctxgate.toml", textwrap.dedent('''
        tests = ["**/tests/**"]
        context = ["CLAUDE.md"]
        exclude = ["*.lock"]

        [[component]]
        name = "core"
        paths = ["core/"]
        kind = "library"
        level = 2
        estimate = 10

        [[component]]
        name = "web"
        paths = ["web/"]
    '''))
    repo.write("CLAUDE.md", words(3))
    repo.write("core/a.py", words(7))
    repo.write("core/tests/t.py", words(4))
    repo.write("web/app.js", words(5))
    repo.write("web/yarn.lock", words(50))
    repo.write("web/logo.png", b"\x89PNG\0\0")
    return repo


def test_json_schema(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    doc = get_json(capsys)
    assert list(doc) == TOP_KEYS
    assert (doc["schema"], doc["tool"], doc["version"], doc["encoding"], doc["scale"]) == (
        1, "ctxgate", __version__, "o200k_base", 1.0)
    assert doc["target"] == {"kind": "worktree", "commit": None}
    assert doc["base"] is None
    assert doc["limits"] == DEFAULT_LIMITS
    assert doc["status"] == "pass"
    core, web = doc["components"]
    assert list(core) == COMPONENT_KEYS
    assert core == {
        "name": "core", "kind": "library", "level": 2, "files": 2, "lines": 2, "bytes": 14 + 8,
        "tokens": 7, "test_tokens": 4, "context_tokens": 3, "footprint": 10, "base_footprint": None,
        "delta": None, "estimate": 10, "limits": DEFAULT_LIMITS, "tier": "green", "judged": True,
        "verdict": "ok", "message": "",
    }
    assert (web["kind"], web["level"], web["estimate"], web["footprint"]) == (None, None, None, 8)
    toml_tokens = len(encodings.load("o200k_base").encode_ordinary(Path("ctxgate.toml").read_text()))
    assert doc["unowned"] == {"files": 2, "tokens": 3 + toml_tokens}
    assert doc["skipped"] == {"binary": 1, "excluded": 1, "generated": 0, "submodule": 0, "symlink": 0}
    assert doc["totals"] == {"files": 5, "tokens": 3 + 7 + 4 + 5 + toml_tokens,
                             "lines": 1 + 1 + 1 + 1 + Path("ctxgate.toml").read_text().count("\n")}


def test_json_files_detail_and_base(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    first = project.commit()
    project.write("core/b.py", words(6))
    project.write("web/app.js", words(2))
    project.commit()
    project.write("core/b.py", words(100))  # work tree only: not in --rev HEAD
    doc = get_json(capsys, "--rev", "HEAD", "--base", first, "--files")
    head = project.head()
    assert doc["target"] == {"kind": "commit", "commit": head}
    assert doc["base"] == {"commit": first}
    core, web = doc["components"]
    assert list(core) == COMPONENT_KEYS + ["files_detail"]
    assert core["files_detail"] == [
        {"path": "core/a.py", "tokens": 7, "lines": 1},
        {"path": "core/b.py", "tokens": 6, "lines": 1},
        {"path": "core/tests/t.py", "tokens": 4, "lines": 1},
    ]
    assert (core["footprint"], core["base_footprint"], core["delta"]) == (16, 10, 6)
    assert (web["footprint"], web["base_footprint"], web["delta"]) == (5, 8, -3)
    staged = get_json(capsys, "--staged", "--base", "HEAD")
    assert staged["target"] == {"kind": "index", "commit": None}
    assert staged["base"] == {"commit": head}
    assert [c["delta"] for c in staged["components"]] == [0, 0]


def test_base_adds_and_removes_components(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("old/a.py", words(4))
    first = repo.commit()
    Path("old/a.py").unlink()
    repo.write("new/b.py", words(9))
    repo.commit()
    doc = get_json(capsys, "--rev", "HEAD", "--base", first)
    got = {c["name"]: (c["footprint"], c["base_footprint"], c["delta"]) for c in doc["components"]}
    assert got == {"new": (9, 0, 9), "old": (0, 4, -4)}


@pytest.mark.parametrize(("footprint", "expected"), [
    (0, "green"), (10, "green"), (11, "yellow"), (20, "yellow"), (21, "orange"), (30, "orange"),
    (31, "red"), (40, "red"), (41, "emergency"),
])
def test_tiers_through_the_report(repo: Repo, capsys: pytest.CaptureFixture[str], footprint: int,
                                  expected: str) -> None:
    repo.write("ctxgate.toml", SMALL)
    repo.write("a/x.txt", words(footprint))
    (comp,) = get_json(capsys)["components"]
    assert (comp["footprint"], comp["tier"]) == (footprint, expected)


def test_exactly_at_the_split_trigger_is_orange(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/x.txt", words(120_000))
    repo.write("b/x.txt", words(120_001))
    doc = get_json(capsys)
    assert [(c["footprint"], c["tier"], c["verdict"]) for c in doc["components"]] == [
        (120_000, "orange", "warn"), (120_001, "red", "blocked")]
    assert doc["status"] == "fail"  # the report still exits 0: it did its job


@pytest.mark.parametrize(("footprint", "expected"), [
    (0, "green"), (80_000, "green"), (80_001, "yellow"), (100_000, "yellow"), (100_001, "orange"),
    (120_000, "orange"), (120_001, "red"), (140_000, "red"), (140_001, "emergency"), (10**9, "emergency"),
])
def test_tier_boundaries(footprint: int, expected: str) -> None:
    assert tier(footprint, DEFAULTS) == expected


@pytest.mark.parametrize(("target", "base", "fail_on", "verdict", "emergency", "fragment"), [
    (80_000, None, "split", "ok", False, ""),
    (80_001, None, "split", "notice", False, "above optimal (80,000)"),
    (100_000, None, "split", "notice", False, "above optimal"),
    (100_001, None, "split", "warn", False, "above the warning limit (100,000)"),
    (120_000, None, "split", "warn", False, "above the warning limit"),
    (120_001, None, "split", "blocked", False, "120,001 tokens is 1 over the split limit (120,000)"),
    (120_001, 120_001, "split", "blocked", False, "over the split limit"),
    (125_000, 120_500, "split", "blocked", False, "over the split limit"),
    (125_000, 130_000, "split", "warn", False, "shrinks by 5,000 but is still 5,000 over its split limit"),
    (140_000, None, "split", "blocked", False, "over the split limit"),
    (140_001, None, "split", "blocked", True, "EMERGENCY: 140,001 tokens is over the emergency limit"),
    (130_000, None, "emergency", "warn", False, "above the warning limit"),
    (140_000, None, "emergency", "warn", False, ""),
    (140_001, None, "emergency", "blocked", False, "1 over the emergency limit (140,000)"),
    (100_000, None, "warning", "notice", False, ""),
    (100_001, None, "warning", "blocked", False, "1 over the warning limit (100,000)"),
])
def test_judge(target: int, base: int | None, fail_on: str, verdict: str, emergency: bool, fragment: str) -> None:
    v = judge(target, base, DEFAULTS, fail_on)
    assert (v.verdict, v.emergency) == (verdict, emergency)
    assert fragment in v.message
    if verdict == "ok":
        assert v.message == ""


def test_csv(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(get(capsys, "--format", "csv"))))
    assert [r["name"] for r in rows] == ["core", "web"]
    assert rows[0] == {
        "name": "core", "kind": "library", "level": "2", "files": "2", "lines": "2", "bytes": "22",
        "tokens": "7", "test_tokens": "4", "context_tokens": "3", "footprint": "10", "base_footprint": "",
        "delta": "", "estimate": "10", "tier": "green", "verdict": "ok",
    }
    project.commit()
    rows = list(csv.DictReader(io.StringIO(get(capsys, "--format", "csv", "--base", "HEAD"))))
    assert [(r["base_footprint"], r["delta"]) for r in rows] == [("10", "0"), ("8", "0")]
    files = list(csv.reader(io.StringIO(get(capsys, "--format", "csv", "--files"))))
    assert files == [["component", "path", "tokens", "lines"], ["core", "core/a.py", "7", "1"],
                     ["core", "core/tests/t.py", "4", "1"], ["web", "web/app.js", "5", "1"]]


def test_csv_quotes_odd_names(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write('a,"b"/x\ny.py', words(2))
    rows = list(csv.reader(io.StringIO(get(capsys, "--format", "csv", "--files"))))
    assert rows[1] == ['a,"b"', 'a,"b"/x\ny.py', "2", "1"]


def test_markdown(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    out = get(capsys, "--format", "markdown")
    assert out.startswith("# ctxgate budget report: work tree\n")
    assert "## Limits and tiers" in out
    assert "| red | 120,001 – 140,000 | split trigger crossed: split now |" in out
    assert ("| component | kind | level | tokens | test tokens | context tokens | footprint | lines | tokens/line "
            "| tier | estimate | estimate error |") in out
    assert "| core | library | 2 | 7 | 4 | 3 | **10** | 2 | 5.5 | green | 10 | +0% |" in out
    assert "| web |  |  | 5 | 0 | 3 | **8** | 1 | 5.0 | green | – | – |" in out
    assert "Skipped: binary 1, excluded 1." in out
    assert "## Files" not in out
    project.commit()
    project.write("web/more.js", words(2))
    out = get(capsys, "--format", "markdown", "--files", "--base", "HEAD")
    assert "| base | delta |" in out
    assert "| **10** | 2 | 5.5 | green | 10 | +0% | 10 | 0 |" in out
    assert "| web |  |  | 7 | 0 | 3 | **10** | 2 | 3.5 | green | – | – | 8 | +2 |" in out
    assert "## Files" in out and "| web | web/more.js | 2 | 1 |" in out


def test_markdown_escapes(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a|b/<x>.py", words(1))
    out = get(capsys, "--format", "markdown", "--files")
    assert "| a\\|b |" in out and "a\\|b/&lt;x>.py" in out


def test_text(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    out = get(capsys)
    lines = out.splitlines()
    assert lines[0] == "ctxgate report: work tree (o200k_base)"
    assert lines[2].split() == ["component", "files", "tokens", "tests", "context", "footprint", "tier"]
    assert lines[3].split() == ["core", "2", "7", "4", "3", "10", "green"]
    assert lines[4].split() == ["web", "1", "5", "0", "3", "8", "green"]
    assert "skipped: binary 1, excluded 1" in lines
    assert "limits: optimal 80,000, warning 100,000, split 120,000, emergency 140,000" in lines
    assert "\033[" not in out
    project.commit()
    out = get(capsys, "--rev", "HEAD", "--base", "HEAD", "--files")
    lines = out.splitlines()
    assert lines[0].startswith(f"ctxgate report: commit {project.head()[:12]} vs base {project.head()[:12]}")
    assert lines[2].split()[-2:] == ["base", "delta"]
    assert lines[3].split() == ["core", "2", "7", "4", "3", "10", "green", "10", "0"]
    assert lines[4].split() == ["core/a.py", "7"]
    assert lines[5].split() == ["core/tests/t.py", "(test)", "4"]


def test_color(project: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\033[32m" in get(capsys, "--color", "always")
    assert "\033[" not in get(capsys, "--color", "never")
    assert "\033[" not in get(capsys, "--color", "auto")  # captured stdout is not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in get(capsys)
    assert "\033[" in get(capsys, "--color", "always", "--files")


def test_output_file(project: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out, err = run(capsys, "report", "--format", "json", "--output", str(target), "--color", "auto")
    assert (code, out) == (0, "")
    assert json.loads(target.read_text())["schema"] == 1
    code, out, err = run(capsys, "report", "--output", str(tmp_path / "missing" / "x.txt"))
    assert code == 2 and "cannot write" in err and "--output" in err


def test_quiet_hides_the_notice(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("a/x.py", words(1))
    code, _, err = run(capsys, "report", "-q")
    assert code == 0 and err == ""
    code, _, err = run(capsys, "report")
    assert "no ctxgate.toml" in err


def test_empty_repository(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    doc = get_json(capsys)
    assert doc["components"] == [] and doc["totals"] == {"files": 0, "tokens": 0, "lines": 0}
    out = get(capsys)
    assert "total: 0 tokens in 0 files" in out
    assert "| component |" in get(capsys, "--format", "markdown")


@pytest.fixture
def gated(repo: Repo) -> Repo:
    repo.write("ctxgate.toml", 'unowned = "warn"\n' + SMALL)
    for name, n in (("a", 35), ("b", 45), ("c", 15), ("d", 25), ("e", 5)):
        repo.write(f"{name}/x.txt", words(n))
    repo.commit()
    return repo


def test_check_text(gated: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    gated.write("a/x.txt", words(31))
    gated.write("README", "hi\n")
    gated.add()
    code, out, _ = run(capsys, "check")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"ctxgate check: staged index vs base {gated.head()[:12]} (o200k_base)"
    assert lines[2].split() == ["component", "base", "target", "delta", "tier", "limit", "verdict"]
    assert lines[3].split() == ["a", "35", "→", "31", "-4", "red", "split", "30", "warn"]
    assert "warn: a: shrinks by 4 but is still 1 over its split limit (30)" in lines
    assert "reminder: b is over its split limit (45 tokens); not touched by this change" in lines
    assert "warning: files owned by no component: README" in lines
    assert lines[-1] == "status: warn"


def test_check_text_blocked_and_audit(gated: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--all")
    assert code == 1
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[3:8]] == ["a", "b", "c", "d", "e"]
    assert [line.split()[-1] for line in lines[3:8]] == ["blocked", "blocked", "notice", "warn", "ok"]
    assert "BLOCKED: a: 35 tokens is 5 over the split limit (30)" in lines
    assert ("EMERGENCY: b: 45 tokens is over the emergency limit (40); stop and split before any work"
            in lines)
    assert "notice: c: above optimal (10): monitor growth, plan a split" in lines
    assert "warn: d: above the warning limit (20): split before major work" in lines
    assert "  next: run `ctxgate split-plan a` and split it into smaller components," in lines
    assert '          limits = { split = 45, emergency = 47 }' in lines
    assert lines[-1] == "status: fail"
    code, out, _ = run(capsys, "check", "--all", "--color", "always")
    assert "\033[1;31mEMERGENCY: b:" in out and "\033[36mnotice: c:" in out


def test_check_text_nothing_judged_and_unowned_error(gated: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    gated.write("ctxgate.toml", 'unowned = "error"\n' + SMALL)
    gated.commit()
    for i in range(12):
        gated.write(f"loose{i:02}.txt", "x\n")
    gated.add()
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "no component judged" in out
    assert "BLOCKED: files owned by no component: loose00.txt, " in out and "loose09.txt …" in out
    assert "loose10.txt" not in out
    assert out.endswith("status: fail\n")


def test_format_helpers() -> None:
    assert (fmt.num(None), fmt.num(1234567)) == ("–", "1,234,567")
    assert [fmt.signed(n) for n in (None, 0, 5, -1200)] == ["–", "0", "+5", "-1,200"]
    assert (fmt.per_line(10, 4), fmt.per_line(3, 0)) == ("2.5", "–")
    assert (fmt.pct(None), fmt.pct(12.4), fmt.pct(-3.6)) == ("–", "+12%", "-4%")
