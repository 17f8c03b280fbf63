"""argus on a real SDK's exported trace, as the real-SDK tests read it: through the CLI (Typer's
CliRunner), as a user would, never through argus's internals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from argus_cli.cli import app


def argus(*args: str) -> str:
    """The command's standard output; it must exit 0 or 1 (a failed gate), never crash."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), result.output
    return result.stdout


# What `argus convert` wrote, by input file (path, mtime, size) and flags: several tests read
# the same export the same way, and each conversion costs a second or so.
_CONVERTED: dict[tuple[str, int, int, tuple[str, ...]], str] = {}


def records(path: Path, *flags: str) -> list[dict[str, Any]]:
    """The SPEC records `argus convert` makes of the file, with these flags."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, flags)
    if key not in _CONVERTED:
        out = path.with_suffix(f".{'-'.join(flags) or 'default'}.jsonl")
        argus("convert", str(path), "-o", str(out), *flags)
        _CONVERTED[key] = out.read_text(encoding="utf-8")
    return [json.loads(line) for line in _CONVERTED[key].splitlines() if line.strip()]


def by_run(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The hop records among `rows`, by run."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for record in rows:
        if record.get("kind", "hop") == "hop":
            runs.setdefault(record["run_id"], []).append(record)
    return runs


def runs(path: Path, *flags: str) -> dict[str, dict[str, Any]]:
    """`argus runs --format json`, by run id."""
    rows = json.loads(argus("runs", str(path), "--format", "json", *flags))
    return {row["run_id"]: row for row in rows}


def report(path: Path, *flags: str) -> dict[str, Any]:
    """`argus report --json`."""
    document: dict[str, Any] = json.loads(argus("report", str(path), "--json", *flags))
    return document
