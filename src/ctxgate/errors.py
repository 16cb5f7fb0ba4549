from __future__ import annotations


class FatalError(RuntimeError):
    """A problem the user must fix; shown as one line, exit code 2."""
