"""Line numbers for TOML keys and tables, which tomllib does not report."""
from __future__ import annotations

import re


class Locator:
    """Best-effort TOML line numbers: tomllib does not report them for keys."""

    def __init__(self, text: str, table_prefix: str) -> None:
        self.lines = text.splitlines()
        self.prefix = table_prefix
        # In pyproject.toml the configuration's own keys start at [tool.ctxgate];
        # an earlier [project] table may use the same key names.
        self.root: int | None = None
        if table_prefix:
            self.root = self._header(r"^\s*\[\s*" + re.escape(table_prefix.rstrip(".")) + r"\s*\]")
        header = re.compile(r"^\s*\[\[\s*" + re.escape(table_prefix + "component") + r"\s*\]\]")
        self._components = [n for n, line in enumerate(self.lines, 1) if header.match(line)]

    def _header(self, pattern: str) -> int | None:
        pat = re.compile(pattern)
        for n, line in enumerate(self.lines, 1):
            if pat.match(line):
                return n
        return None

    def component_line(self, i: int) -> int | None:
        return self._components[i] if i < len(self._components) else None

    def key_line(self, key: str, after: int | None = None) -> int | None:
        pat = re.compile(r"^\s*(?:" + re.escape(key) + r"|[\"']" + re.escape(key) + r"[\"'])\s*[=.]")
        inline = re.compile(r"[{,]\s*" + re.escape(key) + r"\s*=")
        if after is None and self.root is not None:
            after = self.root
        start = after or 1
        for n, line in enumerate(self.lines[start - 1:], start):
            if n > start and after is not None and line.lstrip().startswith("["):
                break
            if pat.match(line) or inline.search(line):
                return n
        if after is None or after == self.root:
            return None
        return self.key_line(key)

    def table_line(self, name: str) -> int | None:
        found = self._header(r"^\s*\[\s*" + re.escape(self.prefix + name) + r"\s*\]")
        return found if found is not None else self.key_line(name)
