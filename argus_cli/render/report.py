"""`argus report`: the verdict panels, the hop and root-cause tables and the findings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from argus_cli.escaping import shown_all
from argus_cli.findings import CASCADE_LINE, e2e_verdict, num, pct
from argus_cli.render.base import Format, code_span, md_table, md_text, render_any
from argus_cli.report import G_ARVIS_DIMENSIONS, GArvis, Report, WorkflowReport

_LEVEL_STYLE = {"problem": "bold red", "warning": "yellow", "info": "cyan"}
_LEVEL_MARK = {"problem": "✗", "warning": "!", "info": "·"}


def render_report(report: Report, fmt: Format, console: Console) -> None:
    render_any(
        fmt, console, report.to_dict, lambda: report_markdown(report), lambda: report_table(report)
    )


def _ci(interval: tuple[float, float]) -> str:
    return f"[{interval[0] * 100:.1f}–{interval[1] * 100:.1f}]"


def _risk_text(risk: float, worst_case: bool = False) -> Text:
    if risk > CASCADE_LINE:
        text = Text(f"{risk:.3f}  above the {CASCADE_LINE} line", style="bold red")
    else:
        text = Text(f"{risk:.3f}  below the {CASCADE_LINE} line", style="green")
    if worst_case:
        text.append(f" · {WORST_CASE}", style="yellow")
    return text


# SPEC 3.1: a final hop without a confidence counts as confident; with none recorded at all the
# cascade risk and the observed cascades are the worst case, and the report says so.
WORST_CASE = "worst case: no final hop recorded a confidence, so every answer counts as confident"


def _worst_case(workflows: list[WorkflowReport]) -> bool:
    return bool(workflows) and all(
        wf.runs and wf.runs_with_final_confidence == 0 for wf in workflows
    )


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
    worst_case: bool,
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
    grid.add_row("Cascade risk", _risk_text(risk, worst_case))
    grid.add_row("G-ARVIS", _g_arvis_line(scores))
    return Panel(grid, title=title, title_align="left", box=box.ROUNDED)


# The hop table's columns, one list for the terminal and Markdown; "\n" breaks a header in a
# terminal and is a space in Markdown.
_HOP_COLUMNS = [
    "stage",
    "hop",
    "execs",
    "errors",
    "pass rate (95% CI)",
    "validated",
    "silent\nerrors",
    "cascade\nshare",
    "drift",
    "high-stakes\nunvalidated",
]


def stage_labels(wf: WorkflowReport) -> list[str]:
    """Each hop's stage (SPEC 4): "2" for a stage of one hop; "2a", "2b" for the alternative
    routes of stage 2 (runs take one of them), lettered in canonical order."""
    sizes: dict[int, int] = {}
    for hop in wf.hops:
        sizes[hop.stage] = sizes.get(hop.stage, 0) + 1
    seen: dict[int, int] = {}
    labels = []
    for hop in wf.hops:
        index = seen.get(hop.stage, 0)
        seen[hop.stage] = index + 1
        suffix = _route_letter(index) if sizes[hop.stage] > 1 else ""
        labels.append(f"{hop.stage}{suffix}")
    return labels


def _route_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def hop_notes(wf: WorkflowReport) -> list[str]:
    """Under the hop table, for what it shows: routes of one stage, handled errors."""
    notes = []
    stages: dict[int, list[str]] = {}
    for hop, label in zip(wf.hops, stage_labels(wf), strict=True):
        stages.setdefault(hop.stage, []).append(label)
    routed = [labels for labels in stages.values() if len(labels) > 1]
    if routed:
        shown = "; ".join(", ".join(labels) for labels in routed)
        notes.append(
            f"{shown}: alternative routes of one stage (each run takes one); predicted end to "
            "end weights them by executions"
        )
    if any(h.handled_errors for h in wf.hops):
        notes.append(
            "errors (n): n of them handled by their callers (retried, fallen back from); they "
            "count in the pass rate but fail no run"
        )
    return notes


def errors_cell(errors: int, handled: int) -> str:
    """A hop's errors, and those its callers handled when there are any: "50 (49)"."""
    return f"{errors} ({handled})" if handled else str(errors)


