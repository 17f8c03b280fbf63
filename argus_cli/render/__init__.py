"""Rendering: the report, run lists, one run's tree, gates, diffs and plans, as Rich, Markdown,
CSV or JSON; and load progress on stderr.

The only package that imports Rich (a ruff rule keeps it so). Every format is a view of the same
model; numbers are rounded here for people and never in JSON. One module per concern:

- base: the formats, the console, JSON, Markdown tables, lists of records (`argus query`)
- report: `argus report`
- runs: `argus runs` and `argus trace`
- check, diff: `argus check` and `argus diff`
- reliability: `argus reliability`
- progress: the load's bar and the metrics spinner on stderr
"""

from __future__ import annotations

from argus_cli.render.base import (
    Format,
    make_console,
    md_table,
    output_console,
    render_rows,
    to_json,
)
from argus_cli.render.check import check_markdown, check_table, render_check
from argus_cli.render.diff import diff_markdown, diff_table, render_diff
from argus_cli.render.progress import LoadProgressBar, load_progress, working
from argus_cli.render.reliability import (
    chain_view,
    render_reliability,
    samples_view,
    trace_plan_view,
)
from argus_cli.render.report import render_report, report_markdown, report_table
from argus_cli.render.runs import render_runs, render_trace

__all__ = [
    "Format",
    "LoadProgressBar",
    "chain_view",
    "check_markdown",
    "check_table",
    "diff_markdown",
    "diff_table",
    "load_progress",
    "make_console",
    "md_table",
    "output_console",
    "render_check",
    "render_diff",
    "render_reliability",
    "render_report",
    "render_rows",
    "render_runs",
    "render_trace",
    "report_markdown",
    "report_table",
    "samples_view",
    "to_json",
    "trace_plan_view",
    "working",
]
