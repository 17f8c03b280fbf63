"""Commands that pass or fail a release: check (thresholds) and diff (regressions)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from argus_cli.analysis import (
    check_trace,
    report_for,
)
from argus_cli.ci_outputs import write_github, write_junit
from argus_cli.cli.common import (
    AsJson,
    ConfidentThreshold,
    ConfigPath,
    CostBudget,
    DocumentFormat,
    Engine,
    EngineOption,
    Inputs,
    Output,
    Quiet,
    ReportFormat,
    Since,
    SparkMaster,
    Strict,
    Until,
    Workflows,
    _cli_errors,
    _config,
    _format,
    _open,
    app,
)
from argus_cli.config import (
    diff_thresholds,
    gate_spec,
    settings_from,
)
from argus_cli.diagnostics import ExitCode, UsageError, warn
from argus_cli.diffing import diff_reports
from argus_cli.importers import HopSpansChoice
from argus_cli.pictures import Pictures, pictures_for
from argus_cli.render import (
    Format,
    check_markdown,
    output_console,
    render_check,
    render_diff,
)
from argus_cli.render.html import check_html, diff_html, require_html


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
    output: Output = None,
    engine: EngineOption = Engine.duckdb,
    spark_master: SparkMaster = "local[*]",
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
        if shown is Format.html:
            require_html(output)
            if github and output is None:
                raise UsageError(
                    "--github writes annotations to stdout: write the html page with -o PATH"
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
            columns="all" if shown is Format.html else "metrics",
            settings=settings,
            engine=engine,
            spark_master=spark_master,
        )
        result = check_trace(trace, settings, spec)
        for note in () if quiet else result.notes:
            warn(note)
        if junit is not None:
            write_junit(result, junit)
        if github:
            write_github(result, check_markdown(result), sys.stdout, os.environ)
        with output_console(output) as console:
            if shown is Format.html:
                pictures = pictures_for(trace, result.report) if result.report.runs else Pictures()
                console.file.write(check_html(result, pictures))
            else:
                render_check(result, shown, console)
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
    output: Output = None,
    engine: EngineOption = Engine.duckdb,
    spark_master: SparkMaster = "local[*]",
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
        if shown is Format.html:
            require_html(output)
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
                    engine=engine,
                    spark_master=spark_master,
                ),
                settings,
            )
            for side in (base, candidate)
        )
        result = diff_reports(before, after, alpha=significance, max_regression=limit)
        with output_console(output) as console:
            if shown is Format.html:
                console.file.write(diff_html(result))
            else:
                render_diff(result, shown, console)
    if not result.passed:
        raise typer.Exit(int(ExitCode.GATE_FAILED))
