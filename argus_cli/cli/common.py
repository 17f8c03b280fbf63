"""What every argus command shares: the Typer app, option types, error handling, loading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from argus_cli import __version__
from argus_cli.analysis import (
    open_spark_trace,
    open_trace,
)
from argus_cli.config import (
    Config,
    load_config,
)
from argus_cli.diagnostics import ArgusError, ExitCode, UsageError, warn
from argus_cli.importers import HopSpansChoice, InputFormat, chosen
from argus_cli.load.loading import Columns, Trace
from argus_cli.render import (
    Format,
)
from argus_cli.report import Settings
from argus_cli.spark.session import error_line as spark_error_line

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
    html = "html"


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
    ReportFormat,
    typer.Option(
        "--format",
        "-f",
        help="table, json, markdown or html (one self-contained page; the html extra).",
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the output to PATH instead of stdout.",
        metavar="PATH",
        dir_okay=False,
        show_default=False,
    ),
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


class Engine(str, Enum):
    """Where the metrics are computed: DuckDB in this process, or Spark (the spark extra)."""

    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="duckdb (in this process) or spark (PySpark, the spark extra: a local Spark, a "
        "cluster or Spark Connect, see --spark-master). The same numbers either way.",
    ),
]
SparkMaster = Annotated[
    str,
    typer.Option(
        "--spark-master",
        metavar="URL",
        help="With --engine spark: local[N], spark://host:port, yarn, or sc://host:port (Spark "
        "Connect).",
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
    except Exception as exc:
        # --engine spark: what Spark raises (a lost executor, an unreachable master) is one
        # line too; PySpark is imported only with that engine, so its errors are told by module.
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        warn(f"error: spark: {spark_error_line(str(exc))}")
        raise typer.Exit(int(ExitCode.USAGE)) from None


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
    engine: Engine = Engine.duckdb,
    spark_master: str = "local[*]",
) -> Trace:
    """Load inputs the way every trace-reading command does: format detected or forced."""
    fmt_from, spans = chosen(source_format, hop_spans)
    if engine is Engine.spark:
        if columns != "metrics":
            raise UsageError(
                "--engine spark computes the metrics only; this output needs whole records "
                "(use --engine duckdb)"
            )
        return open_spark_trace(
            inputs,
            spark_master,
            strict=strict,
            quiet=quiet,
            source_format=fmt_from,
            hop_spans=spans,
            since=settings.since if settings else None,
            until=settings.until if settings else None,
        )
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


def _config(path: Path | None, quiet: bool) -> Config:
    """The settings file (named, or found upwards); say on stderr which one is used."""
    config = load_config(path)
    if config.path is not None and not quiet:
        warn(f"settings from {config.path}")
    return config
