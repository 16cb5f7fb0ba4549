"""`ctxgate init`: draft a ctxgate.toml from the repository's workspaces."""
from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Mapping

from ctxgate import config as config_mod
from ctxgate import tomlout
from ctxgate.budget import Usage, tier, usage
from ctxgate.discover import Discovery, Entry, discover
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.measure import Classifier, components_for, measure
from ctxgate.snapshot import Target

CONFIG_FILE = "ctxgate.toml"
# Lock files are large, generated, and never read by an agent.
EXCLUDE = ("**/*.lock", "**/package-lock.json", "**/pnpm-lock.yaml", "**/go.sum")
FALLBACK = Entry("*", None, (), ("top-level directories",))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="discover components and draft ctxgate.toml")
    p.add_argument("--write", action="store_true",
                   help=f"write {CONFIG_FILE} into the repository root (never overwrites)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the token cache")
    p.set_defaults(func=run)


def _member_line(name: str, u: Usage | None, limits: config_mod.Limits) -> str:
    if u is None:
        return f"{name}: no files"
    return f"{name}: {u.footprint:,} tokens ({tier(u.footprint, limits)})"


def render(found: Discovery, entries: tuple[Entry, ...], sizes: Mapping[str, Usage] | None,
           limits: config_mod.Limits, encoding: str) -> str:
    """The config text; without *sizes* it has no footprint comments (used to measure it)."""
    lines = [f"# {CONFIG_FILE} drafted by `ctxgate init` from: "
             + (", ".join(found.sources) if found.sources else "the top-level directories (no workspace found)")
             + ".",
             f"# Footprints in comments are the work tree's, in {encoding} tokens. Limits are the defaults;",
             "# raise one per component only with a reason (limits = { split = 150_000 }, reason = \"...\").",
             f"encoding = {tomlout.string(encoding)}",
             'fail_on = "split"',
             f"exclude = {tomlout.array(EXCLUDE)}",
             "",
             "# [limits]",
             *(f"# {n} = {v:_}" for n, v in limits.as_dict().items())]
    names = sorted(sizes) if sizes is not None else []
    for e in entries:
        lines.append("")
        if e.each is not None:
            # `each` names a component after its directory's basename.
            members = [m.rsplit("/", 1)[-1] for m in e.members] if e.members else names
            lines.append(f"# {', '.join(e.sources)}")
            lines += [f"#   {_member_line(n, sizes.get(n) if sizes else None, limits)}" for n in members]
            lines += ["[[component]]", f"each = {tomlout.string(e.each)}"]
        else:
            assert e.name is not None
            info = f"{', '.join(e.sources)}"
            if sizes is not None:
                info = f"{_member_line(e.name, sizes.get(e.name), limits)}; {info}"
            lines += [f"# {info}", "[[component]]", f"name = {tomlout.string(e.name)}",
                      f"paths = {tomlout.array([f'/{e.members[0]}/'])}"]
    return "\n".join(lines) + "\n"


def existing_config(root: str) -> str | None:
    for name in (CONFIG_FILE, ".ctxgate.toml"):
        if os.path.lexists(os.path.join(root, name)):
            return name
    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    tool = doc.get("tool")
    return "pyproject.toml [tool.ctxgate]" if isinstance(tool, dict) and "ctxgate" in tool else None


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        if args.write:
            have = existing_config(ws.root)
            if have is not None:
                raise FatalError(f"{have} already exists and init never overwrites a config; "
                                 "run `ctxgate init` without --write and merge its output by hand")
        snap = ws.snapshot(Target("worktree"))
        found = discover([e.path for e in snap.entries], snap.read_path)
        for w in found.warnings:
            print(f"ctxgate: warning: {w}", file=sys.stderr)
        entries = found.entries or (FALLBACK,)
        defaults = config_mod.Config(source=None)
        draft = render(found, entries, None, defaults.limits, defaults.encoding)
        cfg = config_mod.parse(draft, CONFIG_FILE)
        assert cfg is not None
        try:
            comps = components_for(snap, cfg)
        except FatalError:
            raise FatalError("found no directory with files to make a component of; "
                             "add files (or write ctxgate.toml by hand)") from None
        m = measure(snap, Classifier(cfg, comps), comps, ws.cache)
        text = render(found, entries, usage(m), cfg.limits, cfg.encoding)
        if not args.write:
            sys.stdout.write(text)
            return 0
        path = os.path.join(ws.root, CONFIG_FILE)
        try:
            # "x" refuses an existing file even if one appeared since the check.
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
        except FileExistsError:
            raise FatalError(f"{CONFIG_FILE} already exists and init never overwrites it") from None
        except OSError as e:
            raise FatalError(f"cannot write {path}: {e.strerror}") from None
    print(f"ctxgate: wrote {path} with {len(comps)} component{'s' if len(comps) != 1 else ''}; "
          "review it, then commit it")
    return 0
