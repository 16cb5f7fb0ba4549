"""Loading and validating ctxgate configuration (SPEC §4)."""
from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxgate.errors import FatalError

CONFIG_NAMES = ("ctxgate.toml", ".ctxgate.toml", "pyproject.toml")
LIMIT_NAMES = ("optimal", "warning", "split", "emergency")
DEFAULT_LIMITS = {"optimal": 80_000, "warning": 100_000, "split": 120_000, "emergency": 140_000}
FAIL_ON = ("split", "emergency", "warning")
UNOWNED = ("ignore", "warn", "error")

TOP_KEYS = (
    "encoding", "fail_on", "exclude", "tests", "count_tests", "context", "unowned",
    "respect_gitattributes", "scale", "limits", "planning", "component",
)
PLANNING_KEYS = ("safety_margin", "context_budget", "project_budget", "tokens_per_line")
COMPONENT_KEYS = (
    "name", "each", "paths", "kind", "level", "estimate", "context", "limits", "reason",
    "tests", "exclude",
)


@dataclass(frozen=True)
class Limits:
    optimal: int
    warning: int
    split: int
    emergency: int

    def as_dict(self) -> dict[str, int]:
        return {n: getattr(self, n) for n in LIMIT_NAMES}


@dataclass(frozen=True)
class Planning:
    safety_margin: int = 20_000
    context_budget: int = 180_000
    project_budget: int | None = None
    tokens_per_line: float = 10


@dataclass(frozen=True)
class ComponentSpec:
    """One `[[component]]` table as written (before `each` expansion)."""

    index: int
    line: int | None
    name: str | None = None
    each: str | None = None
    paths: tuple[str, ...] = ()
    kind: str | None = None
    level: int | None = None
    estimate: int | None = None
    context: tuple[str, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)
    reason: str | None = None
    tests: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    source: str | None  # where it was read from, None for defaults
    encoding: str = "o200k_base"
    fail_on: str = "split"
    exclude: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    count_tests: bool = False
    context: tuple[str, ...] = ()
    unowned: str = "ignore"
    respect_gitattributes: bool = True
    scale: float = 1.0
    limits: Limits = Limits(**DEFAULT_LIMITS)
    planning: Planning = Planning()
    components: tuple[ComponentSpec, ...] = ()


class _Locator:
    """Best-effort TOML line numbers: tomllib does not report them for keys."""

    def __init__(self, text: str, table_prefix: str) -> None:
        self.lines = text.splitlines()
        self.prefix = table_prefix

    def component_line(self, i: int) -> int | None:
        header = re.compile(r"^\s*\[\[\s*" + re.escape(self.prefix + "component") + r"\s*\]\]")
        seen = -1
        for n, line in enumerate(self.lines, 1):
            if header.match(line):
                seen += 1
                if seen == i:
                    return n
        return None

    def key_line(self, key: str, after: int | None = None) -> int | None:
        pat = re.compile(r"^\s*(?:" + re.escape(key) + r"|[\"']" + re.escape(key) + r"[\"'])\s*[=.]")
        inline = re.compile(r"[{,]\s*" + re.escape(key) + r"\s*=")
        start = after or 1
        for n, line in enumerate(self.lines[start - 1:], start):
            if n > start and after is not None and line.lstrip().startswith("["):
                break
            if pat.match(line) or inline.search(line):
                return n
        if after is None:
            return None
        return self.key_line(key)

    def table_line(self, name: str) -> int | None:
        pat = re.compile(r"^\s*\[\s*" + re.escape(self.prefix + name) + r"\s*\]")
        for n, line in enumerate(self.lines, 1):
            if pat.match(line):
                return n
        return self.key_line(name)


