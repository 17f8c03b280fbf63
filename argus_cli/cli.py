"""The `argus` command line: parses options and picks a renderer, nothing more.

Exit codes (SPEC 9): 0 ran and every gate held, 1 a gate failed, 2 usage error or unusable input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from argus_cli import __version__
from argus_cli.analysis import (
    check_trace,
    keep_runs_in_range,
    open_trace,
    prepared,
    report_for,
    traced_run,
)
from argus_cli.ci_outputs import write_github, write_junit
from argus_cli.config import (
    Config,
    date_range,
    diff_thresholds,
    gate_spec,
    load_config,
    settings_from,
)
from argus_cli.converting import convert as convert_trace
from argus_cli.diagnostics import ArgusError, ExitCode, UsageError, warn
from argus_cli.diffing import diff_reports
from argus_cli.importers import HopSpansChoice, InputFormat, chosen
from argus_cli.loading import Columns, Trace
from argus_cli.metrics import run_counts, run_rows
from argus_cli.render import (
    Format,
    check_markdown,
    make_console,
    render_check,
    render_diff,
    render_report,
    render_rows,
    render_runs,
    render_trace,
)
from argus_cli.report import Settings
from argus_cli.sandbox import UNSAFE_FLAG, run_sql

app = typer.Typer(
    name="argus",
    help="Why does a multi-agent workflow fail in production? Reads hop traces (JSON Lines or "
    "Parquet, or OpenTelemetry and Langfuse exports) and reports end-to-end reliability, "
    "root-cause hops, context drift, G-ARVIS and the cascade risk score.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# Each command lists, and Typer accepts, exactly the formats it can write (a format that --help
# lists is never refused later). Renderers take the one Format enum.
class ReportFormat(str, Enum):
    """Formats of a report, a check and a diff: a document, not rows."""

    table = "table"
    json = "json"
    markdown = "markdown"


class RowsFormat(str, Enum):
    """Formats of a list of records (runs, query results): rows export to CSV too."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class TreeFormat(str, Enum):
    """Formats of one run's tree and of a reliability plan."""

    table = "table"
    json = "json"


def _format(fmt: ReportFormat | RowsFormat | TreeFormat, as_json: bool) -> Format:
    """The renderer's format: --json wins over --format, as in every command that has both."""
    return Format.json if as_json else Format(fmt.value)


AsJson = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
DocumentFormat = Annotated[
    ReportFormat, typer.Option("--format", "-f", help="table, json or markdown.")
]


Inputs = Annotated[
    list[str],
    typer.Argument(
        help="Trace files (.jsonl, .jsonl.gz, .ndjson, .parquet; OTLP and Langfuse JSON too), "
        "folders, globs, or - for stdin.",
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
Since = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="Only runs whose first hop started on or after DATE (YYYY-MM-DD or RFC 3339; UTC "
        "when no offset). Runs without started_at are left out when --since or --until is given.",
        show_default=False,
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="Only runs whose first hop started on or before DATE (a bare date includes the "
        "whole day). Partitions of an argus convert dataset outside the range are not read.",
        show_default=False,
    ),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings file (argus.toml, or a pyproject.toml with a tool.argus table); "
        "default: the nearest one from the current folder upwards.",
        metavar="PATH",
        dir_okay=False,
    ),
]
ConfidentThreshold = Annotated[
    float | None,
    typer.Option(
        help="Final confidence at or above which a run's answer is confident (default 0.8)."
    ),
]
CostBudget = Annotated[
    float | None,
    typer.Option(
        help="Cost per successful run (USD) that scores 0 on inference cost (default 1.00)."
    ),
]
From = Annotated[
    InputFormat | None,
    typer.Option(
        "--from",
        help="Input format: argus, otlp (OpenTelemetry JSON) or langfuse (observation export); "
        "default: detected for each file.",
        show_default=False,
    ),
]
HopSpansOption = Annotated[
    HopSpansChoice,
    typer.Option(
        "--hop-spans",
        help="Imported spans that are hops: agents, tools (agents and tools), genai (every "
        "GenAI span) or all.",
    ),
]


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


