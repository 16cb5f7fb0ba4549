"""`ctxgate history`: each component's footprint along first-parent history."""
from __future__ import annotations

import argparse
import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ctxgate import git
from ctxgate.budget import totals, usage
from ctxgate.cache import BlobStats, TokenCache
from ctxgate.commands.common import add_common, positive, write

from ctxgate.config import Config
from ctxgate.engine import Workspace
from ctxgate.errors import FatalError
from ctxgate.measure import Classifier, measure
from ctxgate.ownership import resolve
from ctxgate.report.json_report import dump
from ctxgate.report.markdown import md_escape, md_table
from ctxgate.snapshot import Target

FORMATS = ("csv", "json", "markdown")
DEFAULT_MAX_COUNT = 50


@dataclass(frozen=True)
class Point:
    commit: str
    date: str  # committer date, ISO 8601
    subject: str
    footprints: dict[str, int]
    total_tokens: int  # every counted file, owned or not


@dataclass(frozen=True)
class History:
    config: Config
    config_commit: str
    components: tuple[str, ...]
    points: tuple[Point, ...]  # newest first


class MemoCache(TokenCache):
    """Counts kept in memory in front of the real cache.

    Consecutive commits share most blobs; this spares a cache query per blob
    and commit, and still tokenizes each blob once with --no-cache.
    """

    def __init__(self, inner: TokenCache) -> None:
        super().__init__(None)
        self.inner = inner
        self.seen: dict[tuple[str, str, float], BlobStats] = {}

    def get_many(self, blobs: Iterable[str], encoding: str, scale: float) -> dict[str, BlobStats]:
        found: dict[str, BlobStats] = {}
        missing: list[str] = []
        for b in blobs:
            hit = self.seen.get((b, encoding, scale))
            if hit is None:
                missing.append(b)
            else:
                found[b] = hit
        if missing:
            got = self.inner.get_many(missing, encoding, scale)
            for b, s in got.items():
                self.seen[(b, encoding, scale)] = s
            found.update(got)
        return found

    def put_many(self, stats: Mapping[str, BlobStats], encoding: str, scale: float) -> None:
        for b, s in stats.items():
            self.seen[(b, encoding, scale)] = s
        self.inner.put_many(stats, encoding, scale)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("history", help="footprint of each component at each commit of first-parent history")
    p.add_argument("-n", "--max-count", type=positive, default=DEFAULT_MAX_COUNT, metavar="N",
                   help=f"how many commits, newest first (default {DEFAULT_MAX_COUNT})")
    p.add_argument("--rev", metavar="REV", default="HEAD",
                   help="the newest commit; its config measures every commit (default HEAD)")
    add_common(p, FORMATS)
    p.set_defaults(func=run)


def log(root: str, tip: str, count: int) -> list[tuple[str, str, str]]:
    out = git.run(["log", "-z", "--first-parent", f"--max-count={count}", "--format=%H%x1f%cI%x1f%s",
                   tip, "--"], root)
    rows = []
    for rec in git.split_z(out):
        sha, date, subject = rec.split("\x1f", 2)
        rows.append((sha.strip(), date, subject))
    return rows


def collect(ws: Workspace, rev: str, count: int, config_path: str | None, quiet: bool) -> History:
    if rev == "HEAD" and git.head_commit(ws.root) is None:
        raise FatalError("this repository has no commits yet; history needs at least one")
    tip = git.resolve_commit(ws.root, rev)
    commits = log(ws.root, tip, count)
    snaps = [ws.snapshot(Target("commit", sha)) for sha, _, _ in commits]
    # The newest commit's config measures all of them so the columns compare.
    cfg = ws.config(snaps[0], config_path, quiet)
    # Components from every commit's paths, so one that has since gone keeps its column.
    comps = resolve(cfg, [e.path for s in snaps for e in s.entries])
    classifier = Classifier(cfg, comps)
    cache = MemoCache(ws.cache)
    points = []
    for (sha, date, subject), snap in zip(commits, snaps):
        m = measure(snap, classifier, comps, cache)
        fp = {name: u.footprint for name, u in usage(m).items()}
        points.append(Point(sha, date, subject, fp, totals(m).tokens))
    return History(cfg, tip, tuple(c.name for c in comps), tuple(points))


def render_csv(h: History) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["commit", "date", "subject", *h.components, "total_tokens"])
    for p in h.points:
        w.writerow([p.commit, p.date, p.subject, *(p.footprints[c] for c in h.components), p.total_tokens])
    return buf.getvalue()


def render_json(h: History) -> str:
    doc = {
        "encoding": h.config.encoding,
        "scale": h.config.scale, "config_commit": h.config_commit, "components": list(h.components),
        "commits": [{"commit": p.commit, "date": p.date, "subject": p.subject,
                     "footprints": {c: p.footprints[c] for c in h.components},
                     "total_tokens": p.total_tokens} for p in h.points],
    }
    return dump(doc)


def render_markdown(h: History) -> str:
    head = ["commit", "date", *(md_escape(c) for c in h.components), "total"]
    rows = [[f"`{p.commit[:12]}`", p.date[:10], *(f"{p.footprints[c]:,}" for c in h.components),
             f"{p.total_tokens:,}"] for p in h.points]
    lines = [f"# ctxgate history: footprint per component ({h.config.encoding})", ""]
    lines += md_table(head, rows)
    return "\n".join(lines) + "\n"


RENDER = {"csv": render_csv, "json": render_json, "markdown": render_markdown}


def run(args: argparse.Namespace) -> int:
    with Workspace(os.getcwd(), no_cache=args.no_cache) as ws:
        h = collect(ws, args.rev, args.max_count, args.config, args.quiet)
    write(args, RENDER[args.format](h))
    return 0
