"""init: components from workspace manifests, printed or written, never overwriting."""
from __future__ import annotations

import json
import textwrap
import tomllib
from typing import Any

import pytest

from conftest import Repo, run
from ctxgate.discover import go_work_uses, pnpm_packages


def components(out: str) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = tomllib.loads(out)["component"]
    return tables


def init(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run(capsys, "init", *args)
    assert (code, err) == (0, "")
    return out


def files(repo: Repo, *paths: str) -> None:
    for p in paths:
        repo.write(p, "x = 1\n")


@pytest.mark.parametrize("manifests, members, expected", [
    # Cargo: globs, literal members, exclude; members need a Cargo.toml
    ({"Cargo.toml": '[workspace]\nmembers = ["rs/*", "tools/cli"]\nexclude = ["rs/old"]\n'},
     ["rs/a/Cargo.toml", "rs/b/Cargo.toml", "rs/old/Cargo.toml", "rs/docs/README.md",
      "tools/cli/Cargo.toml", "tools/other/Cargo.toml"],
     [{"name": "a", "paths": ["/rs/a/"]}, {"name": "b", "paths": ["/rs/b/"]},
      {"name": "cli", "paths": ["/tools/cli/"]}]),
    # crates/* are components whatever the manifest says
    ({"Cargo.toml": '[workspace]\nmembers = ["crates/a"]\n'},
     ["crates/a/Cargo.toml", "crates/b/src/lib.rs"],
     [{"each": "crates/*"}]),
    # npm/yarn: a plain list, with a negation
    ({"package.json": json.dumps({"workspaces": ["apps/*", "!apps/legacy"]})},
     ["apps/web/package.json", "apps/api/package.json", "apps/legacy/package.json"],
     [{"name": "api", "paths": ["/apps/api/"]}, {"name": "web", "paths": ["/apps/web/"]}]),
    # yarn: {packages: [...]}; every subdirectory is a member, so `each`
    ({"package.json": json.dumps({"workspaces": {"packages": ["libs/*"]}})},
     ["libs/one/package.json", "libs/two/package.json"],
     [{"each": "libs/*"}]),
    # pnpm
    ({"pnpm-workspace.yaml": "packages:\n  - 'web/*'   # apps\n  - \"!web/skip\"\n"},
     ["web/a/package.json", "web/skip/package.json"],
     [{"name": "a", "paths": ["/web/a/"]}]),
    # uv
    ({"pyproject.toml": '[project]\nname = "root"\n[tool.uv.workspace]\nmembers = ["py/*"]\nexclude = ["py/x"]\n'},
     ["py/core/pyproject.toml", "py/x/pyproject.toml", "py/core/src/core/__init__.py"],
     [{"name": "core", "paths": ["/py/core/"]}]),
    # go.work
    ({"go.work": "go 1.22\n\nuse (\n\t./svc/auth // the auth service\n\t./svc/billing\n)\nuse ./lib\nuse .\n"},
     ["svc/auth/go.mod", "svc/billing/go.mod", "lib/go.mod", "go.mod"],
     [{"name": "lib", "paths": ["/lib/"]}, {"each": "svc/*"}]),
    # plain directories
    ({}, ["components/dns/a.py", "packages/ui/b.ts", "crates/core/c.rs", "docs/x.md"],
     [{"each": "components/*"}, {"each": "crates/*"}, {"each": "packages/*"}]),
    # the same basename twice: names from the parent too
    ({"package.json": json.dumps({"workspaces": ["apps/*", "packages/*"]})},
     ["apps/web/package.json", "packages/web/package.json", "packages/ui/package.json"],
     [{"name": "apps-web", "paths": ["/apps/web/"]}, {"name": "ui", "paths": ["/packages/ui/"]},
      {"name": "packages-web", "paths": ["/packages/web/"]}]),
    # a top-level member keeps its plain name; a taken longer name gets a number
    ({"package.json": json.dumps({"workspaces": ["web", "apps/*", "site/*"]})},
     ["web/package.json", "apps/web/package.json", "site/apps/web/package.json", "site/apps-web/package.json"],
     [{"name": "web", "paths": ["/web/"]}, {"name": "apps-web-2", "paths": ["/apps/web/"]},
      {"name": "apps-web", "paths": ["/site/apps-web/"]}]),
    # `**` reaches nested packages; wildcards skip hidden directories
    ({"package.json": json.dumps({"workspaces": ["libs/**"]})},
     ["libs/a/package.json", "libs/group/b/package.json", "libs/.cache/package.json", "libs/group/notes.md"],
     [{"name": "a", "paths": ["/libs/a/"]}, {"name": "b", "paths": ["/libs/group/b/"]}]),
    # a member nested in another comes later, so it wins its files
    ({"Cargo.toml": '[workspace]\nmembers = ["engine", "engine/macros"]\n'},
     ["engine/Cargo.toml", "engine/macros/Cargo.toml"],
     [{"name": "engine", "paths": ["/engine/"]}, {"name": "macros", "paths": ["/engine/macros/"]}]),
    # nothing found: one component per top-level directory
    ({}, ["src/a.py", "docs/b.md"], [{"each": "*"}]),
])
def test_discovery(repo: Repo, capsys: pytest.CaptureFixture[str], manifests: dict[str, str],
                   members: list[str], expected: list[dict[str, Any]]) -> None:
    for path, text in manifests.items():
        repo.write(path, text)
    files(repo, *members)
    out = init(capsys)
    assert components(out) == expected


def test_full_output_and_footprints(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("Cargo.toml", '[workspace]\nmembers = ["crates/*", "tools/gen"]\n')
    repo.write("Cargo.lock", "word " * 5000)
    repo.write("crates/a/Cargo.toml", "word " * 9)
    repo.write("crates/a/src/lib.rs", "word " * 1990)
    repo.write("crates/b/Cargo.toml", "word " * 99)
    repo.write("tools/gen/Cargo.toml", "word " * 19)
    repo.write("tools/gen/Cargo.lock", "word " * 700)
    repo.commit()
    out = init(capsys)
    assert out == textwrap.dedent("""\
        # ctxgate.toml drafted by `ctxgate init` from: Cargo workspace members (Cargo.toml), crates/*.
        # Footprints in comments are the work tree's, in o200k_base tokens. Limits are the defaults;
        # raise one per component only with a reason (limits = { split = 150_000 }, reason = "...").
        encoding = "o200k_base"
        fail_on = "split"
        exclude = [
            "**/*.lock",
            "**/package-lock.json",
            "**/pnpm-lock.yaml",
            "**/go.sum",
        ]

        # [limits]
        # optimal = 80_000
        # warning = 100_000
        # split = 120_000
        # emergency = 140_000

        # Cargo workspace members (Cargo.toml), crates/*
        #   a: 2,001 tokens (green)
        #   b: 100 tokens (green)
        [[component]]
        each = "crates/*"

        # gen: 20 tokens (green); Cargo workspace members (Cargo.toml)
        [[component]]
        name = "gen"
        paths = ["/tools/gen/"]
        """)
    # Written, the config measures what its comments say.
    code, written, _ = run(capsys, "init", "--write")
    assert code == 0
    assert written.startswith(f"ctxgate: wrote {repo.path / 'ctxgate.toml'} with 3 components")
    assert (repo.path / "ctxgate.toml").read_text() == out
    code, report, _ = run(capsys, "report", "--format", "json")
    assert {c["name"]: c["footprint"] for c in json.loads(report)["components"]} == {"a": 2001, "b": 100, "gen": 20}


@pytest.mark.parametrize("existing", [
    ("ctxgate.toml", "# mine\n"),
    (".ctxgate.toml", "# mine\n"),
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.ctxgate]\nfail_on = "emergency"\n'),
])
def test_write_never_overwrites(repo: Repo, capsys: pytest.CaptureFixture[str], existing: tuple[str, str]) -> None:
    files(repo, "packages/a/x.py")
    path, text = existing
    repo.write(path, text)
    code, out, err = run(capsys, "init", "--write")
    assert (code, out) == (2, "")
    assert "already exists and init never overwrites a config" in err
    assert (repo.path / path).read_text() == text
    assert path == "ctxgate.toml" or not (repo.path / "ctxgate.toml").exists()


def test_pyproject_without_ctxgate_table_does_not_block_write(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("pyproject.toml", '[project]\nname = "x"\n')
    files(repo, "packages/a/x.py")
    code, _, _ = run(capsys, "init", "--write")
    assert code == 0
    assert components((repo.path / "ctxgate.toml").read_text()) == [{"each": "packages/*"}]


def test_reads_only_files_git_would_measure(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".gitignore", "Cargo.toml\nbuild/\n")
    repo.write("Cargo.toml", '[workspace]\nmembers = ["rs/*"]\n')
    files(repo, "rs/a/Cargo.toml", "build/packages/x.py")
    repo.write("package.json", json.dumps({"workspaces": ["js/*"]}))  # untracked, not ignored
    files(repo, "js/app/package.json", "js/lib/README.md")
    assert components(init(capsys)) == [{"name": "app", "paths": ["/js/app/"]}]


def test_bad_manifests_warn_and_are_skipped(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("package.json", "{not json")
    repo.write("Cargo.toml", "[workspace\n")
    files(repo, "packages/a/x.py")
    code, out, err = run(capsys, "init")
    assert code == 0
    assert "ctxgate: warning: package.json: invalid JSON" in err
    assert "ctxgate: warning: Cargo.toml: invalid TOML" in err
    assert components(out) == [{"each": "packages/*"}]


def test_no_directories_is_an_error(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write("README.md", "hello\n")
    code, out, err = run(capsys, "init")
    assert (code, out) == (2, "")
    assert "found no directory with files to make a component of" in err


@pytest.mark.parametrize("text, expected", [
    ("packages:\n  - 'a/*'\n  - \"b/**\"\n  - c\n", ["a/*", "b/**", "c"]),
    ("# top\npackages:\n\n  # apps\n  - apps/*  # all apps\n  - '!apps/x'\ncatalog:\n  - nope\n",
     ["apps/*", "!apps/x"]),
    ("packages: ['a/*', \"b\"]\n", ["a/*", "b"]),
    ("packages:\n- a\n- b\nonlyBuiltDependencies:\n  - esbuild\n", ["a", "b"]),
    ("catalog:\n  x: 1\n", []),
])
def test_pnpm_packages(text: str, expected: list[str]) -> None:
    assert pnpm_packages(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("go 1.22\nuse ./a\n", ["./a"]),
    ("use (\n  ./a\n  \"./b c\"\n  // ./gone\n)\nuse ./d // trailing\n", ["./a", "./b c", "./d"]),
    ("go 1.22\n", []),
])
def test_go_work_uses(text: str, expected: list[str]) -> None:
    assert go_work_uses(text) == expected
