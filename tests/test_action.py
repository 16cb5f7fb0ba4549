"""action.yml and the CI workflow: their shape, and their scripts replayed as the runner runs them."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FakeGitHub, Repo, Runner
from test_github import CONFIG

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
INPUTS = {"base", "config", "fail-on", "comment", "github-token", "python-version"}
OUTPUTS = {"status", "blocked", "report"}
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def action_steps() -> list[dict[str, Any]]:
    steps = load(ACTION)["runs"]["steps"]
    assert isinstance(steps, list)
    return steps


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in action_steps() if s.get("id") == step_id)


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


# --- shape -------------------------------------------------------------------

def test_inputs_and_outputs_match_the_spec() -> None:
    doc = load(ACTION)
    assert set(doc["inputs"]) == INPUTS
    assert set(doc["outputs"]) == OUTPUTS
    assert all(spec.get("description") for spec in doc["inputs"].values())
    assert doc["inputs"]["comment"]["default"] == "true"
    assert doc["inputs"]["github-token"]["default"] == "${{ github.token }}"
    for name, spec in doc["outputs"].items():
        assert spec["value"] == f"${{{{ steps.check.outputs.{name} }}}}"
    assert doc["runs"]["using"] == "composite"


def test_no_expression_inside_any_run_script() -> None:
    runs = [s for s in action_steps() if "run" in s]
    assert len(runs) == 2
    for s in runs:
        assert "${{" not in s["run"], s.get("name")
        assert s["shell"] == "bash"


def test_every_input_reaches_the_scripts_through_env_or_with() -> None:
    used: set[str] = set()
    for s in action_steps():
        for key in ("env", "with"):
            for value in strings(s.get(key, {})):
                used |= {m.group(1).removeprefix("inputs.") for m in EXPR.finditer(value)
                         if m.group(1).startswith("inputs.")}
        other = {k: v for k, v in s.items() if k not in ("env", "with")}
        assert not any("inputs." in v for v in strings(other)), s.get("name")
    assert used == INPUTS


def test_installs_from_the_action_checkout_into_a_venv() -> None:
    setup = next(s for s in action_steps() if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    install = step("install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert "-m venv" in install["run"] and '"$ACTION_PATH"' in install["run"]
    check = step("check")
    assert "check --rev HEAD --format github" in check["run"] and "--base" in check["run"]


@pytest.mark.parametrize("doc", ["README.md"])
def test_every_input_and_output_is_documented(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    for name in sorted(INPUTS | OUTPUTS):
        assert f"| `{name}` |" in text, f"{doc} does not document `{name}` in a table"
    assert "fetch-depth: 0" in text and "pull-requests: write" in text


def test_ci_workflow_tests_and_uses_the_action_on_pull_requests() -> None:
    wf = load(ROOT / ".github" / "workflows" / "ci.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on and "push" in on
    jobs = wf["jobs"]
    assert any("pytest" in s.get("run", "") for j in jobs.values() for s in j["steps"])
    (gate,) = [j for j in jobs.values() if any(s.get("uses") == "./" for s in j["steps"])]
    assert gate["if"] == "github.event_name == 'pull_request'"
    assert gate["permissions"]["pull-requests"] == "write"
    checkout = gate["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    for j in jobs.values():
        for s in j["steps"]:
            assert "${{" not in s.get("run", "")


# --- replay --------------------------------------------------------------------

def evaluate(template: str, ctx: dict[str, Any]) -> str:
    """The subset of GitHub expressions the action uses: dotted context lookups."""
    def lookup(m: re.Match[str]) -> str:
        expr = m.group(1)
        assert re.fullmatch(r"[\w.-]+", expr), f"cannot replay expression {expr!r}"
        value: Any = ctx
        for part in expr.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return "" if value is None else str(value)
    return EXPR.sub(lookup, template)


def bash_step(s: dict[str, Any], ctx: dict[str, Any], cwd: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run a step's script as the runner does: `bash --noprofile --norc -eo pipefail FILE`."""
    script = tmp / f"step-{s['id']}.sh"
    script.write_text(s["run"], encoding="utf-8")
    env = {**os.environ, **{k: evaluate(str(v), ctx) for k, v in s.get("env", {}).items()}}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=cwd, env=env, capture_output=True, text=True)


def context(event_name: str, event: dict[str, Any], inputs: dict[str, str], ctxgate: str) -> dict[str, Any]:
    github = {"token": "ghs_replayed", "action_path": str(ROOT), "event_name": event_name, "event": event}
    doc = load(ACTION)
    resolved = {k: evaluate(str(v.get("default", "")), {"github": github}) for k, v in doc["inputs"].items()}
    resolved.update(inputs)
    return {"github": github, "inputs": resolved,
            "steps": {"install": {"outputs": {"ctxgate": ctxgate}},
                      "python": {"outputs": {"python-path": sys.executable}}}}


