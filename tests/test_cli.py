"""The command line as a whole: entry points, options shared by commands, exit codes."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, run
from ctxgate import __version__, budget
from ctxgate.cli import build_parser
from ctxgate.commands import report_cmd
from ctxgate.errors import FatalError


def python_m(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run((sys.executable, "-m", "ctxgate", *args), cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert (code, out, err) == (0, f"ctxgate {__version__}\n", "")


@pytest.mark.parametrize(("argv", "fragment"), [
    ((), "the following arguments are required: COMMAND"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    (("report", "--format", "xml"), "invalid choice: 'xml'"),
    (("report", "--staged", "--rev", "HEAD"), "not allowed with argument"),
    (("report", "--color", "sometimes"), "invalid choice: 'sometimes'"),
    (("explain",), "the following arguments are required: PATH"),
])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert fragment in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0
    for option in ("--config", "--format", "--output", "--no-cache", "--color", "--quiet", "--verbose",
                   "--staged", "--worktree", "--rev", "--base", "--files"):
        assert option in out


def test_python_m(repo: Repo) -> None:
    repo.write("a/x.py", "print('hi')\n")
    proc = python_m("--version", cwd=repo.path)
    assert (proc.returncode, proc.stdout) == (0, f"ctxgate {__version__}\n")
    proc = python_m("report", "--format", "json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert [c["name"] for c in json.loads(proc.stdout)["components"]] == ["a"]
    proc = python_m("report", "--rev", "nope", cwd=repo.path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_no_color_environment(repo: Repo) -> None:
    repo.write("a/x.py", "print('hi')\n")
    proc = python_m("report", "--color", "always", cwd=repo.path)
    assert "\033[32m" in proc.stdout
    proc = python_m("report", cwd=repo.path, env={"NO_COLOR": "1"})
    assert proc.returncode == 0 and "\033[" not in proc.stdout


def test_output_and_color(repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("a/x.py", "print('hi')\n")
    dest = tmp_path / "r.txt"
    code, out, _ = run(capsys, "report", "--output", str(dest), "--color", "always")
    assert (code, out) == (0, "")
    assert "\033[" in dest.read_text()
    code, out, _ = run(capsys, "report", "--output", str(dest))
    assert (code, out) == (0, "")
    text = dest.read_text()
    assert text.startswith("ctxgate report: work tree") and "\033[" not in text

    class Tty:
        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> int:
            written.append(s)
            return len(s)

    written: list[str] = []
    monkeypatch.setattr(sys, "stdout", Tty())
    assert report_cmd.run(report_args()) == 0
    assert "\033[" in "".join(written)
    written.clear()
    monkeypatch.setenv("NO_COLOR", "1")
    assert report_cmd.run(report_args()) == 0
    assert "\033[" not in "".join(written)


def report_args() -> argparse.Namespace:
    return build_parser().parse_args(["report", "-q"])


@pytest.mark.parametrize(("exc", "code", "message"), [
    (KeyboardInterrupt(), 130, "ctxgate: interrupted\n"),
    (FatalError("something is wrong; fix it"), 2, "ctxgate: error: something is wrong; fix it\n"),
    (BrokenPipeError(), 1, ""),
])
def test_exit_codes(repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                    exc: BaseException, code: int, message: str) -> None:
    repo.write("a/x.py", "x\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(budget, "build", boom)
    got, out, err = run(capsys, "report")
    assert (got, out) == (code, "")
    assert err.endswith(message)


@pytest.mark.parametrize(("args", "code", "stream", "fragment"), [
    (("--version",), 0, "stdout", f"ctxgate {__version__}"),
    (("report", "--format", "json"), 0, "stdout", '"schema": 1'),
    (("report", "--rev", "nope"), 2, "stderr", "'nope' is not a commit"),
])
def test_console_entry_point_flushes_and_keeps_exit_codes(repo: Repo, args: tuple[str, ...], code: int,
                                                          stream: str, fragment: str) -> None:
    # The console script exits through cli.run, which skips interpreter
    # teardown: its output must still arrive whole through a pipe.
    repo.write("a/x.py", "x = 1\n" * 2000)
    repo.commit()
    proc = subprocess.run((sys.executable, "-c", "from ctxgate.cli import run; run()", *args), cwd=repo.path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == code
    assert fragment in getattr(proc, stream)
    if args[-1] == "json":
        assert json.loads(proc.stdout)["components"][0]["name"] == "a"