def _open(
    inputs: list[str],
    source_format: InputFormat | None,
    hop_spans: HopSpansChoice,
    *,
    strict: bool,
    quiet: bool,
    keep_unknown: bool = False,
    columns: Columns = "all",
    settings: Settings | None = None,
) -> Trace:
    """Load inputs the way every trace-reading command does: format detected or forced."""
    fmt_from, spans = chosen(source_format, hop_spans)
    return open_trace(
        inputs,
        strict=strict,
        quiet=quiet,
        keep_unknown=keep_unknown,
        source_format=fmt_from,
        hop_spans=spans,
        columns=columns,
        since=settings.since if settings else None,
        until=settings.until if settings else None,
    )


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


def _config(path: Path | None, quiet: bool) -> Config:
    """The settings file (named, or found upwards); say on stderr which one is used."""
    config = load_config(path)
    if config.path is not None and not quiet:
        warn(f"settings from {config.path}")
    return config


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
) -> None:
    """End-to-end reliability, weakest hop, root causes, drift, G-ARVIS and cascade risk."""
    with _cli_errors():
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
            columns="metrics",
            settings=settings,
        )
        render_report(report_for(trace, settings), _format(fmt, as_json), make_console())


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


@app.command()
def check(
    inputs: Inputs,
    max_cascade_risk: Annotated[
        float | None,
        typer.Option(help="Fail a workflow whose cascade risk is above this (default 0.15)."),
    ] = None,
    min_e2e: Annotated[
        float | None,
        typer.Option("--min-e2e", help="Fail below this observed end-to-end success rate."),
    ] = None,
    min_predicted_e2e: Annotated[
        float | None,
        typer.Option(
            "--min-predicted-e2e", help="Fail below this predicted end-to-end success rate."
        ),
    ] = None,
    min_pass_rate: Annotated[
        list[str] | None,
        typer.Option(
            help="P: every hop's pass rate at least P; HOP=P: that hop's, instead (repeatable).",
            metavar="[HOP=]P",
        ),
    ] = None,
    min_g_arvis: Annotated[
        list[str] | None,
        typer.Option(
            help="V: the composite G-ARVIS score at least V; DIM=V: that dimension's "
            "(groundedness, accuracy, reliability, variance, inference_cost, safety; repeatable).",
            metavar="[DIM=]V",
        ),
    ] = None,
    max_drift_rate: Annotated[
        float | None, typer.Option(help="Fail above this context-drift rate.")
    ] = None,
    require_high_stakes_validation: Annotated[
        bool | None,
        typer.Option(
            "--require-high-stakes-validation/--no-require-high-stakes-validation",
            help="Fail when a high-stakes execution was not validated.",
            show_default=False,
        ),
    ] = None,
    min_runs: Annotated[
        int | None,
        typer.Option(help="Fail a workflow with fewer runs than this: too little data to judge."),
    ] = None,
    max_bad_records: Annotated[
        int | None,
        typer.Option(
            help="Fail when more than this many malformed records were skipped (default 0: "
            "any). --strict exits 2 on the first one instead.",
            metavar="N",
        ),
    ] = None,
    fmt: DocumentFormat = ReportFormat.table,
    as_json: AsJson = False,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            help="Also write the gates as JUnit XML (one testcase per gate and workflow).",
            metavar="PATH",
            dir_okay=False,
        ),
    ] = None,
    github: Annotated[
        bool,
        typer.Option(
            "--github",
            help="GitHub Actions: ::error annotations on stdout, and the Markdown summary "
            "appended to $GITHUB_STEP_SUMMARY when it is set.",
        ),
    ] = False,
    workflow: Workflows = None,
    since: Since = None,
    until: Until = None,
    confident_threshold: ConfidentThreshold = None,
    cost_budget: CostBudget = None,
    config: ConfigPath = None,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """Gate a release on the trace: judge each gate per workflow, exit 1 if one fails.

    Thresholds come from the flags, else from the check table of argus.toml (or of tool.argus
    in pyproject.toml), else the default: --max-cascade-risk 0.15 and --max-bad-records 0.
    Thresholds are inclusive: a value equal to its threshold passes. It fails closed: a
    malformed record, inputs with no run, a named workflow with no run, or a workflow none of
    whose runs succeeded fail a gate.

    Exit codes: 0 every gate held; 1 a gate failed (or had no data); 2 usage or input error.
    """
    with _cli_errors():
        shown = _format(fmt, as_json)
        if github and shown is Format.json:
            raise UsageError(
                "--github writes annotations to stdout, which --format json keeps for JSON; "
                "use --junit for a machine-readable file"
            )
        settings_file = _config(config, quiet)
        settings = settings_from(
            settings_file,
            confident_threshold=confident_threshold,
            cost_budget=cost_budget,
            workflows=workflow,
            since=since,
            until=until,
        )
        spec = gate_spec(
            settings_file,
            max_cascade_risk=max_cascade_risk,
            min_e2e=min_e2e,
            min_predicted_e2e=min_predicted_e2e,
            min_pass_rate=min_pass_rate,
            min_g_arvis=min_g_arvis,
            max_drift_rate=max_drift_rate,
            require_high_stakes_validation=require_high_stakes_validation,
            min_runs=min_runs,
            max_bad_records=max_bad_records,
        )
        trace = _open(
            inputs,
            None,
            HopSpansChoice.agents,
            strict=strict,
            quiet=quiet,
            columns="metrics",
            settings=settings,
        )
        result = check_trace(trace, settings, spec)
        for note in () if quiet else result.notes:
            warn(note)
        if junit is not None:
            write_junit(result, junit)
        if github:
            write_github(result, check_markdown(result), sys.stdout, os.environ)
        render_check(result, shown, make_console())
    if not result.passed:
        raise typer.Exit(int(ExitCode.GATE_FAILED))


