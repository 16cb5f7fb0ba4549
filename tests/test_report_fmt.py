"""The shared formatting helpers, and output that depends on them."""
from __future__ import annotations

import tomllib

import pytest

from ctxgate.budget import ComponentResult, Usage, Verdict, tier
from ctxgate.config import Limits
from ctxgate.ownership import Component
from ctxgate.report import fmt, text

LIMITS = Limits(optimal=80_000, warning=100_000, split=120_000, emergency=140_000)


def result(name: str, footprint: int) -> ComponentResult:
    comp = Component(name=name, patterns=("a/",), origin="test", limits=LIMITS)
    u = Usage(files=1, tokens=footprint, footprint=footprint)
    return ComponentResult(comp, u, tier(footprint, LIMITS), None, True, Verdict("blocked", "over"))


@pytest.mark.parametrize("name", ['quo"te', "back\\slash", "tab\there", "plain"])
def test_raise_hint_is_valid_toml(name: str) -> None:
    hint = text._raise_hint(result(name, 121_030), "split")
    # The two lines that would go into the config, as the user would paste them.
    body = "\n".join(line.strip() for line in hint if line.strip().startswith(("name =", "limits =")))
    doc = tomllib.loads(body)
    assert doc["name"] == name
    assert doc["limits"] == {"split": 130_000}


def test_target_label() -> None:
    assert fmt.target_label("commit", "0123456789abcdef") == "commit 0123456789ab"
    assert fmt.target_label("commit", "0123456789abcdef", code=True) == "commit `0123456789ab`"
    assert fmt.target_label("index", None) == "staged index"
    assert fmt.target_label("worktree", None) == "work tree"


def test_limit_label_and_tier_ranges() -> None:
    assert fmt.limit_label(result("c", 1), "warning") == "warning 100,000"
    assert fmt.tier_ranges(LIMITS) == ["≤ 80,000", "80,001 – 100,000", "100,001 – 120,000",
                                       "120,001 – 140,000", "> 140,000"]


def test_first_paths() -> None:
    assert fmt.first_paths(["a", "b"], n=2) == "a, b"
    assert fmt.first_paths(["a", "b", "c"], n=2) == "a, b …"
