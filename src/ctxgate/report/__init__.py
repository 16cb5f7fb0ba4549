"""Renderers: a result in, text out. Chosen by name from :data:`REPORTERS`."""
from __future__ import annotations

from collections.abc import Callable

from ctxgate.budget import Result
from ctxgate.report import csv_report, json_report, markdown, text

Renderer = Callable[[Result, bool], str]

REPORTERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "csv": csv_report.render,
    "markdown": markdown.render,
}
