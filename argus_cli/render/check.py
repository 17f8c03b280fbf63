"""`argus check`: the gates, their thresholds and values, and why a gate failed."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from argus_cli.escaping import shown_all
from argus_cli.gates import CheckResult, GateResult, show_pair
from argus_cli.render.base import Format, code_span, md_table, md_text, render_any

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "no data": "bold red"}
_VERDICT_MARK = {"pass": "✓", "fail": "✗", "no data": "✗"}
_VERDICT_ICON = {"pass": "✅", "fail": "❌", "no data": "❌"}


def render_check(result: CheckResult, fmt: Format, console: Console) -> None:
    render_any(
        fmt, console, result.to_dict, lambda: check_markdown(result), lambda: check_table(result)
    )


def _gate_cells(gate: GateResult) -> tuple[str, str]:
    """Threshold (with its bound) and value, as people read them."""
    value, threshold = show_pair(gate.value, gate.threshold, gate.unit)
    return ("≤ " if gate.bound == "max" else "≥ ") + threshold, value


def _check_headline(result: CheckResult) -> str:
    failed = len(result.failures)
    if failed:
        return f"{failed} of {len(result.gates)} gates failed"
    return f"all {len(result.gates)} gates held"


def _check_scope(result: CheckResult) -> str:
    report = result.report
    skipped = f", {report.bad_records} malformed skipped" if report.bad_records else ""
    return (
        f"{report.runs} runs, {len(report.workflows)} workflow(s) from {len(report.files)} "
        f"file(s) ({report.records} records{skipped})"
    )


def check_table(result: CheckResult) -> Group:
    result = shown_all(result)
    head = Text(f"argus check · {_check_scope(result)}: ", style="bold")
    head.append(_check_headline(result), style="bold red" if result.failures else "bold green")
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("workflow")
    table.add_column("gate")
    table.add_column("threshold", justify="right")
    table.add_column("value", justify="right")
    table.add_column("verdict")
    for gate in result.gates:
        threshold, value = _gate_cells(gate)
        verdict = gate.verdict
        table.add_row(
            gate.scope,
            gate.name,
            threshold,
            value,
            Text(f"{_VERDICT_MARK[verdict]} {verdict}", style=_VERDICT_STYLE[verdict]),
        )
    parts: list[Any] = [head, table]
    for gate in result.failures:
        line = Text("✗ ", style="bold red")
        line.append(f"{gate.scope} {gate.gate}: {gate.reason}")
        parts.append(line)
    return Group(*parts)


def check_markdown(result: CheckResult) -> str:
    result = shown_all(result)
    icon = "❌" if result.failures else "✅"
    out = [f"## argus check: {icon} {_check_headline(result)}\n\n{_check_scope(result)}.\n\n"]
    rows = []
    for gate in result.gates:
        threshold, value = _gate_cells(gate)
        rows.append(
            [
                code_span(gate.scope),
                code_span(gate.name),
                threshold,
                value,
                f"{_VERDICT_ICON[gate.verdict]} {gate.verdict}",
            ]
        )
    out.append(md_table(["workflow", "gate", "threshold", "value", "verdict"], rows, {2, 3}))
    if result.failures:
        out.append("\n### Failed gates\n\n")
        out += [
            f"- {code_span(g.scope)} {code_span(g.gate)}: {md_text(g.reason)}\n"
            for g in result.failures
        ]
    return "".join(out)
