from __future__ import annotations

import csv
import io

from ctxgate.budget import Result
from ctxgate.report.json_report import component

COLUMNS = (
    "name", "kind", "level", "files", "lines", "bytes", "tokens", "test_tokens", "context_tokens",
    "footprint", "base_footprint", "delta", "estimate", "tier", "verdict",
)
FILE_COLUMNS = ("component", "path", "tokens", "lines")


def render(result: Result, color: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if result.files_detail:
        w.writerow(FILE_COLUMNS)
        for c in result.components:
            for r in c.usage.rows:
                w.writerow((c.name, r.path, r.tokens, r.lines))
        return buf.getvalue()
    w.writerow(COLUMNS)
    for c in result.components:
        row = component(c, False)
        w.writerow(["" if row[k] is None else row[k] for k in COLUMNS])
    return buf.getvalue()
