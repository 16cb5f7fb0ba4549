"""Configuration: where it is read from, what it means, and every error it can raise."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, run
from ctxgate import config
from ctxgate.errors import FatalError


def report(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, "report", "--format", "json", *args)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def names(doc: dict[str, Any]) -> list[str]:
    return [c["name"] for c in doc["components"]]


def comps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in doc["components"]}


def named(name: str) -> str:
    """A config whose only component's name tells which file was read."""
    return f'[[component]]\nname = "{name}"\npaths = ["a/"]\n'


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ctxgate: error: ")
    return lines[0][len("ctxgate: error: "):]


@pytest.fixture
def base(repo: Repo) -> Repo:
    repo.write("a/x.py", "print('a')\n")
    repo.write("b/y.py", "print('b')\n")
    repo.write("components/alpha/one.py", "alpha = 1\n")
    repo.write("components/beta/sub/two.py", "beta = 2\n")
    repo.write("shared/alpha/extra.py", "extra = 3\n")
    return repo


# --- where the config comes from -------------------------------------------------------------

PYPROJECT = '[project]\nname = "demo"\n\n[tool.ctxgate]\nencoding = "o200k_base"\n\n' \
            '[[tool.ctxgate.component]]\nname = "from_pyproject"\npaths = ["a/"]\n'
PYPROJECT_WITHOUT_TABLE = '[project]\nname = "demo"\n\n[tool.black]\nline-length = 100\n'