def _suggest(key: str, valid: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys: {', '.join(valid)}"


class _Validator:
    def __init__(self, source: str, loc: _Locator) -> None:
        self.source = source
        self.loc = loc

    def fail(self, line: int | None, message: str) -> FatalError:
        where = f"{self.source}:{line}" if line else self.source
        return FatalError(f"{where}: {message}")

    def check_keys(self, table: Mapping[str, Any], valid: tuple[str, ...], what: str, after: int | None) -> None:
        for key in table:
            if key not in valid:
                raise self.fail(
                    self.loc.key_line(key, after), f"unknown key {key!r} in {what}{_suggest(key, valid)}",
                )

    def typed(self, table: Mapping[str, Any], key: str, types: tuple[type, ...], desc: str,
              after: int | None, check: Callable[[Any], bool] | None = None) -> Any:
        value = table[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if ok and check is not None:
            ok = check(value)
        if not ok:
            raise self.fail(self.loc.key_line(key, after), f"{key!r} must be {desc}, got {value!r}")
        return value

    def str_list(self, table: Mapping[str, Any], key: str, after: int | None) -> tuple[str, ...]:
        if key not in table:
            return ()
        value = self.typed(
            table, key, (list,), "a list of strings", after,
            lambda v: all(isinstance(s, str) and s.strip() for s in v),
        )
        return tuple(value)

    def limits(self, table: Mapping[str, Any], after: int | None) -> dict[str, int]:
        self.check_keys(table, LIMIT_NAMES, "limits", after)
        return {
            k: self.typed(table, k, (int,), "a positive whole number of tokens", after, lambda v: v > 0)
            for k in table
        }

    def increasing(self, limits: Mapping[str, int], what: str, line: int | None) -> Limits:
        values = [limits[n] for n in LIMIT_NAMES]
        for a, b, va, vb in zip(LIMIT_NAMES, LIMIT_NAMES[1:], values, values[1:]):
            if not va < vb:
                raise self.fail(line, f"{what}: {a} ({va:,}) must be below {b} ({vb:,})")
        return Limits(*values)


def parse(text: str, source: str, *, pyproject: bool = False) -> Config | None:
    """Parse config text; None when a pyproject.toml has no [tool.ctxgate]."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        where = f"{source}:{m.group(1)}" if m else source
        raise FatalError(f"{where}: invalid TOML: {msg}") from None
    prefix = ""
    if pyproject:
        tool = doc.get("tool", {})
        if "ctxgate" not in tool:
            return None
        doc = tool["ctxgate"]
        prefix = "tool.ctxgate."
        if not isinstance(doc, dict):
            raise FatalError(f"{source}: [tool.ctxgate] must be a table")
    loc = _Locator(text, prefix)
    v = _Validator(source, loc)
    v.check_keys(doc, TOP_KEYS, "the configuration", None)

    kw: dict[str, Any] = {}
    if "encoding" in doc:
        kw["encoding"] = v.typed(doc, "encoding", (str,), "an encoding name such as 'o200k_base'", None,
                                 lambda s: bool(s.strip()))
    if "fail_on" in doc:
        kw["fail_on"] = v.typed(doc, "fail_on", (str,), "one of " + ", ".join(map(repr, FAIL_ON)), None,
                                lambda s: s in FAIL_ON)
    if "unowned" in doc:
        kw["unowned"] = v.typed(doc, "unowned", (str,), "one of " + ", ".join(map(repr, UNOWNED)), None,
                                lambda s: s in UNOWNED)
    for key in ("count_tests", "respect_gitattributes"):
        if key in doc:
            kw[key] = v.typed(doc, key, (bool,), "true or false", None)
    if "scale" in doc:
        kw["scale"] = float(v.typed(doc, "scale", (int, float), "a positive number", None, lambda x: x > 0))
    for key in ("exclude", "tests", "context"):
        kw[key] = v.str_list(doc, key, None)

    global_limits = dict(DEFAULT_LIMITS)
    if "limits" in doc:
        table = v.typed(doc, "limits", (dict,), "a table", None)
        global_limits.update(v.limits(table, loc.table_line("limits")))
    limits = v.increasing(global_limits, "[limits]", loc.table_line("limits"))
    kw["limits"] = limits

    if "planning" in doc:
        table = v.typed(doc, "planning", (dict,), "a table", None)
        pl = loc.table_line("planning")
        v.check_keys(table, PLANNING_KEYS, "[planning]", pl)
        pkw: dict[str, Any] = {}
        for key in PLANNING_KEYS:
            if key in table:
                types: tuple[type, ...] = (int, float) if key == "tokens_per_line" else (int,)
                pkw[key] = v.typed(table, key, types, "a positive number", pl, lambda x: x > 0)
        kw["planning"] = Planning(**pkw)

    comps = doc.get("component", [])
    if not isinstance(comps, list) or not all(isinstance(c, dict) for c in comps):
        raise v.fail(loc.key_line("component"), "'component' must be written as [[component]] tables")
    specs = [_component(v, c, i, limits) for i, c in enumerate(comps)]
    seen: set[str] = set()
    for spec in specs:
        if spec.name is not None:
            if spec.name in seen:
                raise v.fail(spec.line, f"two [[component]] tables are named {spec.name!r}; names must be unique")
            seen.add(spec.name)
    kw["components"] = tuple(specs)
    return Config(source=source, **kw)


def _component(v: _Validator, table: Mapping[str, Any], i: int, glimits: Limits) -> ComponentSpec:
    line = v.loc.component_line(i)
    v.check_keys(table, COMPONENT_KEYS, "[[component]]", line)
    kw: dict[str, Any] = {"index": i, "line": line}
    for key in ("name", "each", "kind", "reason"):
        if key in table:
            kw[key] = v.typed(table, key, (str,), "a non-empty string", line, lambda s: bool(s.strip()))
    for key in ("level", "estimate"):
        if key in table:
            kw[key] = v.typed(table, key, (int,), "a whole number", line, lambda x: x >= 0)
    for key in ("paths", "context", "tests", "exclude"):
        kw[key] = v.str_list(table, key, line)
    label = f"component {kw['name']!r}" if "name" in kw else f"[[component]] #{i + 1}"
    if "each" in kw and ("name" in kw or kw["paths"]):
        raise v.fail(line, f"{label}: 'each' names components after directories; drop 'name' and 'paths'")
    if "each" not in kw and "name" not in kw:
        raise v.fail(line, f"{label}: needs 'name' (with 'paths', or to describe a discovered component) or 'each'")
    if "name" in kw and ("/" in kw["name"] or kw["name"].strip() != kw["name"]):
        raise v.fail(line, f"{label}: a name has no '/' and no surrounding spaces")
    if "limits" in table:
        own = v.limits(v.typed(table, "limits", (dict,), "a table", line), line)
        merged = v.increasing({**glimits.as_dict(), **own}, f"{label} limits", line)
        raised = [n for n in own if own[n] > getattr(glimits, n)]
        if raised and not kw.get("reason"):
            raise v.fail(
                line, f"{label} raises {', '.join(raised)} above the global limit; add a 'reason' saying why",
            )
        kw["limits"] = {n: getattr(merged, n) for n in own}
    return ComponentSpec(**kw)
