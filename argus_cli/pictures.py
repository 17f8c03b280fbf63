"""What the HTML report draws beyond the report model: the map's edges, the failed runs with
their trees, and the trend by day. All of it is read from the metric tables (SQL), after
`analysis.report_for` built them for the same trace and settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argus_cli.load.loading import Trace
from argus_cli.metrics import run_hops, run_summary
from argus_cli.metrics.graph import Edge, failed_run_ids, hop_edges
from argus_cli.metrics.trend import Trend, trend
from argus_cli.report import Report

# Failed runs drawn as trees per workflow; `argus runs --failed` lists them all.
FAILED_SHOWN = 25


@dataclass(frozen=True)
class FailedRun:
    """One failed run: its summary and its tree, as `argus trace` shows them."""

    summary: dict[str, Any]
    hops: list[dict[str, Any]]


@dataclass
class Pictures:
    edges: list[Edge] = field(default_factory=list)
    failed_runs: dict[str, list[FailedRun]] = field(default_factory=dict)
    trend: Trend = field(default_factory=lambda: Trend((), 0))


def pictures_for(trace: Trace, report: Report, failed_shown: int = FAILED_SHOWN) -> Pictures:
    """The extras of the HTML report. `trace` must be loaded whole (columns="all": the trees
    show errors and violations) and `report` computed on it; the trend comes last, as it
    rebuilds the metric tables once per day."""
    con = trace.con
    failed: dict[str, list[FailedRun]] = {wf.workflow_id: [] for wf in report.workflows}
    for wf, run_id in failed_run_ids(con, failed_shown):
        summary = run_summary(con, run_id) or {}
        failed.setdefault(wf, []).append(FailedRun(summary, run_hops(con, run_id)))
    edges = hop_edges(con)
    days = trend(con, report.settings, trace.files, trace.records, len(trace.bad))
    return Pictures(edges=edges, failed_runs=failed, trend=days)
