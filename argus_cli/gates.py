"""The gates of `argus check`: pass or fail, per workflow, over the finished report.

Pure: every value a gate judges is read from the report model that `argus report` renders, so a
gate and the report can never disagree, and no metric is computed a second time here.

How a gate is judged (README, "argus check"):

- Thresholds are inclusive. A `max-` gate holds when the value is at or below its threshold (the
  SPEC's cascade line: *above* 0.15 fails, so exactly 0.15 passes); a `min-` gate holds at or
  above it. Values within `TOLERANCE` of the threshold count as equal to it, so the rounding of
  a product of floats cannot flip a verdict.
- Each gate is judged per workflow; `min-pass-rate` per hop of each workflow. A floor given for
  a named hop (`HOP=P`) replaces the every-hop floor for that hop, in every workflow that has
  the hop; one that no workflow has is a note on stderr (a shared config file may name hops of
  a workflow that `--workflow` left out), not an error.
- A gate that was asked for but whose value the trace cannot give (a G-ARVIS dimension no hop
  scores, a drift rate with no intent checksums) fails with the verdict "no data": like
  `min-runs`, too little data is a failure of its own, never a pass.
- `require-high-stakes-validation` holds when no high-stakes execution went unvalidated (a
  workflow without high-stakes executions holds it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from argus_cli.findings import CASCADE_LINE
from argus_cli.report import Report, WorkflowReport

TOLERANCE = 1e-9
COMPOSITE = "g_arvis"  # the composite score's name among the G-ARVIS dimensions

PASS = "pass"
FAIL = "fail"
NO_DATA = "no data"


@dataclass(frozen=True)
class GateSpec:
    """Which gates to judge and their thresholds; None (or empty) leaves a gate off."""

    max_cascade_risk: float | None = CASCADE_LINE
    min_e2e: float | None = None
    min_predicted_e2e: float | None = None
    min_pass_rate: float | None = None  # every hop
    min_pass_rate_by_hop: tuple[tuple[str, float], ...] = ()
    min_g_arvis: tuple[tuple[str, float], ...] = ()  # dimension or "g_arvis" -> floor
    max_drift_rate: float | None = None
    require_high_stakes_validation: bool = False
    min_runs: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_cascade_risk": self.max_cascade_risk,
            "min_e2e": self.min_e2e,
            "min_predicted_e2e": self.min_predicted_e2e,
            "min_pass_rate": self.min_pass_rate,
            "min_pass_rate_by_hop": dict(self.min_pass_rate_by_hop),
            "min_g_arvis": dict(self.min_g_arvis),
            "max_drift_rate": self.max_drift_rate,
            "require_high_stakes_validation": self.require_high_stakes_validation,
            "min_runs": self.min_runs,
        }


@dataclass(frozen=True)
class GateResult:
    """One gate judged on one workflow (and one hop or dimension, where it has one).

    `unit` tells renderers how to show the numbers: "rate" (a percentage), "score" or "count".
    """

    workflow_id: str
    gate: str
    subject: str | None
    bound: str  # "max" or "min"
    unit: str
    threshold: float
    value: float | None
    passed: bool
    reason: str

    @property
    def name(self) -> str:
        return f"{self.gate} {self.subject}" if self.subject else self.gate

    @property
    def verdict(self) -> str:
        if self.passed:
            return PASS
        return NO_DATA if self.value is None else FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "gate": self.gate,
            "subject": self.subject,
            "bound": self.bound,
            "threshold": self.threshold,
            "value": self.value,
            "verdict": self.verdict,
            "passed": self.passed,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CheckResult:
    report: Report
    spec: GateSpec
    gates: tuple[GateResult, ...]
    notes: tuple[str, ...] = ()  # for stderr: thresholds that applied to nothing

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def failures(self) -> list[GateResult]:
        return [g for g in self.gates if not g.passed]

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "schema_version": 1,
            "passed": self.passed,
            "summary": {
                "gates": len(self.gates),
                "passed": len(self.gates) - len(self.failures),
                "failed": len(self.failures),
            },
            "inputs": {
                "files": list(report.files),
                "records": report.records,
                "bad_records": report.bad_records,
            },
            "runs": report.runs,
            "workflows": [w.workflow_id for w in report.workflows],
            "gates": [g.to_dict() for g in self.gates],
            "thresholds": self.spec.to_dict(),
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------------------------
# Showing numbers in reasons (renderers use the same helpers)


def show(value: float | None, unit: str, places: int | None = None) -> str:
    if value is None:
        return "n/a"
    if unit == "count":
        return str(round(value))
    if unit == "rate":
        return f"{value * 100:.{1 if places is None else places}f}%"
    return f"{value:.{3 if places is None else places}f}"


def show_pair(value: float | None, threshold: float, unit: str) -> tuple[str, str]:
    """Value and threshold with enough places that two numbers that differ never look equal."""
    places = None
    if value is not None and unit != "count" and abs(value - threshold) > TOLERANCE:
        base = 1 if unit == "rate" else 3
        places = base
        while places < base + 6 and show(value, unit, places) == show(threshold, unit, places):
            places += 1
    return show(value, unit, places), show(threshold, unit, places)


# --------------------------------------------------------------------------------------------
# Judging


def _judge(
    wf: WorkflowReport,
    gate: str,
    bound: str,
    unit: str,
    threshold: float,
    value: float | None,
    what: str,
    *,
    subject: str | None = None,
    missing: str = "",
    detail: str = "",
) -> GateResult:
    if value is None:
        return GateResult(
            wf.workflow_id,
            gate,
            subject,
            bound,
            unit,
            threshold,
            None,
            False,
            f"{what} is n/a: {missing}",
        )
    if bound == "max":
        passed = value <= threshold + TOLERANCE
        relation = "within the maximum" if passed else "above the maximum"
    else:
        passed = value >= threshold - TOLERANCE
        relation = "at or above the minimum" if passed else "below the minimum"
    shown, limit = show_pair(value, threshold, unit)
    reason = f"{what} {shown}{detail} is {relation} {limit}"
    return GateResult(wf.workflow_id, gate, subject, bound, unit, threshold, value, passed, reason)


def evaluate(report: Report, spec: GateSpec) -> CheckResult:
    """Judge every gate of `spec` on every workflow of `report`, in a stable order."""
    hops = {h.hop_id for wf in report.workflows for h in wf.hops}
    notes = tuple(
        f"min-pass-rate for hop {hop!r} applies to nothing: no workflow analysed has that hop "
        f"(the hops are: {', '.join(sorted(hops))})"
        for hop, _ in spec.min_pass_rate_by_hop
        if hop not in hops
    )
    results = [g for wf in report.workflows for g in _workflow_gates(wf, spec)]
    return CheckResult(report, spec, tuple(results), notes)


def _workflow_gates(wf: WorkflowReport, spec: GateSpec) -> Iterator[GateResult]:
    if spec.min_runs is not None:
        result = _judge(wf, "min-runs", "min", "count", spec.min_runs, wf.runs, "number of runs")
        if not result.passed:
            result = replace(result, reason=f"{result.reason}: too little data to judge")
        yield result
    if spec.max_cascade_risk is not None:
        yield _judge(
            wf,
            "max-cascade-risk",
            "max",
            "score",
            spec.max_cascade_risk,
            wf.cascade_risk_score,
            "cascade risk",
        )
    if spec.min_e2e is not None:
        yield _judge(
            wf,
            "min-e2e",
            "min",
            "rate",
            spec.min_e2e,
            wf.end_to_end_success_rate,
            "observed end-to-end success",
            detail=f" of {wf.runs} runs",
        )
    if spec.min_predicted_e2e is not None:
        yield _judge(
            wf,
            "min-predicted-e2e",
            "min",
            "rate",
            spec.min_predicted_e2e,
            wf.predicted_end_to_end,
            "predicted end-to-end success",
        )
    floors = dict(spec.min_pass_rate_by_hop)
    for hop in wf.hops:
        floor = floors.get(hop.hop_id, spec.min_pass_rate)
        if floor is None:
            continue
        low, high = hop.pass_rate_ci
        yield _judge(
            wf,
            "min-pass-rate",
            "min",
            "rate",
            floor,
            hop.pass_rate,
            f"{hop.hop_id}: pass rate",
            subject=hop.hop_id,
            detail=f" (95% CI {low * 100:.1f}–{high * 100:.1f}%)",
        )
    for dimension, floor in spec.min_g_arvis:
        label = "G-ARVIS" if dimension == COMPOSITE else f"G-ARVIS {dimension.replace('_', ' ')}"
        yield _judge(
            wf,
            "min-g-arvis",
            "min",
            "score",
            floor,
            getattr(wf.g_arvis_scores, dimension),
            label,
            subject=dimension,
            missing="no hop of the workflow has a value for it",
        )
    if spec.max_drift_rate is not None:
        yield _judge(
            wf,
            "max-drift-rate",
            "max",
            "rate",
            spec.max_drift_rate,
            wf.drift.drift_rate,
            "drift rate",
            missing="no hop recorded the intent checksum it read, so drift cannot be measured",
        )
    if spec.require_high_stakes_validation:
        yield _high_stakes(wf)


def _high_stakes(wf: WorkflowReport) -> GateResult:
    total = sum(h.high_stakes for h in wf.hops)
    missed = [h for h in wf.hops if h.high_stakes_unvalidated]
    unvalidated = sum(h.high_stakes_unvalidated for h in missed)
    if not total:
        reason = "no high-stakes executions"
    elif not missed:
        reason = f"all {total} high-stakes executions were validated"
    else:
        reason = (
            f"{unvalidated} of {total} high-stakes executions were not validated ("
            + ", ".join(f"{h.hop_id} {h.high_stakes_unvalidated}" for h in missed)
            + "); high-stakes points need 100% validation"
        )
    return GateResult(
        wf.workflow_id,
        "require-high-stakes-validation",
        None,
        "max",
        "count",
        0.0,
        float(unvalidated),
        unvalidated == 0,
        reason,
    )


GATE_NAMES = (
    "min-runs",
    "max-cascade-risk",
    "min-e2e",
    "min-predicted-e2e",
    "min-pass-rate",
    "min-g-arvis",
    "max-drift-rate",
    "require-high-stakes-validation",
)
