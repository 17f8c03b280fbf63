"""Commands beside the report: the reliability arithmetic and convert."""

from __future__ import annotations

from typing import Annotated

import typer

from argus_cli.analysis import (
    report_for,
)
from argus_cli.cli.common import (
    AsJson,
    From,
    HopSpansOption,
    Inputs,
    Quiet,
    Strict,
    TreeFormat,
    _cli_errors,
    _format,
    _open,
    app,
)
from argus_cli.converting import convert as convert_trace
from argus_cli.diagnostics import warn
from argus_cli.importers import HopSpansChoice, chosen
from argus_cli.render import (
    make_console,
)
from argus_cli.report import Settings


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
    from argus_cli import sample_sizes as sizes
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
        plan: rel.ChainPlan | rel.TracePlan | sizes.SamplePlan
        if mode is rel.Mode.samples:
            a, b = [rel.parse_rate("--compare", c) for c in compare] if compare else sizes.COMPARE
            plan = sizes.sample_plan(a, b)
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
