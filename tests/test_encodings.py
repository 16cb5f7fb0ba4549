"""Bundled encodings give exactly tiktoken's counts; broken or missing data fails clearly."""
from __future__ import annotations

import gzip
import hashlib
import json
import socket
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken.load
from tiktoken_ext import openai_public  # type: ignore[import-untyped]

from conftest import Repo, run
from ctxgate import encodings
from ctxgate.errors import FatalError

BUNDLED = ("o200k_base", "cl100k_base")
URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


def bundled_bytes(name: str) -> bytes:
    return gzip.decompress(resources.files("ctxgate").joinpath("data", f"{name}.tiktoken.gz").read_bytes())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple[tiktoken.Encoding, str]]]:
    """tiktoken's own constructor for an encoding, its ranks read from a local copy of the data.

    Returns the encoding and the hash tiktoken_ext expects for the file.
    """
    made: dict[str, tuple[tiktoken.Encoding, str]] = {}
    folder = tmp_path_factory.mktemp("bpe")

    def build(name: str) -> tuple[tiktoken.Encoding, str]:
        if name not in made:
            local = folder / f"{name}.tiktoken"
            local.write_bytes(bundled_bytes(name))
            seen: dict[str, str] = {}

            def load_local(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
                assert url == URLS[name]
                assert expected_hash is not None
                seen["hash"] = expected_hash
                return tiktoken.load.load_tiktoken_bpe(str(local), expected_hash=expected_hash)

            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("TIKTOKEN_CACHE_DIR", "")  # no cache: read the local file itself
                mp.setattr(openai_public, "load_tiktoken_bpe", load_local)
                params: dict[str, Any] = getattr(openai_public, name)()
            made[name] = (tiktoken.Encoding(**params), seen["hash"])
        return made[name]

    yield build


TEXTS = [
    "",
    "hello world\n",
    "def f(x: int) -> int:\n\treturn x ** 2  # squares\n\n\nclass A:\n    pass\n",
    "fn main() { println!(\"{}\", 1_000_000u64); }\r\n",
    "ünïcødé, 日本語のテキスト, русский текст, עברית, العربية, 🙂🚀👩‍💻 emoji\n",
    "numbers 1234567890 3.14159 -42 0xDEADBEEF 1e-9\n",
    "    \n\n  \t trailing   \n   ",
    "it's they're we've I'm you'll he'd IT'S THEY'RE\n",
    "<|endoftext|> and <|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|> as text\n",
    "x" * 5000 + "\n" + "ab " * 3000,
    "{\"key\": [1, 2, {\"nested\": null}], \"url\": \"https://example.com/a/b?c=d\"}\n",
    b"caf\xe9 \xff\xfe\xc3( \xe2\x82 broken utf-8\n".decode("utf-8", errors="replace"),
]


@pytest.mark.parametrize("name", BUNDLED)
def test_counts_equal_tiktoken(reference: Callable[[str], tuple[tiktoken.Encoding, str]], name: str) -> None:
    ref, _ = reference(name)
    ours = encodings.load(name)
    for text in TEXTS:
        assert ours.encode_ordinary(text) == ref.encode_ordinary(text), text[:40]
    assert len(ours.encode_ordinary(TEXTS[8])) > 5


@pytest.mark.parametrize("name", BUNDLED)
def test_constants_match_tiktoken_ext(reference: Callable[[str], tuple[tiktoken.Encoding, str]], name: str) -> None:
    ref, expected_hash = reference(name)
    sha, pat, special = encodings.BUNDLED[name]
    assert sha == expected_hash
    assert pat == ref._pat_str
    assert special == ref._special_tokens
    assert hashlib.sha256(bundled_bytes(name)).hexdigest() == sha
    sums = resources.files("ctxgate").joinpath("data", "SHA256SUMS").read_text()
    assert f"{sha}  {name}.tiktoken" in sums.splitlines()


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_ranks_equal_tiktoken_parser(tmp_path: Path, name: str) -> None:
    # bundled_ranks takes ranks from line order; tiktoken's parser reads them.
    local = tmp_path / f"{name}.tiktoken"
    local.write_bytes(bundled_bytes(name))
    assert encodings.bundled_ranks(name) == tiktoken.load.load_tiktoken_bpe(str(local))


@pytest.mark.parametrize("name", BUNDLED)
def test_report_counts_equal_tiktoken(repo: Repo, capsys: pytest.CaptureFixture[str],
                                      reference: Callable[[str], tuple[tiktoken.Encoding, str]], name: str) -> None:
    ref, _ = reference(name)
    repo.write("ctxgate.toml", f'encoding = "{name}"\n')
    blobs = [t.encode() for t in TEXTS] + [b"caf\xe9 \xff\xfe\xc3( \xe2\x82 broken utf-8\n"]
    for i, data in enumerate(blobs):
        repo.write(f"a/f{i:02}.txt", data)
    repo.commit()
    code, out, err = run(capsys, "report", "--rev", "HEAD", "--format", "json", "--files", "--no-cache")
    assert code == 0, err
    (comp,) = json.loads(out)["components"]
    got = {f["path"]: f["tokens"] for f in comp["files_detail"]}
    want = {f"a/f{i:02}.txt": len(ref.encode_ordinary(d.decode("utf-8", errors="replace")))
            for i, d in enumerate(blobs)}
    assert got == want
    assert comp["footprint"] == sum(want.values())


def _fake_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: bytes) -> None:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / f"{name}.tiktoken.gz").write_bytes(content)
    monkeypatch.setattr(encodings, "DATA_DIR", str(data))


