"""Opening a repository and measuring a target (and optionally a base) in it."""
from __future__ import annotations

import sys
from dataclasses import dataclass

from ctxgate import encodings, git
from ctxgate.cache import TokenCache, cache_dir
from ctxgate.catfile import CatFile
from ctxgate.config import Config
from ctxgate.errors import FatalError
from ctxgate.incremental import Gate, gate_full, gate_incremental, worktree_changes
from ctxgate.measure import Classifier, Measurement, components_for, load_config, measure
from ctxgate.ownership import resolve
from ctxgate.snapshot import Snapshot, Target, global_attribute_files, open_snapshot


@dataclass(frozen=True)
class Pair:
    config: Config
    target: Measurement
    base: Measurement | None
    base_commit: str | None
    classifier: Classifier


class Workspace:
    """The repository, its object reader and the token cache, for one command."""

    def __init__(self, cwd: str, *, no_cache: bool = False) -> None:
        lay = git.layout(cwd)
        self.root = lay.root
        self.cat = CatFile(self.root)
        self.cache = TokenCache(None if no_cache else cache_dir(lay.common_dir))
        self.attr_files = global_attribute_files(lay.root, lay.common_dir)

    def close(self) -> None:
        self.cat.close()
        self.cache.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def target(self, *, rev: str | None, staged: bool) -> Target:
        if rev is not None:
            return Target("commit", git.resolve_commit(self.root, rev))
        return Target("index" if staged else "worktree")

    def snapshot(self, target: Target) -> Snapshot:
        return open_snapshot(self.root, target, self.cat, self.attr_files)

    def base_for(self, target: Target, base_ref: str) -> str:
        ref = git.resolve_commit(self.root, base_ref)
        tip = target.commit or git.head_commit(self.root)
        if tip is None:
            raise FatalError("--base needs a commit to compare with, and HEAD has none yet; commit first")
        return git.merge_base(self.root, ref, tip)

    def config(self, snap: Snapshot, config_path: str | None, quiet: bool) -> Config:
        cfg = load_config(snap, config_path)
        encodings.check_name(cfg.encoding)
        if cfg.source is None and not quiet:
            print("ctxgate: no ctxgate.toml, .ctxgate.toml or [tool.ctxgate] found; "
                  "one component per top-level directory (run `ctxgate init` to write a config)",
                  file=sys.stderr)
        return cfg

    def measure(self, target: Target, *, config_path: str | None, base_commit: str | None,
                quiet: bool = False, snap: Snapshot | None = None, cfg: Config | None = None) -> Pair:
        """Both sides measured file by file (what every report is built from)."""
        snap = snap or self.snapshot(target)
        cfg = cfg or self.config(snap, config_path, quiet)
        base_snap = self.snapshot(Target("commit", base_commit)) if base_commit else None
        if base_snap is not None:
            components = resolve(cfg, [e.path for e in snap.entries] + [e.path for e in base_snap.entries])
        else:
            components = components_for(snap, cfg)
        classifier = Classifier(cfg, components)
        tm = measure(snap, classifier, components, self.cache)
        bm = measure(base_snap, classifier, components, self.cache) if base_snap is not None else None
        return Pair(cfg, tm, bm, base_commit, classifier)

    def gate(self, target: Target, *, config_path: str | None, base_commit: str | None,
             quiet: bool = False) -> Gate:
        """Footprints on both sides of a change and what it touched, as cheaply as is exact.

        With a usable cache the index and commits go through stored per-tree
        summaries plus the diff; the work tree, --no-cache and the cases the
        shortcut cannot answer exactly are measured in full.
        """
        snap = self.snapshot(target)
        cfg = self.config(snap, config_path, quiet)
        if target.kind == "worktree":
            changed = worktree_changes(snap, base_commit)
        else:
            changes = git.diff_raw(self.root, base_commit or git.EMPTY_TREE, target.commit)
            if self.cache.active:
                got = gate_incremental(self.root, self.cat, self.cache, cfg, snap, base_commit, changes)
                if got is not None:
                    return got
            changed = [c.path for c in changes]
        pair = self.measure(target, config_path=config_path, base_commit=base_commit, snap=snap, cfg=cfg)
        return gate_full(pair.target, pair.base, pair.classifier, list(dict.fromkeys(changed)))
