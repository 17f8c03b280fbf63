"""`argus report --format html`: one self-contained page per trace, per workflow the verdict,
the workflow map, pass rates with their intervals, validation against silent errors, the trend
by day, the failed runs as trees, and the findings.

Every figure comes from the report model (`Report.to_dict()` is in the page as JSON too) or from
`pictures.Pictures` (edges, trees, days), both computed in SQL. Each number in a table or a
banner carries its exact value and where it sits in that JSON: `data-path` on a row or a banner
names the object in the page's JSON (`script#argus-data`: "report/workflows/0/hops/2",
"edges/3") and `data-k` the key; the page's "report" is `--json`'s object, key for key.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from argus_cli import __version__
from argus_cli.findings import CASCADE_LINE, e2e_verdict, num, pct
from argus_cli.metrics.graph import Edge
from argus_cli.pictures import FailedRun, Pictures
from argus_cli.render.html import charts
from argus_cli.render.html.page import (
    Charts,
    bar,
    esc,
    table,
    td,
    text_td,
    tr,
    value,
)
from argus_cli.render.report import errors_cell, hop_notes, stage_labels
from argus_cli.render.runs import trace_view
from argus_cli.report import G_ARVIS_DIMENSIONS, Report, WorkflowReport


def pictures_data(pictures: Pictures) -> dict[str, Any]:
    """The page's extras as JSON: edges and the figures of each day."""
    return {
        "edges": [e.to_dict() for e in pictures.edges],
        "trend": {
            "total_days": pictures.trend.total_days,
            "days": [
                {
                    "day": d.day.isoformat(),
                    "workflows": [
                        {
                            "workflow_id": w.workflow_id,
                            "runs": w.runs,
                            "end_to_end_success_rate": w.end_to_end_success_rate,
                            "predicted_end_to_end": w.predicted_end_to_end,
                            "cascade_risk_score": w.cascade_risk_score,
                            "hops": {h.hop_id: h.pass_rate for h in w.hops},
                        }
                        for w in d.report.workflows
                    ],
                }
                for d in pictures.trend.days
            ],
        },
    }


def _fact(label: str, body: str, note: str = "", cls: str = "") -> str:
    klass = f"fact {cls}".strip()
    tail = f'<div class="note">{note}</div>' if note else ""
    return (
        f'<div class="{klass}"><div class="label">{esc(label)}</div>'
        f'<div class="value">{body}</div>{tail}</div>'
    )


def verdict_banner(
    path: str,
    runs: int,
    observed: float,
    predicted: float,
    risk: float,
    scores: dict[str, float | None],
    weakest: str,
) -> str:
    """End to end observed and predicted, cascade risk against its line, G-ARVIS."""
    above = risk > CASCADE_LINE
    dims = ", ".join(
        f"{d.replace('_', ' ')} " + value(f"g_arvis_scores.{d}", scores.get(d), num(scores.get(d)))
        for d in G_ARVIS_DIMENSIONS
    )
    facts = [
        _fact(
            "End to end, observed",
            value("end_to_end_success_rate", observed, pct(observed)),
            f"of {value('runs', runs, str(runs))} runs · {esc(e2e_verdict(observed, predicted))}",
            "good" if observed >= predicted else "",
        ),
        _fact(
            "End to end, predicted",
            value("predicted_end_to_end", predicted, pct(predicted)),
            "from the hops' pass rates, stage by stage",
        ),
        _fact(
            "Cascade risk",
            value("cascade_risk_score", risk, f"{risk:.3f}"),
            f"{'above' if above else 'below'} the {CASCADE_LINE} line",
            "bad" if above else "good",
        ),
        _fact(
            "G-ARVIS",
            value("g_arvis_scores.g_arvis", scores.get("g_arvis"), num(scores.get("g_arvis"))),
            dims,
        ),
        _fact("Weakest hop", esc(weakest), cls="name"),
    ]
    return f'<div class="banner" data-path="{path}">{"".join(facts)}</div>'


