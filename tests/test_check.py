"""`ctxgate check`: scope, verdict rules, bases, output (SPEC §6)."""
from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from conftest import Repo, run

SMALL = '[limits]\noptimal = 10\nwarning = 20\nsplit = 30\nemergency = 40\n'
TWO = '[[component]]\nname = "a"\npaths = ["a/"]\n\n[[component]]\nname = "b"\npaths = ["b/"]\n'


def words(n: int, word: str = "x") -> str:
    """Text of exactly *n* o200k_base tokens."""
    return " ".join([word] * n)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "check", "--format", "json", *args)
    assert out, err
    return code, json.loads(out), err


def comps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["components"]}


def judged(doc: dict[str, Any]) -> set[str]:
    return {c["name"] for c in doc["components"] if c["judged"]}


@pytest.fixture
def two(repo: Repo) -> Repo:
    """Components a and b (small limits), committed."""
    repo.write("ctxgate.toml", SMALL + TWO)
    repo.write("a/one.txt", words(5))
    repo.write("b/one.txt", words(5))
    repo.commit("base")
    return repo


# base tokens (None: the component does not exist yet), target tokens (0: deleted), fail_on,
# verdict, status, exit code, words expected in the message.
VERDICTS = [
    (5, 8, "split", "ok", "pass", 0, ""),
    (5, 10, "split", "ok", "pass", 0, ""),
    (5, 11, "split", "notice", "pass", 0, "above optimal (10)"),
    (5, 21, "split", "warn", "warn", 0, "above the warning limit (20)"),
    (5, 30, "split", "warn", "warn", 0, "above the warning limit"),  # thresholds are exclusive
    (5, 31, "split", "blocked", "fail", 1, "31 tokens is 1 over the split limit (30)"),
    (None, 31, "split", "blocked", "fail", 1, "1 over the split limit"),  # new component: B = 0
    (35, 35, "split", "blocked", "fail", 1, "5 over the split limit"),  # touched, not shrunk
    (35, 36, "split", "blocked", "fail", 1, "6 over the split limit"),
    (38, 33, "split", "warn", "warn", 0, "shrinks by 5 but is still 3 over its split limit (30)"),
    (45, 42, "split", "warn", "warn", 0, "shrinks by 3 but is still 12 over"),
    (5, 41, "split", "blocked", "fail", 1, "EMERGENCY: 41 tokens is over the emergency limit (40)"),
    (35, 0, "split", "ok", "pass", 0, ""),  # deleted entirely
    (5, 35, "emergency", "warn", "warn", 0, "above the warning limit"),
    (5, 41, "emergency", "blocked", "fail", 1, "1 over the emergency limit (40)"),
    (5, 21, "warning", "blocked", "fail", 1, "1 over the warning limit (20)"),
    (5, 20, "warning", "notice", "pass", 0, "above optimal"),
]


@pytest.mark.parametrize("base, target, fail_on, verdict, status, code, message", VERDICTS)
def test_verdict_rules(repo: Repo, capsys: pytest.CaptureFixture[str], base: int | None, target: int,
                       fail_on: str, verdict: str, status: str, code: int, message: str) -> None:
    repo.write("ctxgate.toml", f'fail_on = "{fail_on}"\n' + SMALL + TWO)
    repo.write("b/one.txt", words(3))
    if base is not None:
        repo.write("a/one.txt", words(base))
    repo.commit("base")
    if target:
        # Another word: the file changes even when its size does not.
        repo.write("a/one.txt", words(target, "y"))
    else:
        repo.git("rm", "-q", "a/one.txt")
    repo.add()

    got, doc, _ = check(capsys)

    a = comps(doc)["a"]
    assert (got, doc["status"], a["verdict"], a["judged"]) == (code, status, verdict, True)
    assert (a["base_footprint"], a["footprint"], a["delta"]) == (base or 0, target, target - (base or 0))
    assert message in a["message"]
    assert not comps(doc)["b"]["judged"]


