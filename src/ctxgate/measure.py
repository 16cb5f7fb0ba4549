"""From a snapshot and a config to per-file records (ownership, exclusions, counts)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ctxgate import config as config_mod
from ctxgate import git, tokens
from ctxgate.cache import BlobStats, TokenCache
from ctxgate.config import Config
from ctxgate.errors import FatalError
from ctxgate.ownership import Component, Matcher, Owners, resolve
from ctxgate.snapshot import LINGUIST, Snapshot

SKIP_KEYS = ("binary", "excluded", "generated", "submodule", "symlink")


@dataclass(frozen=True)
class FileRecord:
    path: str
    blob: str
    component: str | None
    rule: str | None  # the ownership pattern that decided
    skipped: str | None  # one of SKIP_KEYS
    why: str  # human reason for a skip
    test: bool
    stats: BlobStats | None


@dataclass(frozen=True)
class Measurement:
    snapshot: Snapshot
    config: Config
    components: tuple[Component, ...]
    files: tuple[FileRecord, ...]
    # Context patterns: global ones apply to every component.
    context: dict[str, Matcher]

    def by_path(self) -> dict[str, FileRecord]:
        return {f.path: f for f in self.files}


def load_config(snapshot: Snapshot, explicit: str | None) -> Config:
    if explicit is not None:
        try:
            with open(explicit, "rb") as f:
                text = f.read().decode("utf-8")
        except OSError as e:
            raise FatalError(f"cannot read config {explicit}: {e.strerror}; check the --config path") from None
        except UnicodeDecodeError:
            raise FatalError(f"{explicit}: not UTF-8 text; save the config as UTF-8") from None
        cfg = config_mod.parse(text, explicit, pyproject=os.path.basename(explicit) == "pyproject.toml")
        if cfg is None:
            raise FatalError(f"{explicit} has no [tool.ctxgate] table; add one or point --config elsewhere")
        return cfg
    for name in config_mod.CONFIG_NAMES:
        data = snapshot.read_path(name)
        if data is None:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FatalError(f"{name}: not UTF-8 text; save the config as UTF-8") from None
        cfg = config_mod.parse(text, name, pyproject=name == "pyproject.toml")
        if cfg is not None:
            return cfg
    return Config(source=None)


class Classifier:
    """Path-only decisions, shared by every snapshot measured with one config."""

    def __init__(self, cfg: Config, components: Sequence[Component]) -> None:
        self.cfg = cfg
        self.owners = Owners(components)
        self.exclude = Matcher(cfg.exclude)
        self.tests = Matcher(cfg.tests)
        self.own_exclude = {c.name: Matcher(c.exclude) for c in components if c.exclude}
        self.own_tests = {c.name: Matcher(c.tests) for c in components if c.tests}
        self.context = {"": Matcher(cfg.context, anchored=True)}
        self.context.update({c.name: Matcher(c.context, anchored=True) for c in components if c.context})


def measure(
    snapshot: Snapshot,
    classifier: Classifier,
    components: Sequence[Component],
    cache: TokenCache,
    *,
    progress: bool | None = None,
) -> Measurement:
    cfg = classifier.cfg
    records: list[tuple[git.Entry, str | None, str | None, str | None, str, bool]] = []
    attr_paths: list[str] = []
    for e in snapshot.entries:
        decision = classifier.owners.decide(e.path)
        owner = decision.component
        skipped: str | None = None
        why = ""
        if e.mode == git.MODE_GITLINK:
            skipped, why = "submodule", "submodule (gitlink)"
        elif e.mode == git.MODE_SYMLINK:
            skipped, why = "symlink", "symbolic link"
        else:
            pat = classifier.exclude.match(e.path)
            if pat is None and owner in classifier.own_exclude:
                pat = classifier.own_exclude[owner].match(e.path)
            if pat is not None:
                skipped, why = "excluded", f"matches exclude pattern {pat!r}"
            elif cfg.respect_gitattributes:
                attr_paths.append(e.path)
        test = False
        if skipped is None:
            test = classifier.tests.match(e.path) is not None or (
                owner in classifier.own_tests and classifier.own_tests[owner].match(e.path) is not None
            )
        records.append((e, owner, decision.pattern if owner else None, skipped, why, test))

    attrs = snapshot.attributes(attr_paths) if attr_paths else {}
    for i, (e, owner, rule, skipped, why, test) in enumerate(records):
        found = attrs.get(e.path, {}) if skipped is None else {}
        attr = next((a for a in LINGUIST if a in found and found[a] != "false"), None)
        if attr is not None:
            records[i] = (e, owner, rule, "generated", f"marked {attr} in .gitattributes", test)

    counted = [e.blob for e, _, _, skipped, _, _ in records if skipped is None]
    stats = tokens.count_blobs(counted, snapshot.read, cfg.encoding, cfg.scale, cache, progress=progress)
    files = []
    for e, owner, rule, skipped, why, test in records:
        st = stats.get(e.blob) if skipped is None else None
        if st is not None and st.binary:
            skipped, why, st = "binary", "binary (NUL byte in the first 8,000 bytes)", None
        files.append(FileRecord(e.path, e.blob, owner, rule, skipped, why, test and skipped is None, st))
    return Measurement(snapshot, cfg, tuple(components), tuple(files), classifier.context)


def components_for(snapshot: Snapshot, cfg: Config) -> list[Component]:
    return resolve(cfg, [e.path for e in snapshot.entries])
