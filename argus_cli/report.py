"""The report model: plain dataclasses that the metrics fill and every renderer reads.

`Report.to_dict()` is SPEC section 7, the stable JSON API: its keys come first and in the SPEC's
order, and keys argus adds later (`findings`, `settings`, per-hop extras) come after them. No
number is rounded here; renderers round for people, JSON never does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCHEMA_VERSION = 2
G_ARVIS_DIMENSIONS = (
    "groundedness",
    "accuracy",
    "reliability",
    "variance",
    "inference_cost",
    "safety",
)


@dataclass(frozen=True)
class Settings:
    """The knobs of the metric definitions (SPEC 3 to 5); the defaults are the SPEC's."""

    confident_threshold: float = 0.8
    cost_budget_usd: float = 1.0
    g_arvis_weights: tuple[tuple[str, float], ...] = tuple((d, 1.0) for d in G_ARVIS_DIMENSIONS)
    # Coverage that the what-if advice proposes for a hop validated less than this.
    advice_coverage: float = 0.5
    workflows: tuple[str, ...] = ()
    # Only runs whose first hop started in [since, until] (naive UTC, both inclusive).
    since: datetime | None = None
    until: datetime | None = None

    def weight(self, dimension: str) -> float:
        return dict(self.g_arvis_weights).get(dimension, 0.0)


@dataclass
class GArvis:
    groundedness: float | None = None
    accuracy: float | None = None
    reliability: float | None = None
    variance: float | None = None
    inference_cost: float | None = None
    safety: float | None = None
    g_arvis: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "groundedness": self.groundedness,
            "accuracy": self.accuracy,
            "reliability": self.reliability,
            "variance": self.variance,
            "inference_cost": self.inference_cost,
            "safety": self.safety,
            "g_arvis": self.g_arvis,
        }


@dataclass
class HopStats:
    hop_id: str
    executions: int
    errors: int
    checked: int
    wrong: int
    error_rate: float
    silent_error_rate: float | None
    pass_rate: float
    pass_rate_ci: tuple[float, float]
    validation_coverage: float
    high_stakes_unvalidated: int
    cascade_contribution: float
    drift_rate: float | None
    median_position: float
    validated: int
    high_stakes: int
    drifted_hops: int
    mean_latency_ms: float | None
    total_cost_usd: float | None
    mean_cost_usd: float | None  # over the executions that recorded a cost
    g_arvis_scores: GArvis = field(default_factory=GArvis)
    # SPEC 3.1: errors whose caller did not fail (retried, fallen back from); they fail no run.
    handled_errors: int = 0
    # SPEC 4: hops that runs choose between (alternative routes) share a stage.
    stage: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "hop_id": self.hop_id,
            "executions": self.executions,
            "errors": self.errors,
            "handled_errors": self.handled_errors,
            "checked": self.checked,
            "wrong": self.wrong,
            "stage": self.stage,
            "error_rate": self.error_rate,
            "silent_error_rate": self.silent_error_rate,
            "pass_rate": self.pass_rate,
            "pass_rate_ci": list(self.pass_rate_ci),
            "validation_coverage": self.validation_coverage,
            "high_stakes_unvalidated": self.high_stakes_unvalidated,
            "cascade_contribution": self.cascade_contribution,
            "drift_rate": self.drift_rate,
            "median_position": self.median_position,
            "validated": self.validated,
            "high_stakes": self.high_stakes,
            "drifted_hops": self.drifted_hops,
            "mean_latency_ms": self.mean_latency_ms,
            "total_cost_usd": self.total_cost_usd,
            "mean_cost_usd": self.mean_cost_usd,
            "g_arvis_scores": self.g_arvis_scores.to_dict(),
        }


@dataclass
class RootCause:
    """Failed runs by origin hop; `hop_id` None: no hop failed, only the outcome was wrong."""

    hop_id: str | None
    failed_runs: int
    mean_blast_radius: float
    observed_cascades: int = 0  # of those runs, how many reached a confident answer unseen

    def to_dict(self) -> dict[str, Any]:
        return {
            "hop_id": self.hop_id,
            "failed_runs": self.failed_runs,
            "mean_blast_radius": self.mean_blast_radius,
            "observed_cascades": self.observed_cascades,
        }


