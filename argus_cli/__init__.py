"""argus: why a multi-agent AI workflow fails in production, and whether to ship it.

The CLI (`argus`) reads hop traces into DuckDB; `argus_cli.analysis.analyse` is the same engine as
a library call.
"""

from __future__ import annotations

__version__ = "0.1.0"
