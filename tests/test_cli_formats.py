"""Output formats: every command lists exactly the formats it writes, and --json is everywhere.

`--format csv` was listed by `report --help` and `check --help` and then refused: now each
command's --help lists only what it accepts, and anything else is a usage error (exit 2) that
names the accepted values. CSV headers are one line each.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from goldens import ANSI

from argus_cli.cli import app

TRACE = "data/awkward.jsonl"


def _squeeze(text: str) -> str:
    """Text without Rich's box drawing and line breaks, for matching a usage error."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _quiet(command: list[str]) -> list[str]:
    """-q, for the commands that read a trace (reliability takes it with --from only)."""
    return [] if command[0] == "reliability" else ["-q"]


@pytest.mark.parametrize(
    ("command", "accepted"),
    [
        (["report", TRACE], ["table", "json", "markdown", "html"]),
        (["check", TRACE], ["table", "json", "markdown", "html"]),
        (["diff", TRACE, TRACE], ["table", "json", "markdown", "html"]),
        (["runs", TRACE], ["table", "json", "csv", "markdown"]),
        (["query", TRACE, "SELECT 1 AS x"], ["table", "json", "csv", "markdown"]),
        (["trace", TRACE, "run1"], ["table", "json"]),
        (["reliability", "--agents", "5", "--p", "0.97"], ["table", "json"]),
    ],
)
def test_help_lists_exactly_the_formats_a_command_accepts(runner, command, accepted):
    name = command[0]
    shown = _squeeze(runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"}).stdout)
    listed = re.search(r"--format\s+-f\s+[<\[]([a-z|]+)[>\]]", shown)
    assert listed is not None, shown
    assert listed.group(1).split("|") == accepted
    for fmt in ["table", "json", "csv", "markdown"]:
        result = runner.invoke(app, [*command, "--format", fmt, *_quiet(command)])
        if fmt in accepted:
            assert result.exit_code in (0, 1), (fmt, result.output)  # 1: a gate of check failed
            assert result.stdout
        else:
            assert result.exit_code == 2
            assert result.stdout == ""
            choices = ", ".join(f"'{a}'" for a in accepted)
            assert f"'{fmt}' is not one of {choices}" in _squeeze(result.stderr)


@pytest.mark.parametrize(
    "command",
    [
        ["report", TRACE],
        ["runs", TRACE],
        ["trace", TRACE, "run2"],
        ["check", TRACE],
        ["diff", TRACE, TRACE],
        ["query", TRACE, "SELECT run_id FROM hops ORDER BY ALL LIMIT 2"],
        ["reliability", "--agents", "5", "--p", "0.97"],
    ],
)
def test_json_flag_is_format_json(runner, command):
    flag = runner.invoke(app, [*command, "--json", *_quiet(command)])
    long = runner.invoke(app, [*command, "--format", "json", *_quiet(command)])
    assert flag.exit_code == long.exit_code
    assert flag.exit_code in (0, 1)
    assert flag.stdout == long.stdout
    json.loads(flag.stdout)
    # --json wins over a --format given beside it, as in `report`
    both = runner.invoke(app, [*command, "--format", "table", "--json", *_quiet(command)])
    assert both.stdout == flag.stdout


def test_csv_headers_are_one_line_each(runner):
    result = runner.invoke(app, ["runs", TRACE, "--format", "csv"])
    assert result.exit_code == 0
    assert not ANSI.search(result.stdout)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert all("\n" not in cell for cell in rows[0])
    assert len(rows) == 1 + 8  # the header, then every run
    query = runner.invoke(
        app, ["query", TRACE, 'SELECT 1 AS "two\nlines"', "--format", "csv", "-q"]
    )
    assert query.stdout.splitlines()[0] == "two lines"
