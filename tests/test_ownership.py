"""Ownership: gitignore patterns, the CODEOWNERS rule, negation, and how `explain` reports it."""
from __future__ import annotations

import textwrap

import pytest

from conftest import Repo, run
from ctxgate import config, encodings
from ctxgate.ownership import Component, Matcher, Owners, dir_pattern, directories, glob_dirs, resolve

CONFIG = textwrap.dedent('''\
    [[component]]
    name = "core"
    paths = ["src/"]

    [[component]]
    name = "net"
    paths = ["src/net/", "!src/net/legacy.py", "proto/**/*.proto"]

    [[component]]
    name = "docs"
    paths = ["*.md", "!CHANGELOG.md"]

    [[component]]
    name = "tools"
    paths = ["src/net/tools/", "/scripts/", "!CHANGELOG.md"]
''')

FILES = [
    "src/main.py", "src/deep/er/still.py", "src/net/http.py", "src/net/legacy.py", "src/net/README.md",
    "src/net/tools/run.py", "README.md", "CHANGELOG.md", "proto/a/b/x.proto", "proto/x.txt",
    "scripts/go.sh", "lib/scripts/other.sh", "other/x.py",
]

OWNERSHIP = [
    # (path, owner, deciding pattern)
    ("src/main.py", "core", "src/"),
    ("src/deep/er/still.py", "core", "src/"),
    ("src/net/http.py", "net", "src/net/"),
    ("src/net/legacy.py", "core", "src/"),  # negated in net: falls back to the earlier claim
    ("src/net/README.md", "docs", "*.md"),  # docs comes later than net
    ("src/net/tools/run.py", "tools", "src/net/tools/"),
    ("README.md", "docs", "*.md"),
    ("CHANGELOG.md", None, "!CHANGELOG.md"),  # negated, nobody else claims it
    ("proto/a/b/x.proto", "net", "proto/**/*.proto"),
    ("proto/x.txt", None, None),
    ("scripts/go.sh", "tools", "/scripts/"),
    ("lib/scripts/other.sh", None, None),  # anchored pattern
    ("other/x.py", None, None),
]


@pytest.fixture(scope="module")
def owners() -> Owners:
    cfg = config.parse(CONFIG, "ctxgate.toml")
    assert cfg is not None
    return Owners(resolve(cfg, FILES))


@pytest.mark.parametrize(("path", "owner", "pattern"), OWNERSHIP)
def test_last_matching_component_wins(owners: Owners, path: str, owner: str | None, pattern: str | None) -> None:
    d = owners.decide(path)
    assert (d.component, d.pattern) == (owner, pattern)
    assert owners.decide(path) is d  # memoised


def test_origins(owners: Owners) -> None:
    assert owners.decide("src/net/http.py").origin == "component 'net' (ctxgate.toml:5)"
    assert owners.decide("CHANGELOG.md").origin == "component 'tools' (ctxgate.toml:13)"
    assert owners.decide("other/x.py").origin is None


def test_order_decides_not_specificity() -> None:
    text = '[[component]]\nname = "inner"\npaths = ["src/net/"]\n[[component]]\nname = "outer"\npaths = ["src/"]\n'
    cfg = config.parse(text, "ctxgate.toml")
    assert cfg is not None
    o = Owners(resolve(cfg, ["src/net/a.py"]))
    assert o.decide("src/net/a.py").component == "outer"


@pytest.mark.parametrize(("directory", "pattern"), [
    ("plain", "/plain/"),
    ("a b/c", "/a b/c/"),
    ("star*", "/star\\*/"),
    ("[x]?", "/\\[x]\\?/"),
    ("trailing ", "/trailing\\ /"),
    ("back\\slash", "/back\\\\slash/"),
    ("!bang", "/!bang/"),
    ("#hash", "/#hash/"),
])
def test_dir_pattern_is_literal(directory: str, pattern: str) -> None:
    assert dir_pattern(directory) == pattern
    owners = Owners([Component(directory, (pattern,), "test", config.Limits(1, 2, 3, 4))])
    assert owners.decide(f"{directory}/f.py").component == directory
    assert owners.decide(f"{directory}x/f.py").component is None
    assert owners.decide("other/f.py").component is None


def test_directories_and_globs() -> None:
    dirs = directories(["a/b/c.py", "a/d.py", "top.py", "x y/é/z.md"])
    assert dirs == {"a", "a/b", "x y", "x y/é"}
    assert glob_dirs("a/*", dirs) == ["a/b"]
    assert glob_dirs("/x y/*/", dirs) == ["x y/é"]
    assert glob_dirs("*", dirs) == ["a", "x y"]
    assert glob_dirs("nothing/*", dirs) == []


def test_matcher() -> None:
    m = Matcher(["CLAUDE.md", "!docs/CLAUDE.md", "docs/*.md"], anchored=True)
    assert m.patterns == ("/CLAUDE.md", "!/docs/CLAUDE.md", "/docs/*.md")
    assert m.match("CLAUDE.md") == "/CLAUDE.md"
    assert m.match("sub/CLAUDE.md") is None
    assert m.match("docs/a.md") == "/docs/*.md"
    assert Matcher([]).match("x") is None
    neg = Matcher(["*.lock", "!keep.lock"])
    assert neg.match("a/b.lock") == "*.lock"
    assert neg.match("keep.lock") is None
    assert neg.match("keep.lock") is None  # memoised


def test_explain_names_entry_and_pattern(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", CONFIG)
    for path in FILES:
        repo.write(path, f"content of {path}\n")
    code, out, err = run(capsys, "explain", "src/net/legacy.py", "src/net/http.py", "CHANGELOG.md", "other/x.py")
    assert code == 0, err
    blocks = out.split("\n" + "src/net/http.py")
    assert "component: core" in blocks[0]
    assert "decided by: pattern 'src/' of component 'core' (ctxgate.toml:1)" in blocks[0]
    assert "decided by: pattern 'src/net/' of component 'net' (ctxgate.toml:5)" in blocks[1]
    assert ("component: none (unowned: pattern '!CHANGELOG.md' of component 'tools' (ctxgate.toml:13) "
            "takes it out, and no earlier component claims it)") in out
    n = len(encodings.load("o200k_base").encode_ordinary("content of other/x.py\n"))
    assert out.endswith("other/x.py\n  component: none (unowned: no component pattern matches)\n"
                        f"  test file: no\n  tokens: {n} (o200k_base)\n  lines: 1\n")


def test_explain_each_origin(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("ctxgate.toml", '\n[[component]]\neach = "packages/*"\n')
    repo.write("packages/web/deep/x.ts", "export const x = 1;\n")
    code, out, _ = run(capsys, "explain", "packages/web/deep/x.ts")
    assert code == 0
    assert "component: web" in out
    assert "decided by: pattern '/packages/web/' of each = 'packages/*' (ctxgate.toml:2)" in out
