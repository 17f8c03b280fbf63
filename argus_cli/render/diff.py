"""`argus diff`: what got worse from a base trace to a candidate, and whether it is real."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from argus_cli.diffing import Change, ReportDiff
from argus_cli.escaping import shown_all
from argus_cli.findings import pct
from argus_cli.render.base import Format, code_span, md_table, md_text, render_any

_CHANGE_STYLE = {
    "worse": "bold red",
    "better": "green",
    "noise": "yellow",
    "unchanged": "dim",
    "untested": "dim",
    "n/a": "dim",
}
_CHANGE_LABEL = {"noise": "within noise"}
_METRIC_LABEL = {
    "end_to_end_success_rate": "end to end (observed)",
    "predicted_end_to_end": "end to end (predicted)",
    "cascade_risk_score": "cascade risk",
    "pass_rate": "pass rate",
    "silent_error_rate": "silent errors",
    "validation_coverage": "validated",
    "mean_latency_ms": "mean latency",
    "cost_per_execution_usd": "cost per execution",
}


def render_diff(diff: ReportDiff, fmt: Format, console: Console) -> None:
    render_any(fmt, console, diff.to_dict, lambda: diff_markdown(diff), lambda: diff_table(diff))


def _diff_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "rate":
        return pct(value)
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "usd":
        return f"${value:.4f}"
    return f"{value:.3f}"


def _diff_delta(change: Change) -> str:
    delta = change.delta
    if delta is None:
        return "n/a"
    if change.unit == "rate":
        return f"{delta * 100:+.1f} pts"
    if change.unit in ("ms", "usd"):
        sign = "-" if delta < 0 else "+"
        text = f"{delta:+,.0f} ms" if change.unit == "ms" else f"{sign}${abs(delta):.4f}"
        relative = change.relative
        return text if relative is None else f"{text} ({relative * 100:+.1f}%)"
    return f"{delta:+.3f}"


def _p_value(change: Change) -> str:
    if change.p_value is None:
        return "—"
    return "< 0.001" if change.p_value < 0.001 else f"{change.p_value:.3f}"


def _diff_verdict(change: Change, diff: ReportDiff) -> str:
    if change.regression(diff.max_regression):
        return "REGRESSION"
    return _CHANGE_LABEL.get(change.verdict, change.verdict)


def _diff_rows(diff: ReportDiff) -> list[tuple[str, list[tuple[str, Change | None, str]]]]:
    """Per workflow: (hop label, change or None for an added/removed hop, status) rows."""
    out = []
    for wf in diff.workflows:
        rows: list[tuple[str, Change | None, str]] = []
        if wf.status != "both":
            rows.append(("(workflow)", None, wf.status))
        else:
            rows += [("(workflow)", c, "") for c in wf.changes]
            for hop in wf.hops:
                if hop.status != "both":
                    rows.append((hop.hop_id, None, hop.status))
                    continue
                shown = [c for c in hop.changes if c.base is not None or c.candidate is not None]
                rows += [(hop.hop_id, c, "") for c in shown]
        out.append((wf.workflow_id, rows))
    return out


_STATUS_TEXT = {"added": "only in the candidate", "removed": "only in the base"}


def _diff_cells(hop: str, change: Change | None, status: str, diff: ReportDiff) -> list[str]:
    if change is None:
        return [hop, "", "", "", "", "", _STATUS_TEXT[status]]
    return [
        hop,
        _METRIC_LABEL.get(change.metric, change.metric),
        _diff_value(change.base, change.unit),
        _diff_value(change.candidate, change.unit),
        _diff_delta(change),
        _p_value(change),
        _diff_verdict(change, diff),
    ]


def _diff_headline(diff: ReportDiff) -> str:
    regressions = diff.regressions()
    if diff.max_regression is None:
        worse = sum(
            1
            for wf in diff.workflows
            for c in (*wf.changes, *(c for h in wf.hops for c in h.changes))
            if c.verdict == "worse"
        )
        count = f"{worse} significant change(s)" if worse else "no significant change"
        return f"{count} for the worse (no --max-regression gate)"
    limit = f"{diff.max_regression * 100:.1f} pts"
    if regressions:
        return f"{len(regressions)} significant regression(s) beyond {limit}"
    return f"no significant regression beyond {limit}"


def _diff_scope(diff: ReportDiff) -> str:
    return (
        f"base {diff.base.runs} runs ({', '.join(diff.base.files)}) → candidate "
        f"{diff.candidate.runs} runs ({', '.join(diff.candidate.files)})"
    )


def _significance(diff: ReportDiff) -> str:
    return f"significant: p < {diff.alpha:g} (two-proportion z-test)"


_DIFF_HEADERS = ["hop", "metric", "base", "candidate", "change", "p-value", "verdict"]


def diff_table(diff: ReportDiff) -> Group:
    diff = shown_all(diff)
    failed = bool(diff.regressions())
    head = Text(f"argus diff · {_diff_scope(diff)}\n", style="bold")
    head.append(_diff_headline(diff), style="bold red" if failed else "bold")
    head.append(f" · {_significance(diff)}")
    parts: list[Any] = [head]
    for workflow, rows in _diff_rows(diff):
        table = Table(title=f"Workflow {workflow}", title_justify="left", box=box.SIMPLE_HEAVY)
        for header in _DIFF_HEADERS:
            right = header in ("base", "candidate", "change", "p-value")
            table.add_column(header, justify="right" if right else "left")
        for hop, change, status in rows:
            cells = _diff_cells(hop, change, status, diff)
            if change is None:
                style = "cyan"
            elif change.regression(diff.max_regression):
                style = "bold red"
            else:
                style = _CHANGE_STYLE[change.verdict]
            table.add_row(*cells[:-1], Text(cells[-1], style=style))
        parts.append(table)
    for regression in diff.regressions():
        parts.append(Text(f"✗ {regression.text()}", style="bold red"))
    return Group(*parts)


def diff_markdown(diff: ReportDiff) -> str:
    diff = shown_all(diff)
    icon = "❌ " if diff.regressions() else ""
    out = [
        f"## argus diff: {icon}{_diff_headline(diff)}\n\n"
        f"{_diff_scope(diff)}; {_significance(diff)}.\n"
    ]
    for workflow, rows in _diff_rows(diff):
        out.append(f"\n### Workflow {code_span(workflow)}\n\n")
        cells = [_diff_cells(hop, change, status, diff) for hop, change, status in rows]
        for row in cells:
            row[0] = code_span(row[0]) if row[0] != "(workflow)" else row[0]
            if row[-1] == "REGRESSION":
                row[-1] = "❌ **REGRESSION**"
        out.append(md_table(_DIFF_HEADERS, cells, {2, 3, 4, 5}))
    regressions = diff.regressions()
    if regressions:
        out.append("\n### Regressions\n\n")
        out += [f"- {md_text(r.text())}\n" for r in regressions]
    return "".join(out)
