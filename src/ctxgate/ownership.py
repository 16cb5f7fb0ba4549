"""Which component owns a path, and why (SPEC §2)."""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pathspec

from ctxgate.config import LIMIT_NAMES, ComponentSpec, Config, Limits
from ctxgate.errors import FatalError


@dataclass(frozen=True)
class Component:
    name: str
    patterns: tuple[str, ...]
    origin: str  # the config entry that created it, for `explain`
    limits: Limits
    kind: str | None = None
    level: int | None = None
    estimate: int | None = None
    reason: str | None = None
    context: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    component: str | None
    origin: str | None
    pattern: str | None


def directories(paths: Iterable[str]) -> set[str]:
    dirs: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return dirs


def glob_dirs(glob: str, dirs: Iterable[str]) -> list[str]:
    want = glob.strip("/").split("/")
    return sorted(
        d for d in dirs
        if len(d.split("/")) == len(want)
        and all(fnmatch.fnmatchcase(seg, pat) for seg, pat in zip(d.split("/"), want))
    )


def literal(path: str) -> str:
    """*path* as a literal gitignore pattern body: glob characters and trailing spaces escaped."""
    out = "".join("\\" + ch if ch in "\\*?[" else ch for ch in path)
    stripped = out.rstrip(" ")
    # Trailing spaces are dropped by gitignore unless escaped.
    return stripped + "\\ " * (len(out) - len(stripped))


def dir_pattern(directory: str) -> str:
    """An anchored pattern for exactly *directory*."""
    return f"/{literal(directory)}/"


def _union(*lists: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for seq in lists for p in seq))


def _where(cfg: Config, spec: ComponentSpec) -> str:
    return f"{cfg.source}:{spec.line}" if spec.line else str(cfg.source)


def _merge(specs: Sequence[ComponentSpec], name: str, patterns: tuple[str, ...], origin: str,
           cfg: Config) -> Component:
    """A component from the entries describing it, later entries overriding earlier ones.

    For a discovered component these are its `each` entry (defaults for every
    directory it finds) and then its name-only entry.
    """
    limits = cfg.limits.as_dict()
    for spec in specs:
        limits.update(spec.limits)
    values = [limits[n] for n in LIMIT_NAMES]
    if any(a >= b for a, b in zip(values, values[1:])):
        raise FatalError(
            f"{_where(cfg, specs[-1])}: component {name!r}: its limits "
            f"({', '.join(f'{n} {v:,}' for n, v in zip(LIMIT_NAMES, values))}) must increase; "
            "set them together in one entry"
        )
    kinds = [s.kind for s in specs if s.kind is not None]
    levels = [s.level for s in specs if s.level is not None]
    estimates = [s.estimate for s in specs if s.estimate is not None]
    reasons = [s.reason for s in specs if s.reason is not None]
    return Component(
        name=name, patterns=patterns, origin=origin, limits=Limits(*values),
        kind=kinds[-1] if kinds else None, level=levels[-1] if levels else None,
        estimate=estimates[-1] if estimates else None, reason=reasons[-1] if reasons else None,
        context=_union(*(s.context for s in specs)), tests=_union(*(s.tests for s in specs)),
        exclude=_union(*(s.exclude for s in specs)),
    )


def resolve(cfg: Config, paths: Sequence[str]) -> list[Component]:
    """Expand the config into components in precedence order (last wins)."""
    dirs = directories(paths)
    explicit = {s.name for s in cfg.components if s.name is not None and s.paths}
    described = {s.name: s for s in cfg.components if s.name is not None and not s.paths}
    out: list[tuple[Component, str]] = []
    discovered = False
    for spec in cfg.components:
        if spec.each is not None:
            discovered = True
            found = glob_dirs(spec.each, dirs)
            if not found:
                raise FatalError(
                    f"{_where(cfg, spec)}: each = {spec.each!r} matches no directory with tracked files; "
                    "fix the glob or remove the entry"
                )
            for d in found:
                name = d.rsplit("/", 1)[-1]
                if name in explicit:
                    continue
                specs = [spec] + ([described[name]] if name in described else [])
                comp = _merge(specs, name, (dir_pattern(d),), f"each = {spec.each!r} ({_where(cfg, spec)})", cfg)
                out.append((comp, _where(cfg, spec)))
        elif spec.paths:
            assert spec.name is not None
            comp = _merge([spec], spec.name, spec.paths, f"component {spec.name!r} ({_where(cfg, spec)})", cfg)
            out.append((comp, _where(cfg, spec)))
    if not discovered and not explicit:
        for d in sorted(d for d in dirs if "/" not in d):
            specs = [described[d]] if d in described else []
            origin = "top-level directory (no components configured)"
            out.append((_merge(specs, d, (dir_pattern(d),), origin, cfg), str(cfg.source)))
    names: dict[str, Component] = {}
    for comp, where in out:
        if comp.name in names:
            raise FatalError(
                f"{where}: two components are named {comp.name!r} ({names[comp.name].origin} and {comp.origin}); "
                "give one of them an explicit [[component]] with another name"
            )
        names[comp.name] = comp
    for name, spec in described.items():
        if name not in names:
            raise FatalError(
                f"{_where(cfg, spec)}: component {name!r} has no 'paths' and no discovered directory "
                "has that name; add paths = [...] or fix the name"
            )
    return [comp for comp, _ in out]


class Owners:
    """Which component owns a path: the CODEOWNERS rule over gitignore patterns.

    Each component's patterns form their own GitIgnoreSpec, so a negation
    (`!path`) takes a file out of that component only; the file then falls to
    the last earlier component that claims it, or stays unowned.  Because
    components are kept in config order, the last component that claims a
    path owns it through the last matching pattern in the config.
    """

    def __init__(self, components: Sequence[Component]) -> None:
        self._components = components
        self._specs = [pathspec.GitIgnoreSpec.from_lines(c.patterns) for c in components]
        self._memo: dict[str, Decision] = {}

    def decide(self, path: str) -> Decision:
        hit = self._memo.get(path)
        if hit is None:
            hit = self._decide(path)
            self._memo[path] = hit
        return hit

    def _decide(self, path: str) -> Decision:
        negated: Decision | None = None
        for comp, spec in zip(reversed(self._components), reversed(self._specs)):
            res = spec.check_file(path)
            if res.index is None:
                continue
            if res.include:
                return Decision(comp.name, comp.origin, comp.patterns[res.index])
            if negated is None:
                negated = Decision(None, comp.origin, comp.patterns[res.index])
        return negated or Decision(None, None, None)


def _anchor(pattern: str) -> str:
    neg = "!" if pattern.startswith("!") else ""
    body = pattern[len(neg):]
    return neg + (body if body.startswith("/") else "/" + body)


class Matcher:
    """A gitignore-style pattern list with memoised answers."""

    def __init__(self, patterns: Sequence[str], *, anchored: bool = False) -> None:
        if anchored:
            patterns = [_anchor(p) for p in patterns]
        self.patterns = tuple(patterns)
        self._spec = pathspec.GitIgnoreSpec.from_lines(self.patterns) if patterns else None
        self._memo: dict[str, str | None] = {}

    def match(self, path: str) -> str | None:
        """The deciding pattern when *path* matches, else None."""
        if self._spec is None:
            return None
        if path not in self._memo:
            res = self._spec.check_file(path)
            self._memo[path] = self.patterns[res.index] if res.include and res.index is not None else None
        return self._memo[path]