def _weakest(wf: WorkflowReport) -> str:
    hop = min(wf.hops, key=lambda h: (h.pass_rate, -h.executions, h.hop_id))
    return f"{hop.hop_id} {pct(hop.pass_rate)}"


_HOP_HEADERS = [
    "stage",
    "hop",
    "executions",
    "errors (handled)",
    "pass rate",
    "95% interval",
    "validated",
    "silent errors",
    "cascade contribution",
    "drift",
    "high-stakes unvalidated",
    "failed runs born here",
]


def hop_table(wf: WorkflowReport, index: int) -> str:
    born = {c.hop_id: c.failed_runs for c in wf.root_causes}
    rows = []
    for i, (stage, h) in enumerate(zip(stage_labels(wf), wf.hops, strict=True)):
        lo, hi = h.pass_rate_ci
        rows.append(
            tr(
                [
                    td("stage", h.stage, stage),
                    text_td(h.hop_id),
                    td("executions", h.executions, str(h.executions)),
                    td("errors", h.errors, errors_cell(h.errors, h.handled_errors)),
                    td("pass_rate", h.pass_rate, pct(h.pass_rate), bar(h.pass_rate)),
                    td("pass_rate_ci", [lo, hi], f"{pct(lo)} – {pct(hi)}"),
                    td("validation_coverage", h.validation_coverage, pct(h.validation_coverage, 0)),
                    td("silent_error_rate", h.silent_error_rate, pct(h.silent_error_rate)),
                    td(
                        "cascade_contribution",
                        h.cascade_contribution,
                        num(h.cascade_contribution, 3),
                        bar(h.cascade_contribution / CASCADE_LINE, risk=True),
                    ),
                    td("drift_rate", h.drift_rate, pct(h.drift_rate)),
                    td(
                        "high_stakes_unvalidated",
                        h.high_stakes_unvalidated,
                        str(h.high_stakes_unvalidated) if h.high_stakes else "n/a",
                    ),
                    f"<td>{born.get(h.hop_id, 0)}</td>",
                ],
                {"data-path": f"report/workflows/{index}/hops/{i}"},
            )
        )
    notes = "".join(f'<p class="muted">{esc(n)}.</p>' for n in hop_notes(wf))
    return table(_HOP_HEADERS, rows, left=[1], cls="hops") + notes


def _edge_table(edges: Sequence[tuple[int, Edge]]) -> str:
    rows = [
        tr(
            [
                text_td(e.source),
                text_td(e.target),
                text_td("calls" if e.kind == "call" else "then"),
                td("runs", e.runs, str(e.runs)),
                td("damaged_runs", e.damaged_runs, str(e.damaged_runs)),
            ],
            {"data-path": f"edges/{i}"},
        )
        for i, e in edges
    ]
    return table(
        ["from", "to", "edge", "runs", "failed runs whose damage went along it"],
        rows,
        left=[0, 1, 2],
        cls="edges",
    )


def _root_table(wf: WorkflowReport, index: int) -> str:
    rows = [
        tr(
            [
                text_td(c.hop_id or "(no hop flagged; outcome wrong)"),
                td("failed_runs", c.failed_runs, str(c.failed_runs)),
                td("mean_blast_radius", c.mean_blast_radius, num(c.mean_blast_radius)),
                td("observed_cascades", c.observed_cascades, str(c.observed_cascades)),
            ],
            {"data-path": f"report/workflows/{index}/root_causes/{i}"},
        )
        for i, c in enumerate(wf.root_causes)
    ]
    return table(
        ["origin hop", "failed runs", "mean blast radius", "observed cascades"],
        rows,
        left=[0],
        cls="root-causes",
    )


