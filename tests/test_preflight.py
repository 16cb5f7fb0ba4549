"""preflight (SPEC §8): every verdict, its boundaries and exit code, and measured vs estimate."""
from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from conftest import Repo, run

# Small limits so that a few files reach every tier.
CONFIG = textwrap.dedent("""\
    [limits]
    optimal = 1_000
    warning = 2_000
    split = 3_000
    emergency = 4_000

    [planning]
    safety_margin = 500
    context_budget = 3_200
    tokens_per_line = 4

    [[component]]
    name = "core"
    paths = ["/core/"]
    """)


@pytest.fixture
def core(repo: Repo) -> Repo:
    repo.write("ctxgate.toml", CONFIG)
    repo.write("core/a.py", "word " * 499 + "\n" + "word\n" * 200)  # 500 + 400 = 900 tokens, 201 lines
    repo.commit()
    return repo


def preflight(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, "preflight", *args, "--format", "json")
    assert err == ""
    doc: dict[str, Any] = json.loads(out)
    return code, doc


@pytest.mark.parametrize("estimate, verdict, code", [
    (1, "SAFE", 0),
    (1_000, "SAFE", 0),        # thresholds are inclusive: at optimal is still SAFE
    (1_001, "MONITOR", 0),
    (2_000, "MONITOR", 0),
    (2_001, "CAUTION", 0),
    (2_700, "CAUTION", 0),     # needed = 3,200 = the context budget, not over it
    (2_701, "WARNING", 0),     # needed 3,201 > 3,200
    (3_000, "WARNING", 0),     # at split: not over it
    (3_001, "ABORT", 1),
    (50_000, "ABORT", 1),
])
@pytest.mark.parametrize("name", ["core", "planned"])
def test_verdicts(core: Repo, capsys: pytest.CaptureFixture[str], name: str, estimate: int,
                  verdict: str, code: int) -> None:
    got, doc = preflight(capsys, name, "--estimate", str(estimate))
    assert (got, doc["verdict"]) == (code, verdict)
    assert doc["needed"] == estimate + 500
    assert doc["exists"] == (name == "core")


def test_text_for_a_planned_component(core: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "preflight", "dns", "--estimate", "3_001")
    assert (code, err) == (1, "")
    assert out == textwrap.dedent("""\
        ctxgate preflight: dns (planned, not in the repository)
          estimate:       3,001 tokens (--estimate)
          safety margin:  500
          needed:         3,501 of a 3,200 context budget
          verdict:        ABORT: the design exceeds the split limit (3,000): split it first
        """)


@pytest.mark.parametrize("estimate, line", [
    # measured footprint 900: ±10% of the estimate is "within"
    ("1000", "measured:       900 tokens (-10.0% vs the estimate: within 10%)"),
    ("819", "measured:       900 tokens (+9.9% vs the estimate: within 10%)"),
    ("818", "measured:       900 tokens (+10.0% vs the estimate: off by more than 10%)"),  # +10.02%
    ("1001", "measured:       900 tokens (-10.1% vs the estimate: off by more than 10%)"),
])
def test_measured_vs_estimate(core: Repo, capsys: pytest.CaptureFixture[str], estimate: str, line: str) -> None:
    code, out, _ = run(capsys, "preflight", "core", "--estimate", estimate)
    assert code == 0
    assert f"  {line}\n" in out
    assert "  line heuristic: 804 tokens (201 lines × 4 tokens/line)\n" in out


def test_text_for_an_existing_component_without_estimate(core: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "preflight", "core")
    assert code == 0
    assert out == textwrap.dedent("""\
        ctxgate preflight: core
          estimate:       900 tokens (measured footprint)
          safety margin:  500
          needed:         1,400 of a 3,200 context budget
          verdict:        SAFE: within optimal (1,000)
          measured:       900 tokens (no estimate to compare: pass --estimate or set estimate in the config)
          line heuristic: 804 tokens (201 lines × 4 tokens/line)
        """)


@pytest.mark.parametrize("config_estimate, args, estimate, source", [
    (None, (), 900, "measured footprint"),
    (2_500, (), 2_500, "config estimate"),
    (2_500, ("--estimate", "1200"), 1_200, "--estimate"),
])
def test_estimate_source(core: Repo, capsys: pytest.CaptureFixture[str], config_estimate: int | None,
                         args: tuple[str, ...], estimate: int, source: str) -> None:
    if config_estimate is not None:
        core.write("ctxgate.toml", CONFIG + f"estimate = {config_estimate}\n")
    _, doc = preflight(capsys, "core", *args)
    assert (doc["estimate"], doc["estimate_source"], doc["measured"]) == (estimate, source, 900)
    expected_error = None if source == "measured footprint" else round((900 - estimate) / estimate * 100, 1)
    assert doc["estimate_error"] == expected_error


def test_an_estimate_of_zero_is_not_compared(core: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    core.write("ctxgate.toml", CONFIG + "estimate = 0\n")
    code, out, _ = run(capsys, "preflight", "core")
    assert code == 0
    assert "  verdict:        SAFE: within optimal (1,000)\n" in out
    assert "  measured:       900 tokens (an estimate of 0 cannot be compared)\n" in out


def test_component_limits_apply_to_it_and_not_to_a_planned_one(
        core: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    core.write("ctxgate.toml", CONFIG + 'limits = { split = 3_500, emergency = 4_500 }\nreason = "tables"\n')
    assert preflight(capsys, "core", "--estimate", "3200")[1]["verdict"] == "WARNING"
    assert preflight(capsys, "planned", "--estimate", "3200")[1]["verdict"] == "ABORT"


def test_json_document(core: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = preflight(capsys, "core", "--estimate", "1500")
    assert code == 0
    doc.pop("version")
    assert doc == {
        "schema": 1, "tool": "ctxgate", "name": "core", "exists": True, "estimate": 1500,
        "estimate_source": "--estimate", "safety_margin": 500, "needed": 2000, "context_budget": 3200,
        "limits": {"optimal": 1000, "warning": 2000, "split": 3000, "emergency": 4000},
        "verdict": "MONITOR", "message": "above optimal, within warning (2,000): monitor growth",
        "measured": 900, "estimate_error": -40.0, "estimate_off": True, "heuristic": 804,
    }


@pytest.mark.parametrize("argv, message", [
    (("preflight", "nope"), "'nope' is not a component (components: core); for a planned one pass --estimate N"),
    (("preflight", "core", "--estimate", "-5"), "must be a positive number of tokens"),
])
def test_usage_errors(core: Repo, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_default_standard(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("src/a.py", "x = 1\n")
    code, doc = preflight(capsys, "planned", "--estimate", "67000", "-q")
    assert (code, doc["verdict"], doc["needed"], doc["context_budget"]) == (0, "SAFE", 87_000, 180_000)
