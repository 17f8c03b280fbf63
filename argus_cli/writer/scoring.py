"""Reports for library users: what `tracer.finalize()` returns, and the article's GARVISScorer.

Both are views of `argus_cli.analysis.analyse`, the engine behind `argus report`. Nothing here
computes a metric: it picks figures from the report model and words them, so a number printed by
agent code is the number `argus report` prints for the same trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from argus_cli.findings import CASCADE_LINE, e2e_verdict, num, pct
from argus_cli.report import (
    G_ARVIS_DIMENSIONS,
    Finding,
    GArvis,
    Report,
    Settings,
    WeakestHop,
    WorkflowReport,
)

if TYPE_CHECKING:
    from argus_cli.writer.tracing import AgentTracer


_LABELS = {"inference_cost": "inference cost", "g_arvis": "composite"}


class WeakestHopView(WeakestHop):
    """The weakest hop, printed the way the seed article shows it."""

    def __str__(self) -> str:
        return f'"{self.hop_id}" — {pct(self.pass_rate)} pass rate'


def _scores(scores: GArvis, dimensions: Sequence[str]) -> dict[str, float | None]:
    values = scores.to_dict()
    return {**{d: values[d] for d in dimensions}, "g_arvis": values["g_arvis"]}


class TraceReport:
    """The figures of `argus report` for one workflow, as attributes, plus a plain `summary()`.

    `report` is the full report model (the same object `argus report --json` serialises).
    """

    def __init__(
        self,
        report: Report,
        workflow_id: str,
        path: str,
        dimensions: Sequence[str] = G_ARVIS_DIMENSIONS,
    ) -> None:
        self.report = report
        self.workflow_id = workflow_id
        self.path = path
        self.dimensions = tuple(dimensions)

    def __repr__(self) -> str:
        return (
            f"<TraceReport {self.workflow_id!r}: {self.runs} runs, "
            f"end_to_end_success_rate={self.end_to_end_success_rate:.4f}, "
            f"cascade_risk_score={self.cascade_risk_score:.4f}>"
        )

    @property
    def end_to_end_success_rate(self) -> float:
        return self.report.end_to_end_success_rate

    @property
    def predicted_end_to_end(self) -> float:
        return self.report.predicted_end_to_end

    @property
    def weakest_hop(self) -> WeakestHopView | None:
        w = self.report.weakest_hop
        if w is None:
            return None
        return WeakestHopView(w.workflow_id, w.hop_id, w.pass_rate, w.pass_rate_ci)

    @property
    def g_arvis_scores(self) -> dict[str, float | None]:
        """The tracer's G-ARVIS dimensions and their composite; None where no hop has a value."""
        return _scores(self.report.g_arvis_scores, self.dimensions)

    @property
    def cascade_risk_score(self) -> float:
        return self.report.cascade_risk_score

    @property
    def runs(self) -> int:
        return self.report.runs

    @property
    def hop_executions(self) -> int:
        return self.report.hop_executions

    @property
    def workflows(self) -> list[WorkflowReport]:
        return self.report.workflows

    @property
    def findings(self) -> list[Finding]:
        return self.report.findings

    def to_dict(self) -> dict[str, Any]:
        """SPEC 7's JSON object, as `argus report --json` prints it."""
        return self.report.to_dict()

    def summary(self) -> str:
        """A few plain lines for a log or a terminal (no colour)."""
        r = self.report
        lines = [
            f"argus · workflow {self.workflow_id} · {r.runs} runs, {r.hop_executions} hop "
            f"executions · {self.path}"
        ]
        if r.bad_records:
            lines.append(f"  ({r.bad_records} malformed record(s) skipped)")
        lines.append(
            f"end-to-end success  {pct(r.end_to_end_success_rate)} observed, "
            f"{pct(r.predicted_end_to_end)} predicted "
            f"({e2e_verdict(r.end_to_end_success_rate, r.predicted_end_to_end)})"
        )
        weakest = self.weakest_hop
        if weakest is not None:
            lo, hi = weakest.pass_rate_ci
            lines.append(f"weakest hop         {weakest} (95% CI {pct(lo)}–{pct(hi)})")
        side = "above" if r.cascade_risk_score > CASCADE_LINE else "within"
        lines.append(
            f"cascade risk        {num(r.cascade_risk_score)} ({side} the {CASCADE_LINE} line)"
        )
        scores = " · ".join(
            f"{_LABELS.get(name, name)} {num(value)}" for name, value in self.g_arvis_scores.items()
        )
        lines.append(f"G-ARVIS             {scores}")
        for wf in r.workflows:
            lines.append("hops                pass rate  validated  silent errors")
            for h in wf.hops:
                lines.append(
                    f"  {h.hop_id:<22} {pct(h.pass_rate):>7}  {pct(h.validation_coverage, 0):>9}"
                    f"  {pct(h.silent_error_rate):>13}"
                )
        marks = {"problem": "✗", "warning": "!", "info": "·"}
        for f in r.findings:
            lines.append(f"{marks.get(f.level, '·')} {f.text}")
        return "\n".join(lines)


class GARVISScorer:
    """G-ARVIS scores (SPEC 5) of traces or tracers, from the engine behind `argus report`.

    `dimensions` picks the ones in the composite (all six by default); `weights` reweights them.
    """

    def __init__(
        self,
        dimensions: Sequence[str] | None = None,
        *,
        weights: Mapping[str, float] | None = None,
        cost_budget_usd: float = 1.0,
        workflow_id: str | None = None,
    ) -> None:
        from argus_cli.writer.tracing import settings_for

        base = Settings(cost_budget_usd=cost_budget_usd)
        if weights is not None:
            unknown = set(weights) - set(G_ARVIS_DIMENSIONS)
            if unknown:
                raise ValueError(f"unknown G-ARVIS dimension(s) {', '.join(sorted(unknown))}")
            base = Settings(
                cost_budget_usd=cost_budget_usd,
                g_arvis_weights=tuple((d, float(weights.get(d, 0.0))) for d in G_ARVIS_DIMENSIONS),
            )
        self.dimensions = tuple(dimensions or G_ARVIS_DIMENSIONS)
        self.settings = settings_for(workflow_id, dimensions, base)

    def report(self, *inputs: str | os.PathLike[str] | AgentTracer) -> Report:
        """The full report of the inputs: trace files, folders, or tracers (flushed first)."""
        from argus_cli.analysis import analyse
        from argus_cli.writer.tracing import AgentTracer

        paths: list[str] = []
        for item in inputs:
            if isinstance(item, AgentTracer):
                item.flush()
                paths.append(str(item.path))
            else:
                paths.append(os.fspath(item))
        return analyse(paths, self.settings, quiet=True)

    def score(self, *inputs: str | os.PathLike[str] | AgentTracer) -> dict[str, float | None]:
        """The chosen dimensions and their composite `g_arvis`; None where nothing has a value."""
        return _scores(self.report(*inputs).g_arvis_scores, self.dimensions)
