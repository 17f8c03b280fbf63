"""The workflow map's layout: every hop has a place of its own, in its stage's column, and a
hop that ran within a caller sits below it, whatever the edges."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from argus_cli.metrics.graph import Edge
from argus_cli.render.html.charts import _layout
from argus_cli.report import Drift, GArvis, HopStats, WorkflowReport


def _hop(name: str, stage: int) -> HopStats:
    return HopStats(
        hop_id=name, executions=10, errors=0, checked=0, wrong=0, error_rate=0.0,
        silent_error_rate=None, pass_rate=1.0, pass_rate_ci=(0.0, 1.0), validation_coverage=0.0,
        high_stakes_unvalidated=0, cascade_contribution=0.0, drift_rate=None,
        median_position=float(stage), validated=0, high_stakes=0, drifted_hops=0,
        mean_latency_ms=None, total_cost_usd=None, mean_cost_usd=None, stage=stage,
    )  # fmt: skip


@st.composite
def workflows(draw):
    stages = draw(st.lists(st.integers(1, 3), min_size=1, max_size=6))  # hops per stage
    hops = [_hop(f"h{s}_{i}", s + 1) for s, n in enumerate(stages) for i in range(n)]
    names = [h.hop_id for h in hops]
    edges = draw(
        st.lists(
            st.builds(
                Edge,
                st.just("w"),
                st.sampled_from(names),
                st.sampled_from(names),
                st.sampled_from(["call", "next"]),
                st.integers(1, 50),
                st.integers(0, 5),
            ),
            max_size=12,
        )
    )
    wf = WorkflowReport("w", 10, 0, 1.0, 1.0, 0.0, 1.0, 0, hops, [], Drift(), GArvis())
    return wf, edges


@settings(max_examples=200, deadline=None)
@given(workflows())
def test_each_hop_has_its_own_place(case):
    wf, edges = case
    place = _layout(wf, edges)
    assert set(place) == {h.hop_id for h in wf.hops}
    assert len(set(place.values())) == len(place)  # no two hops on one spot
    for hop in wf.hops:
        assert place[hop.hop_id][0] == hop.stage  # columns are stages
    callers: dict[str, tuple[int, str]] = {}
    for e in edges:
        if e.kind == "call" and e.source != e.target:
            best = callers.get(e.target)
            if best is None or (e.runs, best[1]) > (best[0], e.source):
                callers[e.target] = (e.runs, e.source)
    band = max(sum(1 for h in wf.hops if h.stage == s) for s in {h.stage for h in wf.hops})
    for callee, (_, caller) in callers.items():
        # below its main caller's band, unless calls go round in a circle
        chain, seen = caller, {callee}
        while chain in callers and chain not in seen:
            seen.add(chain)
            chain = callers[chain][1]
        if chain != callee:
            assert place[callee][1] // band >= place[caller][1] // band