def _hop_cells(wf: WorkflowReport, name: Callable[[str], str] = str) -> list[list[str]]:
    return [
        [
            stage,
            name(hop.hop_id),
            str(hop.executions),
            errors_cell(hop.errors, hop.handled_errors),
            f"{pct(hop.pass_rate)} {_ci(hop.pass_rate_ci)}",
            pct(hop.validation_coverage, 0),
            pct(hop.silent_error_rate),
            num(hop.cascade_contribution, 3),
            pct(hop.drift_rate),
            str(hop.high_stakes_unvalidated) if hop.high_stakes else "n/a",
        ]
        for stage, hop in zip(stage_labels(wf), wf.hops, strict=True)
    ]


def _hop_table(wf: WorkflowReport) -> Table:
    table = Table(
        title=f"Hops of {wf.workflow_id} in canonical order",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
        pad_edge=False,
    )
    for header in _HOP_COLUMNS:
        # The pass rate and its interval stay on one line: that pair is the point of the table.
        table.add_column(
            header,
            justify="left" if header == "hop" else "right",
            no_wrap=header.startswith("pass rate"),
        )
    for row in _hop_cells(wf):
        table.add_row(*row)
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
    report = shown_all(report)
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
                _worst_case(report.workflows),
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
                _worst_case([wf]),
            )
        )
        parts.append(_hop_table(wf))
        parts += [Text(note, style="dim") for note in hop_notes(wf)]
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


def report_markdown(report: Report) -> str:
    report = shown_all(report)
    out = ["## argus report\n"]
    skipped = f", {report.bad_records} malformed skipped" if report.bad_records else ""
    out.append(
        f"{report.runs} runs, {report.hop_executions} hop executions, "
        f"{len(report.workflows)} workflow(s) from {len(report.files)} file(s) "
        f"({report.records} records{skipped}).\n"
    )
    for wf in report.workflows:
        verdict = "❌ above" if wf.cascade_risk_score > CASCADE_LINE else "✅ below"
        out.append(f"\n### Workflow {code_span(wf.workflow_id)}\n")
        out.append(
            f"- **End to end:** observed {pct(wf.end_to_end_success_rate)} of {wf.runs} runs, "
            f"predicted {pct(wf.predicted_end_to_end)} "
            f"({e2e_verdict(wf.end_to_end_success_rate, wf.predicted_end_to_end)})\n"
            f"- **Weakest hop:** {md_text(_weakest(report, wf))}\n"
            f"- **Cascade risk:** {wf.cascade_risk_score:.3f} ({verdict} the {CASCADE_LINE} line"
            f"{'; ' + WORST_CASE if _worst_case([wf]) else ''})\n"
            f"- **G-ARVIS:** {_g_arvis_line(wf.g_arvis_scores)}\n\n"
        )
        out.append(
            md_table(
                _HOP_COLUMNS,
                _hop_cells(wf, name=code_span),
                right={0, 2, 3, 4, 5, 6, 7, 8, 9},
            )
        )
        out += [f"\n{md_text(note)}.\n" for note in hop_notes(wf)]
        if wf.root_causes:
            out.append(f"\nRoot causes of {wf.failed_runs} failed runs:\n\n")
            out.append(
                md_table(
                    ["origin hop", "failed runs", "mean blast radius"],
                    [
                        [
                            code_span(c.hop_id) if c.hop_id else "(no hop flagged; outcome wrong)",
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
        out += [
            f"- {icon[f.level]} {code_span(f.workflow_id)}: {md_text(f.text)}\n"
            for f in report.findings
        ]
    return "".join(out)
