"""Commands that read a trace and show it: report, runs, trace and query."""

from __future__ import annotations

from typing import Annotated

import typer

from argus_cli.analysis import (
    keep_runs_in_range,
    prepared,
    report_for,
    traced_run,
)
from argus_cli.cli.common import (
    AsJson,
    ConfidentThreshold,
    ConfigPath,
    CostBudget,
    DocumentFormat,
    Engine,
    EngineOption,
    From,
    HopSpansOption,
    Inputs,
    Output,
    Quiet,
    ReportFormat,
    RowsFormat,
    Since,
    SparkMaster,
    Strict,
    TreeFormat,
    Until,
    Workflows,
    _cli_errors,
    _config,
    _format,
    _open,
    app,
)
from argus_cli.config import (
    date_range,
    settings_from,
)
from argus_cli.diagnostics import UsageError, warn
from argus_cli.importers import HopSpansChoice
from argus_cli.metrics import run_counts, run_rows
from argus_cli.pictures import pictures_for
from argus_cli.render import (
    Format,
    make_console,
    output_console,
    render_report,
    render_rows,
    render_runs,
    render_trace,
)
from argus_cli.render.html import report_html, require_html
from argus_cli.report import Settings
from argus_cli.sandbox import UNSAFE_FLAG, run_sql


@app.command()
def report(
    inputs: Inputs,
    fmt: DocumentFormat = ReportFormat.table,
    as_json: AsJson = False,
    workflow: Workflows = None,
    since: Since = None,
    until: Until = None,
    confident_threshold: ConfidentThreshold = None,
    cost_budget: CostBudget = None,
    config: ConfigPath = None,
    source_format: From = None,
    hop_spans: HopSpansOption = HopSpansChoice.agents,
    strict: Strict = False,
    quiet: Quiet = False,
    output: Output = None,
    engine: EngineOption = Engine.duckdb,
    spark_master: SparkMaster = "local[*]",
) -> None:
    """End-to-end reliability, weakest hop, root causes, drift, G-ARVIS and cascade risk."""
    with _cli_errors():
        shown = _format(fmt, as_json)
        if shown is Format.html:
            require_html(output)
        settings = settings_from(
            _config(config, quiet),
            confident_threshold=confident_threshold,
            cost_budget=cost_budget,
            workflows=workflow,
            since=since,
            until=until,
        )
        trace = _open(
            inputs,
            source_format,
            hop_spans,
            strict=strict,
            quiet=quiet,
            # the page draws failed runs as `argus trace` does: their errors and violations too
            columns="all" if shown is Format.html else "metrics",
            settings=settings,
            engine=engine,
            spark_master=spark_master,
        )
        result = report_for(trace, settings)
        with output_console(output) as console:
            if shown is Format.html:
                console.file.write(report_html(result, pictures_for(trace, result)))
            else:
                render_report(result, shown, console)


# `argus runs` as a table shows this many runs unless --limit says otherwise: a large trace has
# millions, which no one reads in a terminal (and Rich takes minutes to lay out).
RUNS_SHOWN = 100


@app.command()
def runs(
    inputs: Inputs,
    failed: Annotated[bool, typer.Option("--failed", help="Only the failed runs.")] = False,
    fmt: Annotated[
        RowsFormat, typer.Option("--format", "-f", help="table, json, csv or markdown.")
    ] = RowsFormat.table,
    as_json: AsJson = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            help=f"Show the first N runs (0: all). Default: {RUNS_SHOWN} in a table or "
            "Markdown, all in JSON and CSV.",
            show_default=False,
        ),
    ] = None,
    workflow: Workflows = None,
    since: Since = None,
    until: Until = None,
    confident_threshold: ConfidentThreshold = None,
    config: ConfigPath = None,
    source_format: From = None,
    hop_spans: HopSpansOption = HopSpansChoice.agents,
    strict: Strict = False,
    quiet: Quiet = False,
    engine: EngineOption = Engine.duckdb,
    spark_master: SparkMaster = "local[*]",
) -> None:
    """One line per run: origin hop first, then blast radius and the final confidence."""
    with _cli_errors():
        settings = settings_from(
            _config(config, quiet),
            confident_threshold=confident_threshold,
            workflows=workflow,
            since=since,
            until=until,
        )
        loaded = _open(
            inputs,
            source_format,
            hop_spans,
            strict=strict,
            quiet=quiet,
            columns="metrics",
            settings=settings,
            engine=engine,
            spark_master=spark_master,
        )
        if limit is not None and limit < 0:
            raise UsageError(f"--limit must be 0 (all) or more, got {limit}")
        shown = _format(fmt, as_json)
        if limit is None:
            limit = RUNS_SHOWN if shown in (Format.table, Format.markdown) else 0
        trace = prepared(loaded, settings)
        counts = run_counts(trace.con)
        rows = run_rows(trace.con, failed, limit or None)
        selected = counts[1] if failed else counts[0]
        render_runs(rows, shown, make_console(), counts, selected)


@app.command()
def trace(
    inputs: Inputs,
    run_id: Annotated[str, typer.Argument(help="The run to show.", show_default=False)],
    fmt: Annotated[
        TreeFormat, typer.Option("--format", "-f", help="table or json.")
    ] = TreeFormat.table,
    as_json: AsJson = False,
    since: Since = None,
    until: Until = None,
    source_format: From = None,
    hop_spans: HopSpansOption = HopSpansChoice.agents,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """One run as a tree: hops, status, violations, drift, and the origin of its failure.

    With --since/--until the run must have started in range: otherwise exit 2.
    """
    with _cli_errors():
        first, last = date_range(since, until)
        window = Settings(since=first, until=last)  # prunes date= partitions out of range
        opened = _open(
            inputs, source_format, hop_spans, strict=strict, quiet=quiet, settings=window
        )
        summary, hops = traced_run(opened, run_id, first, last)
        render_trace(summary, hops, _format(fmt, as_json), make_console())


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
        RowsFormat, typer.Option("--format", "-f", help="table, json, csv or markdown.")
    ] = RowsFormat.table,
    as_json: AsJson = False,
    since: Since = None,
    until: Until = None,
    source_format: From = None,
    hop_spans: HopSpansOption = HopSpansChoice.agents,
    strict: Strict = False,
    quiet: Quiet = False,
    unsafe_sql: Annotated[
        bool,
        typer.Option(
            UNSAFE_FLAG,
            help="Run the SQL with your full rights: files (COPY TO, read_csv, ATTACH), "
            "extensions (INSTALL, LOAD) and SET. Without it the SQL reads only the loaded trace.",
        ),
    ] = False,
) -> None:
    """Run SQL over the loaded trace; unknown fields are columns too.

    Sandboxed: the SQL sees hops, intents and outcomes and opens no file, URL or extension, and
    changes no setting (exit 2 if it tries), unless --unsafe-sql is given.
    With --since/--until, hops, intents and outcomes hold only the records of runs in range.
    """
    with _cli_errors():
        first, last = date_range(since, until)
        loaded = _open(
            inputs,
            source_format,
            hop_spans,
            strict=strict,
            quiet=quiet,
            keep_unknown=True,
            settings=Settings(since=first, until=last),
        )
        if keep_runs_in_range(loaded, first, last) == 0 and not quiet:
            warn("no runs with a first hop started in the --since/--until range")
        cursor = run_sql(loaded.con, sql, unsafe=unsafe_sql)
        if cursor.description is None:
            return
        columns = [d[0] for d in cursor.description]
        render_rows(columns, cursor.fetchall(), _format(fmt, as_json), make_console())
