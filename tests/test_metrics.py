"""Every SPEC metric against values worked out by hand on tracebook's small traces."""

from __future__ import annotations

import json
import math

import pytest
from tracebook import TRACE_A, TRACE_B, hop

from argus_cli.report import Settings

Z2 = 1.96**2


def wilson(wrong: int, n: int) -> tuple[float, float]:
    """The Wilson score interval written out, as the SPEC defines it (z = 1.96)."""
    p = wrong / n
    mid = (p + Z2 / (2 * n)) / (1 + Z2 / n)
    half = 1.96 * math.sqrt(p * (1 - p) / n + Z2 / (4 * n * n)) / (1 + Z2 / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def test_wilson_helper_matches_worked_numbers():
    # 1 wrong of 2: centre 0.5, half-width 1.96 * sqrt(0.125 + 0.2401) / 2.9208 = 0.405472
    lo, hi = wilson(1, 2)
    assert lo == pytest.approx(0.094528, abs=1e-6)
    assert hi == pytest.approx(0.905472, abs=1e-6)


@pytest.fixture
def a(report_of):
    return report_of(TRACE_A)


def hops_by_id(report):
    return {h.hop_id: h for h in report.workflows[0].hops}


def test_per_hop_counts_and_rates(a):
    hops = hops_by_id(a)
    assert list(hops) == ["a", "b", "c"]  # canonical order; skipped d takes no part
    ha, hb, hc = hops["a"], hops["b"], hops["c"]
    assert (ha.executions, ha.errors, ha.checked, ha.wrong, ha.validated) == (4, 0, 2, 1, 2)
    assert (hb.executions, hb.errors, hb.checked, hb.wrong, hb.validated) == (4, 1, 1, 0, 1)
    assert (hc.executions, hc.errors, hc.checked, hc.wrong, hc.validated) == (4, 0, 0, 0, 0)
    assert ha.silent_error_rate == 0.5 and ha.pass_rate == 0.5
    assert hb.error_rate == 0.25 and hb.silent_error_rate == 0.0 and hb.pass_rate == 0.75
    assert hc.silent_error_rate is None and hc.pass_rate == 1.0
    assert (ha.validation_coverage, hb.validation_coverage, hc.validation_coverage) == (
        0.5,
        0.25,
        0.0,
    )
    assert [h.median_position for h in hops.values()] == [1.0, 2.0, 3.0]


def test_pass_rate_intervals(a):
    hops = hops_by_id(a)
    lo, hi = wilson(1, 2)
    assert hops["a"].pass_rate_ci == pytest.approx((1 - hi, 1 - lo))
    lo, hi = wilson(0, 1)  # 0 of 1: [0, 0.793457]
    assert hi == pytest.approx(0.793457, abs=1e-6)
    assert hops["b"].pass_rate_ci == pytest.approx((0.75 * (1 - hi), 0.75 * (1 - lo)))
    assert hops["c"].pass_rate_ci == (0.0, 1.0)  # nothing checked: [0, 1 - error_rate]


def test_end_to_end_observed_and_predicted(a):
    wf = a.workflows[0]
    assert wf.runs == 4 and wf.failed_runs == 3
    assert wf.end_to_end_success_rate == 0.25  # only run1 succeeds
    assert wf.predicted_end_to_end == pytest.approx(0.5 * 0.75 * 1.0)
    assert a.weakest_hop is not None
    assert (a.weakest_hop.hop_id, a.weakest_hop.pass_rate) == ("a", 0.5)


def test_root_causes_blast_radius_and_cascades(a):
    wf = a.workflows[0]
    causes = [(c.hop_id, c.failed_runs, c.mean_blast_radius) for c in wf.root_causes]
    # run2 fails at a (b, c succeed after it), run3 at b (c after it), run4 has no failing hop.
    assert causes == [(None, 1, 3.0), ("a", 1, 2.0), ("b", 1, 1.0)]  # SPEC 7: null first
    # Only run2 is a cascade: run3's last hop has confidence 0.5; run4 has no origin hop.
    assert wf.observed_cascades == 1
    assert wf.confident_share == 0.75  # run1 0.90, run2 0.95, run4 none (confident); run3 0.5


def test_cascade_risk_and_contributions(a):
    wf = a.workflows[0]
    # escape_a = (1 - 0.5)(1 - 0.25)(1 - 0) = 0.375; contribution a = 0.5 * 0.375 = 0.1875
    assert [h.cascade_contribution for h in wf.hops] == pytest.approx([0.1875, 0.0, 0.0])
    assert wf.cascade_risk_score == pytest.approx(0.75 * 0.1875)  # 0.140625
    assert a.cascade_risk_score == pytest.approx(0.140625)


def test_what_if_validation(a):
    by_hop = {w.hop_id: w for w in a.workflows[0].what_if}
    # a at 0.5 goes to 1.0: nothing escapes from a any more.
    assert by_hop["a"].proposed_coverage == 1.0
    assert by_hop["a"].proposed_cascade_risk_score == pytest.approx(0.0)
    # b 0.25 -> 0.5: escape_a = 0.5 * 0.5 * 1 = 0.25, risk 0.75 * 0.125
    assert by_hop["b"].proposed_cascade_risk_score == pytest.approx(0.09375)
    # c 0 -> 0.5: escape_a = 0.5 * 0.75 * 0.5 = 0.1875, risk 0.75 * 0.09375
    assert by_hop["c"].proposed_cascade_risk_score == pytest.approx(0.0703125)
    assert [w.hop_id for w in a.workflows[0].what_if] == ["a", "c", "b"]  # best first


def test_context_drift(a):
    wf = a.workflows[0]
    assert wf.drift.drifted_hops == 2  # run1 b ("other" vs K), run2 c ("Y" vs a's "Z")
    assert wf.drift.unanchored_hops == 4  # run1 c, and run3's three hops
    assert wf.drift.drift_rate == pytest.approx(2 / 5)
    assert wf.drift.conflicting_intents == 1  # run3
    assert [h.drift_rate for h in wf.hops] == pytest.approx([0.0, 0.5, 1.0])


def test_g_arvis(a):
    g = a.g_arvis_scores
    assert g.groundedness == pytest.approx(0.7)  # 0.9, 0.5
    assert g.accuracy == pytest.approx(0.6)  # 0.8 (score), 0 (a wrong), 1 (b clean)
    assert g.reliability == 0.25
    assert g.variance == pytest.approx((2 / 3 + 1.0) / 2)  # (a, x): o1 o1 o2; (b, y): p p
    # 12 counted hops at 0.05 (the skipped hop's 5.0 is left out), 1 successful run
    assert g.inference_cost == pytest.approx(1 - 0.6 / 1.0)
    assert g.safety == pytest.approx(0.75)  # a: 1, 0 (safety:pii); b: 1; c: score 1
    assert g.g_arvis == pytest.approx((0.7 + 0.6 + 0.25 + 5 / 6 + 0.4 + 0.75) / 6)
    per_hop = hops_by_id(a)["a"].g_arvis_scores
    assert (per_hop.groundedness, per_hop.accuracy, per_hop.safety) == pytest.approx(
        (0.7, 0.4, 0.5)
    )
    assert per_hop.variance == pytest.approx(2 / 3)
    assert per_hop.reliability is None and per_hop.inference_cost is None
    assert per_hop.g_arvis == pytest.approx((0.7 + 0.4 + 2 / 3 + 0.5) / 4)


def test_g_arvis_weights_and_cost_budget(report_of):
    weights = tuple(
        (d, 2.0 if d == "reliability" else 0.0)
        for d in ("groundedness", "accuracy", "reliability", "variance", "inference_cost", "safety")
    )
    report = report_of(TRACE_A, Settings(g_arvis_weights=weights, cost_budget_usd=2.0))
    assert report.g_arvis_scores.g_arvis == 0.25
    assert report.g_arvis_scores.inference_cost == pytest.approx(1 - 0.6 / 2.0)


def test_two_workflows(report_of):
    report = report_of(TRACE_A + TRACE_B)
    assert [w.workflow_id for w in report.workflows] == ["v", "w"]
    v = report.workflows[0]
    assert (v.runs, v.end_to_end_success_rate, v.predicted_end_to_end) == (2, 0.5, 0.5)
    assert v.cascade_risk_score == 0.0  # one hop: nothing to cascade through
    assert report.runs == 6 and report.hop_executions == 14
    assert report.end_to_end_success_rate == pytest.approx(2 / 6)
    # run-weighted mean of the workflows' predictions
    assert report.predicted_end_to_end == pytest.approx((0.375 * 4 + 0.5 * 2) / 6)
    assert report.cascade_risk_score == pytest.approx(0.140625)  # the largest
    assert report.weakest_hop is not None
    # a (w) and solo (v) tie at 0.5 with 4 and 2 executions: more executions wins
    assert (report.weakest_hop.workflow_id, report.weakest_hop.hop_id) == ("w", "a")
    # costs: w 0.6 + v 0.4 = 1.0 over 2 successful runs
    assert report.g_arvis_scores.inference_cost == pytest.approx(1 - 1.0 / 2)


def test_run_belongs_to_workflow_of_its_first_hop(report_of):
    report = report_of(
        [
            hop("r1", "x", 1, workflow_id="first"),
            hop("r1", "y", 2, workflow_id="second"),
            {"run_id": "r2", "hop_id": "x"},  # no workflow_id: "default"
        ]
    )
    assert [(w.workflow_id, w.runs, [h.hop_id for h in w.hops]) for w in report.workflows] == [
        ("default", 1, ["x"]),
        ("first", 1, ["x", "y"]),
    ]


def test_one_hop_nothing_validated_no_costs(report_of):
    report = report_of([hop("r1", "only", 1), hop("r2", "only", 1, status="error")])
    wf = report.workflows[0]
    (only,) = wf.hops
    assert only.silent_error_rate is None
    assert only.pass_rate == 0.5 and only.pass_rate_ci == (0.0, 0.5)
    assert wf.cascade_risk_score == 0.0 and only.cascade_contribution == 0.0
    g = report.g_arvis_scores
    assert (g.groundedness, g.accuracy, g.variance, g.inference_cost, g.safety) == (None,) * 5
    assert g.g_arvis == g.reliability == 0.5  # the composite skips unknown dimensions


def test_all_runs_failing(report_of):
    report = report_of(
        [
            hop("r1", "p", 1, status="error", cost_usd=0.1),
            hop("r1", "q", 2, cost_usd=0.1),
            hop("r2", "p", 1, correct=False, cost_usd=0.1),
            hop("r2", "q", 2, cost_usd=0.1),
        ]
    )
    wf = report.workflows[0]
    assert wf.end_to_end_success_rate == 0.0 and wf.failed_runs == 2
    assert report.g_arvis_scores.inference_cost == 0.0  # costs, but no success to pay for
    assert [(c.hop_id, c.failed_runs, c.mean_blast_radius) for c in wf.root_causes] == [
        ("p", 2, 1.0)
    ]
    assert wf.observed_cascades == 2  # q succeeded after p, and no confidence counts as confident
    # p: error rate 0.5, and 1 wrong of 1 checked: pass rate 0.5 * 0 = 0
    assert wf.hops[0].pass_rate == 0.0
    assert wf.predicted_end_to_end == 0.0


def test_missing_seq_orders_by_started_at_then_input_order(report_of):
    report = report_of(
        [
            hop("r1", "late", started_at="2026-04-01T10:00:05Z"),
            hop("r1", "early", started_at="2026-04-01T10:00:01Z"),
            hop("r1", "untimed-1"),  # no seq, no time: after the timed ones, in file order
            hop("r1", "untimed-2"),
            hop("r2", "untimed-1", 9),  # seq sorts before missing seq
            hop("r2", "early"),
        ]
    )
    hops = hops_by_id(report)
    assert list(hops) == ["early", "late", "untimed-1", "untimed-2"]
    assert hops["untimed-1"].median_position == 2.0  # positions 3 (r1) and 1 (r2)


def test_confident_threshold_setting(report_of):
    records = [
        hop("r1", "a", 1, validated=True, violations=["bad"]),
        hop("r1", "b", 2, confidence=0.7),
    ]
    assert report_of(records).workflows[0].observed_cascades == 0
    lowered = report_of(records, Settings(confident_threshold=0.7))
    assert lowered.workflows[0].observed_cascades == 1
    assert lowered.workflows[0].confident_share == 1.0


def test_workflow_filter(report_of):
    report = report_of(TRACE_A + TRACE_B, Settings(workflows=("v",)))
    assert [w.workflow_id for w in report.workflows] == ["v"]
    assert report.runs == 2


def test_hop_cost_and_latency_over_the_executions_that_recorded_them(report_of):
    report = report_of(
        [
            hop("r1", "x", 1, cost_usd=0.1, latency_ms=100),
            hop("r2", "x", 1),  # no cost, no latency: left out of the means, not counted as 0
            hop("r3", "x", 1, cost_usd=0.3, started_at=1775037600000, ended_at=1775037600400),
        ]
    )
    (x,) = report.workflows[0].hops
    assert x.total_cost_usd == pytest.approx(0.4)
    assert x.mean_cost_usd == pytest.approx(0.2)
    assert x.mean_latency_ms == pytest.approx(250.0)  # 100 and 400 (from the timestamps)


def test_float_sums_do_not_depend_on_record_order(report_of):
    """Float addition is not associative: in one order 0.1 + 0.2 + 0.3 is 0.6000000000000001.

    Parallel scans and the position window hand rows to the aggregates in varying order, so
    sums and means are taken exactly (as decimals): every order gives 0.6, 0.2 and the same
    last digit of every score, run after run.
    """
    assert (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1  # the premise
    runs = [
        [
            hop(f"r{i}", "a", 1, cost_usd=cost, latency_ms=cost, scores={"groundedness": cost}),
            hop(f"r{i}", "b", 2, cost_usd=cost, scores={"groundedness": 1 / 3}),
        ]
        for i, cost in enumerate((0.1, 0.2, 0.3))
    ]
    seen = set()
    for order in ((0, 1, 2), (2, 1, 0), (1, 2, 0)):
        report = report_of([record for i in order for record in runs[i]])
        a, b = report.workflows[0].hops
        assert a.total_cost_usd == 0.6 and b.total_cost_usd == 0.6
        assert a.mean_cost_usd == pytest.approx(0.2, rel=1e-15)  # the exact total, divided
        assert a.mean_latency_ms == pytest.approx(0.2, rel=1e-15)
        assert report.workflows[0].g_arvis_scores.groundedness == pytest.approx(
            (0.6 + 1.0) / 6, abs=1e-15
        )
        seen.add(json.dumps(report.to_dict(), sort_keys=True))
    assert len(seen) == 1


def test_large_traces_are_annotated_in_buckets_of_runs_with_the_same_numbers(
    report_of, monkeypatch
):
    """Past BUCKET_HOPS hops, m_hops is built one hash bucket of runs at a time."""
    from argus_cli import metrics

    whole = report_of([*TRACE_A, *TRACE_B]).to_dict()
    monkeypatch.setattr(metrics, "BUCKET_HOPS", 2)
    seen: list[str] = []
    real = metrics._hop_buckets

    def spy(con):
        buckets = real(con)
        seen.append(str(buckets))
        return buckets

    monkeypatch.setattr(metrics, "_hop_buckets", spy)
    assert report_of([*TRACE_A, *TRACE_B]).to_dict() == whole
    assert int(seen[0]) > 3
