"""The sticky-comment client against a recording HTTP server on 127.0.0.1."""
from __future__ import annotations

import socket
from typing import Any

import pytest

from conftest import FakeGitHub, Repo, Runner, run
from ctxgate.github_api import COMMENT_LIMIT, MARKER, ApiError, Client, find_marker, next_link


def client(gh: FakeGitHub, token: str = "tok") -> Client:
    return Client(gh.url, "octo/widgets", token, timeout=5)


def test_first_run_creates_second_updates(fake_github: FakeGitHub) -> None:
    c = client(fake_github)
    action, cid = c.upsert(12, f"{MARKER}\nfirst")
    assert action == "created" and cid > 0
    assert c.upsert(12, f"{MARKER}\nsecond") == ("updated", cid)
    assert [x["body"] for x in fake_github.comments[12]] == [f"{MARKER}\nsecond"]
    (m1, p1, h1, _), (m2, p2, _, b2), (m3, p3, _, _), (m4, p4, _, b4) = fake_github.requests
    assert (m1, p1) == ("GET", "/repos/octo/widgets/issues/12/comments?per_page=100")
    assert (m2, p2, b2) == ("POST", "/repos/octo/widgets/issues/12/comments", {"body": f"{MARKER}\nfirst"})
    assert (m4, p4, b4) == ("PATCH", f"/repos/octo/widgets/issues/comments/{cid}", {"body": f"{MARKER}\nsecond"})
    assert h1["Authorization"] == "Bearer tok" and h1["Accept"] == "application/vnd.github+json"
    assert h1["User-Agent"].startswith("ctxgate/")


def test_follows_pagination_to_find_the_marker(fake_github: FakeGitHub) -> None:
    fake_github.page_size = 3
    ids = fake_github.seed(5, [f"review {i}" for i in range(7)] + [f"{MARKER}\nold", "later"])
    assert client(fake_github).upsert(5, f"{MARKER}\nnew") == ("updated", ids[7])
    gets = [p for m, p, _, _ in fake_github.requests if m == "GET"]
    assert gets == ["/repos/octo/widgets/issues/5/comments?per_page=100",
                    "/repos/octo/widgets/issues/5/comments?per_page=3&page=2",
                    "/repos/octo/widgets/issues/5/comments?per_page=3&page=3"]
    assert len(fake_github.comments[5]) == 9


def test_no_marker_on_any_page_creates(fake_github: FakeGitHub) -> None:
    fake_github.page_size = 2
    fake_github.seed(5, ["a", "b", "c", "d", "e"])
    assert client(fake_github).upsert(5, f"{MARKER}\nx")[0] == "created"
    assert sum(1 for m, *_ in fake_github.requests if m == "GET") == 3


@pytest.mark.parametrize(("status", "denied"), [(401, True), (403, True), (404, True), (422, False),
                                                 (500, False)])
def test_http_errors(fake_github: FakeGitHub, status: int, denied: bool) -> None:
    fake_github.fail_status = status
    with pytest.raises(ApiError) as e:
        client(fake_github).upsert(1, "x")
    assert e.value.status == status and e.value.denied is denied
    assert e.value.message == "Resource not accessible by integration"


def test_unreachable_server_is_an_api_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ApiError) as e:
        Client(f"http://127.0.0.1:{port}", "o/r", "t", timeout=5).upsert(1, "x")
    assert e.value.status is None and not e.value.denied


def test_token_never_leaves_the_api_origin(fake_github: FakeGitHub) -> None:
    c = client(fake_github)
    with pytest.raises(ApiError, match="refusing to send the token"):
        c.request("GET", "http://198.51.100.7/elsewhere")
    assert fake_github.requests == []


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("", None),
    ('<https://api.x/r?page=2>; rel="next", <https://api.x/r?page=5>; rel="last"', "https://api.x/r?page=2"),
    ('<https://api.x/r?page=1>; rel="prev", <https://api.x/r?page=3>; rel="next"', "https://api.x/r?page=3"),
    ('<https://api.x/r?page=1>; rel="first"', None),
    ("<https://api.x/r?page=4>; rel=next", "https://api.x/r?page=4"),
    ('<https://api.x/r?page=4>; rel="next last"', "https://api.x/r?page=4"),
])
def test_next_link(header: str | None, expected: str | None) -> None:
    assert next_link(header) == expected


