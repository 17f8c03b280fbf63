"""Findings: the report's numbers turned into advice a team can act on.

Each rule reads the report model only (no SQL here): the numbers it quotes are the ones the
tables show, so advice and tables never disagree.
"""

from __future__ import annotations

from argus_cli.report import Finding, Report, WorkflowReport

CASCADE_LINE = 0.15  # the seed article's line for a systemic observability problem
AGENT_TARGET = 0.97  # the seed article's rule: each agent at 97%+ before chaining
E2E_TOLERANCE = 0.01  # observed and predicted closer than this are "in line"
MIN_RISK_CUT = 0.005  # a what-if that cuts less than this is not worth advising


def pct(value: float | None, places: int = 1) -> str:
    """A share as a percentage for people; `n/a` for unknown, never 0."""
    return "n/a" if value is None else f"{value * 100:.{places}f}%"


def num(value: float | None, places: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


E2E_CASES = {
    "above": "silent failures that sampling has not caught in these runs",
    "below": "failures compound or correlate across hops",
    "agree": "observed and predicted agree",
}


def e2e_case(observed: float, predicted: float) -> str:
    """Which of SPEC 3's cases the gap between observed and predicted is: above, below, agree."""
    if observed - predicted > E2E_TOLERANCE:
        return "above"
    if predicted - observed > E2E_TOLERANCE:
        return "below"
    return "agree"


def e2e_verdict(observed: float, predicted: float) -> str:
    case = e2e_case(observed, predicted)
    prefix = "" if case == "agree" else f"observed {case} predicted: "
    return prefix + E2E_CASES[case]


def findings(report: Report) -> list[Finding]:
    """Advice for every workflow, most serious first."""
    found: list[Finding] = []
    for wf in report.workflows:
        found.extend(_workflow_findings(wf))
    order = {"problem": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda f: order[f.level])


def _workflow_findings(wf: WorkflowReport) -> list[Finding]:
    out: list[Finding] = []
    name = wf.workflow_id

    def add(level: str, text: str) -> None:
        out.append(Finding(level, name, text))

    hops = {h.hop_id: h for h in wf.hops}
    if wf.cascade_risk_score > CASCADE_LINE:
        add(
            "problem",
            f"cascade risk {num(wf.cascade_risk_score)} is above the {CASCADE_LINE} line: a silent "
            "error born before the last hop can reach a confident final answer unseen",
        )
    best = wf.what_if[0] if wf.what_if else None
    if best and best.cascade_risk_score - best.proposed_cascade_risk_score >= MIN_RISK_CUT:
        hop = hops[best.hop_id]
        add(
            "problem" if wf.cascade_risk_score > CASCADE_LINE else "info",
            f"{hop.hop_id}: {pct(hop.pass_rate, 0)} pass rate, validated on "
            f"{pct(hop.validation_coverage, 0)} of executions; raising its validation to "
            f"{pct(best.proposed_coverage, 0)} would cut cascade risk from "
            f"{num(best.cascade_risk_score)} to {num(best.proposed_cascade_risk_score)}",
        )
    for hop in wf.hops:
        if hop.high_stakes_unvalidated:
            add(
                "problem",
                f"{hop.hop_id}: {hop.high_stakes_unvalidated} of {hop.high_stakes} high-stakes "
                "executions were not validated; high-stakes points need 100% validation",
            )
    if wf.observed_cascades:
        # the origin that most cascades were born at (root causes come most failed first)
        top = max(wf.root_causes, key=lambda c: c.observed_cascades)
        add(
            "warning",
            f"{wf.observed_cascades} failed run(s) passed through successful hops to a confident "
            f"final answer (observed cascades); the most common origin is {top.hop_id}",
        )
    if wf.runs and wf.runs_with_final_confidence == 0:
        add(
            "warning",
            "no final hop recorded a confidence: every answer counted as confident (the worst "
            "case), so the cascade risk and the observed cascades are upper bounds; record the "
            "confidence of the hop that answers",
        )
    undetected = next((c for c in wf.root_causes if c.hop_id is None), None)
    if undetected:
        add(
            "warning",
            f"{undetected.failed_runs} run(s) failed with no hop flagging it (only the outcome "
            "was wrong): their origin is invisible to the hops' own checks",
        )
    case = e2e_case(wf.end_to_end_success_rate, wf.predicted_end_to_end)
    if case != "agree":
        add(
            "warning",
            f"observed end-to-end success {pct(wf.end_to_end_success_rate)} is {case} the "
            f"predicted {pct(wf.predicted_end_to_end)}: {E2E_CASES[case]}",
        )
    weak = [h for h in wf.hops if h.pass_rate < AGENT_TARGET]
    if weak:
        worst = min(weak, key=lambda h: (h.pass_rate, -h.executions, h.hop_id))
        add(
            "warning",
            f"{worst.hop_id}: pass rate {pct(worst.pass_rate)} is below the {pct(AGENT_TARGET, 0)} "
            "each agent needs before it is chained"
            + (f" ({len(weak) - 1} more hop(s) below it too)" if len(weak) > 1 else ""),
        )
    if wf.drift.drifted_hops:
        drifted = max(wf.hops, key=lambda h: (h.drifted_hops, h.hop_id))
        add(
            "warning",
            f"{wf.drift.drifted_hops} hop execution(s) worked from a different intent than their "
            f"run's (drift rate {pct(wf.drift.drift_rate)}); most at {drifted.hop_id}",
        )
    if wf.drift.conflicting_intents:
        add(
            "warning",
            f"{wf.drift.conflicting_intents} run(s) wrote a second, different intent: the intent "
            "should be write-once",
        )
    if wf.drift.unanchored_hops:
        add(
            "info",
            f"{wf.drift.unanchored_hops} hop execution(s) in runs with an intent did not record "
            "the intent checksum they read, so their drift cannot be checked",
        )
    for hop in wf.hops:
        if hop.handled_errors:
            errors = "error" if hop.handled_errors == 1 else "errors"
            add(
                "info",
                f"{hop.hop_id}: {hop.handled_errors} {errors} handled by its callers (retried or "
                "fallen back from): they count in its pass rate but fail no run",
            )
    for routes in _routes(wf):
        add(
            "info",
            f"{', '.join(routes)}: alternative routes of one stage (each run takes one of them); "
            "predicted end to end weights them by executions instead of multiplying them",
        )
    unchecked = [h.hop_id for h in wf.hops if h.checked == 0]
    if unchecked:
        add(
            "info",
            f"never validated or labelled: {', '.join(unchecked)}; their pass rates count only "
            "reported errors",
        )
    return out


def _routes(wf: WorkflowReport) -> list[list[str]]:
    """The hops of each stage that has more than one (SPEC 4's alternatives), in stage order."""
    stages: dict[int, list[str]] = {}
    for hop in wf.hops:
        stages.setdefault(hop.stage, []).append(hop.hop_id)
    return [hops for _, hops in sorted(stages.items()) if len(hops) > 1]
