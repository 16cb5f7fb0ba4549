"""Finding components in a repository's workspace manifests (`ctxgate init`).

Only the manifests at the repository root are read, and only from the file
list ctxgate measures, so an ignored `node_modules/` never shows up.
"""
from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ctxgate.ownership import directories

Reader = Callable[[str], bytes | None]
Parser = Callable[[bytes, list[str]], tuple[list[str], list[str]]]

PLAIN_DIRS = ("components", "packages", "crates")
CARGO = "Cargo workspace members (Cargo.toml)"
NPM = "npm/yarn workspaces (package.json)"
PNPM = "pnpm workspace (pnpm-workspace.yaml)"
UV = "uv workspace members (pyproject.toml)"
GO = "go.work"


@dataclass(frozen=True)
class Entry:
    """One `[[component]]` to write: an `each` glob, or one named directory."""

    each: str | None
    name: str | None
    members: tuple[str, ...]  # the directories it makes components of
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Discovery:
    entries: tuple[Entry, ...]
    sources: tuple[str, ...]  # what was found, in a fixed order
    warnings: tuple[str, ...]


def _norm(glob: str) -> str:
    g = glob.strip()
    while g.startswith("./"):
        g = g[2:]
    return posixpath.normpath(g).rstrip("/") if g else ""


def _match(segs: Sequence[str], parts: Sequence[str]) -> bool:
    if not segs:
        return not parts
    # Wildcards skip hidden directories, as the package managers' globs do.
    if segs[0] == "**":
        visible = next((i for i, p in enumerate(parts) if p.startswith(".")), len(parts))
        return any(_match(segs[1:], parts[i:]) for i in range(visible + 1))
    if not parts:
        return False
    if parts[0].startswith(".") and not segs[0].startswith("."):
        return False
    return fnmatch.fnmatchcase(parts[0], segs[0]) and _match(segs[1:], parts[1:])