def _what_if_table(wf: WorkflowReport, index: int) -> str:
    rows = [
        tr(
            [
                text_td(w.hop_id),
                td("coverage", w.coverage, pct(w.coverage, 0)),
                td("proposed_coverage", w.proposed_coverage, pct(w.proposed_coverage, 0)),
                td("cascade_risk_score", w.cascade_risk_score, f"{w.cascade_risk_score:.3f}"),
                td(
                    "proposed_cascade_risk_score",
                    w.proposed_cascade_risk_score,
                    f"{w.proposed_cascade_risk_score:.3f}",
                ),
            ],
            {"data-path": f"report/workflows/{index}/what_if/{i}"},
        )
        for i, w in enumerate(wf.what_if)
    ]
    return table(
        ["validate more at", "validated now", "what-if", "cascade risk now", "cascade risk then"],
        rows,
        left=[0],
        cls="what-if",
    )


def _trend_section(wf: WorkflowReport, pictures: Pictures, drawn: Charts) -> str:
    days = pictures.trend
    if not days.days:
        return (
            '<p class="muted">The runs started on one day (or have no start time): the trend '
            "is shown from two days on.</p>"
        )
    rows = []
    for d_index, day in enumerate(days.days):
        for w_index, w in enumerate(day.report.workflows):
            if w.workflow_id != wf.workflow_id:
                continue
            rows.append(
                tr(
                    [
                        text_td(day.day.isoformat()),
                        td("runs", w.runs, str(w.runs)),
                        td(
                            "end_to_end_success_rate",
                            w.end_to_end_success_rate,
                            pct(w.end_to_end_success_rate),
                        ),
                        td(
                            "predicted_end_to_end",
                            w.predicted_end_to_end,
                            pct(w.predicted_end_to_end),
                        ),
                        td(
                            "cascade_risk_score",
                            w.cascade_risk_score,
                            f"{w.cascade_risk_score:.3f}",
                        ),
                    ],
                    {"data-path": f"trend/days/{d_index}/workflows/{w_index}"},
                )
            )
    cut = ""
    if days.total_days > len(days.days):
        cut = f'<p class="muted">The last {len(days.days)} of {days.total_days} days.</p>'
    return (
        drawn.chart(charts.trend(wf.workflow_id, days), f"trend of {wf.workflow_id} by day")
        + cut
        + table(
            ["day (UTC)", "runs", "end to end", "predicted", "cascade risk"],
            rows,
            left=[0],
            cls="trend",
        )
    )


def tree_html(run: FailedRun) -> str:
    """The run's tree exactly as `argus trace` draws it, its colours kept inline."""
    console = Console(
        record=True,
        file=io.StringIO(),
        width=120,
        color_system="truecolor",
        force_terminal=True,
        markup=False,
        emoji=False,
        highlight=False,
    )
    console.print(trace_view(run.summary, run.hops))
    return console.export_html(inline_styles=True, code_format='<pre class="tree">{code}</pre>')


def _failed_runs(wf: WorkflowReport, index: int, pictures: Pictures) -> str:
    if not wf.failed_runs:
        return '<p class="muted">No run failed.</p>'
    shown = pictures.failed_runs.get(wf.workflow_id, [])
    items = []
    for run in shown:
        s = run.summary
        origin = s.get("origin_hop") or "(outcome wrong)"
        flags = " · observed cascade" if s.get("observed_cascade") else ""
        items.append(
            f"<details><summary><b>{esc(origin)}</b> · run {esc(s.get('run_id'))} · "
            f"blast radius {esc(s.get('blast_radius'))}{flags}</summary>{tree_html(run)}</details>"
        )
    more = ""
    if len(shown) < wf.failed_runs:
        more = (
            f'<p class="muted">The first {len(shown)} of {wf.failed_runs} failed runs, earliest '
            "origin first; <code>argus runs TRACE --failed</code> lists them all.</p>"
        )
    return _root_table(wf, index) + f"<h4>Failed runs, origin first</h4>{''.join(items)}{more}"


def _findings(report: Report, workflow_id: str | None) -> str:
    items = [
        f'<li class="{esc(f.level)}"><b>{esc(f.level)}</b>: {esc(f.text)}</li>'
        for f in report.findings
        if workflow_id is None or f.workflow_id == workflow_id
    ]
    if not items:
        return '<p class="muted">No findings.</p>'
    return f'<ul class="findings">{"".join(items)}</ul>'


