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
from collections.abc import Sequence
from enum import Enum
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from argus_cli.findings import CASCADE_LINE, e2e_verdict, num, pct
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


def render_report(report: Report, fmt: Format, console: Console) -> None:
    if fmt is Format.json:
        console.file.write(to_json(report.to_dict()))
    elif fmt is Format.markdown:
        console.file.write(report_markdown(report))
    else:
        console.print(report_table(report))


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


def render_runs(rows: list[dict[str, Any]], fmt: Format, console: Console) -> None:
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
    title = f"{len(rows)} runs, {failed} failed"
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
