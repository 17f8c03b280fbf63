"""The gates of `argus check`: pass or fail, per workflow, over the finished report.

Pure: every value a gate judges is read from the report model that `argus report` renders, so a
gate and the report can never disagree, and no metric is computed a second time here.

How a gate is judged (docs/ci.md, "How gates are judged"):

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

The gate fails closed: what the trace leaves out is never a pass.

- `max-bad-records` (default 0) is judged once over all the inputs (`workflow_id` None, shown
  as "(inputs)"): a malformed record that was skipped fails it, since the workflow or the
  failures it held are missing from every other gate. `argus report` still skips and names them.
- A workflow named by `--workflow` (or `workflows` in the settings file) that has no valid run
  fails `min-runs` with value 0 (floor 1 when no `min-runs` is set); inputs that yield no run
  at all (only malformed or skipped hops, or none in the date range) fail `min-runs` once for
  "(inputs)".
- `max-cascade-risk` does not hold on a workflow none of whose runs succeeded: the risk of a
  silent cascade is 0 when no run gives an answer, and that is no reason for a green check.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from argus_cli.diagnostics import BadRecord
from argus_cli.findings import CASCADE_LINE
from argus_cli.report import Report, WorkflowReport

TOLERANCE = 1e-9
COMPOSITE = "g_arvis"  # the composite score's name among the G-ARVIS dimensions

INPUTS = "(inputs)"  # how a gate judged over all the inputs, not one workflow, is shown
MAX_BAD_RECORDS = 0  # the default: a malformed record fails the gate

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
    max_bad_records: int | None = MAX_BAD_RECORDS

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
            "max_bad_records": self.max_bad_records,
        }


@dataclass(frozen=True)
class GateResult:
    """One gate judged on one workflow (and one hop or dimension, where it has one).

    `unit` tells renderers how to show the numbers: "rate" (a percentage), "score" or "count".
    `workflow_id` None: a gate judged over all the inputs (`max-bad-records`, or `min-runs` when
    the inputs hold no run at all).
    """

    workflow_id: str | None
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
    def scope(self) -> str:
        """The workflow, or "(inputs)" for a gate judged over all of them: for people."""
        return INPUTS if self.workflow_id is None else self.workflow_id

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
    workflow_id: str | None,
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
            workflow_id,
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
    return GateResult(workflow_id, gate, subject, bound, unit, threshold, value, passed, reason)


def evaluate(
    report: Report,
    spec: GateSpec,
    *,
    bad: Sequence[BadRecord] = (),
    no_runs: str | None = None,
    known_workflows: Sequence[str] = (),
) -> CheckResult:
    """Judge every gate of `spec` on every workflow of `report`, in a stable order.

    The gates over all the inputs come first, then each workflow's, then a `min-runs` failure
    for each workflow the settings name that has no run. `bad` names the skipped records (their
    number is the report's); `no_runs` says why the inputs gave no run (then `report` has no
    workflow); `known_workflows` are the workflows the inputs hold, to name beside a missing one.
    """
    hops = {h.hop_id for wf in report.workflows for h in wf.hops}
    notes = tuple(
        f"min-pass-rate for hop {hop!r} applies to nothing: no workflow analysed has that hop "
        f"(the hops are: {', '.join(sorted(hops))})"
        for hop, _ in spec.min_pass_rate_by_hop
        if hop not in hops
    )
    results = list(_input_gates(report, spec, bad, no_runs))
    results += [g for wf in report.workflows for g in _workflow_gates(wf, spec)]
    present = {wf.workflow_id for wf in report.workflows}
    missing = [w for w in dict.fromkeys(report.settings.workflows) if w not in present]
    results += [_no_run(w, spec, report, known_workflows) for w in missing]
    return CheckResult(report, spec, tuple(results), notes)


def _input_gates(
    report: Report, spec: GateSpec, bad: Sequence[BadRecord], no_runs: str | None
) -> Iterator[GateResult]:
    if spec.max_bad_records is not None:
        count, limit = report.bad_records, spec.max_bad_records
        passed = count <= limit
        skipped = f"{count} malformed record(s) of {report.records} skipped"
        if not count:
            reason = f"none of the {report.records} records was malformed"
        elif passed:
            reason = f"{skipped}, within the maximum {limit}"
        else:
            first = f"; the first: {bad[0]}" if bad else ""
            allow = "raise --max-bad-records (max_bad_records in [check]) to allow them"
            reason = f"{skipped}, above the maximum {limit}: {allow}{first}"
        yield GateResult(
            None, "max-bad-records", None, "max", "count", limit, count, passed, reason
        )
    if no_runs is not None and not report.settings.workflows:
        floor = max(1, spec.min_runs or 0)
        yield GateResult(
            None,
            "min-runs",
            None,
            "min",
            "count",
            floor,
            0.0,
            False,
            f"no run to judge: {no_runs}",
        )


def _no_run(workflow_id: str, spec: GateSpec, report: Report, known: Sequence[str]) -> GateResult:
    """A workflow the settings name with no valid run: too little data, never a pass."""
    settings = report.settings
    ranged = " in the --since/--until range" if settings.since or settings.until else ""
    others = [w for w in known if w != workflow_id]
    hold = f" (the inputs hold runs of: {', '.join(others)})" if others else ""
    return GateResult(
        workflow_id,
        "min-runs",
        None,
        "min",
        "count",
        max(1, spec.min_runs or 0),
        0.0,
        False,
        f"no valid run of workflow {workflow_id}{ranged} to judge{hold}",
    )


def _workflow_gates(wf: WorkflowReport, spec: GateSpec) -> Iterator[GateResult]:
    if spec.min_runs is not None:
        result = _judge(
            wf.workflow_id, "min-runs", "min", "count", spec.min_runs, wf.runs, "number of runs"
        )
        if not result.passed:
            result = replace(result, reason=f"{result.reason}: too little data to judge")
        yield result
    if spec.max_cascade_risk is not None:
        result = _judge(
            wf.workflow_id,
            "max-cascade-risk",
            "max",
            "score",
            spec.max_cascade_risk,
            wf.cascade_risk_score,
            "cascade risk",
        )
        if result.passed and wf.runs and wf.failed_runs >= wf.runs:
            result = replace(
                result,
                passed=False,
                reason=f"{result.reason}, but none of the {wf.runs} runs succeeded: a low risk "
                "of silent cascades is no pass when every run fails",
            )
        yield result
    if spec.min_e2e is not None:
        yield _judge(
            wf.workflow_id,
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
            wf.workflow_id,
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
            wf.workflow_id,
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
            wf.workflow_id,
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
            wf.workflow_id,
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
    "max-bad-records",
    "min-runs",
    "max-cascade-risk",
    "min-e2e",
    "min-predicted-e2e",
    "min-pass-rate",
    "min-g-arvis",
    "max-drift-rate",
    "require-high-stakes-validation",
)
