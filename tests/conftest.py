from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxgate import tokens
from ctxgate.cache import BlobStats
from ctxgate.cli import main

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class Repo:
    """A real git repository in a temporary directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(("git", *args), cwd=self.path, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout

    def write(self, rel: str, content: str | bytes) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p

    def add(self, *paths: str) -> None:
        self.git("add", "--", *(paths or (".",)))

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("CTXGATE_CACHE_DIR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for k in list(os.environ):
        if k.startswith("GITHUB_"):
            monkeypatch.delenv(k, raising=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    path = tmp_path / "repo"
    path.mkdir()
    r = Repo(path)
    r.git("init", "-q", "-b", "main")
    monkeypatch.chdir(path)
    yield r


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Call ``main`` and return (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- GitHub runner simulation (used by test_github*.py and test_action.py) ---
# Imports kept with the fixtures that use them, below the shared helpers above.
import http.server  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import urllib.parse  # noqa: E402
from typing import Any  # noqa: E402


class Runner:
    """The files and variables a GitHub Actions runner gives a step."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.temp = root / "runner_temp"
        self.temp.mkdir()
        self.summary = root / "step_summary.md"
        self.output = root / "github_output"
        self.event = root / "event.json"
        for f in (self.summary, self.output):
            f.write_text("", encoding="utf-8")
        self.env: dict[str, str] = {
            "GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": str(self.temp),
            "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_OUTPUT": str(self.output),
            "GITHUB_EVENT_PATH": str(self.event), "GITHUB_REPOSITORY": "octo/widgets",
            "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "77",
        }
        self.set_event("push", {"before": "0" * 40})
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)
        # The comment client must reach the loopback server directly.
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(k, raising=False)
        monkeypatch.setenv("no_proxy", "*")

    def set(self, key: str, value: str) -> None:
        self.env[key] = value
        self.monkeypatch.setenv(key, value)

    def set_event(self, name: str, payload: dict[str, Any]) -> None:
        self.event.write_text(json.dumps(payload), encoding="utf-8")
        self.set("GITHUB_EVENT_NAME", name)

    def pull_request(self, number: int, base_sha: str) -> None:
        self.set_event("pull_request", {"number": number, "pull_request": {
            "number": number, "base": {"sha": base_sha}}})

    def outputs(self) -> dict[str, str]:
        """$GITHUB_OUTPUT parsed the way the runner does (both forms)."""
        out: dict[str, str] = {}
        lines = self.output.read_text(encoding="utf-8").split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            if not line:
                continue
            if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
                name, delim = line.split("<<", 1)
                body = []
                while lines[i] != delim:
                    body.append(lines[i])
                    i += 1
                i += 1
                out[name] = "\n".join(body)
            else:
                name, value = line.split("=", 1)
                out[name] = value
        return out


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    root = tmp_path / "runner"
    root.mkdir()
    return Runner(root, monkeypatch)


class FakeGitHub:
    """A loopback stand-in for the issue-comments REST API that records every request."""

    def __init__(self) -> None:
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.page_size = 100
        self.fail_status: int | None = None
        # path -> (status, raw body, headers): canned answers for odd servers
        self.canned: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.next_id = 1000
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
                raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                if self.path in outer.canned:
                    self._answer(*outer.canned[self.path])
                    return
                if outer.fail_status is not None:
                    self._answer(outer.fail_status, {"message": "Resource not accessible by integration"})
                    return
                self._answer(*outer.route(self.command, self.path, body))

            do_GET = do_POST = do_PATCH = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        parsed = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(parsed.query)
        parts = parsed.path.strip("/").split("/")
        if method == "GET" and parts[-1] == "comments":
            items = self.comments.get(int(parts[-2]), [])
            page = int(query.get("page", ["1"])[0])
            per = min(self.page_size, int(query.get("per_page", ["30"])[0]))
            chunk = items[(page - 1) * per:page * per]
            headers = {}
            if page * per < len(items):
                headers["Link"] = (f'<{self.url}{parsed.path}?per_page={per}&page={page + 1}>; rel="next", '
                                   f'<{self.url}{parsed.path}?per_page={per}&page=999>; rel="last"')
            return 200, chunk, headers
        if method == "POST" and parts[-1] == "comments":
            self.next_id += 1
            made = {"id": self.next_id, "body": body["body"], "user": {"login": "github-actions[bot]"}}
            self.comments.setdefault(int(parts[-2]), []).append(made)
            return 201, made, {}
        if method == "PATCH" and parts[-2] == "comments":
            for items in self.comments.values():
                for c in items:
                    if c["id"] == int(parts[-1]):
                        c["body"] = body["body"]
                        return 200, c, {}
        return 404, {"message": "Not Found"}, {}

    def seed(self, number: int, bodies: list[str]) -> list[int]:
        ids = []
        for b in bodies:
            self.next_id += 1
            self.comments.setdefault(number, []).append({"id": self.next_id, "body": b})
            ids.append(self.next_id)
        return ids

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    gh = FakeGitHub()
    yield gh
    gh.close()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the blobs tokenized (cache misses), in order."""
    seen: list[int] = []
    real = tokens.stats_for

    def spy(data: bytes, encoding_name: str, scale: float) -> BlobStats:
        seen.append(len(data))
        return real(data, encoding_name, scale)

    monkeypatch.setattr(tokens, "stats_for", spy)
    return seen
