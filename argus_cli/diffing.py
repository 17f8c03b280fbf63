"""`argus diff`: what changed between two reports, and whether the change is more than noise.

Both sides are finished `Report`s (computed by `analysis.report_for` with the same settings), so
every figure compared is the one `argus report` shows; nothing is recomputed from records here.
What is added is the test that tells a real change from sampling noise:

- A rate that is a proportion of counts (silent-error rate `wrong / checked`, validation coverage
  `validated / executions`, observed end-to-end `successful runs / runs`) is compared with the
  two-proportion z-test: pooled proportion `p = (x1 + x2) / (n1 + n2)`,
  `z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))`, two-sided p-value `erfc(|z| / sqrt 2)`.
- The pass rate is a product of two proportions, `(1 - e) (1 - s)` (SPEC 2), so its test is the
  same z-test with the variance by the delta method from the pooled `e` (errors / executions) and
  `s` (wrong / checked): `(1 - s)^2 e (1 - e) (1/n1 + 1/n2) + (1 - e)^2 s (1 - s) (1/m1 + 1/m2)`.
  With nothing checked on either side it is exactly the two-proportion test on errors. When only
  one side was ever checked, the two pass rates do not measure the same thing and the change is
  left untested.
- Latency, cost per execution, predicted end-to-end and cascade risk are shown as changes only:
  they are not proportions of counts this report keeps, so they are "untested".

A change is significant when its p-value is below `alpha` (default 0.05). A regression is a
significant change for the worse larger than `max_regression` (absolute, e.g. 0.02 = 2 points);
only tested rates can be regressions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from argus_cli.report import HopStats, Report, WorkflowReport

SAME = 1e-12  # changes smaller than this are "unchanged"


def two_proportion(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """Pooled two-proportion z-test of x2/n2 against x1/n1: (z, two-sided p), None if n is 0."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    return _z_test(x2 / n2 - x1 / n1, variance)


def pass_rate_test(base: HopStats, candidate: HopStats) -> tuple[float, float] | None:
    """z-test of the change in pass rate (delta-method variance from pooled counts)."""
    if (base.checked == 0) != (candidate.checked == 0):
        return None
    n = (base.executions, candidate.executions)
    e = (base.errors + candidate.errors) / (n[0] + n[1])
    m = [k for k in (base.checked, candidate.checked) if k > 0]
    s = (base.wrong + candidate.wrong) / sum(m) if m else 0.0
    variance = (1 - s) ** 2 * e * (1 - e) * (1 / n[0] + 1 / n[1]) + (1 - e) ** 2 * s * (
        1 - s
    ) * sum(1 / k for k in m)
    return _z_test(candidate.pass_rate - base.pass_rate, variance)


def _z_test(delta: float, variance: float) -> tuple[float, float]:
    if variance <= 0:
        # Both sides all-0 or all-1: no spread, so the proportions are equal.
        return (0.0, 1.0) if abs(delta) <= SAME else (math.copysign(math.inf, delta), 0.0)
    z = delta / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Change:
    """One metric on both sides. `better` is "higher" or "lower"; `unit` as in gates.py plus
    "ms" and "usd". `p_value` None: not tested (or not testable)."""

    metric: str
    unit: str
    better: str
    base: float | None
    candidate: float | None
    z: float | None
    p_value: float | None
    alpha: float

    @property
    def delta(self) -> float | None:
        if self.base is None or self.candidate is None:
            return None
        return self.candidate - self.base

    @property
    def relative(self) -> float | None:
        delta = self.delta
        if delta is None or not self.base:
            return None
        return delta / abs(self.base)

    @property
    def worse(self) -> bool:
        delta = self.delta
        if delta is None or abs(delta) <= SAME:
            return False
        return delta < 0 if self.better == "higher" else delta > 0

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < self.alpha

    @property
    def verdict(self) -> str:
        """One of: worse, better (both significant), noise, unchanged, untested, n/a."""
        delta = self.delta
        if delta is None:
            return "n/a"
        if abs(delta) <= SAME:
            return "unchanged"
        if self.p_value is None:
            return "untested"
        if not self.significant:
            return "noise"
        return "worse" if self.worse else "better"

    def regression(self, max_regression: float | None) -> bool:
        if max_regression is None or self.delta is None or not self.significant:
            return False
        return self.worse and abs(self.delta) > max_regression + SAME

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "base": self.base,
            "candidate": self.candidate,
            "change": self.delta,
            "relative_change": self.relative,
            "better": self.better,
            "z": self.z,
            "p_value": self.p_value,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class HopDiff:
    hop_id: str
    status: str  # "both", "added" (candidate only) or "removed" (base only)
    changes: tuple[Change, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "hop_id": self.hop_id,
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class WorkflowDiff:
    workflow_id: str
    status: str
    changes: tuple[Change, ...]
    hops: tuple[HopDiff, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
            "hops": [h.to_dict() for h in self.hops],
        }


@dataclass(frozen=True)
class Regression:
    workflow_id: str
    hop_id: str | None
    change: Change

    def text(self) -> str:
        where = f"{self.workflow_id} / {self.hop_id}" if self.hop_id else self.workflow_id
        c = self.change
        return (
            f"{where}: {c.metric.replace('_', ' ')} {_pct(c.base)} -> {_pct(c.candidate)} "
            f"({_points(c.delta)}, p {_p(c.p_value)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "hop_id": self.hop_id,
            "metric": self.change.metric,
            "base": self.change.base,
            "candidate": self.change.candidate,
            "change": self.change.delta,
            "p_value": self.change.p_value,
            "text": self.text(),
        }


@dataclass(frozen=True)
class ReportDiff:
    base: Report
    candidate: Report
    alpha: float
    max_regression: float | None
    workflows: tuple[WorkflowDiff, ...]

    def regressions(self) -> list[Regression]:
        found = []
        for wf in self.workflows:
            found += [Regression(wf.workflow_id, None, c) for c in wf.changes]
            found += [Regression(wf.workflow_id, h.hop_id, c) for h in wf.hops for c in h.changes]
        return [r for r in found if r.change.regression(self.max_regression)]

    @property
    def passed(self) -> bool:
        return not self.regressions()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "base": _side(self.base),
            "candidate": _side(self.candidate),
            "alpha": self.alpha,
            "max_regression": self.max_regression,
            "passed": self.passed,
            "regressions": [r.to_dict() for r in self.regressions()],
            "workflows": [w.to_dict() for w in self.workflows],
        }


