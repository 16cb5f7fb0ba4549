"""`check --format github` with a simulated runner, against real repositories."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import FakeGitHub, Repo, Runner, run
from ctxgate import github
from ctxgate.report import github_summary

# Tiny limits so a few hundred tokens cross them: "alpha " * n is n + 1 tokens.
CONFIG = """
[limits]
optimal = 100
warning = 200
split = 300
emergency = 400

[[component]]
each = "components/*"
"""
OK, NOTICE, WARN, BLOCKED, EMERGENCY = 10, 150, 250, 350, 500


def text(n: int) -> str:
    return "alpha " * n


def two_commits(repo: Repo, base: dict[str, int], head: dict[str, int], config: str = CONFIG) -> str:
    """Commit *base* sizes, then *head* sizes (0 removes); return the base sha."""
    repo.write("ctxgate.toml", config)
    for name, n in base.items():
        repo.write(f"components/{name}/main.txt", text(n))
    sha = repo.commit("base")
    for name, n in head.items():
        path = repo.path / "components" / name / "main.txt"
        if n:
            repo.write(f"components/{name}/main.txt", text(n))
        elif path.exists():
            path.unlink()
    repo.commit("head")
    return sha


def check(capsys: pytest.CaptureFixture[str], base: str, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "check", "--rev", "HEAD", "--base", base, "--format", "github", *extra)


def commands(out: str) -> list[tuple[str, dict[str, str], str]]:
    """Every line the runner would take as a workflow command: (name, properties, data)."""
    found = []
    for line in re.split(r"\r\n|\r|\n", out):  # the runner's line breaks
        s = line.lstrip()
        if not s.startswith("::"):
            if "##[" in s:
                found.append(("legacy", {}, s))
            continue
        head, _, data = s[2:].partition("::")
        name, _, props = head.partition(" ")
        found.append((name, dict(p.split("=", 1) for p in props.split(",") if p), data))
    return found


def unescape(s: str, prop: bool = False) -> str:
    if prop:
        s = s.replace("%3A", ":").replace("%2C", ",")
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def test_summary_outputs_and_report(repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    base = two_commits(repo, {"grows": OK, "quiet": 20, "big": NOTICE}, {"grows": NOTICE})
    runner.summary.write_text("earlier step\n", encoding="utf-8")
    code, out, _ = check(capsys, base)
    assert code == 0
    summary = runner.summary.read_text(encoding="utf-8")
    assert summary.startswith("earlier step\n## ctxgate: ✅ pass")
    rows = [line for line in summary.splitlines() if re.match(r"\| \S+ \| \w+ \| [\d,–]+ → ", line)]
    # judged first, then the untouched ones, largest first
    assert [r.split(" | ")[1] for r in rows] == ["grows", "big", "quiet"]
    assert "| 🟡 | grows | 11 → 151 | +140 | yellow | split 300 | notice |" in summary
    assert "| 🟡 | big | 151 → 151 | 0 | yellow | split 300 | not touched |" in summary
    assert "<details><summary>Tiers" in summary and "| 🛑 emergency | > 400 |" in summary
    assert "[workflow run](https://github.example/octo/widgets/actions/runs/77)" in summary
    outputs = runner.outputs()
    assert outputs["status"] == "pass" and outputs["blocked"] == ""
    report = Path(outputs["report"])
    assert report.parent == runner.temp
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["schema"] == 1 and doc["status"] == "pass" and doc["base"]["commit"] == base
    assert "status: pass" in out and "grows" in out
    assert not [c for c in commands(out) if c[0] in ("error", "warning")]


@pytest.mark.parametrize(("head", "fail_on", "code", "status", "errors", "warnings"), [
    ({"a": BLOCKED}, None, 1, "fail", 1, 0),
    ({"a": EMERGENCY}, None, 1, "fail", 1, 0),
    ({"a": WARN}, None, 0, "warn", 0, 1),
    ({"a": NOTICE}, None, 0, "pass", 0, 0),
    ({"a": BLOCKED}, "emergency", 0, "warn", 0, 1),
    ({"a": WARN}, "warning", 1, "fail", 1, 0),
    ({"a": BLOCKED, "b": WARN}, None, 1, "fail", 1, 1),
])
def test_exit_codes_annotations_and_fail_on(
    repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str], head: dict[str, int],
    fail_on: str | None, code: int, status: str, errors: int, warnings: int,
) -> None:
    base = two_commits(repo, {"a": OK, "b": OK, "c": OK}, head)
    got, out, _ = check(capsys, base, *(("--fail-on", fail_on) if fail_on else ()))
    assert got == code
    cmds = commands(out)
    assert sum(1 for c in cmds if c[0] == "error") == errors
    assert sum(1 for c in cmds if c[0] == "warning") == warnings
    outputs = runner.outputs()
    assert outputs["status"] == status
    assert outputs["blocked"] == ("a" if errors else "")
    if errors:
        name, props, data = next(c for c in cmds if c[0] == "error")
        assert unescape(props["title"], prop=True).endswith(" a") and data.startswith("a: ")


def test_fail_on_option_overrides_config_in_text_format(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base = two_commits(repo, {"a": OK}, {"a": WARN}, CONFIG.replace("[limits]", 'fail_on = "emergency"\n[limits]'))
    assert run(capsys, "check", "--rev", "HEAD", "--base", base)[0] == 0
    code, out, _ = run(capsys, "check", "--rev", "HEAD", "--base", base, "--fail-on", "warning")
    assert code == 1 and "warning 200" in out


HOSTILE = ["evil\n::error::injected", "per%cent%0A", "com,ma", "co:lon::warning::x", "::error::lead",
           "cr\rhere", "legacy##(error)x"]


def test_hostile_names_cannot_inject_commands(
    repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str],
) -> None:
    base = two_commits(repo, {n: OK for n in HOSTILE}, {n: BLOCKED for n in HOSTILE})
    code, out, _ = check(capsys, base)
    assert code == 1
    cmds = commands(out)
    end_token = [c[0] for c in cmds if re.fullmatch(r"[0-9a-f]{32}", c[0])]
    assert {c[0] for c in cmds} == {"error", "stop-commands", *end_token} and len(end_token) == 1
    errors = [c for c in cmds if c[0] == "error"]
    assert len(errors) == len(HOSTILE)
    titles = sorted(unescape(p["title"], prop=True).removeprefix("ctxgate: blocked ") for _, p, _ in errors)
    assert titles == sorted(HOSTILE)
    messages = sorted(unescape(d).split(": 351 tokens")[0] for _, _, d in errors)
    assert messages == sorted(HOSTILE)
    for _, props, data in errors:
        assert not re.search(r"[\r\n]", data + props["title"])
        assert ":" not in props["title"] and "," not in props["title"]
    # the text is still printed, between stop-commands and its token
    assert out.count("::stop-commands::") == 1 and "status: fail" in out
    assert "evil\\n::error::injected" in out
    # outputs stay parseable whatever the names hold
    assert set(runner.outputs()["blocked"].split(",")) >= {"evil\n::error::injected", "per%cent%0A"}
    summary = runner.summary.read_text(encoding="utf-8")
    assert "\n::error" not in summary and "| per%cent%0A |" in summary and "evil ::error::injected" in summary


def test_at_most_ten_annotations_of_each_kind(
    repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str],
) -> None:
    names = [f"b{i:02}" for i in range(12)] + [f"w{i:02}" for i in range(12)]
    base = two_commits(repo, {n: OK for n in names}, {n: BLOCKED if n[0] == "b" else WARN for n in names})
    code, out, _ = check(capsys, base)
    assert code == 1
    kinds = [c[0] for c in commands(out)]
    assert kinds.count("error") == 10 and kinds.count("warning") == 10
    assert "4 more problems are not annotated" in out
    assert len(runner.outputs()["blocked"].split(",")) == 12


def test_unowned_files_annotated_by_policy(repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    config = 'unowned = "error"\n' + CONFIG
    repo.write("ctxgate.toml", config)
    repo.write("components/a/main.txt", text(OK))
    base = repo.commit()
    repo.write("stray\n::error::x.txt", "loose")
    repo.write("legacy##[error]x.txt", "loose")
    repo.commit()
    code, out, _ = check(capsys, base)
    assert code == 1
    cmds = commands(out)
    assert [c[0] for c in cmds if c[0] not in ("stop-commands", "error")] == [cmds[-1][0]]  # the end token
    (name, props, data), = [c for c in cmds if c[0] == "error"]
    assert props["title"] == "ctxgate%3A unowned files"
    assert unescape(data).endswith("legacy##[error]x.txt, stray\n::error::x.txt")
    assert "legacy# #[error]x.txt" in out


def test_summary_truncated_before_the_limit(
    repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [f"component-{i:03}-" + "x" * 40 for i in range(60)]
    base = two_commits(repo, {n: OK for n in names}, {names[0]: NOTICE})
    monkeypatch.setattr(github, "SUMMARY_LIMIT", 6000)
    runner.summary.write_text("x" * 1000, encoding="utf-8")
    assert check(capsys, base)[0] == 0
    data = runner.summary.read_bytes()
    assert len(data) < 6000
    assert b"more components not shown" in data and b"</details>" in data
    assert names[0].encode() in data  # the judged one comes first and survives


def test_no_runner_prints_to_stdout_only(repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = two_commits(repo, {"a": OK}, {"a": BLOCKED})
    code, out, _ = check(capsys, base)
    assert code == 1
    assert out.startswith("::error title=ctxgate%3A blocked a::a: 351 tokens")
    assert "stop-commands" not in out and "status: fail" in out
    assert not list(tmp_path.rglob("*.json"))


def test_output_option_is_the_report_path(
    repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    target = tmp_path / "report.json"
    assert check(capsys, base, "--output", str(target))[0] == 0
    assert runner.outputs()["report"] == str(target)
    assert json.loads(target.read_text(encoding="utf-8"))["components"][0]["name"] == "a"


def test_quiet_pass_prints_no_text(repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    code, out, _ = check(capsys, base, "--quiet")
    assert code == 0 and out == ""
    assert runner.outputs()["status"] == "pass"


def test_unwritable_runner_files_warn(repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    runner.set("GITHUB_OUTPUT", str(runner.root / "missing" / "output"))
    runner.set("GITHUB_STEP_SUMMARY", str(runner.root / "missing" / "summary"))
    code, out, _ = check(capsys, base)
    assert code == 0
    warnings = [c for c in commands(out) if c[0] == "warning"]
    assert len(warnings) == 2 and "outputs" in warnings[1][2]


@pytest.mark.parametrize(("value", "data", "prop"), [
    ("plain", "plain", "plain"),
    ("50%", "50%25", "50%25"),
    ("a\nb\r", "a%0Ab%0D", "a%0Ab%0D"),
    ("x::y,z", "x::y,z", "x%3A%3Ay%2Cz"),
    ("%0A", "%250A", "%250A"),
])
def test_escaping(value: str, data: str, prop: str) -> None:
    assert github.escape_data(value) == data
    assert github.escape_property(value) == prop
    assert unescape(data) == value and unescape(prop, prop=True) == value


@pytest.mark.parametrize("value", ["", "one", "two\nlines", "ghadelimiter_x\nEOF", "a=b<<c"])
def test_output_block_round_trips(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = Runner(tmp_path, monkeypatch)
    r.output.write_text(github.output_block("name", value) + github.output_block("next", "1"), encoding="utf-8")
    assert r.outputs() == {"name": value, "next": "1"}


def test_shallow_clone_says_fetch_depth_0(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    repo.write("components/a/more.txt", "more")
    repo.commit()
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    code, out, err = check(capsys, base)
    assert code == 2
    assert "fetch-depth: 0" in err and "shallow" in err and err.count("\n") == 1
    assert out.startswith("::error title=ctxgate%3A base commit missing::") and "fetch-depth: 0" in out
    # other formats keep the general message
    code, _, err = run(capsys, "check", "--rev", "HEAD", "--base", base)
    assert code == 2 and "shallow" in err


def test_missing_base_in_full_clone_is_explained(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two_commits(repo, {"a": OK}, {"a": NOTICE})
    code, _, err = check(capsys, "f" * 40)
    assert code == 2 and "not in this clone" in err and "fetch-depth: 0" in err


def test_unrelated_error_keeps_its_message(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    repo.git("checkout", "-q", "--orphan", "other")
    repo.git("rm", "-rqf", ".")
    repo.write("x.txt", "x")
    repo.commit("unrelated")
    code, _, err = run(capsys, "check", "--rev", "HEAD", "--base", base, "--format", "github")
    assert code == 2 and "no common ancestor" in err


def test_pull_request_comment_created_then_updated(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str],
) -> None:
    base = two_commits(repo, {"a": OK, "b": OK}, {"a": BLOCKED})
    runner.pull_request(7, base)
    runner.set("GITHUB_API_URL", fake_github.url)
    runner.set("GITHUB_TOKEN", "t0ken")
    code, out, _ = check(capsys, base)
    assert code == 1
    assert re.search(r"created comment \d+ on pull request #7", out)
    (posted,) = fake_github.comments[7]
    assert posted["body"].startswith("<!-- ctxgate -->\n## ctxgate: ❌ fail — 1 component blocked")
    # the second run finds it by its marker and edits it in place
    repo.write("components/a/main.txt", text(OK))
    repo.commit("shrink")
    code, out, _ = check(capsys, base)
    assert code == 0 and f"updated comment {posted['id']}" in out
    assert len(fake_github.comments[7]) == 1 and "✅ pass" in fake_github.comments[7][0]["body"]
    methods = [m for m, *_ in fake_github.requests]
    assert methods == ["GET", "POST", "GET", "PATCH"]
    assert all(h["Authorization"] == "Bearer t0ken" for _, _, h, _ in fake_github.requests)


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_comment_failure_is_only_a_warning(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str], status: int,
) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    runner.pull_request(3, base)
    runner.set("GITHUB_API_URL", fake_github.url)
    runner.set("CTXGATE_GITHUB_TOKEN", "read-only")
    fake_github.fail_status = status
    code, out, _ = check(capsys, base)
    assert code == 0
    (warning,) = [c for c in commands(out) if c[0] == "warning"]
    assert f"HTTP {status}" in warning[2] and "gate result is unaffected" in warning[2]
    assert ("pull-requests: write" in warning[2]) == (status != 500)
    assert runner.outputs()["status"] == "pass"


@pytest.mark.parametrize(("event", "setting", "token", "requests", "warns"), [
    ("push", "", "tok", 0, False),
    ("pull_request", "false", "tok", 0, False),
    ("pull_request", "", "", 0, False),
    ("pull_request", "true", "", 0, True),
    ("pull_request_target", "true", "tok", 2, False),
    ("pull_request", "auto", "tok", 2, False),
])
def test_when_to_comment(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str],
    event: str, setting: str, token: str, requests: int, warns: bool,
) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    runner.pull_request(5, base)
    runner.set("GITHUB_EVENT_NAME", event)
    runner.set("GITHUB_API_URL", fake_github.url)
    runner.set("CTXGATE_COMMENT", setting)
    runner.set("CTXGATE_GITHUB_TOKEN", token)
    code, out, _ = check(capsys, base)
    assert code == 0
    assert len(fake_github.requests) == requests
    assert any(c[0] == "warning" for c in commands(out)) == warns


@pytest.mark.parametrize(("payload", "number"), [
    ({"number": 4, "pull_request": {"number": 4}}, 4),
    ({"number": 9}, 9),
    ({"pull_request": {"number": "4"}}, None),
    ({"pull_request": {"number": True}}, None),
    ([], None),
])
def test_pr_number(tmp_path: Path, payload: object, number: int | None) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert github.pr_number(str(path)) == number


def test_pr_number_unreadable(tmp_path: Path) -> None:
    assert github.pr_number(None) is None
    assert github.pr_number(str(tmp_path / "missing.json")) is None
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    assert github.pr_number(str(tmp_path / "bad.json")) is None


def test_missing_pull_request_number_warns(
    repo: Repo, runner: Runner, capsys: pytest.CaptureFixture[str],
) -> None:
    base = two_commits(repo, {"a": OK}, {"a": NOTICE})
    runner.set_event("pull_request", {})
    runner.set("GITHUB_TOKEN", "tok")
    _, out, _ = check(capsys, base)
    assert any(c[0] == "warning" and "which pull request" in c[2] for c in commands(out))


@pytest.mark.parametrize("limit", [400, 2000, 5000])
@pytest.mark.parametrize("measure", [github_summary.utf8_size, github_summary.utf16_size])
def test_render_respects_any_limit(
    repo: Repo, capsys: pytest.CaptureFixture[str], limit: int, measure: github_summary.Measure,
) -> None:
    from ctxgate.budget import build
    from ctxgate.engine import Workspace

    names = [f"c{i:03}-🧩" for i in range(120)]
    two_commits(repo, {n: OK for n in names}, {names[5]: BLOCKED})
    with Workspace(str(repo.path)) as ws:
        target = ws.target(rev="HEAD", staged=False)
        pair = ws.measure(target, config_path=None, base_commit=None, quiet=True)
        result = build("check", pair.target, None, judged=None, base_commit=None)
    body = github_summary.render(result, limit=limit, measure=measure)
    assert 0 < measure(body) <= limit
    assert "cut" in body or "not shown" in body