@pytest.mark.parametrize(("bodies", "found"), [
    ([], None),
    (["hello", None, 3], None),
    (["hello", f"{MARKER}\nours"], 1),
    ([f"> quoting {MARKER}", f"  {MARKER}\nours"], 1),
    ([f"> quoting {MARKER}", "other"], 0),
    ([f"{MARKER}\nfirst", f"{MARKER}\nduplicate"], 0),
])
def test_find_marker(bodies: list[Any], found: int | None) -> None:
    comments = [{"id": i, "body": b} for i, b in enumerate(bodies)]
    hit = find_marker(comments)
    assert (hit["id"] if hit else None) == found


def test_long_comment_is_cut_with_a_note(
    repo: Repo, runner: Runner, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str],
) -> None:
    # 500 components with long names make a table far over GitHub's 65,536 characters.
    repo.write("ctxgate.toml", '[[component]]\neach = "c/*"\n')
    names = [f"{i:03}-" + "🧩" * 40 + "x" * 60 for i in range(500)]
    for n in names:
        repo.write(f"c/{n}/f.txt", "x")
    base = repo.commit()
    repo.write(f"c/{names[0]}/f.txt", "grown " * 20)
    repo.commit()
    runner.pull_request(8, base)
    runner.set("GITHUB_API_URL", fake_github.url)
    runner.set("GITHUB_TOKEN", "tok")
    code, out, _ = run(capsys, "check", "--rev", "HEAD", "--base", base, "--format", "github")
    assert code == 0 and "created comment" in out
    body = fake_github.comments[8][0]["body"]
    assert body.startswith(MARKER + "\n")
    assert len(body.encode("utf-16-le")) // 2 <= COMMENT_LIMIT < 2 * len(body)
    assert "more components not shown" in body and body.rstrip().endswith("</sub>")
    assert names[0] in body


def test_redirects_stay_on_the_api_origin(fake_github: FakeGitHub) -> None:
    # a renamed repository answers with a redirect on the same host: followed, token kept
    fake_github.canned["/repos/old/name/issues/2/comments?per_page=100"] = (
        301, b"", {"Location": f"{fake_github.url}/repos/octo/widgets/issues/2/comments?per_page=100"})
    assert Client(fake_github.url, "old/name", "tok", timeout=5).upsert(2, "x")[0] == "created"
    assert fake_github.requests[1][2]["Authorization"] == "Bearer tok"
    # a redirect to another host is not followed
    fake_github.canned["/repos/octo/widgets/issues/3/comments?per_page=100"] = (
        302, b"", {"Location": "http://198.51.100.7/steal"})
    with pytest.raises(ApiError) as e:
        client(fake_github).upsert(3, "x")
    assert e.value.status == 302


@pytest.mark.parametrize(("raw", "headers", "message"), [
    (b"<html>", {}, "not JSON"),
    (b'{"message": "x"}', {}, "did not return a list"),
    (b"[]", {"Link": "<{url}/repos/octo/widgets/issues/4/comments?per_page=100>; rel=\"next\""},
     "does not end"),
])
def test_odd_answers_are_api_errors(fake_github: FakeGitHub, raw: bytes, headers: dict[str, str],
                                    message: str) -> None:
    fake_github.canned["/repos/octo/widgets/issues/4/comments?per_page=100"] = (
        200, raw, {k: v.format(url=fake_github.url) for k, v in headers.items()})
    with pytest.raises(ApiError, match=message):
        client(fake_github).upsert(4, "x")
