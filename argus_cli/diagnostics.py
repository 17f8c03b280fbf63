"""Exit codes and everything argus writes to stderr.

Exit codes are part of argus's API: CI scripts branch on them, so they live in one enum and every
failure is mapped to one of them here. stdout carries only the report; diagnostics (skipped
records, errors) go to stderr as plain lines without colour, so `argus report --json | jq` works
and logs stay readable.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import IntEnum

from argus_cli.escaping import shown


class ExitCode(IntEnum):
    """What the process exit status means (SPEC section 9)."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2  # bad options, unreadable or malformed input: nothing was analysed or written


class ArgusError(Exception):
    """An error the user can act on; the CLI prints its message as one line and exits."""

    exit_code: ExitCode = ExitCode.USAGE


class InputError(ArgusError):
    """An input that cannot be used at all: missing, unreadable, or not a trace."""


class UsageError(ArgusError):
    """Options that do not make sense together, or a value out of range."""


@dataclass(frozen=True)
class BadRecord:
    """A record that was skipped, with where it is so the user can fix it."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def warn(message: str) -> None:
    """Write one diagnostic line to stderr (never colour: it ends up in CI logs).

    One line whatever the message holds: control characters in file names, ids and reasons
    (a newline, an escape code) are shown escaped, so a file name can neither fake a second
    diagnostic nor repaint the terminal.
    """
    sys.stderr.write(f"argus: {shown(message)}\n")


def report_bad_records(bad: list[BadRecord], total: int, limit: int = 20) -> None:
    """Name each skipped record with its file and line, up to `limit`, then a count."""
    for record in bad[:limit]:
        warn(f"skipped record at {record}")
    if len(bad) > limit:
        warn(f"... and {len(bad) - limit} more skipped records")
    if bad:
        warn(f"skipped {len(bad)} malformed record(s) of {total}; the rest were analysed")
