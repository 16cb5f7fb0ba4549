from __future__ import annotations

from ctxgate.cli import main

raise SystemExit(main())
