"""Rendering: the report, run lists, one run's tree and query results, as Rich, Markdown or JSON.

The only module that imports Rich (a ruff rule keeps it so). Every format is a view of the same
report model; numbers are rounded here for people and never in JSON. Output goes to stdout only:
diagnostics have their own channel (diagnostics.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from argus_cli.diffing import Change, ReportDiff
from argus_cli.findings import CASCADE_LINE, e2e_verdict, num, pct
from argus_cli.gates import CheckResult, GateResult, show_pair
from argus_cli.report import G_ARVIS_DIMENSIONS, GArvis, Report, WorkflowReport


class Format(str, Enum):
    """Output formats; one option chooses among them."""

    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


REPORT_FORMATS = (Format.table, Format.json, Format.markdown)

_LEVEL_STYLE = {"problem": "bold red", "warning": "yellow", "info": "cyan"}
_LEVEL_MARK = {"problem": "✗", "warning": "!", "info": "·"}


def make_console(file: Any = None) -> Console:
    """A stdout console: colour only on a terminal; a wide fixed width when piped, for stability."""
    out = file if file is not None else sys.stdout
    terminal = hasattr(out, "isatty") and out.isatty()
    return Console(
        file=out,
        width=None if terminal else 120,
        highlight=False,
        soft_wrap=False,
        color_system="auto" if terminal else None,
        force_terminal=terminal,
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def to_json(data: Any) -> str:
    return json.dumps(_json_safe(data), indent=2, ensure_ascii=False, default=str) + "\n"


# --------------------------------------------------------------------------------------------
# argus report


def _render(
    fmt: Format,
    console: Console,
    as_dict: Callable[[], Any],
    as_markdown: Callable[[], str],
    as_table: Callable[[], Any],
) -> None:
    """One result in the format asked for: its JSON form, Markdown, or a Rich renderable."""
    if fmt is Format.json:
        console.file.write(to_json(as_dict()))
    elif fmt is Format.markdown:
        console.file.write(as_markdown())
    else:
        console.print(as_table())


def render_report(report: Report, fmt: Format, console: Console) -> None:
    _render(
        fmt, console, report.to_dict, lambda: report_markdown(report), lambda: report_table(report)
    )


def _ci(interval: tuple[float, float]) -> str:
    return f"[{interval[0] * 100:.1f}–{interval[1] * 100:.1f}]"


def _risk_text(risk: float) -> Text:
    if risk > CASCADE_LINE:
        return Text(f"{risk:.3f}  above the {CASCADE_LINE} line", style="bold red")
    return Text(f"{risk:.3f}  below the {CASCADE_LINE} line", style="green")


def _g_arvis_line(scores: GArvis) -> str:
    parts = [f"{d.replace('_', ' ')} {num(getattr(scores, d))}" for d in G_ARVIS_DIMENSIONS]
    return f"{num(scores.g_arvis)}  (" + ", ".join(parts) + ")"


def _verdict(
    title: str,
    runs: int,
    observed: float,
    predicted: float,
    weakest: str,
    risk: float,
    scores: GArvis,
) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "End to end",
        f"observed {pct(observed)} of {runs} runs · predicted {pct(predicted)} · "
        + e2e_verdict(observed, predicted),
    )
    grid.add_row("Weakest hop", weakest)
    grid.add_row("Cascade risk", _risk_text(risk))
    grid.add_row("G-ARVIS", _g_arvis_line(scores))
    return Panel(grid, title=title, title_align="left", box=box.ROUNDED)


def _hop_table(wf: WorkflowReport) -> Table:
    table = Table(
        title=f"Hops of {wf.workflow_id} in canonical order",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
    )
    for header, justify in [
        ("#", "right"),
        ("hop", "left"),
        ("runs", "right"),
        ("errors", "right"),
        ("pass rate (95% CI)", "right"),
        ("validated", "right"),
        ("silent\nerrors", "right"),
        ("cascade\nshare", "right"),
        ("drift", "right"),
        ("high-stakes\nunvalidated", "right"),
    ]:
        # The pass rate and its interval stay on one line: that pair is the point of the table.
        width = len("100.0% [100.0–100.0]") if header.startswith("pass rate") else None
        table.add_column(header, justify=justify, min_width=width)  # type: ignore[arg-type]
    for rank, hop in enumerate(wf.hops, start=1):
        table.add_row(
            str(rank),
            hop.hop_id,
            str(hop.executions),
            str(hop.errors),
            f"{pct(hop.pass_rate)} {_ci(hop.pass_rate_ci)}",
            pct(hop.validation_coverage, 0),
            pct(hop.silent_error_rate),
            num(hop.cascade_contribution, 3),
            pct(hop.drift_rate),
            str(hop.high_stakes_unvalidated) if hop.high_stakes else "n/a",
        )
    return table


def _root_table(wf: WorkflowReport) -> Table:
    table = Table(
        title=f"Root causes of {wf.failed_runs} failed runs of {wf.workflow_id}",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
    )
    table.add_column("origin hop")
    table.add_column("failed runs", justify="right")
    table.add_column("share", justify="right")
    table.add_column("mean blast radius", justify="right")
    for cause in wf.root_causes:
        table.add_row(
            cause.hop_id or "(no hop flagged; outcome wrong)",
            str(cause.failed_runs),
            pct(cause.failed_runs / wf.failed_runs if wf.failed_runs else None),
            num(cause.mean_blast_radius),
        )
    return table


def _weakest(report: Report, wf: WorkflowReport | None = None) -> str:
    if wf is not None:
        hop = min(wf.hops, key=lambda h: (h.pass_rate, -h.executions, h.hop_id))
        return f"{hop.hop_id}  {pct(hop.pass_rate)} pass rate {_ci(hop.pass_rate_ci)}"
    w = report.weakest_hop
    if w is None:
        return "n/a"
    return f"{w.workflow_id} / {w.hop_id}  {pct(w.pass_rate)} pass rate {_ci(w.pass_rate_ci)}"


def report_table(report: Report) -> Group:
    parts: list[Any] = []
    skipped = f", {report.bad_records} malformed skipped" if report.bad_records else ""
    parts.append(
        Text(
            f"argus report · {report.runs} runs, {report.hop_executions} hop executions, "
            f"{len(report.workflows)} workflow(s) from {len(report.files)} file(s) "
            f"({report.records} records{skipped})",
            style="bold",
        )
    )
    if len(report.workflows) > 1:
        parts.append(
            _verdict(
                "All workflows",
                report.runs,
                report.end_to_end_success_rate,
                report.predicted_end_to_end,
                _weakest(report),
                report.cascade_risk_score,
                report.g_arvis_scores,
            )
        )
    for wf in report.workflows:
        parts.append(
            _verdict(
                f"Workflow {wf.workflow_id}",
                wf.runs,
                wf.end_to_end_success_rate,
                wf.predicted_end_to_end,
                _weakest(report, wf),
                wf.cascade_risk_score,
                wf.g_arvis_scores,
            )
        )
        parts.append(_hop_table(wf))
        if wf.root_causes:
            parts.append(_root_table(wf))
    if report.findings:
        findings = Table.grid(padding=(0, 1))
        findings.add_column()
        findings.add_column()
        for f in report.findings:
            findings.add_row(
                Text(_LEVEL_MARK[f.level], style=_LEVEL_STYLE[f.level]),
                Text(f"{f.workflow_id}: {f.text}"),
            )
        parts.append(Panel(findings, title="Findings", title_align="left", box=box.ROUNDED))
    return Group(*parts)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def report_markdown(report: Report) -> str:
    out = ["## argus report\n"]
    skipped = f", {report.bad_records} malformed skipped" if report.bad_records else ""
    out.append(
        f"{report.runs} runs, {report.hop_executions} hop executions, "
        f"{len(report.workflows)} workflow(s) from {len(report.files)} file(s) "
        f"({report.records} records{skipped}).\n"
    )
    for wf in report.workflows:
        verdict = "❌ above" if wf.cascade_risk_score > CASCADE_LINE else "✅ below"
        out.append(f"\n### Workflow `{wf.workflow_id}`\n")
        out.append(
            f"- **End to end:** observed {pct(wf.end_to_end_success_rate)} of {wf.runs} runs, "
            f"predicted {pct(wf.predicted_end_to_end)} "
            f"({e2e_verdict(wf.end_to_end_success_rate, wf.predicted_end_to_end)})\n"
            f"- **Weakest hop:** {_weakest(report, wf)}\n"
            f"- **Cascade risk:** {wf.cascade_risk_score:.3f} ({verdict} the {CASCADE_LINE} line)\n"
            f"- **G-ARVIS:** {_g_arvis_line(wf.g_arvis_scores)}\n\n"
        )
        out.append(
            _md_table(
                [
                    "#",
                    "hop",
                    "runs",
                    "errors",
                    "pass rate (95% CI)",
                    "validated",
                    "silent errors",
                    "cascade share",
                    "drift",
                    "high-stakes unvalidated",
                ],
                [
                    [
                        str(i),
                        f"`{h.hop_id}`",
                        str(h.executions),
                        str(h.errors),
                        f"{pct(h.pass_rate)} {_ci(h.pass_rate_ci)}",
                        pct(h.validation_coverage, 0),
                        pct(h.silent_error_rate),
                        num(h.cascade_contribution, 3),
                        pct(h.drift_rate),
                        str(h.high_stakes_unvalidated) if h.high_stakes else "n/a",
                    ]
                    for i, h in enumerate(wf.hops, start=1)
                ],
                right={0, 2, 3, 4, 5, 6, 7, 8, 9},
            )
        )
        if wf.root_causes:
            out.append(f"\nRoot causes of {wf.failed_runs} failed runs:\n\n")
            out.append(
                _md_table(
                    ["origin hop", "failed runs", "mean blast radius"],
                    [
                        [
                            f"`{c.hop_id}`" if c.hop_id else "(no hop flagged; outcome wrong)",
                            str(c.failed_runs),
                            num(c.mean_blast_radius),
                        ]
                        for c in wf.root_causes
                    ],
                    right={1, 2},
                )
            )
    if report.findings:
        out.append("\n### Findings\n\n")
        icon = {"problem": "❌", "warning": "⚠️", "info": "ℹ️"}
        out += [f"- {icon[f.level]} **{f.workflow_id}**: {f.text}\n" for f in report.findings]
    return "".join(out)


# --------------------------------------------------------------------------------------------
# argus runs, argus trace, argus query


def render_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: Format,
    console: Console,
    title: str | None = None,
    no_wrap: bool = False,
) -> None:
    """Any list of records in any format: JSON objects, CSV, Markdown or a Rich table."""
    if fmt is Format.json:
        console.file.write(to_json([dict(zip(columns, r, strict=True)) for r in rows]))
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in r] for r in rows])
        console.file.write(buffer.getvalue())
    elif fmt is Format.markdown:
        console.file.write(_md_table(list(columns), [[_plain(v) for v in r] for r in rows], set()))
    else:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAVY)
        for name in columns:
            width = max(len(part) for part in name.split("\n"))
            table.add_column(name, overflow="fold", min_width=width, no_wrap=no_wrap)
        for row in rows:
            table.add_row(*[_plain(v) if v is not None else "n/a" for v in row])
        console.print(table)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _float_text(value: float) -> str:
    """Six significant digits, without an exponent for everyday magnitudes."""
    if value == 0:
        return "0"
    if not math.isfinite(value) or not 1e-4 <= abs(value) < 1e15:
        return f"{value:.6g}"
    text = f"{value:.{max(0, 5 - math.floor(math.log10(abs(value))))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def render_runs(
    rows: list[dict[str, Any]],
    fmt: Format,
    console: Console,
    counts: tuple[int, int] | None = None,
    selected: int | None = None,
) -> None:
    """The runs table; `counts` (runs, failed) and `selected` (rows before a limit) say what a
    limit left out, in the title."""
    if fmt is Format.json:
        console.file.write(to_json(rows))
        return
    failed = sum(1 for r in rows if r["failed"])
    # Columns that would repeat one value on every line are left out of the table.
    several_workflows = len({r["workflow_id"] for r in rows}) > 1
    mixed = 0 < failed < len(rows)
    columns = ["origin hop", "run", "hops", "blast\nradius", "final\nconfidence", "cascade"]
    columns += ["workflow"] if several_workflows else []
    columns += ["status"] if mixed else []
    values = []
    for r in rows:
        row = [
            r["origin_hop"] or ("(outcome wrong)" if r["failed"] else "-"),
            r["run_id"],
            r["hops"],
            r["blast_radius"] if r["failed"] else None,
            r["final_confidence"],
            "yes" if r["observed_cascade"] else "no",
        ]
        row += [r["workflow_id"]] if several_workflows else []
        row += ["failed" if r["failed"] else "ok"] if mixed else []
        values.append(row)
    runs, failed = counts or (len(rows), failed)
    title = f"{runs} runs, {failed} failed"
    if selected is not None and len(rows) < selected:
        title += f"; the first {len(rows)} of {selected} shown (--limit 0 shows all)"
    render_rows(columns, values, fmt, console, title=title, no_wrap=True)


def render_trace(
    summary: dict[str, Any], hops: list[dict[str, Any]], fmt: Format, console: Console
) -> None:
    if fmt is Format.json:
        console.file.write(to_json({"run": summary, "hops": hops}))
        return
    state = "[bold red]failed[/]" if summary["failed"] else "[green]ok[/]"
    head = f"run [bold]{summary['run_id']}[/] · {summary['wf']} · {state}"
    if summary.get("goal"):
        head += f"\nintent: {summary['goal']}"
    tree = Tree(head)
    nodes: dict[str, Tree] = {}
    for hop in hops:
        parent = nodes.get(hop["parent_id"] or "", tree)
        nodes[hop["span_id"]] = parent.add(_hop_label(hop, summary))
    console.print(tree)


def _hop_label(hop: dict[str, Any], summary: dict[str, Any]) -> Text:
    text = Text()
    position = hop["position"]
    text.append(f"{position}. " if position is not None else "·  ", style="dim")
    text.append(hop["hop_id"], style="bold")
    status_style = {"success": "green", "error": "bold red", "skipped": "dim"}[hop["status"]]
    text.append(f"  {hop['status']}", style=status_style)
    if hop["error"]:
        text.append(f" ({hop['error']})", style="red")
    if hop["wrong"]:
        text.append("  WRONG", style="bold red")
    if summary["failed"] and position == summary["origin_position"]:
        text.append("  ← origin", style="bold red")
    details = []
    if hop["confidence"] is not None:
        details.append(f"confidence {hop['confidence']:.2f}")
    details.append("validated" if hop["validated"] else "not validated")
    if hop["high_stakes"]:
        details.append("high-stakes")
    if hop["latency_ms"] is not None:
        details.append(f"{hop['latency_ms']:.0f} ms")
    if hop["drifted"]:
        details.append("DRIFTED from the run's intent")
    elif hop["unanchored"]:
        details.append("no intent checksum")
    text.append("  " + " · ".join(details), style="dim")
    for v in hop["violations"] or []:
        label = ":".join(x for x in (v.get("category"), v.get("rule")) if x)
        if v.get("severity"):
            label += f" ({v['severity']})"
        text.append(f"\n   violation: {label}", style="red")
    return text


# --------------------------------------------------------------------------------------------
# argus check

_VERDICT_STYLE = {"pass": "green", "fail": "bold red", "no data": "bold red"}
_VERDICT_MARK = {"pass": "✓", "fail": "✗", "no data": "✗"}
_VERDICT_ICON = {"pass": "✅", "fail": "❌", "no data": "❌"}


def render_check(result: CheckResult, fmt: Format, console: Console) -> None:
    _render(
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
            gate.workflow_id,
            gate.name,
            threshold,
            value,
            Text(f"{_VERDICT_MARK[verdict]} {verdict}", style=_VERDICT_STYLE[verdict]),
        )
    parts: list[Any] = [head, table]
    for gate in result.failures:
        line = Text("✗ ", style="bold red")
        line.append(f"{gate.workflow_id} {gate.gate}: {gate.reason}")
        parts.append(line)
    return Group(*parts)


def check_markdown(result: CheckResult) -> str:
    icon = "❌" if result.failures else "✅"
    out = [f"## argus check: {icon} {_check_headline(result)}\n\n{_check_scope(result)}.\n\n"]
    rows = []
    for gate in result.gates:
        threshold, value = _gate_cells(gate)
        rows.append(
            [
                f"`{gate.workflow_id}`",
                f"`{gate.name}`",
                threshold,
                value,
                f"{_VERDICT_ICON[gate.verdict]} {gate.verdict}",
            ]
        )
    out.append(_md_table(["workflow", "gate", "threshold", "value", "verdict"], rows, {2, 3}))
    if result.failures:
        out.append("\n### Failed gates\n\n")
        out += [f"- **{g.workflow_id}** `{g.gate}`: {g.reason}\n" for g in result.failures]
    return "".join(out)


# --------------------------------------------------------------------------------------------
# argus diff

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
    _render(fmt, console, diff.to_dict, lambda: diff_markdown(diff), lambda: diff_table(diff))


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
    icon = "❌ " if diff.regressions() else ""
    out = [
        f"## argus diff: {icon}{_diff_headline(diff)}\n\n"
        f"{_diff_scope(diff)}; {_significance(diff)}.\n"
    ]
    for workflow, rows in _diff_rows(diff):
        out.append(f"\n### Workflow `{workflow}`\n\n")
        cells = [_diff_cells(hop, change, status, diff) for hop, change, status in rows]
        for row in cells:
            row[0] = f"`{row[0]}`" if row[0] != "(workflow)" else row[0]
            if row[-1] == "REGRESSION":
                row[-1] = "❌ **REGRESSION**"
        out.append(_md_table(_DIFF_HEADERS, cells, {2, 3, 4, 5}))
    regressions = diff.regressions()
    if regressions:
        out.append("\n### Regressions\n\n")
        out += [f"- {r.text()}\n" for r in regressions]
    return "".join(out)


# --------------------------------------------------------------------------------------------
# argus reliability

from decimal import ROUND_HALF_UP, Decimal  # noqa: E402  (kept beside the code that uses it)

from argus_cli.reliability import (  # noqa: E402
    AGENT_RULE,
    ChainPlan,
    ChainTable,
    Need,
    SamplePlan,
    TracePlan,
)


def render_reliability(
    plan: ChainPlan | TracePlan | SamplePlan, fmt: Format, console: Console
) -> None:
    if fmt is Format.json:
        console.file.write(to_json(plan.to_dict()))
    elif isinstance(plan, ChainPlan):
        console.print(chain_view(plan))
    elif isinstance(plan, TracePlan):
        console.print(trace_plan_view(plan))
    else:
        console.print(samples_view(plan))


def _fix(value: float, places: int = 4) -> str:
    """Rounded half up from the shortest decimal, as by hand: 0.84645 shows as 0.8465."""
    exact = Decimal(repr(float(value)))
    return format(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def _rate(value: float) -> str:
    """A rate as the user wrote it, with at least two places: 0.9 shows as 0.90."""
    exact = Decimal(repr(float(value)))
    return format(max(exact, exact.quantize(Decimal("0.01")), key=_places), "f")


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + _fix(abs(value))


def _span(interval: tuple[float, float]) -> str:
    return f"{_fix(interval[0])}–{_fix(interval[1])}"


def _need_line(need: Need, target: float, what: str, shown_p: str) -> str:
    """What the weakest agent or hop alone would need to reach the target."""
    who = f"{need.name} ({shown_p})"
    if need.required is None:
        return (
            f"{who} alone cannot get there: even at 1.0, the other {what} give "
            f"{_fix(need.others)}, below {_rate(target)}"
        )
    if need.required <= need.p:
        return f"{who} already does its part: it needs {_fix(need.required, 5)}"
    return f"with the other {what} as they are, {who} alone would need {_fix(need.required, 5)}"


def _rule_line(labels: Sequence[str], rates: Sequence[float], what: str) -> Text:
    """The article's rule against each labelled rate: which ones are below 0.97."""
    below = [label for label, r in zip(labels, rates, strict=True) if r < AGENT_RULE]
    rule = f"the article's rule (each agent at {_rate(AGENT_RULE)}+ before you chain them)"
    if not below:
        return Text(f"Every {what} meets {rule}.", style="green")
    shown = ", ".join(below[:5]) + (f" and {len(below) - 5} more" if len(below) > 5 else "")
    return Text(f"Below {rule}: {shown}.", style="yellow")


