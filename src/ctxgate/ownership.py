"""Which component owns a path, and why (SPEC §2)."""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pathspec

from ctxgate.config import Config, ComponentSpec, Limits
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


def _merge(spec: ComponentSpec | None, name: str, patterns: tuple[str, ...], origin: str,
           cfg: Config) -> Component:
    if spec is None:
        return Component(name=name, patterns=patterns, origin=origin, limits=cfg.limits)
    limits = Limits(**{**cfg.limits.as_dict(), **spec.limits})
    return Component(
        name=name, patterns=patterns, origin=origin, limits=limits, kind=spec.kind,
        level=spec.level, estimate=spec.estimate, reason=spec.reason, context=spec.context,
        tests=spec.tests, exclude=spec.exclude,
    )


def _where(cfg: Config, spec: ComponentSpec) -> str:
    return f"{cfg.source}:{spec.line}" if spec.line else str(cfg.source)


def resolve(cfg: Config, paths: Sequence[str]) -> list[Component]:
    """Expand the config into components in precedence order (last wins)."""
    dirs = directories(paths)
    explicit = {s.name for s in cfg.components if s.name is not None and s.paths}
    described = {s.name: s for s in cfg.components if s.name is not None and not s.paths}
    out: list[Component] = []
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
                out.append(_merge(described.get(name), name, (f"/{d}/",),
                                  f"each = {spec.each!r} ({_where(cfg, spec)})", cfg))
        elif spec.paths:
            assert spec.name is not None
            out.append(_merge(spec, spec.name, spec.paths, f"component {spec.name!r} ({_where(cfg, spec)})", cfg))
    if not discovered and not explicit:
        for d in sorted(d for d in dirs if "/" not in d):
            out.append(_merge(described.get(d), d, (f"/{d}/",), "top-level directory (no components configured)", cfg))
    names: dict[str, Component] = {}
    for comp in out:
        if comp.name in names:
            raise FatalError(
                f"two components are named {comp.name!r} ({names[comp.name].origin} and {comp.origin}); "
                "give one of them an explicit [[component]] with another name"
            )
        names[comp.name] = comp
    for name, spec in described.items():
        if name not in names:
            raise FatalError(
                f"{_where(cfg, spec)}: component {name!r} has no 'paths' and no discovered directory "
                "has that name; add paths = [...] or fix the name"
            )
    return out


class Owners:
    """One GitIgnoreSpec over every component's patterns, in config order.

    pathspec reports the index of the deciding pattern, which gives the
    CODEOWNERS rule (last matching pattern wins) and the reason for `explain`.
    """

    def __init__(self, components: Sequence[Component]) -> None:
        self._owner_of_pattern: list[int] = []
        lines: list[str] = []
        for i, comp in enumerate(components):
            for pat in comp.patterns:
                lines.append(pat)
                self._owner_of_pattern.append(i)
        self._lines = lines
        self._components = components
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._memo: dict[str, Decision] = {}

    def decide(self, path: str) -> Decision:
        hit = self._memo.get(path)
        if hit is None:
            res = self._spec.check_file(path)
            if res.index is None or not res.include:
                hit = Decision(None, None, None if res.index is None else self._lines[res.index])
            else:
                comp = self._components[self._owner_of_pattern[res.index]]
                hit = Decision(comp.name, comp.origin, self._lines[res.index])
            self._memo[path] = hit
        return hit


class Matcher:
    """A gitignore-style pattern list with memoised answers."""

    def __init__(self, patterns: Sequence[str], *, anchored: bool = False) -> None:
        if anchored:
            patterns = [p if p.startswith(("/", "!")) else "/" + p for p in patterns]
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
