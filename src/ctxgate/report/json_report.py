from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ctxgate import __version__
from ctxgate.budget import ComponentResult, Result


def header() -> dict[str, Any]:
    """The keys every ctxgate JSON document starts with."""
    return {"schema": 1, "tool": "ctxgate", "version": __version__}


def dump(doc: Mapping[str, Any]) -> str:
    """*doc* as every ctxgate command writes JSON: header first, indented, non-ASCII kept, one final newline.

    The header is merged in so a document need not repeat it; where *doc*
    already spells out a header key, its value wins and the order is unchanged.
    """
    return json.dumps({**header(), **doc}, indent=2, ensure_ascii=False) + "\n"


def component(c: ComponentResult, files_detail: bool) -> dict[str, Any]:
    comp, u = c.component, c.usage
    out: dict[str, Any] = {
        "name": comp.name, "kind": comp.kind, "level": comp.level,
        "files": u.files, "lines": u.lines, "bytes": u.bytes, "tokens": u.tokens,
        "test_tokens": u.test_tokens, "context_tokens": u.context_tokens, "footprint": u.footprint,
        "base_footprint": None if c.base is None else c.base.footprint, "delta": c.delta,
        "estimate": comp.estimate, "limits": comp.limits.as_dict(), "tier": c.tier,
        "judged": c.judged, "verdict": c.verdict.verdict, "message": c.verdict.message,
    }
    if files_detail:
        out["files_detail"] = [{"path": r.path, "tokens": r.tokens, "lines": r.lines} for r in u.rows]
    return out


def document(result: Result) -> dict[str, Any]:
    t = result.totals
    return {
        **header(),
        "encoding": result.encoding, "scale": result.scale,
        "target": {"kind": result.target_kind, "commit": result.target_commit},
        "base": None if result.base_commit is None else {"commit": result.base_commit},
        "limits": result.limits.as_dict(), "status": result.status,
        "components": [component(c, result.files_detail) for c in result.components],
        "unowned": {"files": t.unowned_files, "tokens": t.unowned_tokens},
        "skipped": dict(t.skipped),
        "totals": {"files": t.files, "tokens": t.tokens, "lines": t.lines},
    }


def render(result: Result, color: bool = False) -> str:
    return dump(document(result))