@dataclass
class Drift:
    drifted_hops: int = 0
    unanchored_hops: int = 0
    drift_rate: float | None = None
    conflicting_intents: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "drifted_hops": self.drifted_hops,
            "unanchored_hops": self.unanchored_hops,
            "drift_rate": self.drift_rate,
            "conflicting_intents": self.conflicting_intents,
        }


@dataclass
class WhatIf:
    """Cascade risk if one hop's validation coverage were raised (the advice in findings)."""

    hop_id: str
    coverage: float
    proposed_coverage: float
    cascade_risk_score: float
    proposed_cascade_risk_score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "hop_id": self.hop_id,
            "coverage": self.coverage,
            "proposed_coverage": self.proposed_coverage,
            "cascade_risk_score": self.cascade_risk_score,
            "proposed_cascade_risk_score": self.proposed_cascade_risk_score,
        }


@dataclass
class WorkflowReport:
    workflow_id: str
    runs: int
    failed_runs: int
    end_to_end_success_rate: float
    predicted_end_to_end: float
    cascade_risk_score: float
    confident_share: float
    observed_cascades: int
    hops: list[HopStats]
    root_causes: list[RootCause]
    drift: Drift
    g_arvis_scores: GArvis
    what_if: list[WhatIf] = field(default_factory=list)
    # Runs whose final hop recorded a confidence: with none, every answer counts as confident
    # (SPEC 3.1's worst case) and the report says so.
    runs_with_final_confidence: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "runs": self.runs,
            "end_to_end_success_rate": self.end_to_end_success_rate,
            "predicted_end_to_end": self.predicted_end_to_end,
            "cascade_risk_score": self.cascade_risk_score,
            "confident_share": self.confident_share,
            "observed_cascades": self.observed_cascades,
            "hops": [h.to_dict() for h in self.hops],
            "root_causes": [r.to_dict() for r in self.root_causes],
            "drift": self.drift.to_dict(),
            "failed_runs": self.failed_runs,
            "g_arvis_scores": self.g_arvis_scores.to_dict(),
            "what_if": [w.to_dict() for w in self.what_if],
            "runs_with_final_confidence": self.runs_with_final_confidence,
        }


@dataclass
class WeakestHop:
    workflow_id: str
    hop_id: str
    pass_rate: float
    pass_rate_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "hop_id": self.hop_id,
            "pass_rate": self.pass_rate,
            "pass_rate_ci": list(self.pass_rate_ci),
        }


@dataclass
class Finding:
    """One piece of advice; `level` is "problem", "warning" or "info"."""

    level: str
    workflow_id: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "workflow_id": self.workflow_id, "text": self.text}


@dataclass
class Report:
    files: list[str]
    records: int
    bad_records: int
    runs: int
    hop_executions: int
    end_to_end_success_rate: float
    predicted_end_to_end: float
    weakest_hop: WeakestHop | None
    cascade_risk_score: float
    g_arvis_scores: GArvis
    workflows: list[WorkflowReport]
    settings: Settings = field(default_factory=Settings)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "inputs": {
                "files": list(self.files),
                "records": self.records,
                "bad_records": self.bad_records,
            },
            "runs": self.runs,
            "hop_executions": self.hop_executions,
            "end_to_end_success_rate": self.end_to_end_success_rate,
            "predicted_end_to_end": self.predicted_end_to_end,
            "weakest_hop": self.weakest_hop.to_dict() if self.weakest_hop else None,
            "cascade_risk_score": self.cascade_risk_score,
            "g_arvis_scores": self.g_arvis_scores.to_dict(),
            "workflows": [w.to_dict() for w in self.workflows],
            "findings": [f.to_dict() for f in self.findings],
            "settings": {
                "confident_threshold": self.settings.confident_threshold,
                "cost_budget_usd": self.settings.cost_budget_usd,
                "g_arvis_weights": dict(self.settings.g_arvis_weights),
                "workflows": list(self.settings.workflows),
            },
        }