@pytest.mark.parametrize(("content", "message"), [
    (b"not gzip at all", "cannot read the bundled cl100k_base data"),
    (gzip.compress(b"IQ== 0\n"), "the bundled cl100k_base data is corrupt"),
])
def test_damaged_bundled_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str) -> None:
    _fake_data(tmp_path, monkeypatch, "cl100k_base", content)
    with pytest.raises(FatalError, match=message):
        encodings.bundled_ranks("cl100k_base")


def test_damaged_data_through_the_cli(repo: Repo, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = bundled_bytes("cl100k_base")
    flipped = real.replace(b"IQ== 0", b"Ig== 0", 1)
    assert flipped != real
    _fake_data(tmp_path, monkeypatch, "cl100k_base", gzip.compress(flipped))
    repo.write("ctxgate.toml", 'encoding = "cl100k_base"\n')
    repo.write("a/x.py", "x = 1\n")
    encodings.load.cache_clear()
    try:
        code, out, err = run(capsys, "report", "--no-cache")
    finally:
        encodings.load.cache_clear()
    assert code == 2 and out == ""
    assert err.startswith("ctxgate: error: the bundled cl100k_base data is corrupt (sha256 ")
    assert err.count("\n") == 1 and "reinstall ctxgate" in err


def test_missing_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encodings, "DATA_DIR", str(tmp_path))
    with pytest.raises(FatalError, match="cannot read the bundled o200k_base data"):
        encodings.bundled_ranks("o200k_base")


def test_unknown_encoding() -> None:
    assert encodings.known("o200k_base") and encodings.known("p50k_base")
    assert not encodings.known("o200k")
    with pytest.raises(FatalError, match=r"unknown encoding 'cl100k'; did you mean 'cl100k_base'\?"):
        encodings.load("cl100k")
    with pytest.raises(FatalError, match=r"unknown encoding 'zzz'; use 'o200k_base' or 'cl100k_base' \(bundled\), "
                                         r"or one of tiktoken's: .*p50k_base"):
        encodings.check_name("zzz")


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No network: tiktoken's reader fails at once; the cache is an empty directory."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    attempts: list[str] = []

    def no_network(blobpath: str) -> bytes:
        attempts.append(blobpath)
        assert socket.getdefaulttimeout() == encodings.DOWNLOAD_TIMEOUT
        raise ConnectionError(f"offline: cannot reach {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    return attempts


def test_non_bundled_encoding_offline(repo: Repo, capsys: pytest.CaptureFixture[str], offline: list[str]) -> None:
    repo.write("ctxgate.toml", 'encoding = "p50k_base"\n')
    repo.write("a/x.py", "x = 1\n")
    before = socket.getdefaulttimeout()
    code, out, err = run(capsys, "report", "--no-cache")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("ctxgate: error: could not load encoding 'p50k_base' (ConnectionError: offline")
    assert "TIKTOKEN_CACHE_DIR" in err and "'o200k_base' / 'cl100k_base'" in err
    assert offline == ["https://openaipublic.blob.core.windows.net/encodings/p50k_base.tiktoken"]
    assert socket.getdefaulttimeout() == before


def test_non_bundled_encoding_from_tiktoken_cache(repo: Repo, capsys: pytest.CaptureFixture[str],
                                                  offline: list[str], tmp_path: Path) -> None:
    # o200k_harmony is not bundled; tiktoken builds it from the o200k_base file, found in its cache.
    key = hashlib.sha1(URLS["o200k_base"].encode()).hexdigest()
    (tmp_path / "tiktoken-cache" / key).write_bytes(bundled_bytes("o200k_base"))
    repo.write("ctxgate.toml", 'encoding = "o200k_harmony"\n')
    text = "def harmony() -> str:\n    return 'same ordinary tokens'\n"
    repo.write("a/x.py", text)
    code, out, err = run(capsys, "report", "--no-cache", "--format", "json")
    assert code == 0, err
    assert offline == []
    assert json.loads(out)["components"][0]["tokens"] == len(encodings.load("o200k_base").encode_ordinary(text))
