"""The three pages: a report, a check (its gate verdicts on top of the report) and a diff
(base and candidate side by side, then what changed and whether it is more than noise)."""

from __future__ import annotations

from typing import Any

from argus_cli.diffing import Change, ReportDiff
from argus_cli.findings import pct
from argus_cli.gates import CheckResult
from argus_cli.pictures import Pictures
from argus_cli.render.check import _gate_cells
from argus_cli.render.diff import _METRIC_LABEL, _diff_delta, _diff_value
from argus_cli.render.html import charts
from argus_cli.render.html.page import Charts, document, esc, exact, table, td, text_td, tr
from argus_cli.render.html.report import (
    footer,
    pictures_data,
    report_body,
    scope_line,
)
from argus_cli.report import Report


def report_html(report: Report, pictures: Pictures) -> str:
    drawn = Charts()
    body = "<h1>argus report</h1>" + report_body(report, pictures, drawn) + footer()
    data = {"report": report.to_dict(), **pictures_data(pictures)}
    return document("argus report", body, data, drawn)


def check_html(result: CheckResult, pictures: Pictures) -> str:
    drawn = Charts()
    failed = len(result.failures)
    headline = (
        f"{failed} of {len(result.gates)} gates failed"
        if failed
        else f"all {len(result.gates)} gates held"
    )
    rows = []
    for i, gate in enumerate(result.gates):
        threshold, shown = _gate_cells(gate)
        rows.append(
            tr(
                [
                    text_td(gate.scope),
                    text_td(gate.name),
                    text_td(threshold),
                    td("value", gate.value, shown),
                    f'<td class="text {"pass" if gate.passed else "fail"}">'
                    f"{esc(gate.verdict)}</td>",
                    text_td(gate.reason if not gate.passed else ""),
                ],
                {"data-path": f"check/gates/{i}"},
            )
        )
    body = (
        f'<h1 data-path="check">argus check: <span class="{"fail" if failed else "pass"}" '
        'data-k="passed" '
        f'data-v="{esc(exact(result.passed))}">{esc(headline)}</span></h1>'
        + table(
            ["workflow", "gate", "threshold", "value", "verdict", "why"],
            rows,
            left=[0, 1, 2, 4, 5],
            cls="gates",
        )
        + report_body(result.report, pictures, drawn)
        + footer()
    )
    data = {"check": result.to_dict(), "report": result.report.to_dict(), **pictures_data(pictures)}
    return document("argus check", body, data, drawn)


def _p_text(p_value: float | None) -> str:
    return "n/a" if p_value is None else f"{p_value:.3g}"


def _change_row(change: Change, path: str, where: str) -> str:
    verdict = change.verdict
    cls = {"worse": "fail", "better": "pass", "noise": "warning"}.get(verdict, "muted")
    return tr(
        [
            text_td(where),
            text_td(_METRIC_LABEL.get(change.metric, change.metric)),
            td("base", change.base, _diff_value(change.base, change.unit)),
            td("candidate", change.candidate, _diff_value(change.candidate, change.unit)),
            td("change", change.delta, _diff_delta(change)),
            td(
                "p_value",
                change.p_value,
                "n/a" if change.p_value is None else f"{change.p_value:.3g}",
            ),
            f'<td class="text {cls}">{esc(verdict)}</td>',
        ],
        {"data-path": path},
    )


def _sides(diff: ReportDiff) -> str:
    """Each workflow's headline figures, base and candidate side by side."""
    names = sorted(
        {w.workflow_id for w in diff.base.workflows}
        | {w.workflow_id for w in diff.candidate.workflows}
    )
    rows = []
    for name in names:
        cells = [text_td(name)]
        for key, report in (("base", diff.base), ("candidate", diff.candidate)):
            index, wf = next(
                ((i, w) for i, w in enumerate(report.workflows) if w.workflow_id == name),
                (None, None),
            )
            if wf is None:
                cells += ['<td class="muted">absent</td>'] + ["<td></td>"] * 3
                continue
            path = f"{key}/workflows/{index}"
            e2e, predicted = wf.end_to_end_success_rate, wf.predicted_end_to_end
            cells += [
                td("runs", wf.runs, str(wf.runs), path=path),
                td("end_to_end_success_rate", e2e, pct(e2e), path=path),
                td("predicted_end_to_end", predicted, pct(predicted), path=path),
                td(
                    "cascade_risk_score",
                    wf.cascade_risk_score,
                    f"{wf.cascade_risk_score:.3f}",
                    path=path,
                ),
            ]
        rows.append(tr(cells))
    sides = ["runs", "end to end", "predicted", "cascade risk"]
    headers = ["workflow"] + [f"{s} ({side})" for side in ("base", "candidate") for s in sides]
    return (
        f'<p class="muted">Base: {esc(scope_line(diff.base))}<br>'
        f"Candidate: {esc(scope_line(diff.candidate))}</p>"
        + table(headers, rows, left=[0], cls="sides")
    )


def diff_html(diff: ReportDiff) -> str:
    """Base and candidate side by side, each hop's pass rate on both, every change tested."""
    drawn = Charts()
    regressions = diff.regressions()
    headline = (
        f"{len(regressions)} significant regression(s)"
        if regressions
        else "no significant regression" + ("" if diff.max_regression is not None else " gate set")
    )
    if diff.max_regression is None:
        headline = "changes from base to candidate (no --max-regression gate)"
    parts = [
        f'<h1>argus diff: <span class="{"fail" if regressions else "pass"}">{esc(headline)}</span>'
        "</h1>",
        _sides(diff),
    ]
    if regressions:
        items = "".join(f'<li class="problem">{esc(r.text())}</li>' for r in regressions)
        parts.append(f'<ul class="findings">{items}</ul>')
    for w_index, wf in enumerate(diff.workflows):
        parts.append(f"<h2>Workflow {esc(wf.workflow_id)} ({esc(wf.status)})</h2>")
        base = next((w for w in diff.base.workflows if w.workflow_id == wf.workflow_id), None)
        cand = next((w for w in diff.candidate.workflows if w.workflow_id == wf.workflow_id), None)
        parts.append(
            drawn.chart(
                charts.pass_rates_compared(base, cand),
                f"pass rates of {wf.workflow_id}, base and candidate",
            )
        )
        rows = [
            _change_row(c, f"diff/workflows/{w_index}/changes/{i}", "workflow")
            for i, c in enumerate(wf.changes)
        ]
        for h_index, hop in enumerate(wf.hops):
            rows += [
                _change_row(
                    c, f"diff/workflows/{w_index}/hops/{h_index}/changes/{i}", f"{hop.hop_id}"
                )
                for i, c in enumerate(hop.changes)
            ]
        parts.append(
            table(
                ["where", "metric", "base", "candidate", "change", "p-value", "verdict"],
                rows,
                left=[0, 1, 6],
                cls="changes",
            )
        )
    parts.append(
        f'<p class="muted">A change is tested with a two-proportion z-test at alpha '
        f'{esc(pct(diff.alpha))}; "noise" is a change inside it.</p>'
    )
    parts.append(footer())
    data: dict[str, Any] = {
        "diff": diff.to_dict(),
        "base": diff.base.to_dict(),
        "candidate": diff.candidate.to_dict(),
    }
    return document("argus diff", "".join(parts), data, drawn)
