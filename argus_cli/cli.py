"""The `argus` command line: parses options and picks a renderer, nothing more.

Exit codes (SPEC 9): 0 ran and every gate held, 1 a gate failed, 2 usage error or unusable input.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import duckdb
import typer

from argus_cli import __version__
from argus_cli.analysis import open_trace, prepared, report_for
from argus_cli.diagnostics import ArgusError, ExitCode, InputError, UsageError, warn
from argus_cli.metrics import run_hops, run_rows, run_summary
from argus_cli.render import (
    REPORT_FORMATS,
    Format,
    make_console,
    render_report,
    render_rows,
    render_runs,
    render_trace,
)
from argus_cli.report import Settings

app = typer.Typer(
    name="argus",
    help="Why does a multi-agent workflow fail in production? Reads hop traces (JSON Lines or "
    "Parquet) and reports end-to-end reliability, root-cause hops, context drift, G-ARVIS and "
    "the cascade risk score.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

Inputs = Annotated[
    list[str],
    typer.Argument(
        help="Trace files (.jsonl, .jsonl.gz, .ndjson, .parquet), folders, globs, or - for stdin.",
        show_default=False,
    ),
]
Strict = Annotated[
    bool, typer.Option("--strict", help="Exit 2 on the first malformed record instead of skipping.")
]
Workflows = Annotated[
    list[str] | None,
    typer.Option("--workflow", "-w", help="Only runs of this workflow (repeatable)."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No diagnostics on stderr.")]


@contextmanager
def _cli_errors() -> Iterator[None]:
    """Turn library errors into one stderr line and their exit code: never a traceback."""
    try:
        yield
    except ArgusError as exc:
        warn(f"error: {exc}")
        raise typer.Exit(int(exc.exit_code)) from None
    except duckdb.Error as exc:
        warn(f"error: {str(exc).strip().splitlines()[0]}")
        raise typer.Exit(int(ExitCode.USAGE)) from None
    except KeyboardInterrupt:
        warn("interrupted")
        raise typer.Exit(130) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"argus {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """argus: end-to-end reliability and cascade risk of multi-agent workflows."""


def _check_unit(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{name} must be between 0 and 1, got {value}")
    return value


@app.command()
def report(
    inputs: Inputs,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table, json or markdown.")
    ] = Format.table,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    workflow: Workflows = None,
    confident_threshold: Annotated[
        float, typer.Option(help="Final confidence at or above which a run's answer is confident.")
    ] = 0.8,
    cost_budget: Annotated[
        float, typer.Option(help="Cost per successful run (USD) that scores 0 on inference cost.")
    ] = 1.0,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """End-to-end reliability, weakest hop, root causes, drift, G-ARVIS and cascade risk."""
    with _cli_errors():
        if as_json:
            fmt = Format.json
        if fmt not in REPORT_FORMATS:
            raise UsageError(f"--format {fmt.value} is not a report format (table, json, markdown)")
        _check_unit("--confident-threshold", confident_threshold)
        if cost_budget <= 0:
            raise UsageError(f"--cost-budget must be above 0, got {cost_budget}")
        settings = Settings(
            confident_threshold=confident_threshold,
            cost_budget_usd=cost_budget,
            workflows=tuple(workflow or ()),
        )
        trace = open_trace(inputs, strict=strict, quiet=quiet)
        render_report(report_for(trace, settings), fmt, make_console())


@app.command()
def runs(
    inputs: Inputs,
    failed: Annotated[bool, typer.Option("--failed", help="Only the failed runs.")] = False,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table, json, csv or markdown.")
    ] = Format.table,
    workflow: Workflows = None,
    confident_threshold: Annotated[float, typer.Option(help="As in argus report.")] = 0.8,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """One line per run: origin hop first, then blast radius and the final confidence."""
    with _cli_errors():
        _check_unit("--confident-threshold", confident_threshold)
        settings = Settings(
            confident_threshold=confident_threshold, workflows=tuple(workflow or ())
        )
        trace = prepared(open_trace(inputs, strict=strict, quiet=quiet), settings)
        render_runs(run_rows(trace.con, failed), fmt, make_console())


@app.command()
def trace(
    inputs: Inputs,
    run_id: Annotated[str, typer.Argument(help="The run to show.", show_default=False)],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """One run as a tree: hops, status, violations, drift, and the origin of its failure."""
    with _cli_errors():
        loaded = prepared(open_trace(inputs, strict=strict, quiet=quiet), Settings())
        summary = run_summary(loaded.con, run_id)
        if summary is None:
            raise InputError(f"run {run_id!r} is not in {', '.join(loaded.files)}")
        render_trace(summary, run_hops(loaded.con, run_id), fmt, make_console())


@app.command()
def query(
    inputs: Inputs,
    sql: Annotated[
        str,
        typer.Argument(
            help="SQL over the relations hops, intents and outcomes.", show_default=False
        ),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table, json, csv or markdown.")
    ] = Format.table,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """Run SQL over the loaded trace; unknown fields are columns too."""
    with _cli_errors():
        loaded = open_trace(inputs, strict=strict, quiet=quiet, keep_unknown=True)
        try:
            cursor = loaded.con.execute(sql)
        except duckdb.Error as exc:
            raise UsageError(f"query failed: {str(exc).strip().splitlines()[0]}") from None
        if cursor.description is None:
            return
        columns = [d[0] for d in cursor.description]
        render_rows(columns, cursor.fetchall(), fmt, make_console())


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # `argus report ... | head`
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
