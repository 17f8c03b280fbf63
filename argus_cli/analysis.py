"""One call from trace files to a finished report, for the CLI and the writer library alike.

Both go through here so that `argus report` and `tracer.finalize()` cannot compute a metric two
ways.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO

import duckdb

from argus_cli.diagnostics import InputError, report_bad_records
from argus_cli.findings import findings
from argus_cli.gates import CheckResult, GateSpec, evaluate
from argus_cli.importers import HopSpans, SourceFormat
from argus_cli.load.loading import Columns, Trace, load
from argus_cli.metrics import (
    NoRunsError,
    compute_report,
    prepare,
    run_hops,
    run_summary,
    started_in_range,
)
from argus_cli.report import GArvis, Report, Settings


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
    trace.watched = progress is not None
    return trace


def open_spark_trace(
    inputs: Sequence[str],
    master: str,
    *,
    strict: bool = False,
    quiet: bool = False,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Trace:
    """`open_trace` on Spark (`--engine spark`): the metric relations as Spark views."""
    from argus_cli.spark.session import spark_session  # PySpark only when asked for

    spark = spark_session(master)  # (first: without the extra it says how to install it)
    from argus_cli.spark.loading import load_spark

    trace = load_spark(
        spark,
        inputs,
        strict=strict,
        source_format=source_format,
        hop_spans=hop_spans,
        since=since,
        until=until,
    )
    if not quiet:
        report_bad_records(trace.bad, trace.records)
    return trace


def _computing(trace: Trace) -> contextlib.AbstractContextManager[None]:
    """A spinner on stderr while the metrics are computed, when someone watches a long one."""
    if not trace.watched:
        return contextlib.nullcontext()
    from argus_cli.render import working  # Rich only when someone watches stderr

    return working("computing metrics")


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
    with _computing(trace):
        report = compute_report(trace.con, settings, trace.files, trace.records, len(trace.bad))
    report.findings = findings(report)
    return report


def check_trace(trace: Trace, settings: Settings, spec: GateSpec) -> CheckResult:
    """`argus check`'s verdict on a loaded trace; it fails closed.

    Inputs that were read but leave no run to analyse (only malformed or skipped hops, none in
    the date range, none of the named workflows) are a failed gate, not an error: the report is
    then empty and the gates say why. The skipped records are named in `max-bad-records`.
    """
    try:
        report, no_runs = report_for(trace, settings), None
    except NoRunsError as exc:
        report, no_runs = _empty_report(trace, settings), str(exc)
    known: list[str] = []
    if settings.workflows:
        with contextlib.suppress(duckdb.Error):
            rows = trace.con.execute(
                "SELECT DISTINCT workflow_id FROM hops WHERE position = 1 ORDER BY 1"
            ).fetchall()
            known = [str(w) for (w,) in rows if w is not None]
    return evaluate(report, spec, bad=trace.bad, no_runs=no_runs, known_workflows=known)


def _empty_report(trace: Trace, settings: Settings) -> Report:
    return Report(
        files=trace.files,
        records=trace.records,
        bad_records=len(trace.bad),
        runs=0,
        hop_executions=0,
        end_to_end_success_rate=0.0,
        predicted_end_to_end=0.0,
        weakest_hop=None,
        cascade_risk_score=0.0,
        g_arvis_scores=GArvis(),
        workflows=[],
        settings=settings,
    )


def prepared(trace: Trace, settings: Settings) -> Trace:
    """The trace with the metric tables built, for `argus runs`."""
    with _computing(trace):
        prepare(trace.con, settings)
    return trace


def traced_run(
    trace: Trace,
    run_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One run's summary and hops, for `argus trace`; InputError if absent or out of range.

    `trace` must be loaded whole (columns="all"). Every run is prepared, not only those in
    range, so that a run outside [since, until] is named as such rather than as missing.
    """
    with _computing(trace):
        prepare(trace.con, Settings())
    forms = run_id_forms(run_id)
    summary = None
    for form in forms:
        summary = run_summary(trace.con, form)
        if summary is not None:
            run_id = form
            break
    ranged = since is not None or until is not None
    if summary is None:
        within = " within the --since/--until range" if ranged else ""
        also = f" (as hex: {forms[-1]})" if len(forms) > 1 else ""
        raise InputError(f"run {run_id!r}{also} is not in {', '.join(trace.files)}{within}")
    if ranged:
        start, in_range = trace.con.execute(
            f"SELECT max(started_at), bool_or(true {started_in_range('started_at', since, until)}) "
            "FROM hops WHERE run_id = ? AND position = 1",
            [run_id],
        ).fetchone() or (None, None)
        if start is None:
            raise InputError(
                f"run {run_id!r} is outside the --since/--until range: its first hop has no "
                "started_at"
            )
        if not in_range:
            raise InputError(
                f"run {run_id!r} is outside the --since/--until range: its first hop started "
                f"{start.isoformat()} (UTC)"
            )
    return summary, run_hops(trace.con, run_id)


_HEX_ID = re.compile(r"[0-9a-fA-F]+")


def run_id_forms(run_id: str) -> list[str]:
    """The run id as given, then the lower-case hex form that argus keeps OpenTelemetry trace
    ids in, when the given one is another spelling of it: upper-case hex, or base64, in which
    protobuf's JSON writes a 16-byte trace id (24 characters, e.g. "S/kvNXezTaajzpKdDg5HNg==").
    """
    forms = [run_id]
    if _HEX_ID.fullmatch(run_id) and run_id.lower() != run_id:
        forms.append(run_id.lower())
    elif len(run_id.rstrip("=")) == 22 and not _HEX_ID.fullmatch(run_id):
        text = run_id.rstrip("=").replace("-", "+").replace("_", "/")  # URL-safe too
        try:
            raw = base64.b64decode(text + "==", validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) == 16:
            forms.append(raw.hex())
    return forms


# The relations `argus query` shows, each with the run_id of its records.
QUERY_RELATIONS = ("hops", "intents", "outcomes")


def keep_runs_in_range(
    trace: Trace, since: datetime | None = None, until: datetime | None = None
) -> int | None:
    """Delete from `hops`, `intents` and `outcomes` every record of a run out of range.

    A run is in range when its first hop (SPEC position 1) started in [since, until], as
    metrics.prepare decides for the reports; a run without started_at is out. `trace` must be
    loaded whole (columns="all"): the relations are tables then. Returns the runs kept
    (None without a bound: nothing is deleted).
    """
    con = trace.con
    if since is None and until is None:
        return None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _runs_in_range AS SELECT DISTINCT run_id FROM hops "
        f"WHERE position = 1 {started_in_range('started_at', since, until)}"
    )
    try:
        for relation in QUERY_RELATIONS:
            con.execute(
                f"DELETE FROM {relation} WHERE run_id IS NULL "
                "OR run_id NOT IN (SELECT run_id FROM _runs_in_range)"
            )
        (runs,) = con.execute("SELECT count(*) FROM _runs_in_range").fetchone() or (0,)
    finally:
        con.execute("DROP TABLE _runs_in_range")
    return int(runs)
