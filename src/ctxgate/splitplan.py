"""Proposing a split of one component along directory boundaries (`split-plan`).

A directory that fits the target becomes one item; a bigger one is split
recursively. The items of one directory (its fitting subdirectories and its
loose files) are bin-packed, first fit by decreasing size, into parts.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from ctxgate.budget import usage
from ctxgate.measure import Measurement
from ctxgate.ownership import Component, dir_pattern, directories, literal


@dataclass
class _Dir:
    path: str  # "" for the repository root
    files: dict[str, int] = field(default_factory=dict)  # direct files -> packing weight
    dirs: dict[str, _Dir] = field(default_factory=dict)
    weight: int = 0


@dataclass(frozen=True)
class _Item:
    label: str  # relative to the component root, for names
    patterns: tuple[str, ...]
    files: tuple[str, ...]
    weight: int


@dataclass(frozen=True)
class Part:
    name: str
    patterns: tuple[str, ...]
    files: tuple[str, ...]
    tokens: int  # counted tokens of its own files
    context_tokens: int
    oversized: bool  # a single file that alone exceeds the target

    @property
    def footprint(self) -> int:
        return self.tokens + self.context_tokens


@dataclass(frozen=True)
class Plan:
    component: Component
    target: int
    footprint: int  # the component's, as every report measures it
    root: str  # the deepest directory holding all of the component's files
    parts: tuple[Part, ...]


def _collapse(node: _Dir) -> _Dir:
    while not node.files and len(node.dirs) == 1:
        node = next(iter(node.dirs.values()))
    return node


def _label(path: str, root: str) -> str:
    rel = path[len(root) + 1:] if root and path.startswith(root + "/") else path
    return rel.replace("/", "-")


def _pack(items: list[_Item], capacity: int) -> list[list[_Item]]:
    bins: list[tuple[list[int], list[_Item]]] = []
    for item in sorted(items, key=lambda i: (-i.weight, i.patterns)):
        for load, members in bins:
            if load[0] + item.weight <= capacity:
                load[0] += item.weight
                members.append(item)
                break
        else:
            bins.append(([item.weight], [item]))
    return [members for _, members in bins]


class _Planner:
    def __init__(self, root: str, capacity: int, claimable: Callable[[str], bool]) -> None:
        self.root = root
        self.capacity = capacity
        self.claimable = claimable
        self.oversized: set[str] = set()

    def directory(self, node: _Dir) -> list[list[_Item]]:
        groups: list[list[_Item]] = []
        items: list[_Item] = []
        for name in sorted(node.dirs):
            sub = node.dirs[name]
            top = _collapse(sub)
            if sub.weight <= self.capacity and self.claimable(top.path):
                items.append(_Item(_label(top.path, self.root), (dir_pattern(top.path),),
                                   tuple(_files(top)), top.weight))
            else:
                groups += self.directory(sub)
        loose = sorted(node.files)
        here = _label(node.path, self.root) if node.path != self.root else ""
        if loose and sum(node.files.values()) <= self.capacity:
            items.append(_Item(f"{here}-files" if here else "files",
                               tuple(f"/{literal(p)}" for p in loose), tuple(loose),
                               sum(node.files.values())))
        else:
            for p in loose:
                item = _Item(_label(posixpath.splitext(p)[0], self.root), (f"/{literal(p)}",), (p,),
                             node.files[p])
                if item.weight > self.capacity:
                    self.oversized.add(p)
                    groups.append([item])
                else:
                    items.append(item)
        return groups + _pack(items, self.capacity)


def _files(node: _Dir) -> list[str]:
    out = list(node.files)
    for sub in node.dirs.values():
        out += _files(sub)
    return sorted(out)


def _tree(weights: dict[str, int]) -> _Dir:
    root = _Dir("")
    for path, w in weights.items():
        node = root
        node.weight += w
        parts = path.split("/")
        for i in range(len(parts) - 1):
            key = parts[i]
            if key not in node.dirs:
                node.dirs[key] = _Dir("/".join(parts[:i + 1]))
            node = node.dirs[key]
            node.weight += w
        node.files[path] = w
    return root


def _name(comp: str, items: list[_Item], taken: set[str]) -> str:
    labels = [i.label for i in items]
    label = "-".join(labels) if len(labels) <= 3 else f"{labels[0]}-{labels[1]}-and-{len(labels) - 2}-more"
    base = f"{comp}-{label}" if label else comp
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def plan(m: Measurement, comp: Component, target: int) -> Plan:
    """Parts of *comp* whose footprints are each at most *target* where files allow.

    Raises ValueError when the component's context files alone reach the target.
    """
    counted = {f.path: f for f in m.files if f.skipped is None and f.stats is not None}
    ctx_matchers = [m.context[""]] + ([m.context[comp.name]] if comp.name in m.context else [])
    ctx = {p: f.stats.tokens for p, f in counted.items() if f.stats is not None
           and any(mt.match(p) is not None for mt in ctx_matchers)}
    count_tests = m.config.count_tests
    own = {p: f for p, f in counted.items() if f.component == comp.name}
    tokens = {p: (f.stats.tokens if f.stats is not None and (count_tests or not f.test) else 0)
              for p, f in own.items()}
    ctx_total = sum(ctx.values())
    # An owned context file is packed at no weight: its tokens are already
    # reserved in every part as context, wherever it ends up.
    tree = _tree({p: 0 if p in ctx else w for p, w in tokens.items()})
    root = _collapse(tree)
    footprint = usage(m)[comp.name].footprint
    if footprint <= target:
        return Plan(comp, target, footprint, root.path, ())
    capacity = target - ctx_total
    if capacity <= 0:
        raise ValueError(f"its context files alone take {ctx_total:,} tokens, not below the target {target:,}")

    order = {c.name: i for i, c in enumerate(m.components)}
    mine = order[comp.name]
    # A directory pattern may only be proposed where it takes no file from
    # an earlier component or from nobody (later components still win).
    foreign = directories(f.path for f in m.files if f.component != comp.name
                          and (f.component is None or order.get(f.component, -1) < mine))
    planner = _Planner(root.path, capacity, lambda d: d not in foreign)
    groups = [sorted(g, key=lambda i: i.patterns) for g in planner.directory(root)]
    groups.sort(key=lambda g: g[0].patterns)
    taken = {c.name for c in m.components if c.name != comp.name}
    parts = []
    for g in groups:
        files = tuple(sorted(f for i in g for f in i.files))
        fileset = set(files)
        parts.append(Part(
            name=_name(comp.name, g, taken),
            patterns=tuple(p for i in g for p in i.patterns), files=files,
            tokens=sum(tokens[f] for f in files),
            context_tokens=sum(t for p, t in ctx.items() if p not in fileset),
            oversized=any(f in planner.oversized for f in files),
        ))
    return Plan(comp, target, footprint, root.path, tuple(parts))
