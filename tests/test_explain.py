"""`ctxgate explain`: where a file counts, and why."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from conftest import Repo, run
from ctxgate import encodings


def count(text: str) -> int:
    return len(encodings.load("o200k_base").encode_ordinary(text))


MAIN = "import os\nprint(os.getcwd())\n"


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("ctxgate.toml", textwrap.dedent('''\
        tests = ["**/tests/**"]
        context = ["CLAUDE.md"]
        exclude = ["*.lock"]
        scale = 2

        [[component]]
        each = "pkgs/*"
    '''))
    repo.write("CLAUDE.md", "rules\n")
    repo.write("pkgs/api/main.py", MAIN)
    repo.write("pkgs/api/tests/test_main.py", "def test(): pass\n")
    repo.write("pkgs/api/poetry.lock", "lock\n")
    repo.write("pkgs/web/index.js", "export {}\n")
    return repo


def test_full_description(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "pkgs/api/main.py", "pkgs/api/tests/test_main.py", "CLAUDE.md",
                         "pkgs/api/poetry.lock")
    assert code == 0 and err == ""
    main, test, rules = (count(t) * 2 for t in (MAIN, "def test(): pass\n", "rules\n"))
    assert out == textwrap.dedent(f'''\
        pkgs/api/main.py
          component: api
          decided by: pattern '/pkgs/api/' of each = 'pkgs/*' (ctxgate.toml:6)
          test file: no
          tokens: {main:,} (o200k_base, scale 2)
          lines: 2
        pkgs/api/tests/test_main.py
          component: api
          decided by: pattern '/pkgs/api/' of each = 'pkgs/*' (ctxgate.toml:6)
          test file: yes
          tokens: {test:,} (o200k_base, scale 2)
          lines: 1
        CLAUDE.md
          component: none (unowned: no component pattern matches)
          test file: no
          context file of: api, web
          tokens: {rules:,} (o200k_base, scale 2)
          lines: 1
        pkgs/api/poetry.lock
          component: api
          decided by: pattern '/pkgs/api/' of each = 'pkgs/*' (ctxgate.toml:6)
          excluded: matches exclude pattern '*.lock' (counted as 'excluded' in skipped)
    ''')


def test_paths_relative_to_the_current_directory(project: Repo, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(project.path / "pkgs" / "api")
    code, out, _ = run(capsys, "explain", "main.py", "../web/index.js", str(project.path / "CLAUDE.md"))
    assert code == 0
    assert [line for line in out.splitlines() if not line.startswith(" ")] == [
        "pkgs/api/main.py", "pkgs/web/index.js", "CLAUDE.md"]
    # the repository reached through a symlinked directory
    link = tmp_path / "link"
    os.symlink(project.path, link)
    monkeypatch.chdir(link)
    code, out, err = run(capsys, "explain", "pkgs/web/index.js", str(link / "CLAUDE.md"))
    assert code == 0, err
    assert out.startswith("pkgs/web/index.js\n  component: web\n")


@pytest.mark.parametrize(("args", "message"), [
    (("nope.py",), "nope.py is not a file in the work tree; ctxgate only measures files git tracks"),
    (("pkgs",), "pkgs is not a file in the work tree"),
    ((".",), ". is not a file in the work tree"),
    (("../outside.py",), "../outside.py is outside the repository"),
    (("/",), "/ is outside the repository"),
    (("pkgs/web/index.js", "--staged"), "pkgs/web/index.js is not a file in the staged index"),
])
def test_errors(project: Repo, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str) -> None:
    code, out, err = run(capsys, "explain", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_targets(project: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    project.commit()
    project.write("pkgs/web/index.js", "export const a = 1;\nexport const b = 2;\n")
    code, out, _ = run(capsys, "explain", "pkgs/web/index.js", "--rev", "HEAD")
    assert code == 0 and "lines: 1" in out
    code, out, _ = run(capsys, "explain", "pkgs/web/index.js")
    assert code == 0 and "lines: 2" in out
    code, out, _ = run(capsys, "explain", "pkgs/web/index.js", "--staged")
    assert code == 0 and "lines: 1" in out
    code, out, err = run(capsys, "explain", "pkgs/web/index.js", "--rev", "HEAD", "--no-cache")
    assert code == 0 and "lines: 1" in out


def test_output_file(project: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dest = tmp_path / "explain.txt"
    code, out, _ = run(capsys, "explain", "CLAUDE.md", "--output", str(dest))
    assert (code, out) == (0, "")
    assert dest.read_text().startswith("CLAUDE.md\n  component: none")