@pytest.mark.parametrize(("files", "expected"), [
    ({"ctxgate.toml": named("plain"), ".ctxgate.toml": named("dot"), "pyproject.toml": PYPROJECT}, "plain"),
    ({".ctxgate.toml": named("dot"), "pyproject.toml": PYPROJECT}, "dot"),
    ({"pyproject.toml": PYPROJECT}, "from_pyproject"),
    ({"pyproject.toml": PYPROJECT_WITHOUT_TABLE, ".ctxgate.toml": named("dot")}, "dot"),
    ({"pyproject.toml": PYPROJECT_WITHOUT_TABLE}, None),
    ({}, None),
])
def test_lookup_order(base: Repo, capsys: pytest.CaptureFixture[str], files: dict[str, str],
                      expected: str | None) -> None:
    for name, text in files.items():
        base.write(name, text)
    code, out, err = run(capsys, "report", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    if expected is None:
        assert names(doc) == ["a", "b", "components", "shared"]
        assert "no ctxgate.toml" in err and "ctxgate init" in err
    else:
        assert names(doc) == [expected]
        assert err == ""


def test_explicit_config_beats_the_repository(base: Repo, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    base.write("ctxgate.toml", named("plain"))
    other = tmp_path / "elsewhere.toml"
    other.write_text(named("explicit"))
    assert names(report(capsys, "--config", str(other))) == ["explicit"]
    proj = tmp_path / "pyproject.toml"
    proj.write_text(PYPROJECT)
    assert names(report(capsys, "--config", str(proj))) == ["from_pyproject"]
    proj.write_text(PYPROJECT_WITHOUT_TABLE)
    code, _, err = run(capsys, "report", "--config", str(proj))
    assert code == 2 and "has no [tool.ctxgate] table" in one_line_error(err)


def test_config_is_read_from_the_target(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("ctxgate.toml", named("committed"))
    base.commit()
    base.write("ctxgate.toml", named("worktree"))
    assert names(report(capsys, "--rev", "HEAD")) == ["committed"]
    assert names(report(capsys, "--staged")) == ["committed"]
    assert names(report(capsys)) == ["worktree"]
    base.add("ctxgate.toml")
    base.write("ctxgate.toml", named("newer"))
    assert names(report(capsys, "--staged")) == ["worktree"]
    assert names(report(capsys, "--worktree")) == ["newer"]
    assert names(report(capsys, "--rev", "HEAD")) == ["committed"]


def test_untracked_and_deleted_config(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.commit()
    base.write(".ctxgate.toml", named("untracked"))
    assert names(report(capsys)) == ["untracked"]
    assert "committed" not in names(report(capsys, "--staged"))
    assert names(report(capsys, "--staged")) == ["a", "b", "components", "shared"]
    base.write(".gitignore", ".ctxgate.toml\n")
    assert names(report(capsys)) == ["a", "b", "components", "shared"]
    Path(".gitignore").unlink()
    base.commit()
    Path(".ctxgate.toml").unlink()
    assert names(report(capsys, "--rev", "HEAD")) == ["untracked"]
    assert names(report(capsys)) == ["a", "b", "components", "shared"]


# --- what the components are ----------------------------------------------------------------

def test_explicit_paths(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("ctxgate.toml", textwrap.dedent('''
        [[component]]
        name = "net"
        paths = ["a/", "shared/"]
    '''))
    doc = report(capsys, "--files")
    net = comps(doc)["net"]
    assert [f["path"] for f in net["files_detail"]] == ["a/x.py", "shared/alpha/extra.py"]
    assert doc["unowned"]["files"] == 4  # b/y.py, two components/ files, ctxgate.toml


def test_each_discovery_with_metadata(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("ctxgate.toml", textwrap.dedent('''
        [[component]]
        each = "components/*"
        kind = "lib"

        [[component]]
        name = "beta"
        kind = "core"
        level = 1
        estimate = 67_000
        limits = { split = 150_000, emergency = 160_000 }
        reason = "protocol tables"
    '''))
    doc = report(capsys, "--files")
    c = comps(doc)
    assert list(c) == ["alpha", "beta"]
    assert [f["path"] for f in c["beta"]["files_detail"]] == ["components/beta/sub/two.py"]
    assert (c["alpha"]["kind"], c["alpha"]["level"], c["alpha"]["estimate"]) == ("lib", None, None)
    assert (c["beta"]["kind"], c["beta"]["level"], c["beta"]["estimate"]) == ("core", 1, 67_000)
    assert c["beta"]["limits"] == {"optimal": 80_000, "warning": 100_000, "split": 150_000, "emergency": 160_000}
    assert c["alpha"]["limits"] == doc["limits"]


def test_explicit_entry_replaces_a_discovered_directory(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("ctxgate.toml", textwrap.dedent('''
        [[component]]
        each = "components/*"

        [[component]]
        name = "alpha"
        paths = ["components/alpha/", "shared/alpha/"]
    '''))
    c = comps(report(capsys, "--files"))
    assert list(c) == ["beta", "alpha"]
    assert [f["path"] for f in c["alpha"]["files_detail"]] == ["components/alpha/one.py", "shared/alpha/extra.py"]


def test_metadata_for_top_level_directories(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("ctxgate.toml", 'fail_on = "emergency"\n\n[[component]]\nname = "a"\nkind = "core"\n')
    code, out, err = run(capsys, "report", "--format", "json")
    assert code == 0 and err == ""
    c = comps(json.loads(out))
    assert list(c) == ["a", "b", "components", "shared"]
    assert c["a"]["kind"] == "core"


def test_each_entry_limits_apply_to_every_directory(base: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    base.write("ctxgate.toml", textwrap.dedent('''
        [limits]
        optimal = 10
        warning = 20
        split = 30
        emergency = 40

        [[component]]
        each = "components/*"
        limits = { split = 35 }
        reason = "generated tables"

        [[component]]
        name = "alpha"
        limits = { optimal = 5 }
    '''))
    c = comps(report(capsys))
    assert c["alpha"]["limits"] == {"optimal": 5, "warning": 20, "split": 35, "emergency": 40}
    assert c["beta"]["limits"] == {"optimal": 10, "warning": 20, "split": 35, "emergency": 40}


def test_full_config_is_accepted() -> None:
    text = textwrap.dedent('''
        encoding = "cl100k_base"
        fail_on = "emergency"
        exclude = ["**/*.lock"]
        tests = ["**/tests/**"]
        count_tests = true
        context = ["CLAUDE.md"]
        unowned = "warn"
        respect_gitattributes = false
        scale = 2

        [limits]
        optimal = 1_000
        warning = 2_000
        split = 3_000
        emergency = 4_000

        [planning]
        safety_margin = 0
        context_budget = 100_000
        project_budget = 1_000_000
        tokens_per_line = 7.5

        [[component]]
        name = "net"
        paths = ["net/"]
        tests = ["net/check/"]
        exclude = ["net/big.txt"]
        limits = { optimal = 500 }
    ''')
    cfg = config.parse(text, "ctxgate.toml")
    assert cfg is not None
    assert (cfg.encoding, cfg.fail_on, cfg.count_tests, cfg.unowned, cfg.respect_gitattributes) == (
        "cl100k_base", "emergency", True, "warn", False)
    assert cfg.scale == 2.0 and isinstance(cfg.scale, float)
    assert cfg.limits == config.Limits(1_000, 2_000, 3_000, 4_000)
    assert cfg.planning == config.Planning(0, 100_000, 1_000_000, 7.5)
    (net,) = cfg.components
    assert (net.name, net.paths, net.tests, net.exclude, dict(net.limits)) == (
        "net", ("net/",), ("net/check/",), ("net/big.txt",), {"optimal": 500})
    assert net.line == 24


def test_defaults() -> None:
    cfg = config.parse("", "ctxgate.toml")
    assert cfg == config.Config(source="ctxgate.toml")
    assert cfg.limits.as_dict() == config.DEFAULT_LIMITS
    assert cfg.planning == config.Planning(20_000, 180_000, None, 10)
    assert config.parse("[tool.other]\nx = 1\n", "pyproject.toml", pyproject=True) is None
    assert config.parse("tool = 1\n", "pyproject.toml", pyproject=True) is None


# --- errors ---------------------------------------------------------------------------------

COMPONENT = '[[component]]\nname = "a"\npaths = ["a/"]\n'

CONFIG_ERRORS = [
    # (config text, line, message fragment)
    ('encoding = "o200k_base"\n\nx = = 1\n', 3, "invalid TOML"),
    ('scale = 1\nscale = 2\n', 2, "invalid TOML"),
    ('encodng = "o200k_base"\n', 1, "unknown key 'encodng' in the configuration; did you mean 'encoding'?"),
    ('zzzzzz = 1\n', 1, "unknown key 'zzzzzz' in the configuration; valid keys: encoding,"),
    ('[limits]\noptimal = 1\nsplt = 2\n', 3, "unknown key 'splt' in limits; did you mean 'split'?"),
    ('[planning]\nsafety_margn = 3\n', 2, "did you mean 'safety_margin'?"),
    (COMPONENT + 'estmate = 5\n', 4, "unknown key 'estmate' in [[component]]; did you mean 'estimate'?"),
    (COMPONENT + 'limits = { splt = 3 }\n', 4, "did you mean 'split'?"),
    ('fail_on = 3\n', 1, "'fail_on' must be one of 'split', 'emergency', 'warning', got 3"),
    ('fail_on = "never"\n', 1, "'fail_on' must be one of"),
    ('unowned = "maybe"\n', 1, "'unowned' must be one of 'ignore', 'warn', 'error'"),
    ('count_tests = "yes"\n', 1, "'count_tests' must be true or false, got 'yes'"),
    ('respect_gitattributes = 1\n', 1, "'respect_gitattributes' must be true or false"),
    ('scale = 0\n', 1, "'scale' must be a positive number, got 0"),
    ('scale = true\n', 1, "'scale' must be a positive number, got true"),
    ('scale = inf\n', 1, "'scale' must be a positive number, got inf"),
    ('scale = nan\n', 1, "'scale' must be a positive number, got nan"),
    ('[planning]\ncontext_budget = 1.5\n', 2, "'context_budget' must be a positive whole number, got 1.5"),
    ('encoding = 5\n', 1, "'encoding' must be an encoding name"),
    ('\nencoding = "o200k_bass"\n', 2, "unknown encoding 'o200k_bass'; did you mean 'o200k_base'?"),
    ('exclude = "x"\n', 1, "'exclude' must be a list of strings, got 'x'"),
    ('tests = [1]\n', 1, "'tests' must be a list of strings"),
    ('context = [""]\n', 1, "'context' must be a list of strings"),
    ('limits = 3\n', 1, "'limits' must be a table, got 3"),
    ('[limits]\nsplit = "x"\n', 2, "'split' must be a positive whole number of tokens, got 'x'"),
    ('[limits]\nsplit = 0\n', 2, "'split' must be a positive whole number"),
    ('planning = 3\n', 1, "'planning' must be a table"),
    ('[planning]\ntokens_per_line = 0\n', 2, "'tokens_per_line' must be a positive number"),
    ('[planning]\nsafety_margin = -1\n', 2, "'safety_margin' must be a whole number"),
    ('component = 1\n', 1, "'component' must be written as [[component]] tables"),
    ('scale = { a = 1 }\n', 1, "'scale' must be a positive number, got a table"),
    ('\ncomponent = [{ name = "a", paths = "a/" }]\n', 2, "'paths' must be a list of strings"),
    ('[component]\nname = "a"\n', 1, "'component' must be written as [[component]] tables"),
    (COMPONENT + 'level = "1"\n', 4, "'level' must be a whole number, got '1'"),
    (COMPONENT + 'estimate = 1.5\n', 4, "'estimate' must be a whole number"),
    (COMPONENT + 'kind = ""\n', 4, "'kind' must be a non-empty string"),
    ('[[component]]\nname = "a"\npaths = "a/"\n', 3, "'paths' must be a list of strings, got 'a/'"),
    (COMPONENT + 'limits = 5\n', 4, "'limits' must be a table"),
    ('[[component]]\nname = "a/b"\npaths = ["a/"]\n', 1, "a name has no '/'"),
    ('[[component]]\nkind = "x"\n', 1, "needs 'name'"),
    ('[[component]]\neach = "*"\nname = "x"\n', 1, "'each' names components after directories"),
    # non-increasing limits, globally and per component
    ('[limits]\nsplit = 90_000\n', 2, "[limits]: warning (100,000) must be below split (90,000)"),
    ('[limits]\noptimal = 50\nwarning = 40\n', 3, "optimal (50) must be below warning (40)"),
    ('[limits]\nemergency = 120_000\n', 2, "split (120,000) must be below emergency (120,000)"),
    (COMPONENT + 'limits = { optimal = 100_000 }\n', 4,
     "component 'a' limits: optimal (100,000) must be below warning (100,000)"),
    ('\n' + COMPONENT + 'reason = "x"\n[component.limits]\nsplit = 1_000_000\n', 7,
     "split (1,000,000) must be below emergency (140,000)"),
    # a raised limit needs a reason
    (COMPONENT + 'limits = { split = 130_000 }\n', 4,
     "component 'a' raises split above the global limit; add a 'reason'"),
    # duplicate names
    (COMPONENT + COMPONENT, 4, "two [[component]] tables are named 'a'"),
    # discovery problems, found once the file list is known
    ('\n[[component]]\neach = "nothing/*"\n', 2, "each = 'nothing/*' matches no directory"),
    ('[[component]]\nname = "zz"\nkind = "x"\n', 1, "component 'zz' has no 'paths' and no discovered directory"),
    ('[[component]]\neach = "*"\n[[component]]\neach = "components/*"\n[[component]]\neach = "shared/*"\n', 5,
     "two components are named 'alpha'"),
    ('[limits]\noptimal = 10\nwarning = 20\nsplit = 30\nemergency = 40\n'
     '[[component]]\neach = "components/*"\nlimits = { warning = 15, split = 18 }\n'
     '[[component]]\nname = "alpha"\nlimits = { optimal = 16 }\nreason = "r"\n', 9,
     "component 'alpha': its limits (optimal 16, warning 15, split 18, emergency 40) must increase"),
]


@pytest.mark.parametrize(("text", "line", "message"), CONFIG_ERRORS)
def test_config_errors(base: Repo, capsys: pytest.CaptureFixture[str], text: str, line: int, message: str) -> None:
    base.write("ctxgate.toml", text)
    code, out, err = run(capsys, "report")
    assert code == 2 and out == ""
    got = one_line_error(err)
    assert got.startswith(f"ctxgate.toml:{line}: "), got
    assert message in got


@pytest.mark.parametrize(("text", "line", "message"), [
    ('[project]\nname = "x"\n\n[tool.ctxgate]\nname = "y"\n', 5,
     "unknown key 'name' in the configuration"),
    ('[project]\nname = "x"\n\n[tool.ctxgate]\n\n[[tool.ctxgate.component]]\nname = "a"\nestmate = 1\n', 8,
     "did you mean 'estimate'"),
    ('[tool.ctxgate.limits]\nsplit = 1\n', 2, "warning (100,000) must be below split (1)"),
    ('[tool]\nctxgate = 1\n', None, "[tool.ctxgate] must be a table"),
])
def test_pyproject_errors(base: Repo, capsys: pytest.CaptureFixture[str], text: str, line: int | None,
                          message: str) -> None:
    base.write("pyproject.toml", text)
    code, _, err = run(capsys, "report")
    got = one_line_error(err)
    assert code == 2
    assert got.startswith("pyproject.toml:" + (f"{line}: " if line else " ")), got
    assert message in got


def test_not_utf8_config(base: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base.write("ctxgate.toml", b"scale = 1 # \xff\n")
    code, _, err = run(capsys, "report")
    assert code == 2 and "ctxgate.toml: not UTF-8" in one_line_error(err)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff")
    code, _, err = run(capsys, "report", "--config", str(bad))
    assert code == 2 and "not UTF-8" in one_line_error(err)


@pytest.mark.parametrize(("argv", "message"), [
    (("report", "--config", "missing.toml"), "cannot read config missing.toml: No such file or directory"),
    (("report", "--config", "a"), "cannot read config a"),
    (("report", "--rev", "no-such-branch"), "'no-such-branch' is not a commit"),
    (("explain", "a/x.py", "--rev", "HEAD~5"), "'HEAD~5' is not a commit"),
    (("report", "--base", "nope"), "'nope' is not a commit"),
])
def test_usage_errors(base: Repo, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str) -> None:
    base.commit()
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in one_line_error(err)


def test_not_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for argv in (("report",), ("explain", "x")):
        code, _, err = run(capsys, *argv)
        assert code == 2
        assert "is not inside a git" in one_line_error(err)


def test_fatal_error_without_a_line() -> None:
    with pytest.raises(FatalError, match=r"^ctxgate.toml: \[tool.ctxgate\] must be a table$"):
        config.parse("[tool]\nctxgate = [1]\n", "ctxgate.toml", pyproject=True)