def _side(report: Report) -> dict[str, Any]:
    return {
        "files": list(report.files),
        "runs": report.runs,
        "hop_executions": report.hop_executions,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _points(delta: float | None) -> str:
    return "n/a" if delta is None else f"{delta * 100:+.1f} pts"


def _p(p_value: float | None) -> str:
    if p_value is None:
        return "n/a"
    return "< 0.001" if p_value < 0.001 else f"= {p_value:.3f}"


# --------------------------------------------------------------------------------------------
# Comparing


def diff_reports(
    base: Report, candidate: Report, *, alpha: float = 0.05, max_regression: float | None = None
) -> ReportDiff:
    """Every workflow and hop of either side, with its changes."""
    before = {w.workflow_id: w for w in base.workflows}
    after = {w.workflow_id: w for w in candidate.workflows}
    workflows = tuple(
        _workflow_diff(name, before.get(name), after.get(name), alpha)
        for name in sorted(before.keys() | after.keys())
    )
    return ReportDiff(base, candidate, alpha, max_regression, workflows)


def _status(base: object | None, candidate: object | None) -> str:
    if base is None:
        return "added"
    return "removed" if candidate is None else "both"


Test = tuple[float, float] | None

# (metric, unit, which way is better) in the order they are shown.
_WORKFLOW_METRICS = (
    ("end_to_end_success_rate", "rate", "higher"),
    ("predicted_end_to_end", "rate", "higher"),
    ("cascade_risk_score", "score", "lower"),
)
_HOP_METRICS = (
    ("pass_rate", "rate", "higher"),
    ("silent_error_rate", "rate", "lower"),
    ("validation_coverage", "rate", "higher"),
    ("mean_latency_ms", "ms", "lower"),
    ("cost_per_execution_usd", "usd", "lower"),
)


def _workflow_diff(
    name: str, base: WorkflowReport | None, candidate: WorkflowReport | None, alpha: float
) -> WorkflowDiff:
    tests: dict[str, Test] = {}
    if base is not None and candidate is not None:
        tests["end_to_end_success_rate"] = two_proportion(
            base.runs - base.failed_runs,
            base.runs,
            candidate.runs - candidate.failed_runs,
            candidate.runs,
        )

    def value(wf: WorkflowReport | None, metric: str) -> float | None:
        return None if wf is None else float(getattr(wf, metric))

    changes = tuple(
        _change(m, u, b, value(base, m), value(candidate, m), tests.get(m), alpha)
        for m, u, b in _WORKFLOW_METRICS
    )
    hops = tuple(_hop_diffs(base, candidate, alpha))
    return WorkflowDiff(name, _status(base, candidate), changes, hops)


def _hop_diffs(
    base: WorkflowReport | None, candidate: WorkflowReport | None, alpha: float
) -> Iterator[HopDiff]:
    before = {h.hop_id: h for h in base.hops} if base else {}
    after = {h.hop_id: h for h in candidate.hops} if candidate else {}
    # The candidate's canonical order, then the hops the candidate no longer has.
    for hop_id in [*after, *(h for h in before if h not in after)]:
        b, c = before.get(hop_id), after.get(hop_id)
        tests: dict[str, Test] = {}
        if b is not None and c is not None:
            tests = {
                "pass_rate": pass_rate_test(b, c),
                "silent_error_rate": two_proportion(b.wrong, b.checked, c.wrong, c.checked),
                "validation_coverage": two_proportion(
                    b.validated, b.executions, c.validated, c.executions
                ),
            }
        changes = tuple(
            _change(m, u, d, _hop_value(b, m), _hop_value(c, m), tests.get(m), alpha)
            for m, u, d in _HOP_METRICS
        )
        yield HopDiff(hop_id, _status(b, c), changes)


def _hop_value(hop: HopStats | None, metric: str) -> float | None:
    if hop is None:
        return None
    if metric == "cost_per_execution_usd":
        # Mean cost of the executions that recorded one, so traces of different sizes compare.
        return hop.mean_cost_usd
    value = getattr(hop, metric)
    return None if value is None else float(value)


def _change(
    metric: str,
    unit: str,
    better: str,
    base: float | None,
    candidate: float | None,
    test: Test,
    alpha: float,
) -> Change:
    z, p_value = test if test is not None else (None, None)
    return Change(metric, unit, better, base, candidate, z, p_value, alpha)
