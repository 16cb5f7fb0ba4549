"""Writing the few TOML values the generated configs need."""
from __future__ import annotations

import json
from collections.abc import Sequence


def string(s: str) -> str:
    # A JSON string is a TOML basic string, except that TOML also wants DEL escaped.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def array(items: Sequence[str], indent: str = "") -> str:
    """An array of strings, one per line when there are several."""
    if len(items) <= 1:
        return "[" + "".join(string(i) for i in items) + "]"
    return "[\n" + "".join(f"{indent}    {string(i)},\n" for i in items) + indent + "]"
