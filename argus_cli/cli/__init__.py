"""The `argus` command line: parses options and picks a renderer, nothing more.

Exit codes (SPEC 9): 0 ran and every gate held, 1 a gate failed, 2 usage error or unusable input.
"""

from __future__ import annotations

import sys

from argus_cli.cli import gating, reading, tools  # noqa: F401  (registers the commands)
from argus_cli.cli.common import app
from argus_cli.diagnostics import ExitCode

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # `argus report ... | head`
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