def chain_view(plan: ChainPlan) -> Group:
    n = plan.agents
    agents = f"{n} agent{'s' if n != 1 else ''}"
    parts: list[Any] = []
    if plan.end_to_end is not None:
        given = (
            f"at {_rate(plan.single)}{' each' if n > 1 else ''}"
            if plan.single is not None
            else "at " + " × ".join(_rate(p) for p in plan.p)
        )
        parts.append(Text(f"{agents} {given}: end to end {_fix(plan.end_to_end)}", style="bold"))
    if plan.target is not None and plan.required_per_agent is not None:
        target = _rate(plan.target)
        line = f"To reach {target} end to end over {agents}, each needs "
        line += f"{_fix(plan.required_per_agent, 5)} ({target} ** (1/{n}))"
        if plan.end_to_end is not None:
            reach = "reaches" if plan.end_to_end >= plan.target else "falls short of"
            line += f"; this chain {reach} it"
        parts.append(Text(line, style="bold" if plan.end_to_end is None else ""))
        if plan.weakest is not None:
            need = _need_line(plan.weakest, plan.target, "agents", _rate(plan.weakest.p))
            parts.append(Text(need[:1].upper() + need[1:]))
    if plan.single is not None:
        every = f"all {n} agents" if n > 1 else "the agent"
        parts.append(_rule_line([f"{every} ({_rate(plan.single)})"], [plan.single], "agent"))
    elif plan.p:
        labels = [f"agent {i} ({_rate(r)})" for i, r in enumerate(plan.p, start=1)]
        parts.append(_rule_line(labels, plan.p, "agent"))
    if plan.end_to_end is not None and plan.end_to_end < 0.5:
        parts.append(Text("This chain fails more often than it succeeds.", style="bold red"))
    parts.append(Text())
    parts.append(_chain_table(plan.table, plan.single, n))
    return Group(*parts)


