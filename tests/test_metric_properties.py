"""Invariants of the metrics over random traces (hypothesis): what must hold whatever the data."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracebook import write_jsonl

from argus_cli.analysis import analyse

HOPS = ["h1", "h2", "h3", "h4"]


@st.composite
def traces(draw: st.DrawFn) -> list[dict]:
    records = []
    for run in range(draw(st.integers(min_value=1, max_value=8))):
        n = draw(st.integers(min_value=1, max_value=len(HOPS)))
        for seq, hop_id in enumerate(HOPS[:n], start=1):
            validated = draw(st.booleans())
            record = {
                "run_id": f"r{run}",
                "hop_id": hop_id,
                "workflow_id": draw(st.sampled_from(["w1", "w2"])) if seq == 1 else "ignored",
                "seq": seq,
                "status": draw(st.sampled_from(["success", "success", "error", "skipped"])),
                "validated": validated,
                "violations": draw(st.lists(st.sampled_from(["safety:pii", "fmt"]), max_size=1)),
                "confidence": draw(st.none() | st.floats(min_value=0, max_value=1)),
            }
            if draw(st.booleans()):
                record["correct"] = draw(st.booleans())
            records.append(record)
        if draw(st.booleans()):
            records.append({"kind": "outcome", "run_id": f"r{run}", "correct": draw(st.booleans())})
    # every run needs one counted hop to be a run: keep the first hop of each run unskipped
    for record in records:
        if record.get("seq") == 1:
            record["status"] = "success" if record["status"] == "skipped" else record["status"]
    return records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces())
def test_metric_invariants(records):
    with tempfile.TemporaryDirectory() as folder:
        path = write_jsonl(Path(folder) / "t.jsonl", records)
        report = analyse([str(path)], quiet=True)
    assert sum(w.runs for w in report.workflows) == report.runs
    for wf in report.workflows:
        assert 0.0 <= wf.end_to_end_success_rate <= 1.0
        assert 0.0 <= wf.cascade_risk_score <= wf.confident_share + 1e-12
        # SPEC 3.2: the product over stages of their hops' run pass rates, weighted by
        # executions (skipped hops can make two hops alternatives: one stage)
        stages: dict[int, list] = {}
        for h in wf.hops:
            stages.setdefault(h.stage, []).append(h)
        predicted = math.prod(
            sum(
                h.executions
                * (1 - (h.errors - h.handled_errors) / h.executions)
                * (1 - (h.silent_error_rate or 0.0))
                for h in hops
            )
            / sum(h.executions for h in hops)
            for hops in stages.values()
        )
        assert math.isclose(wf.predicted_end_to_end, predicted, abs_tol=1e-12)
        assert sum(c.failed_runs for c in wf.root_causes) == wf.failed_runs
        assert wf.observed_cascades <= wf.failed_runs
        assert wf.hops[-1].cascade_contribution == 0.0  # the last hop cannot cascade further
        for h in wf.hops:
            lo, hi = h.pass_rate_ci
            assert 0.0 <= lo <= h.pass_rate + 1e-12 and h.pass_rate <= hi + 1e-12 <= 1.0 + 1e-12
            assert 0.0 <= h.silent_error_rate <= 1.0 if h.silent_error_rate is not None else True
            assert h.wrong <= h.checked <= h.executions and h.errors <= h.executions
        for w in wf.what_if:  # validating more never raises the risk
            assert w.proposed_coverage >= w.coverage
            assert w.proposed_cascade_risk_score <= w.cascade_risk_score + 1e-12
    g = report.g_arvis_scores
    for value in g.to_dict().values():
        assert value is None or 0.0 <= value <= 1.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces(), st.integers(min_value=1, max_value=4))
def test_where_the_work_happens_never_changes_a_number(records, bucket_hops):
    """In memory, in a work file, whole or one hash bucket of runs at a time, whole records
    (`hop_facts` over `hops`) or staged facts: the same report, to the last digit."""
    import os

    from argus_cli import metrics
    from argus_cli.analysis import report_for
    from argus_cli.load.loading import load
    from argus_cli.report import Settings

    reports = []
    saved = os.environ.get("ARGUS_WORK"), metrics.BUCKET_HOPS
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = write_jsonl(Path(folder) / "t.jsonl", records)
            for work, buckets, columns in (
                ("memory", saved[1], "metrics"),
                ("disk", bucket_hops, "metrics"),
                ("memory", bucket_hops, "all"),
            ):
                os.environ["ARGUS_WORK"] = work
                metrics.BUCKET_HOPS = buckets
                trace = load([str(path)], columns=columns)
                try:
                    reports.append(report_for(trace, Settings()).to_dict())
                finally:
                    trace.close()
    finally:
        metrics.BUCKET_HOPS = saved[1]
        if saved[0] is None:
            os.environ.pop("ARGUS_WORK", None)
        else:
            os.environ["ARGUS_WORK"] = saved[0]
    assert reports[0] == reports[1] == reports[2]
