"""The gate's measurement: the base from stored summaries, the target as the base plus the diff.

A warm hook in a large repository then costs a diff and the handful of
files it names, not a pass over every path. Whenever a shortcut could give
a different answer from measuring both sides in full (unmerged paths, a
changed .gitattributes, no usable cache), the full measurement is used.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ctxgate import git, summary
from ctxgate.budget import Totals, Usage, totals, usage
from ctxgate.cache import TokenCache
from ctxgate.catfile import CatFile, commit_info
from ctxgate.config import Config
from ctxgate.errors import FatalError
from ctxgate.measure import Classifier, FileRecord, Measurement, measure
from ctxgate.ownership import Component, directories, resolve
from ctxgate.snapshot import Snapshot, Target, is_attributes_file
from ctxgate.summary import Summary


@dataclass(frozen=True)
class Gate:
    """Footprints of every component on both sides, and what changed between them."""

    config: Config
    components: tuple[Component, ...]
    classifier: Classifier
    snapshot: Snapshot  # the target
    base: dict[str, Usage]  # empty for the empty tree
    target: dict[str, Usage]
    totals: Totals
    changed: tuple[str, ...]  # every path added, modified or deleted (a rename is both)
    records: dict[str, FileRecord]  # target-side records of the changed paths
    unowned: frozenset[str]  # counted unowned files of the target, when the config cares


def dir_paths(dirs: Iterable[str]) -> list[str]:
    """Paths that stand for directories when resolving components (only directories matter)."""
    return [f"{d}/" for d in dirs]


def tree_dirs(root: str, commit: str) -> frozenset[str]:
    out = git.run(["ls-tree", "-r", "-d", "-z", "--name-only", "--full-tree", commit], root)
    return frozenset(git.split_z(out))


def _attributes_changed(changes: Sequence[git.Change], cfg: Config) -> bool:
    return cfg.respect_gitattributes and any(
        is_attributes_file(c.path) for c in changes)


def fingerprint(cfg: Config, attr_files: Iterable[str]) -> str:
    extra: list[bytes] = []
    if cfg.respect_gitattributes:
        for path in attr_files:
            try:
                with open(path, "rb") as f:
                    extra.append(path.encode() + b"\0" + f.read())
            except OSError:
                extra.append(path.encode())
    return summary.fingerprint(cfg, extra)


class Incremental:
    """Summaries for one config: looked up, derived from a nearby tree, or measured in full."""

    def __init__(self, root: str, cat: CatFile, cache: TokenCache, cfg: Config,
                 target: Snapshot) -> None:
        self.root, self.cat, self.cache, self.cfg = root, cat, cache, cfg
        self.target = target
        self.fp = fingerprint(cfg, target.attr_files)

    def classifier(self, dirs: Iterable[str]) -> tuple[list[Component], Classifier]:
        comps = resolve(self.cfg, dir_paths(dirs))
        return comps, Classifier(self.cfg, comps)

    def load(self, tree: str) -> Summary | None:
        raw = self.cache.get_summary(tree, self.fp)
        return summary.loads(raw) if raw is not None else None

    def delta(self, s: Summary, sides: tuple[Target, Target], changes: Sequence[git.Change],
              classifier: Classifier, comps: Sequence[Component], dirs: Iterable[str]) -> tuple[Summary, Measurement]:
        """*s* (the summary of the old side) moved by *changes*; also the measurement of the new side."""
        olds = [c.old for c in changes if c.old is not None]
        news = [c.new for c in changes if c.new is not None]
        # Both sides answer attribute questions as the target does: callers
        # make sure no .gitattributes differs between them.
        if self.cfg.respect_gitattributes:
            # One check-attr for both sides (they share the target's answers).
            self.target.attributes([e.path for e in olds + news])
        old_snap = Snapshot(self.root, sides[0], self.cat, olds, attr_source=self.target)
        new_snap = Snapshot(self.root, sides[1], self.cat, news, self.target.local, attr_source=self.target)
        mo = measure(old_snap, classifier, comps, self.cache)
        mn = measure(new_snap, classifier, comps, self.cache)
        return summary.apply(s, mo, mn, dirs), mn

    def base_summary(self, commit: str, tree: str, parents: Sequence[str],
                     extra_dirs: Iterable[str]) -> Summary:
        """The summary of *commit*: stored, derived from its parent or the last tree seen, or measured."""
        found = self.load(tree)
        if found is not None:
            return found
        dirs = tree_dirs(self.root, commit)
        candidates = [info[1] for p in parents[:1] if (info := commit_info(self.cat, p)) is not None]
        candidates += [t for t in self.cache.recent_trees(self.fp) if t not in candidates]
        for near in candidates:
            s0 = self.load(near)
            if s0 is None:
                continue
            changes = git.diff_raw(self.root, near, commit)
            if _attributes_changed(changes, self.cfg):
                break
            try:
                comps, classifier = self.classifier(s0.dirs | dirs | set(extra_dirs))
            except FatalError:
                break  # the union of both trees names components differently: measure in full
            derived, _ = self.delta(s0, (Target("commit", near), Target("commit", commit)), changes,
                                    classifier, comps, dirs)
            self.cache.put_summary(tree, self.fp, summary.dumps(derived))
            return derived
        comps, classifier = self.classifier(dirs | set(extra_dirs))
        m = measure(Snapshot(self.root, Target("commit", commit), self.cat, attr_files=self.target.attr_files),
                    classifier, comps, self.cache)
        full = summary.of(m, dirs)
        self.cache.put_summary(tree, self.fp, summary.dumps(full))
        return full


def gate_incremental(root: str, cat: CatFile, cache: TokenCache, cfg: Config, snap: Snapshot,
                     base_commit: str | None, changes: Sequence[git.Change]) -> Gate | None:
    """The gate's numbers from summaries and the diff (*changes*, base to target); None when only
    a full measurement is exact."""
    target = snap.target
    if any(c.status == "U" for c in changes) or _attributes_changed(changes, cfg):
        return None
    inc = Incremental(root, cat, cache, cfg, snap)
    new_dirs = directories(c.path for c in changes if c.new is not None)
    if base_commit is None:
        s_base = summary.empty()
    else:
        info = commit_info(cat, base_commit)
        if info is None:
            raise FatalError(f"cannot read commit {base_commit[:12]}; the repository may be incomplete")
        s_base = inc.base_summary(base_commit, info[1], info[2], new_dirs)
    dirs = s_base.dirs | new_dirs
    comps, classifier = inc.classifier(dirs)
    s_target, mn = inc.delta(s_base, (Target("commit", base_commit), target), changes, classifier, comps, dirs)
    if target.kind == "commit" and target.commit is not None and cache.active:
        info = commit_info(cat, target.commit)
        if info is not None and cache.get_summary(info[1], inc.fp) is None:
            exact = dataclasses.replace(s_target, dirs=tree_dirs(root, target.commit))
            cache.put_summary(info[1], inc.fp, summary.dumps(exact))
    return Gate(
        config=cfg, components=tuple(comps), classifier=classifier, snapshot=snap,
        base=summary.usage_of(s_base, mn), target=summary.usage_of(s_target, mn),
        totals=s_target.totals, changed=tuple(dict.fromkeys(c.path for c in changes)),
        records={f.path: f for f in mn.files}, unowned=s_target.unowned,
    )


def gate_full(target_m: Measurement, base_m: Measurement | None, classifier: Classifier,
              changed: Sequence[str]) -> Gate:
    """The gate's numbers from two full measurements."""
    changed_set = set(changed)
    return Gate(
        config=target_m.config, components=target_m.components,
        classifier=classifier, snapshot=target_m.snapshot,
        base=usage(base_m) if base_m is not None else {}, target=usage(target_m), totals=totals(target_m),
        changed=tuple(changed), records={f.path: f for f in target_m.files if f.path in changed_set},
        unowned=summary.unowned_paths(target_m),
    )


def worktree_changes(snap: Snapshot, base_commit: str | None) -> list[str]:
    """Paths that differ between *base_commit* and the work tree *snap*, untracked files included."""
    changes = git.diff_raw(snap.root, base_commit or git.EMPTY_TREE, None, cached=False)
    return list(dict.fromkeys([c.path for c in changes] + [p.rstrip("/") for p in snap.untracked]))