def _mark(value: float, line: float) -> Text:
    if value >= line:
        return Text(f"{_fix(value)} ✓", style="green")
    return Text(f"{_fix(value)}  ", style="red" if value < 0.5 else "")


def _chain_table(table: ChainTable, single: float | None, agents: int) -> Group:
    line = _rate(table.line)
    out = Table(
        title=f"End to end by chain length (✓ at or above {line})",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
    )
    out.add_column("agents", justify="right")
    if table.chain is not None:
        out.add_column("your\nchain", justify="right", style="bold")
    for rate in table.rates:
        mine = rate == single
        header = f"yours\n{_rate(rate)}" if mine else _rate(rate)
        out.add_column(header, justify="right", style="bold" if mine else None)
    if table.needed is not None:
        out.add_column(f"each needs\nfor {line}", justify="right")
    for row, length in enumerate(table.lengths, start=1):
        cells: list[str | Text] = [f"▸ {length}" if length == agents else str(length)]
        if table.chain is not None:
            value = table.chain[row - 1]
            cells.append("" if value is None else _mark(value, table.line))
        cells += [_mark(v, table.line) for v in table.cells[row - 1]]
        if table.needed is not None:
            cells.append(f"{_fix(table.needed[row - 1])}  ")
        mine = length == agents
        out.add_row(*cells, style="bold" if mine else None, end_section=row == len(table.lengths))

    def most(k: int | None) -> str:
        return "any  " if k is None else f"{k}  "

    last: list[str | Text] = ["longest"]
    if table.chain is not None:
        last.append(most(table.chain_longest))
    last += [most(k) for k in table.longest]
    if table.needed is not None:
        last.append("")
    out.add_row(*last)
    note = f"▸ your chain · longest: the most agents that stay at or above {line} end to end"
    return Group(out, Text(note, style="dim"))