@app.command()
def diff(
    base: Annotated[
        str, typer.Argument(help="The baseline trace: file, folder or glob.", show_default=False)
    ],
    candidate: Annotated[
        str, typer.Argument(help="The candidate trace to compare.", show_default=False)
    ],
    max_regression: Annotated[
        float | None,
        typer.Option(
            help="Exit 1 when a rate got significantly worse by more than this "
            "(0.02 = 2 points). Without it, diff only reports."
        ),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(help="Significance level of the two-proportion z-test (default 0.05)."),
    ] = None,
    fmt: DocumentFormat = ReportFormat.table,
    as_json: AsJson = False,
    workflow: Workflows = None,
    since: Since = None,
    until: Until = None,
    confident_threshold: ConfidentThreshold = None,
    cost_budget: CostBudget = None,
    config: ConfigPath = None,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """What got worse from BASE to CANDIDATE, per workflow and hop, and whether it is real.

    Pass rate, silent-error rate, validation coverage, latency and cost per hop; end-to-end
    success and cascade risk per workflow. Rates are tested with a two-proportion z-test, so a
    drop inside the noise is shown as "within noise", not as a regression. --workflow, --since
    and --until (or the settings file's workflows, since and until) apply to both traces.

    Exit codes: 0 no significant regression beyond --max-regression (or no gate); 1 one or
    more; 2 usage or input error.
    """
    with _cli_errors():
        shown = _format(fmt, as_json)
        settings_file = _config(config, quiet)
        settings = settings_from(
            settings_file,
            confident_threshold=confident_threshold,
            cost_budget=cost_budget,
            workflows=workflow,
            since=since,
            until=until,
        )
        limit, significance = diff_thresholds(
            settings_file, max_regression=max_regression, alpha=alpha
        )
        before, after = (
            report_for(
                _open(
                    [side],
                    None,
                    HopSpansChoice.agents,
                    strict=strict,
                    quiet=quiet,
                    columns="metrics",
                    settings=settings,
                ),
                settings,
            )
            for side in (base, candidate)
        )
        result = diff_reports(before, after, alpha=significance, max_regression=limit)
        render_diff(result, shown, make_console())
    if not result.passed:
        raise typer.Exit(int(ExitCode.GATE_FAILED))


@app.command()
def reliability(
    agents: Annotated[
        str | None, typer.Option(metavar="N", help="Agents in the chain.", show_default=False)
    ] = None,
    p: Annotated[
        list[str] | None,
        typer.Option(
            "--p",
            "-p",
            metavar="P",
            help="Each agent's reliability, 0 to 1: once for every agent, or once per agent.",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            metavar="T", help="End-to-end goal: what each agent needs.", show_default=False
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            metavar="TRACE",
            help="Plan on the pass rates measured in a trace, as argus report computes them.",
            show_default=False,
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", metavar="HOP=P", help="What if this hop were at P (repeatable; --from)."
        ),
    ] = None,
    workflow: Annotated[
        str | None,
        typer.Option("--workflow", "-w", help="The workflow to plan, when the trace holds more."),
    ] = None,
    improve_to: Annotated[
        str | None,
        typer.Option(
            metavar="P", help="Goal of the single-hop improvement ranking (--from; default 0.99)."
        ),
    ] = None,
    samples: Annotated[
        bool, typer.Option("--samples", help="Validated executions to tell two pass rates apart.")
    ] = False,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option(metavar="A B", help="The two pass rates of --samples (default 0.97 0.99)."),
    ] = None,
    fmt: Annotated[
        TreeFormat, typer.Option("--format", "-f", help="table or json.")
    ] = TreeFormat.table,
    as_json: AsJson = False,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """End to end = the product of each agent's reliability: 5 agents at 0.97 give 0.8587.

    Get each agent to 0.97+ before you chain them. --target solves for what each agent needs;
    --from plans on a trace's measured pass rates (95% interval, --set what-ifs, the hop whose
    improvement pays most); --samples sizes the validation sample that tells two rates apart.
    """
    from argus_cli import reliability as rel
    from argus_cli.render import render_reliability

    with _cli_errors():
        options = {
            "--agents": agents,
            "--p": p,
            "--target": target,
            "--from": source,
            "--samples": samples,
            "--compare": compare,
            "--set": set_,
            "--workflow": workflow,
            "--improve-to": improve_to,
            "--strict": strict,
            "--quiet": quiet,
        }
        mode = rel.mode_for([k for k, v in options.items() if v is not None and v is not False])
        goal = None if target is None else rel.parse_rate("--target", target)
        plan: rel.ChainPlan | rel.TracePlan | rel.SamplePlan
        if mode is rel.Mode.samples:
            a, b = [rel.parse_rate("--compare", c) for c in compare] if compare else rel.COMPARE
            plan = rel.sample_plan(a, b)
        elif mode is rel.Mode.trace:
            sets = [rel.parse_setting(s) for s in set_ or ()]
            upto = rel.IMPROVE_TO
            if improve_to is not None:
                upto = rel.parse_rate("--improve-to", improve_to)
            settings = Settings(workflows=(workflow,) if workflow else ())
            loaded = _open(
                source or [],
                None,
                HopSpansChoice.agents,
                strict=strict,
                quiet=quiet,
                columns="metrics",
            )
            report = report_for(loaded, settings)
            plan = rel.trace_plan(report, sets, upto, goal)
        else:
            n = None if agents is None else rel.parse_count("--agents", agents)
            plan = rel.chain_plan([rel.parse_rate("--p", x) for x in p or ()], n, goal)
        render_reliability(plan, _format(fmt, as_json), make_console())


@app.command()
def convert(
    inputs: Inputs,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="File to write: .jsonl, .jsonl.gz or .parquet; or a folder (a name without a "
            "suffix, or --partition) for a Parquet dataset partitioned by date and workflow.",
            show_default=False,
        ),
    ],
    partition: Annotated[
        bool,
        typer.Option(
            "--partition",
            help="Write a Parquet dataset folder: date=YYYY-MM-DD/workflow_id=NAME/part-N.parquet "
            "(each run under its first hop's UTC start date, or date=unknown).",
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace a dataset folder that is not empty."),
    ] = False,
    source_format: From = None,
    hop_spans: HopSpansOption = HopSpansChoice.agents,
    strict: Strict = False,
    quiet: Quiet = False,
) -> None:
    """Convert traces (OTLP, Langfuse or argus) once into argus records: JSON Lines or Parquet."""
    with _cli_errors():
        fmt_from, spans = chosen(source_format, hop_spans)
        done = convert_trace(
            inputs,
            output,
            source_format=fmt_from,
            hop_spans=spans,
            strict=strict,
            quiet=quiet,
            partition=partition,
            overwrite=overwrite,
        )
        if not quiet:
            folders = f" ({done.partitions} partitions)" if done.partitions else ""
            warn(
                f"wrote {done.hops} hop, {done.intents} intent and {done.outcomes} outcome "
                f"records to {done.path}{folders}"
            )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:  # `argus report ... | head`
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
