"""tiktoken encodings, the common ones loaded offline from package data."""
from __future__ import annotations

import binascii
import functools
import gzip
import hashlib
import itertools
import os
import zlib

import tiktoken

from ctxgate.errors import FatalError

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

DOWNLOAD_TIMEOUT = 30.0

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# Patterns, special tokens and hashes as in tiktoken_ext/openai_public.py;
# tests compare them with tiktoken's own definitions.
_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
BUNDLED: dict[str, tuple[str, str, dict[str, int]]] = {
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PAT,
        {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PAT,
        {ENDOFTEXT: 100257, FIM_PREFIX: 100258, FIM_MIDDLE: 100259, FIM_SUFFIX: 100260, ENDOFPROMPT: 100276},
    ),
}


def known(name: str) -> bool:
    return name in BUNDLED or name in tiktoken.list_encoding_names()


def unknown_message(name: str) -> str:
    names = sorted(set(BUNDLED) | set(tiktoken.list_encoding_names()))
    import difflib  # error path only

    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"unknown encoding {name!r}; {hint}use 'o200k_base' or 'cl100k_base' (bundled), "
            f"or one of tiktoken's: {', '.join(names)}")


def check_name(name: str) -> None:
    if not known(name):
        raise FatalError(unknown_message(name))


def _read_data(filename: str) -> bytes:
    with open(os.path.join(DATA_DIR, filename), "rb") as f:
        return f.read()


def bundled_ranks(name: str) -> dict[bytes, int]:
    expected = BUNDLED[name][0]
    try:
        raw = gzip.decompress(
            _read_data(f"{name}.tiktoken.gz")
        )
    except (OSError, EOFError, zlib.error) as e:
        raise FatalError(f"cannot read the bundled {name} data ({e}); reinstall ctxgate") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise FatalError(
            f"the bundled {name} data is corrupt (sha256 {digest[:12]}…, expected {expected[:12]}…); "
            "reinstall ctxgate"
        )
    # The hash pins the file, whose ranks are its line numbers (a test checks
    # both bundled files), so only the tokens need decoding; map/zip keep
    # that, the bulk of loading, in C.
    return dict(zip(map(binascii.a2b_base64, raw.split()[0::2]), itertools.count()))


def _brief(e: Exception) -> str:
    # Download errors carry whole URLs and nested causes; the type and the
    # start of the message are enough to tell offline from corrupt.
    text = str(e).splitlines()[0] if str(e) else "no detail"
    return f"{type(e).__name__}: {text[:80] + '…' if len(text) > 80 else text}"


@functools.lru_cache(maxsize=None)
def load(name: str) -> tiktoken.Encoding:
    check_name(name)
    if name in BUNDLED:
        _, pat, special = BUNDLED[name]
        return tiktoken.Encoding(name=name, pat_str=pat, mergeable_ranks=bundled_ranks(name),
                                 special_tokens=special)
    # tiktoken downloads without a timeout; a silently dropped connection
    # must end in the error below, not in a hung commit hook.
    import socket  # only for encodings tiktoken downloads

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # network, cache or data errors from tiktoken's loader
        raise FatalError(
            f"could not load encoding {name!r} ({_brief(e)}); it is not bundled and tiktoken must "
            "download it once (no network here? set TIKTOKEN_CACHE_DIR to a prepared cache), "
            "or use 'o200k_base' / 'cl100k_base'"
        ) from None
    finally:
        socket.setdefaulttimeout(previous)
