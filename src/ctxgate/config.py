"""Loading and validating ctxgate configuration (SPEC §4)."""
from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxgate import encodings
from ctxgate.errors import FatalError
from ctxgate.tomllines import Locator

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


def _positive(x: float) -> bool:
    return 0 < x < math.inf  # TOML allows inf and nan


_PLANNING_TYPES: dict[str, tuple[tuple[type, ...], str, Callable[[Any], bool]]] = {
    "safety_margin": ((int,), "a whole number ≥ 0", lambda x: x >= 0),
    "context_budget": ((int,), "a positive whole number", _positive),
    "project_budget": ((int,), "a positive whole number", _positive),
    "tokens_per_line": ((int, float), "a positive number", _positive),
}


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _suggest(key: str, valid: tuple[str, ...]) -> str:
    import difflib  # error path only

    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys: {', '.join(valid)}"


class _Validator:
    def __init__(self, source: str, loc: Locator) -> None:
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
            raise self.fail(self.loc.key_line(key, after), f"{key!r} must be {desc}, got {_toml_repr(value)}")
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

    def increasing(self, limits: Mapping[str, int], what: str, own: Mapping[str, int],
                   after: int | None) -> Limits:
        """Limits in strictly increasing order; *own* are the keys written here (for the line)."""
        values = [limits[n] for n in LIMIT_NAMES]
        for a, b, va, vb in zip(LIMIT_NAMES, LIMIT_NAMES[1:], values, values[1:]):
            if not va < vb:
                key = b if b in own else a
                line = self.loc.key_line(key, after) if key in own else after
                raise self.fail(line, f"{what}: {a} ({va:,}) must be below {b} ({vb:,}); "
                                      "limits must increase: optimal < warning < split < emergency")
        return Limits(*values)


def parse(text: str, source: str, *, pyproject: bool = False) -> Config | None:
    """Parse config text; None when a pyproject.toml has no [tool.ctxgate]."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        msg = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(e))
        line = m.group(1) if m else str(max(1, len(text.splitlines())))
        where = f"{source}:{line}"
        raise FatalError(f"{where}: invalid TOML: {msg}") from None
    prefix = ""
    if pyproject:
        tool = doc.get("tool")
        if not isinstance(tool, dict) or "ctxgate" not in tool:
            return None
        doc = tool["ctxgate"]
        prefix = "tool.ctxgate."
        if not isinstance(doc, dict):
            raise FatalError(f"{source}: [tool.ctxgate] must be a table")
    loc = Locator(text, prefix)
    v = _Validator(source, loc)
    v.check_keys(doc, TOP_KEYS, "the configuration", None)

    kw: dict[str, Any] = {}
    if "encoding" in doc:
        name = v.typed(doc, "encoding", (str,), "an encoding name such as 'o200k_base'", None,
                       lambda s: bool(s.strip()))
        if not encodings.known(name):
            raise v.fail(loc.key_line("encoding"), encodings.unknown_message(name))
        kw["encoding"] = name
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
        kw["scale"] = float(v.typed(doc, "scale", (int, float), "a positive number", None, _positive))
    for key in ("exclude", "tests", "context"):
        kw[key] = v.str_list(doc, key, None)

    own_limits: dict[str, int] = {}
    limits_line = loc.table_line("limits")
    if "limits" in doc:
        table = v.typed(doc, "limits", (dict,), "a table", None)
        own_limits = v.limits(table, limits_line)
    limits = v.increasing({**DEFAULT_LIMITS, **own_limits}, "[limits]", own_limits, limits_line)
    kw["limits"] = limits

    if "planning" in doc:
        table = v.typed(doc, "planning", (dict,), "a table", None)
        pl = loc.table_line("planning")
        v.check_keys(table, PLANNING_KEYS, "[planning]", pl)
        pkw = {}
        for key in PLANNING_KEYS:
            if key in table:
                types, desc, check = _PLANNING_TYPES[key]
                pkw[key] = v.typed(table, key, types, desc, pl, check)
        kw["planning"] = Planning(**pkw)

    comps = doc.get("component", [])
    if not isinstance(comps, list) or not all(isinstance(c, dict) for c in comps):
        raise v.fail(loc.table_line("component"), "'component' must be written as [[component]] tables")
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
        merged = v.increasing({**glimits.as_dict(), **own}, f"{label} limits", own, line)
        raised = [n for n in LIMIT_NAMES if n in own and own[n] > getattr(glimits, n)]
        if raised and not kw.get("reason"):
            raise v.fail(
                v.loc.key_line("limits", line) or line,
                f"{label} raises {', '.join(raised)} above the global limit; add a 'reason' saying why",
            )
        kw["limits"] = {n: getattr(merged, n) for n in own}
    return ComponentSpec(**kw)