def executable(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def shim(tmp_path: Path) -> str:
    """Stands in for the venv's `ctxgate` script: the package under test, same entry point."""
    return executable(tmp_path / "ctxgate", f'exec "{sys.executable}" -m ctxgate "$@"\n')


def pull_request_checkout(repo: Repo, head_size: int, config: str = CONFIG) -> tuple[str, str]:
    """main and a feature branch, checked out as GitHub does: the merge commit. (base sha, head)"""
    repo.write("ctxgate.toml", config)
    repo.write("components/a/main.txt", "alpha " * 10)
    repo.write("components/b/main.txt", "alpha " * 10)
    repo.commit("start")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("components/a/main.txt", "alpha " * head_size)
    repo.commit("grow a")
    repo.git("checkout", "-q", "main")
    repo.write("components/b/other.txt", "beta")
    base = repo.commit("main moves on")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
    return base, repo.head()


def replay(repo: Path, runner: Runner, shim: str, tmp: Path, event_name: str, event: dict[str, Any],
           **inputs: str) -> subprocess.CompletedProcess[str]:
    runner.set_event(event_name, event)
    ctx = context(event_name, event, {k.replace("_", "-"): v for k, v in inputs.items()}, shim)
    return bash_step(step("check"), ctx, repo, tmp)


@pytest.mark.parametrize(("size", "inputs", "code", "status"), [
    (350, {}, 1, "fail"),
    (250, {}, 0, "warn"),
    (20, {}, 0, "pass"),
    (350, {"fail_on": "emergency"}, 0, "warn"),
    (250, {"fail_on": "warning"}, 1, "fail"),
])
def test_pull_request_replayed(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, shim: str, tmp_path: Path,
    size: int, inputs: dict[str, str], code: int, status: str,
) -> None:
    base, _ = pull_request_checkout(repo, size)
    runner.set("GITHUB_API_URL", fake_github.url)
    event = {"number": 42, "pull_request": {"number": 42, "base": {"sha": base}}}
    proc = replay(repo.path, runner, shim, tmp_path, "pull_request", event, **inputs)
    assert proc.returncode == code, proc.stderr
    outputs = runner.outputs()
    assert outputs["status"] == status
    assert outputs["blocked"] == ("a" if code else "")
    assert Path(outputs["report"]).is_file()
    summary = runner.summary.read_text(encoding="utf-8")
    assert "| a | 11 → " in summary and "not touched" in summary  # b only moved on main
    (comment,) = fake_github.comments[42]
    assert comment["body"].startswith("<!-- ctxgate -->\n")
    assert fake_github.requests[0][2]["Authorization"] == "Bearer ghs_replayed"
    assert ("::error title=ctxgate%3A blocked a::" in proc.stdout) == (code == 1)


@pytest.mark.parametrize("before", ["base", "0" * 40])  # a branch's first push has no before
def test_push_replayed(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, shim: str, tmp_path: Path, before: str,
) -> None:
    base, _ = pull_request_checkout(repo, 350)
    runner.set("GITHUB_API_URL", fake_github.url)
    proc = replay(repo.path, runner, shim, tmp_path, "push", {"before": base if before == "base" else before})
    assert proc.returncode == 1, proc.stderr
    assert runner.outputs()["blocked"] == "a"
    assert fake_github.requests == []  # no comment outside pull requests


def test_inputs_base_config_and_comment_replayed(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, shim: str, tmp_path: Path,
) -> None:
    base, _ = pull_request_checkout(repo, 350)
    repo.write("gate/strict.toml", CONFIG.replace("split = 300", "split = 390"))
    repo.commit("own config")
    runner.set("GITHUB_API_URL", fake_github.url)
    event = {"number": 1, "pull_request": {"number": 1, "base": {"sha": "0" * 40}}}
    proc = replay(repo.path, runner, shim, tmp_path, "pull_request", event,
                  base=base, config="gate/strict.toml", comment="false")
    assert proc.returncode == 0, proc.stderr
    assert runner.outputs()["status"] == "warn"
    assert fake_github.requests == []


def test_shallow_clone_replayed(
    repo: Repo, runner: Runner, shim: str, tmp_path: Path,
) -> None:
    base, _ = pull_request_checkout(repo, 350)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    event = {"number": 3, "pull_request": {"number": 3, "base": {"sha": base}}}
    proc = replay(clone, runner, shim, tmp_path, "pull_request", event)
    assert proc.returncode == 2
    assert "fetch-depth: 0" in proc.stderr and "actions/checkout" in proc.stderr
    assert "::error title=ctxgate%3A base commit missing::" in proc.stdout
    assert runner.outputs() == {}


def test_install_step_replayed(runner: Runner, tmp_path: Path) -> None:
    """The install script with a recording python: venv under RUNNER_TEMP, pip from the action path."""
    log = tmp_path / "python.log"
    fake_python = executable(tmp_path / "python", f"""
echo "$@" >> "{log}"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
""")
    ctx = context("pull_request", {}, {}, "")
    ctx["steps"]["python"]["outputs"]["python-path"] = fake_python
    proc = bash_step(step("install"), ctx, tmp_path, tmp_path)
    assert proc.returncode == 0, proc.stderr
    venv = runner.temp / "ctxgate-venv"
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls[0] == f"-m venv {venv}"
    assert calls[1].startswith("-m pip install") and calls[1].endswith(str(ROOT))
    assert runner.outputs() == {"ctxgate": f"{venv}/bin/ctxgate"}