def expand(globs: Iterable[str], dirs: Iterable[str], marker: str, files: set[str],
           exclude: Iterable[str] = ()) -> list[str]:
    """Directories matching *globs* (a leading '!' excludes) that hold *marker*."""
    inc, exc = [], [_norm(g) for g in exclude]
    for g in globs:
        if g.strip().startswith("!"):
            exc.append(_norm(g.strip()[1:]))
        else:
            inc.append(_norm(g))
    out = []
    for d in sorted(dirs):
        parts = d.split("/")
        if "node_modules" in parts or f"{d}/{marker}" not in files:
            continue
        if any(g not in ("", ".") and _match(g.split("/"), parts) for g in inc) and not any(
                g and _match(g.split("/"), parts) for g in exc):
            out.append(d)
    return out


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _toml(data: bytes, name: str, warnings: list[str]) -> dict[str, Any]:
    try:
        return tomllib.loads(data.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError as e:
        warnings.append(f"{name}: invalid TOML ({e}); skipped")
        return {}


def _cargo(data: bytes, warnings: list[str]) -> tuple[list[str], list[str]]:
    ws = _toml(data, "Cargo.toml", warnings).get("workspace")
    if not isinstance(ws, dict):
        return [], []
    return _strings(ws.get("members")), _strings(ws.get("exclude"))


def _uv(data: bytes, warnings: list[str]) -> tuple[list[str], list[str]]:
    tool = _toml(data, "pyproject.toml", warnings).get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    ws = uv.get("workspace") if isinstance(uv, dict) else None
    if not isinstance(ws, dict):
        return [], []
    return _strings(ws.get("members")), _strings(ws.get("exclude"))


def _npm(data: bytes, warnings: list[str]) -> list[str]:
    try:
        doc = json.loads(data.decode("utf-8", "replace"))
    except ValueError as e:
        warnings.append(f"package.json: invalid JSON ({e}); skipped")
        return []
    ws = doc.get("workspaces") if isinstance(doc, dict) else None
    if isinstance(ws, dict):
        ws = ws.get("packages")
    return _strings(ws)


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"`":
        return s[1:-1]
    return s


def _yaml_item(s: str) -> str:
    s = s.strip()
    if s[:1] in "'\"":
        end = s.find(s[0], 1)
        return s[1:end] if end > 0 else s[1:]
    return s.split(" #", 1)[0].strip()


def pnpm_packages(text: str) -> list[str]:
    """The `packages:` list of pnpm-workspace.yaml (block or flow style)."""
    out: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^packages\s*:\s*(.*)$", line)
        if not m:
            continue
        rest = m.group(1).strip()
        if rest.startswith("["):
            body = rest[1:rest.rfind("]")] if "]" in rest else rest[1:]
            return [_yaml_item(x) for x in body.split(",") if x.strip()]
        for item in lines[i + 1:]:
            stripped = item.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if not item[:1].isspace() and not stripped.startswith("-"):
                break  # the next top-level key
            if stripped.startswith("-"):
                value = _yaml_item(stripped[1:])
                if value:
                    out.append(value)
        break
    return out


def go_work_uses(text: str) -> list[str]:
    text = re.sub(r"//[^\n]*", "", text)
    out: list[str] = []
    for m in re.finditer(r"(?m)^\s*use\s*(\(([^)]*)\)|(\S+|\"[^\"\n]*\"))", text):
        block = m.group(2) if m.group(2) is not None else m.group(3)
        out += [_unquote(x) for x in re.findall(r'"[^"\n]*"|`[^`]*`|\S+', block)]
    return out


def _text(parse: Callable[[str], list[str]]) -> Parser:
    return lambda data, warnings: (parse(data.decode("utf-8", "replace")), [])


# (manifest at the root, what it is, the file each member directory must hold,
# its parser giving member globs and excluded globs)
WORKSPACES: tuple[tuple[str, str, str, Parser], ...] = (
    ("Cargo.toml", CARGO, "Cargo.toml", _cargo),
    ("package.json", NPM, "package.json", lambda data, warnings: (_npm(data, warnings), [])),
    ("pnpm-workspace.yaml", PNPM, "package.json", _text(pnpm_packages)),
    ("pyproject.toml", UV, "pyproject.toml", _uv),
    ("go.work", GO, "go.mod", _text(go_work_uses)),
)


def discover(paths: Sequence[str], read: Reader) -> Discovery:
    files = set(paths)
    dirs = directories(paths)
    warnings: list[str] = []
    found: dict[str, list[str]] = {}
    sources: list[str] = []

    def add(source: str, members: list[str]) -> None:
        if members:
            sources.append(source)
        for d in members:
            found.setdefault(d, []).append(source)

    for manifest, source, marker, parse in WORKSPACES:
        data = read(manifest) if manifest in files else None
        if data is not None:
            inc, exc = parse(data, warnings)
            add(source, expand(inc, dirs, marker, files, exc))
    for plain in PLAIN_DIRS:
        add(f"{plain}/*", sorted(d for d in dirs if posixpath.dirname(d) == plain))
    return Discovery(layout(found, dirs), tuple(sources), tuple(warnings))


def _unique(d: str, taken: set[str]) -> str:
    """A name for *d* whose basename is shared: more of its path, from the end."""
    parts = d.split("/")
    for k in range(min(2, len(parts)), len(parts) + 1):
        name = "-".join(parts[-k:])
        if name not in taken:
            return name
    name, n = "-".join(parts), 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def layout(found: dict[str, list[str]], dirs: set[str]) -> tuple[Entry, ...]:
    """`each` for a directory whose subdirectories are all components, else named entries."""
    base = {d: posixpath.basename(d) for d in found}
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    by_parent: dict[str, list[str]] = {}
    for d in sorted(found):
        by_parent.setdefault(posixpath.dirname(d), []).append(d)
    entries: list[tuple[int, str, Entry]] = []
    explicit: list[str] = []
    for parent, members in by_parent.items():
        children = sorted(d for d in dirs if posixpath.dirname(d) == parent)
        # `each` names components after basenames, so colliding ones need names of their own;
        # it also makes every future subdirectory a component, which suits a directory of
        # components, not one member or the subdirectories of a component.
        plain = any(s.endswith("/*") for d in members for s in found[d])
        if (parent and parent not in found and members == children and (plain or len(members) > 1)
                and not any(counts[base[d]] > 1 for d in members) and not any(ch in parent for ch in "*?[")):
            srcs = tuple(dict.fromkeys(s for d in members for s in found[d]))
            entries.append((parent.count("/") + 1, parent + "/*",
                            Entry(f"{parent}/*", None, tuple(members), srcs)))
        else:
            explicit += members
    taken = {base[d] for d in found if counts[base[d]] == 1}
    for d in explicit:
        name = base[d]
        if counts[name] > 1:
            name = _unique(d, taken)
            taken.add(name)
        entries.append((d.count("/"), d, Entry(None, name, (d,), tuple(found[d]))))
    # Deeper directories later: for nested members the inner one wins (last match).
    entries.sort(key=lambda t: (t[0], t[1]))
    return tuple(e for _, _, e in entries)
