"""One call from trace files to a finished report, for the CLI and the writer library alike.

Both go through here so that `argus report` and `tracer.finalize()` cannot compute a metric two
ways.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

from argus_cli.diagnostics import report_bad_records
from argus_cli.findings import findings
from argus_cli.importers import HopSpans, SourceFormat
from argus_cli.loading import Columns, Trace, load
from argus_cli.metrics import compute_report, prepare
from argus_cli.report import Report, Settings


def open_trace(
    inputs: Sequence[str],
    *,
    strict: bool = False,
    keep_unknown: bool = False,
    stdin: BinaryIO | None = None,
    quiet: bool = False,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
    columns: Columns = "all",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Trace:
    """Load inputs and tell stderr about every skipped record.

    `columns="metrics"` is for commands that only compute metrics: a narrower, faster load.
    `since`/`until` skip `date=` partitions out of range (runs are filtered in prepare).
    """
    progress = None
    if not quiet and sys.stderr.isatty():
        from argus_cli.render import load_progress  # Rich only when someone watches stderr

        progress = load_progress(quiet)
    trace = load(
        inputs,
        strict=strict,
        keep_unknown=keep_unknown,
        stdin=stdin,
        source_format=source_format,
        hop_spans=hop_spans,
        columns=columns,
        progress=progress,
        since=since,
        until=until,
    )
    if not quiet:
        report_bad_records(trace.bad, trace.records)
    return trace


def analyse(
    inputs: Sequence[str],
    settings: Settings | None = None,
    *,
    strict: bool = False,
    stdin: BinaryIO | None = None,
    quiet: bool = False,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
) -> Report:
    """Load, compute every metric, and attach the findings."""
    trace = open_trace(
        inputs,
        strict=strict,
        stdin=stdin,
        quiet=quiet,
        source_format=source_format,
        hop_spans=hop_spans,
        columns="metrics",
    )
    try:
        return report_for(trace, settings or Settings())
    finally:
        trace.close()


def report_for(trace: Trace, settings: Settings) -> Report:
    report = compute_report(trace.con, settings, trace.files, trace.records, len(trace.bad))
    report.findings = findings(report)
    return report


def prepared(trace: Trace, settings: Settings) -> Trace:
    """The trace with the metric tables built, for `argus runs` and `argus trace`."""
    prepare(trace.con, settings)
    return trace
