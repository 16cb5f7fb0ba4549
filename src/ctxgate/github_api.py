"""The sticky pull-request comment, through GitHub's REST API with urllib only (SPEC §9)."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO, Any

from ctxgate import __version__

MARKER = "<!-- ctxgate -->"
COMMENT_LIMIT = 65_536
MAX_PAGES = 100  # 10,000 comments: past that something is looping, not a real thread
PER_PAGE = 100

_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL = re.compile(r"""rel\s*=\s*"?([^";]*)"?""")


class ApiError(Exception):
    """A request failed; *status* is the HTTP status, None when no answer came."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def denied(self) -> bool:
        """Forks, read-only tokens, a token without access: nothing the PR author can fix."""
        return self.status in (401, 403, 404)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    # urllib forwards every header on a redirect; the token must not reach another host.
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` target of a Link header, if any."""
    for m in _LINK.finditer(header or ""):
        for rel in _REL.findall(m.group(2)):
            if "next" in rel.split():
                return m.group(1)
    return None


def find_marker(comments: Iterable[dict[str, Any]], marker: str = MARKER) -> dict[str, Any] | None:
    """The comment carrying *marker*: one that starts with it wins over one that quotes it."""
    quoting: dict[str, Any] | None = None
    for c in comments:
        body = c.get("body")
        if not isinstance(body, str) or marker not in body:
            continue
        if body.lstrip().startswith(marker):
            return c
        quoting = quoting or c
    return quoting


def _error_message(e: urllib.error.HTTPError) -> str:
    try:
        raw = e.read()
        doc = json.loads(raw) if raw else {}
        message = doc.get("message") if isinstance(doc, dict) else None
    except (OSError, ValueError):
        message = None
    finally:
        e.close()
    return str(message or e.reason or "no message")


@dataclass(frozen=True)
class Client:
    api_url: str
    repo: str  # owner/name
    token: str
    timeout: float = 20.0

    def _url(self, path: str) -> str:
        return self.api_url.rstrip("/") + path

    def request(self, method: str, url: str, payload: Any = None) -> tuple[Any, str | None]:
        """One API call: (decoded JSON answer, Link header)."""
        if _origin(url) != _origin(self.api_url):
            raise ApiError(None, f"refusing to send the token to {_origin(url)[1]!r}, outside the API")
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"ctxgate/{__version__}",
            **({"Content-Type": "application/json"} if data is not None else {}),
        })
        opener = urllib.request.build_opener(_SameOriginRedirects)
        try:
            with opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
                link = resp.headers.get("Link")
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, _error_message(e)) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise ApiError(None, f"{method} {url}: {reason}") from None
        try:
            return (json.loads(raw) if raw else None), link
        except ValueError:
            raise ApiError(None, f"{method} {url}: the answer is not JSON") from None

    def comments(self, number: int) -> Iterator[dict[str, Any]]:
        """Every issue comment of the pull request, following pagination."""
        url: str | None = self._url(f"/repos/{self.repo}/issues/{number}/comments?per_page={PER_PAGE}")
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(seen) >= MAX_PAGES:
                raise ApiError(None, "the comment list does not end; giving up")
            seen.add(url)
            page, link = self.request("GET", url)
            if not isinstance(page, list):
                raise ApiError(None, "listing comments did not return a list")
            yield from (c for c in page if isinstance(c, dict))
            url = next_link(link)

    def upsert(self, number: int, body: str, marker: str = MARKER) -> tuple[str, int]:
        """Update the comment carrying *marker* or create one: ("updated"|"created", id)."""
        found = find_marker(self.comments(number), marker)
        if found is not None and isinstance(found.get("id"), int):
            cid: int = found["id"]
            self.request("PATCH", self._url(f"/repos/{self.repo}/issues/comments/{cid}"), {"body": body})
            return "updated", cid
        made, _ = self.request("POST", self._url(f"/repos/{self.repo}/issues/{number}/comments"),
                               {"body": body})
        new_id = made.get("id") if isinstance(made, dict) else None
        return "created", new_id if isinstance(new_id, int) else 0