def test_blocked_text_says_what_to_do(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("a/one.txt", words(45))
    two.add()
    code, out, _ = run(capsys, "check")
    assert code == 1
    lines = out.splitlines()
    assert re.match(r"ctxgate check: staged index vs base [0-9a-f]{12} \(o200k_base\)$", lines[0])
    assert re.search(r"^a\s+5\s+→\s+45\s+\+40\s+emergency\s+split 30\s+blocked$", out, re.M)
    assert "EMERGENCY: a: 45 tokens is over the emergency limit (40); stop and split before any work" in out
    assert "`ctxgate split-plan a`" in out
    assert 'limits = { split = 45, emergency = 47 }' in out and "reason = " in out
    assert lines[-1] == "status: fail"
    assert "\033[" not in out


@pytest.mark.parametrize("args, env, colored", [
    ((), {}, False),
    (("--color", "always"), {}, True),
    (("--color", "never"), {}, False),
    (("--color", "auto"), {"NO_COLOR": "1"}, False),
])
def test_colour_only_when_asked_or_on_a_terminal(two: Repo, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                                                 env: dict[str, str], colored: bool) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    two.write("a/one.txt", words(35))
    two.add()
    _, out, _ = run(capsys, "check", *args)
    assert ("\033[" in out) == colored


def test_quiet_prints_nothing_when_it_passes(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("a/one.txt", words(6))
    two.add()
    assert run(capsys, "check", "-q") == (0, "", "")
    two.write("a/one.txt", words(31))
    two.add()
    code, out, _ = run(capsys, "check", "-q")
    assert code == 1 and "BLOCKED: a" in out


def test_only_touched_components_are_judged(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("b/one.txt", words(7))
    two.add()
    _, doc, _ = check(capsys)
    assert judged(doc) == {"b"}
    assert doc["base"]["commit"] == two.head()


def test_a_rename_across_components_touches_both(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.git("mv", "a/one.txt", "b/moved.txt")
    _, doc, _ = check(capsys)
    assert judged(doc) == {"a", "b"}
    assert (comps(doc)["a"]["delta"], comps(doc)["b"]["delta"]) == (-5, 5)


def test_a_deletion_touches_its_component(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("b/two.txt", words(4))
    two.commit("more")
    two.git("rm", "-q", "b/two.txt")
    _, doc, _ = check(capsys)
    assert judged(doc) == {"b"}
    assert comps(doc)["b"]["delta"] == -4


@pytest.mark.parametrize("context, changed, expected", [
    ('context = ["CLAUDE.md"]\n', "CLAUDE.md", {"a", "b"}),
    ("", "docs/a.md", {"a"}),
])
def test_a_context_file_change_touches_every_component_listing_it(
        repo: Repo, capsys: pytest.CaptureFixture[str], context: str, changed: str, expected: set[str]) -> None:
    repo.write("ctxgate.toml", context + SMALL + TWO.replace('paths = ["a/"]', 'paths = ["a/"]\ncontext = ["docs/a.md"]'))
    repo.write("a/one.txt", words(5))
    repo.write("b/one.txt", words(5))
    repo.write("CLAUDE.md", words(2))
    repo.write("docs/a.md", words(3))
    repo.commit("base")
    repo.write(changed, words(4))
    repo.add()
    _, doc, _ = check(capsys)
    assert judged(doc) == expected
    for name in expected:
        assert comps(doc)[name]["delta"] == 4 - (2 if changed == "CLAUDE.md" else 3)


def test_paths_restrict_the_scope(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("a/one.txt", words(31))
    two.add()
    code, doc, _ = check(capsys, "b/one.txt")
    assert (code, judged(doc)) == (0, {"b"})
    code, doc, _ = check(capsys, "a")  # a directory stands for the files under it
    assert (code, judged(doc)) == (1, {"a"})


@pytest.mark.parametrize("args, note", [((), True), (("--all",), False)])
def test_no_change_or_all_audits_every_component(two: Repo, capsys: pytest.CaptureFixture[str],
                                                  args: tuple[str, ...], note: bool) -> None:
    two.write("a/one.txt", words(31))
    two.commit("over the limit, committed without the hook")
    if args:
        two.write("b/one.txt", words(6))
        two.add()
    code, out, _ = run(capsys, "check", *args)
    assert code == 1  # an audit blocks an over-limit component too
    assert ("note: no change to compare: auditing every component" in out) == note
    _, doc, _ = check(capsys, *args)
    assert judged(doc) == {"a", "b"}


def test_an_untouched_over_limit_component_gets_a_reminder_and_does_not_block(
        two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("a/one.txt", words(31))
    two.commit("over")
    two.write("b/one.txt", words(6))
    two.add()
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "reminder: a is over its split limit (31 tokens); not touched by this change" in out


def test_the_first_commit_compares_with_the_empty_tree(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", SMALL + TWO)
    repo.write("a/one.txt", words(31))
    repo.write("b/one.txt", words(5))
    repo.add()
    code, doc, _ = check(capsys)
    assert code == 1 and doc["base"] is None
    assert {n: (c["base_footprint"], c["delta"], c["verdict"]) for n, c in comps(doc).items()} == {
        "a": (0, 31, "blocked"), "b": (0, 5, "ok")}
    _, out, _ = run(capsys, "check")
    assert "note: no earlier commit: compared with the empty tree" in out


def test_rev_alone_compares_with_its_first_parent(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    first = two.head()
    two.write("a/one.txt", words(12))
    two.commit("grow a")
    two.write("b/one.txt", words(9))
    second = two.commit("grow b")
    _, doc, _ = check(capsys, "--rev", "HEAD~1")
    assert doc["base"]["commit"] == first and doc["target"]["commit"] != second
    assert judged(doc) == {"a"} and comps(doc)["a"]["delta"] == 7
    _, doc, _ = check(capsys, "--rev", first)  # the root commit: the empty tree
    assert doc["base"] is None and comps(doc)["a"]["delta"] == 5


def test_rev_with_base_compares_with_the_merge_base(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    fork = two.head()
    two.git("checkout", "-q", "-b", "feature")
    two.write("a/one.txt", words(25))
    two.commit("feature grows a")
    two.git("checkout", "-q", "main")
    two.write("b/one.txt", words(25))
    two.commit("main grows b")
    _, doc, _ = check(capsys, "--rev", "feature", "--base", "main")
    assert doc["base"]["commit"] == fork
    assert judged(doc) == {"a"}
    assert (comps(doc)["a"]["delta"], comps(doc)["b"]["footprint"]) == (20, 5)


def test_pre_push_checks_the_pushed_range(two: Repo, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    start = two.head()
    two.write("a/one.txt", words(31))
    tip = two.commit("over")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", start)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", tip)
    code, doc, _ = check(capsys)
    assert code == 1 and doc["target"]["commit"] == tip and doc["base"]["commit"] == start


@pytest.mark.parametrize("policy, code, listed", [("ignore", 0, False), ("warn", 0, True), ("error", 1, True)])
def test_unowned_policy(two: Repo, capsys: pytest.CaptureFixture[str], policy: str, code: int,
                        listed: bool) -> None:
    two.write("ctxgate.toml", f'unowned = "{policy}"\n' + SMALL + TWO)
    two.commit("policy")
    two.write("loose.txt", words(3))
    two.add()
    got, out, _ = run(capsys, "check")
    assert got == code
    assert ("files owned by no component: loose.txt" in out) == listed


def test_deleting_an_unowned_file_does_not_block(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("ctxgate.toml", 'unowned = "error"\n' + SMALL + TWO)
    two.write("loose.txt", words(3))
    two.commit("loose file")
    two.git("rm", "-q", "loose.txt")
    assert run(capsys, "check")[0] == 0


def test_worktree_target_sees_unstaged_and_untracked_files(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("b/new.txt", words(30))
    _, doc, _ = check(capsys, "--worktree")
    assert judged(doc) == {"b"} and comps(doc)["b"]["verdict"] == "blocked"
    _, doc, _ = check(capsys)  # nothing staged: an audit of the index
    assert comps(doc)["b"]["footprint"] == 5


def test_markdown_format(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.write("a/one.txt", words(6))
    two.add()
    code, out, _ = run(capsys, "check", "--format", "markdown")
    assert code == 0 and out.startswith("#") and "| a |" in out


@pytest.mark.parametrize("args, message", [
    (("--rev", "nope"), "'nope' is not a commit in this repository"),
    (("--rev", "HEAD", "--base", "nope"), "'nope' is not a commit in this repository"),
])
def test_errors_exit_2_with_one_line(two: Repo, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                     message: str) -> None:
    code, out, err = run(capsys, "check", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


# --- the incremental path (cache, summaries) must agree with measuring in full ---


CONFIG = '''\
context = ["CLAUDE.md"]
tests = ["**/tests/**"]
exclude = ["**/*.lock"]
unowned = "warn"
[limits]
optimal = 50
warning = 100
split = 150
emergency = 200
[[component]]
each = "comps/*"
[[component]]
name = "shared"
paths = ["lib/", "comps/alpha/vendor/"]
context = ["docs/shared.md"]
'''


def both(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    fast = run(capsys, "check", "--format", "json", *args)
    full = run(capsys, "check", "--format", "json", "--no-cache", *args)
    assert fast[:2] == full[:2]


def test_incremental_results_equal_full_measurement(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(5)
    repo.write("ctxgate.toml", CONFIG)
    repo.write("CLAUDE.md", words(5))
    repo.write("docs/shared.md", words(7))
    names = ["alpha", "beta", "gamma"]
    for n in names:
        for i in range(3):
            repo.write(f"comps/{n}/f{i}.py", words(rng.randint(1, 30)))
        repo.write(f"comps/{n}/tests/t.py", words(5))
    repo.write("lib/x.py", words(10))
    repo.write("comps/alpha/vendor/v.py", words(4))
    repo.write("comps/beta/x.lock", words(9))
    repo.write("comps/gamma/bin.dat", b"\0\1\2" * 10)
    (repo.path / "comps/alpha/link.py").symlink_to("f0.py")
    repo.commit("init")
    both(capsys)
    steps = [
        lambda: repo.write("comps/beta/f1.py", words(60)),
        lambda: repo.git("mv", "comps/alpha/f2.py", "comps/gamma/moved.py"),
        lambda: repo.write("comps/delta/new.py", words(20)),  # a new component
        lambda: repo.write("CLAUDE.md", words(9)),  # context of every component
        lambda: repo.git("rm", "-q", "-r", "comps/delta"),  # a component goes away
        lambda: repo.write("docs/shared.md", words(2)),
        lambda: repo.write("loose/u.txt", words(3)),  # unowned
        lambda: repo.write(".gitattributes", "comps/beta/** linguist-generated\n"),
        lambda: repo.write("comps/delta/back.py", words(11)),  # back again, context unchanged
        lambda: repo.write("ctxgate.toml", "count_tests = true\n" + CONFIG),
    ]
    for i, step in enumerate(steps):
        step()
        repo.add()
        both(capsys)
        both(capsys, "--all")
        repo.commit(f"step {i}")
        both(capsys, "--rev", "HEAD")
        if i >= 2:
            both(capsys, "--rev", "HEAD", "--base", "HEAD~2")


def test_a_path_argument_for_a_directory_deleted_entirely(two: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    two.git("rm", "-q", "-r", "b")
    code, doc, _ = check(capsys, "b")
    assert (code, judged(doc)) == (0, {"b"})
    assert comps(doc)["b"]["delta"] == -5