def trace_plan_view(plan: TracePlan) -> Group:
    hops = len(plan.hops)
    head = Text(
        f"argus reliability · workflow {plan.workflow_id}: {hops} hop{'s' if hops != 1 else ''}, "
        f"{plan.runs} runs from {', '.join(plan.files)}",
        style="bold",
    )
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "Predicted",
        f"{_fix(plan.end_to_end)} end to end, 95% interval {_span(plan.end_to_end_ci)} "
        "(the product of the hops' pass rates)",
    )
    grid.add_row(
        "Observed",
        f"{_fix(plan.observed_end_to_end)} of {plan.runs} runs · "
        + e2e_verdict(plan.observed_end_to_end, plan.end_to_end),
    )
    if plan.what_if is not None:
        value, interval = plan.what_if
        sets = ", ".join(f"{hop} = {_rate(p)}" for hop, p in plan.sets.items())
        grid.add_row(
            "What if",
            f"{sets}: {_fix(value)} end to end, 95% interval {_span(interval)} "
            f"({_signed(value - plan.end_to_end)})",
        )
    goal = _rate(plan.improve_to)
    best = plan.best
    if best is not None and best.improved_end_to_end is not None:
        grid.add_row(
            "Pays most",
            ("then " if plan.what_if is not None else "")
            + f"raising {best.hop_id} from {_fix(best.rate)} to {goal}: "
            f"{_fix(best.improved_end_to_end)} end to end ({_signed(best.gain)})",
        )
    else:
        grid.add_row("Pays most", f"no single hop: raising any one to {goal} gains nothing")
    if plan.target is not None and plan.required_per_agent is not None:
        target = _rate(plan.target)
        line = f"{target} end to end needs {_fix(plan.required_per_agent, 5)} from every hop"
        if plan.weakest is not None:
            line += "; " + _need_line(plan.weakest, plan.target, "hops", _fix(plan.weakest.p))
        grid.add_row("Target", line)
    names, rates = [h.hop_id for h in plan.hops], [h.rate for h in plan.hops]
    grid.add_row("Rule", _rule_line(names, rates, "hop"))
    title = f"Workflow {plan.workflow_id}" + (" (what if)" if plan.what_if is not None else "")
    panel = Panel(grid, title=title, title_align="left", box=box.ROUNDED)
    return Group(head, panel, _trace_hop_table(plan))


