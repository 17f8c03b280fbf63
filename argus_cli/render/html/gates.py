"""The three pages: a report, a check (its gate verdicts on top of the report) and a diff
(base and candidate side by side, then what changed and whether it is more than noise)."""

from __future__ import annotations

from typing import Any

from argus_cli.diffing import Change, ReportDiff
from argus_cli.findings import pct
from argus_cli.gates import CheckResult
from argus_cli.pictures import Pictures
from argus_cli.render.check import _gate_cells
from argus_cli.render.diff import (
    _DIFF_HEADERS,
    _diff_cells,
    _diff_headline,
    _diff_rows,
    _significance,
)
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


_VERDICT_CLASS = {"REGRESSION": "fail", "worse": "fail", "better": "pass"}


def _change_row(diff: ReportDiff, where: str, change: Change | None, status: str, path: str) -> str:
    """One row of `argus diff`'s table (its cells' words), each number exact in data-v."""
    words = _diff_cells(where, change, status, diff)
    if change is None:
        return tr([text_td(w) for w in words])
    verdict = words[-1]
    return tr(
        [
            text_td(words[0]),
            text_td(words[1]),
            td("base", change.base, words[2]),
            td("candidate", change.candidate, words[3]),
            td("change", change.delta, words[4]),
            td("p_value", change.p_value, words[5]),
            f'<td class="text {_VERDICT_CLASS.get(verdict, "muted")}">{esc(verdict)}</td>',
        ],
        {"data-path": path},
    )


def _change_paths(diff: ReportDiff) -> dict[int, str]:
    """Where each change sits in the diff's JSON, by identity."""
    paths = {}
    for w, wf in enumerate(diff.workflows):
        for i, c in enumerate(wf.changes):
            paths[id(c)] = f"diff/workflows/{w}/changes/{i}"
        for h, hop in enumerate(wf.hops):
            for i, c in enumerate(hop.changes):
                paths[id(c)] = f"diff/workflows/{w}/hops/{h}/changes/{i}"
    return paths


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
    paths = _change_paths(diff)
    if diff.max_regression is None:  # no gate: red when anything got significantly worse
        changes = [c for wf in diff.workflows for c in wf.changes]
        changes += [c for wf in diff.workflows for h in wf.hops for c in h.changes]
        worse = any(c.verdict == "worse" for c in changes)
    else:
        worse = bool(regressions)
    parts = [
        f'<h1>argus diff: <span class="{"fail" if worse else "pass"}">'
        f"{esc(_diff_headline(diff))}</span></h1>",
        _sides(diff),
    ]
    if regressions:
        items = "".join(f'<li class="problem">{esc(r.text())}</li>' for r in regressions)
        parts.append(f'<ul class="findings">{items}</ul>')
    for wf, (name, rows) in zip(diff.workflows, _diff_rows(diff), strict=True):
        parts.append(f"<h2>Workflow {esc(name)}</h2>")
        base = next((w for w in diff.base.workflows if w.workflow_id == name), None)
        cand = next((w for w in diff.candidate.workflows if w.workflow_id == name), None)
        parts.append(
            drawn.chart(
                charts.pass_rates_compared(base, cand),
                f"pass rates of {wf.workflow_id}, base and candidate",
            )
        )
        parts.append(
            table(
                _DIFF_HEADERS,
                [
                    _change_row(diff, hop, c, status, paths.get(id(c), ""))
                    for hop, c, status in rows
                ],
                left=[0, 1, 6],
                cls="changes",
            )
        )
    parts.append(
        f'<p class="muted">{esc(_significance(diff))}; "within noise" is a change inside it.</p>'
    )
    parts.append(footer())
    data: dict[str, Any] = {
        "diff": diff.to_dict(),
        "base": diff.base.to_dict(),
        "candidate": diff.candidate.to_dict(),
    }
    return document("argus diff", "".join(parts), data, drawn)