def workflow_section(
    report: Report, wf: WorkflowReport, index: int, pictures: Pictures, drawn: Charts
) -> str:
    edges = [(i, e) for i, e in enumerate(pictures.edges) if e.workflow_id == wf.workflow_id]
    anchor = f"wf-{index}"
    parts = [
        f'<section id="{anchor}" data-workflow="{esc(wf.workflow_id)}">',
        f"<h2>Workflow {esc(wf.workflow_id)}</h2>",
        verdict_banner(
            f"report/workflows/{index}",
            wf.runs,
            wf.end_to_end_success_rate,
            wf.predicted_end_to_end,
            wf.cascade_risk_score,
            dict(wf.g_arvis_scores.to_dict()),
            _weakest(wf),
        ),
        "<h3>Workflow map</h3>",
        '<p class="muted">Hops in stage order, alternative routes one under the other, hops '
        "that ran within a caller below it (dashed). Node colour: pass rate; red ring: failed "
        "runs born there; edge width: runs; red edges: where failed runs' damage travelled.</p>",
        drawn.chart(charts.workflow_map(wf, [e for _, e in edges]), f"map of {wf.workflow_id}"),
        f"<details><summary>The map's edges as a table</summary>{_edge_table(edges)}</details>",
        "<h3>Pass rate per hop, with its 95% interval</h3>",
        drawn.chart(charts.pass_rates(wf), f"pass rates of {wf.workflow_id}"),
        hop_table(wf, index),
        "<h3>Validation coverage against silent errors</h3>",
        '<p class="muted">Circle size: the hop\'s cascade contribution. The arrow: the what-if '
        "the findings recommend.</p>",
        drawn.chart(charts.coverage(wf), f"validation against silent errors of {wf.workflow_id}"),
        _what_if_table(wf, index),
        "<h3>Trend by day</h3>",
        _trend_section(wf, pictures, drawn),
        f"<h3>Failed runs: {wf.failed_runs} of {wf.runs}</h3>",
        _failed_runs(wf, index, pictures),
        "<h3>Findings</h3>",
        _findings(report, wf.workflow_id),
        "</section>",
    ]
    return "".join(parts)


def scope_line(report: Report) -> str:
    skipped = f", {report.bad_records} malformed skipped" if report.bad_records else ""
    return (
        f"{report.runs} runs, {report.hop_executions} hop executions, "
        f"{len(report.workflows)} workflow(s) from {len(report.files)} file(s) "
        f"({report.records} records{skipped}): {', '.join(report.files)}"
    )


def report_body(report: Report, pictures: Pictures, drawn: Charts) -> str:
    """The report's part of a page (a check page puts its gates above it)."""
    nav = " ".join(
        f'<a href="#wf-{i}">{esc(wf.workflow_id)}</a>' for i, wf in enumerate(report.workflows)
    )
    parts = [f'<p class="lead">{esc(scope_line(report))}</p>', f"<nav>{nav}</nav>"]
    if len(report.workflows) > 1:
        worst = report.weakest_hop
        parts += [
            "<h2>All workflows</h2>",
            verdict_banner(
                "report",
                report.runs,
                report.end_to_end_success_rate,
                report.predicted_end_to_end,
                report.cascade_risk_score,
                dict(report.g_arvis_scores.to_dict()),
                f"{worst.workflow_id} / {worst.hop_id} {pct(worst.pass_rate)}" if worst else "n/a",
            ),
        ]
    parts += [
        workflow_section(report, wf, i, pictures, drawn) for i, wf in enumerate(report.workflows)
    ]
    return "".join(parts)


def footer() -> str:
    return (
        f"<footer>argus {esc(__version__)} · one self-contained file: it makes no network "
        "request. The numbers are those of <code>--format json</code>, which this page also "
        "holds (<code>script#argus-data</code>).</footer>"
    )