def _trace_hop_table(plan: TracePlan) -> Table:
    goal = _rate(plan.improve_to)
    table = Table(
        title=f"Hops of {plan.workflow_id} in canonical order",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
    )
    table.add_column("#", justify="right")
    table.add_column("hop")
    table.add_column("executions", justify="right")
    table.add_column("checked", justify="right")
    table.add_column("pass rate", justify="right")
    table.add_column("95% interval", justify="right")
    if plan.what_if is not None:
        table.add_column("what if", justify="right")
    table.add_column(f"end to end\nif at {goal}", justify="right")
    table.add_column("gain", justify="right")
    for rank, hop in enumerate(plan.hops, start=1):
        cells = [
            str(rank),
            hop.hop_id,
            str(hop.executions),
            str(hop.checked),
            _fix(hop.pass_rate),
            _span(hop.pass_rate_ci),
        ]
        if plan.what_if is not None:
            cells.append("" if hop.set_to is None else _rate(hop.set_to))
        if hop.improved_end_to_end is None:
            cells += ["already there", ""]
        else:
            best = hop is plan.best
            cells += [_fix(hop.improved_end_to_end), _signed(hop.gain) + (" ◂" if best else "  ")]
        table.add_row(*cells, style="bold" if hop is plan.best else None)
    return table


