"""ctxgate: keep every component small enough for an LLM coding agent."""
from __future__ import annotations

__version__ = "0.1.0"
