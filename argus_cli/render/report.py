"""`argus report`: the verdict panels, the hop and root-cause tables and the findings."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from argus_cli.findings import CASCADE_LINE, e2e_verdict, num, pct
from argus_cli.render.base import Format, md_table, render_any
from argus_cli.report import G_ARVIS_DIMENSIONS, GArvis, Report, WorkflowReport

_LEVEL_STYLE = {"problem": "bold red", "warning": "yellow", "info": "cyan"}
_LEVEL_MARK = {"problem": "✗", "warning": "!", "info": "·"}


def render_report(report: Report, fmt: Format, console: Console) -> None:
    render_any(
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
            md_table(
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
                md_table(
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