def samples_view(plan: SamplePlan) -> Group:
    low, high = (_rate(r) for r in plan.compare)
    lines = [
        Text(
            f"To tell a pass rate of {low} from {high}, a hop needs {plan.validated:,} validated "
            "executions",
            style="bold",
        ),
        Text(
            f"At the article's {pct(plan.sample_rate, 0)} sample rate that is "
            f"{plan.executions:,} hop executions."
        ),
        Text(
            f"(the smallest number at which the Wilson 95% intervals, z = {plan.z}, of the two "
            "rates no longer overlap)",
            style="dim",
        ),
    ]
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("validated", justify="right")
    table.add_column(f"interval at {low}", justify="right")
    table.add_column(f"interval at {high}", justify="right")
    table.add_column("told apart")
    for row in plan.rows:
        mine = row.validated == plan.validated
        table.add_row(
            f"▸ {row.validated:,}" if mine else f"{row.validated:,}",
            _span(row.low),
            _span(row.high),
            Text("yes", style="green") if row.apart else Text("no", style="yellow"),
            style="bold" if mine else None,
        )
    return Group(*lines, table)


# --------------------------------------------------------------------------------------------
# Load progress on stderr


class LoadProgressBar:
    """Bytes read of the inputs' total, on stderr, for loads that last over `delay` seconds.

    DuckDB reports a running query's progress; a thread polls it while the loader waits on
    DuckDB, so the bar costs nothing on the load path itself. Short loads never show a bar.
    """

    def __init__(
        self, console: Console | None = None, delay: float = 1.0, interval: float = 0.1
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.delay = delay
        self.interval = interval
        self.total = 0
        self.done = 0
        self.started = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def begin(self, total_bytes: int) -> None:
        self.total, self.done, self.started = total_bytes, 0, time.monotonic()

    @contextmanager
    def reading(self, con: Any, size: int) -> Iterator[None]:
        def poll(stop: threading.Event) -> None:
            while not stop.wait(self.interval):
                if self._progress is None and time.monotonic() - self.started < self.delay:
                    continue
                share = max(0.0, min(100.0, float(con.query_progress()))) / 100
                self._show(self.done + share * size)

        try:
            with _alongside(poll, "argus-progress"):
                yield
        finally:
            self.done += size
            if self._progress is not None:
                self._show(self.done)

    def _show(self, completed: float) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("reading traces"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("read", total=self.total)
            self._progress.start()
        assert self._task is not None
        self._progress.update(self._task, completed=completed)

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextmanager
def working(label: str, console: Console | None = None, delay: float = 1.0) -> Iterator[None]:
    """A spinner saying `label` on stderr while a step lasts past `delay` seconds.

    After the load's bar, computing the metrics of millions of hops takes a while too; a quick
    step shows nothing. Callers decide whether anyone is watching (see load_progress).
    """
    status = (console or Console(stderr=True, highlight=False)).status(label)
    shown = threading.Event()

    def later(done: threading.Event) -> None:
        if not done.wait(delay):
            status.start()
            shown.set()

    try:
        with _alongside(later, "argus-working"):
            yield
    finally:
        if shown.is_set():
            status.stop()


@contextmanager
def _alongside(work: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    """Run `work(stop)` on a thread while the block runs; then set `stop` and wait for it."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def load_progress(quiet: bool) -> LoadProgressBar | None:
    """A progress bar when a person is watching stderr; none when piped, in CI, or quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    return LoadProgressBar()
