"""sample_traces/support_desk.jsonl: a run tree as the writer library writes it (SPEC v2 1.1, 8).

The sample is simulated by benchmarks/support_desk.py through AgentTracer and nested
`tracer.hop()` blocks: intake and router are top-level, one of two specialists runs inside the
router, its tool calls and the policy checker inside the specialist. These tests read the file
as plain JSON, without argus, so they hold the shape of the records themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "sample_traces" / "support_desk.jsonl"
GENERATOR = ROOT / "benchmarks" / "generate_traces.py"
SPECIALISTS = {"billing_agent": "lookup_invoice", "tech_agent": "search_kb"}
TOP_LEVEL = {"intake", "router"}

Hop = dict[str, Any]


def load() -> tuple[dict[str, list[Hop]], dict[str, list[bool]]]:
    """Hops by run, and the outcome verdicts by run."""
    hops: dict[str, list[Hop]] = defaultdict(list)
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "hop":
            hops[record["run_id"]].append(record)
        else:
            assert record["kind"] == "outcome"
            outcomes[record["run_id"]].append(record["correct"])
    return dict(hops), dict(outcomes)


RUNS, OUTCOMES = load()


def wrong(hop: Hop) -> bool:
    """SPEC 2: a successful, checked execution with a violation."""
    return hop["status"] != "error" and hop["validated"] and bool(hop.get("violations"))


def failed(hop: Hop) -> bool:
    return hop["status"] == "error" or wrong(hop)


def unhandled_failures(hops: list[Hop]) -> list[Hop]:
    """SPEC 3.1: failed hops, less errors whose caller did not fail (those fail no run)."""
    spans = by_span(hops)
    return [
        h
        for h in hops
        if failed(h)
        and not (h["status"] == "error" and "parent_id" in h and not failed(spans[h["parent_id"]]))
    ]


def by_span(hops: list[Hop]) -> dict[str, Hop]:
    return {h["span_id"]: h for h in hops}


def test_the_sample_is_what_the_documented_command_writes(tmp_path):
    """Seeded through the writer library (simulated clock, seeded span ids): the same bytes."""
    out = tmp_path / "support_desk.jsonl"
    args = ["--hops", "1500", "--seed", "1", "--workflows", "support-desk"]
    assert " ".join(args) in GENERATOR.read_text(encoding="utf-8")  # the docstring's command
    subprocess.run([sys.executable, str(GENERATOR), str(out), *args], check=True,
                   capture_output=True)  # fmt: skip
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_runs_and_hops():
    assert len(RUNS) == 301
    assert sum(map(len, RUNS.values())) == 1503
    assert {h["workflow_id"] for hops in RUNS.values() for h in hops} == {"support-desk"}


def test_seq_counts_the_hops_of_a_run_from_one_in_start_order():
    for hops in RUNS.values():
        ordered = sorted(hops, key=lambda h: h["seq"])
        assert [h["seq"] for h in ordered] == list(range(1, len(hops) + 1))
        starts = [h["started_at"] for h in ordered]
        assert starts == sorted(starts)


def test_every_parent_is_an_earlier_hop_of_the_same_run_that_encloses_it():
    for hops in RUNS.values():
        spans = by_span(hops)
        assert len(spans) == len(hops)  # span ids are unique
        for hop in hops:
            if "parent_id" not in hop:
                continue
            parent = spans[hop["parent_id"]]  # never a span of another run, never unknown
            assert parent["seq"] < hop["seq"]
            assert parent["started_at"] <= hop["started_at"] <= hop["ended_at"]
            assert hop["ended_at"] <= parent["ended_at"]


def test_only_nested_hops_have_a_parent_and_each_has_the_right_caller():
    for hops in RUNS.values():
        spans = by_span(hops)
        for hop in hops:
            caller = spans[hop["parent_id"]]["hop_id"] if "parent_id" in hop else None
            if hop["hop_id"] in TOP_LEVEL:
                assert caller is None  # intake then router: a chain, not a parent
            elif hop["hop_id"] in SPECIALISTS:
                assert caller == "router"
            elif hop["hop_id"] == "policy_checker":
                assert caller in SPECIALISTS
            else:
                assert SPECIALISTS[caller] == hop["hop_id"]  # a specialist's own tool


def test_routes_are_exclusive_per_run():
    routes: dict[str, int] = defaultdict(int)
    for hops in RUNS.values():
        taken = {h["hop_id"] for h in hops if h["hop_id"] in SPECIALISTS}
        assert len(taken) <= 1
        specialist = [h for h in hops if h["hop_id"] in SPECIALISTS]
        assert len(specialist) == len(taken)  # one execution of the route taken
        routes[next(iter(taken), "none")] += 1
        tools = {h["hop_id"] for h in hops if h.get("metadata", {}).get("span_kind") == "tool"}
        assert tools <= {SPECIALISTS[t] for t in taken}
        router = [h for h in hops if h["hop_id"] == "router"]
        if taken:
            assert router[0]["metadata"]["route"] == next(iter(taken))
    # Runs that ended before routing (intake failed, the router's own call or guardrail) have none.
    assert routes == {"billing_agent": 149, "tech_agent": 144, "none": 8}


def test_retried_tool_calls_are_handled_errors_under_a_successful_specialist():
    handled = 0
    for hops in RUNS.values():
        spans = by_span(hops)
        for tool in (h for h in hops if h["hop_id"] in SPECIALISTS.values()):
            caller = spans[tool["parent_id"]]
            if tool["status"] == "error" and caller["status"] == "success":
                handled += 1
                assert tool["error"].startswith(("TimeoutError", "RateLimitError"))
                # The retry: the next attempt, under the same caller, started after it ended.
                attempt = tool["metadata"]["attempt"] + 1
                retry = [
                    h
                    for h in hops
                    if (h.get("parent_id"), h["hop_id"]) == (tool["parent_id"], tool["hop_id"])
                    and h["metadata"]["attempt"] == attempt
                ]
                assert len(retry) == 1 and retry[0]["started_at"] > tool["ended_at"]
    assert handled == 25 + 16


def test_an_error_travels_up_two_callers_in_some_runs():
    travelled = []
    for run_id, hops in RUNS.items():
        spans = by_span(hops)
        tools = [h for h in hops if h["hop_id"] in SPECIALISTS.values()]
        last = max(tools, key=lambda h: h["seq"], default=None)
        if last is None or last["status"] != "error":
            continue
        specialist = spans[last["parent_id"]]
        router = spans[specialist["parent_id"]]
        assert specialist["status"] == router["status"] == "error"
        assert specialist["error"] == router["error"] == last["error"]  # the same exception
        assert run_id not in OUTCOMES  # no answer: nothing for a reviewer to judge
        travelled.append(last["error"].split(":")[0])
    # Not retried (a locked account, a missing index), or out of retries (three timeouts).
    assert sorted(set(travelled)) == ["LookupError", "PermissionError", "TimeoutError"]
    assert len(travelled) == 10  # runs


def test_guardrail_trips_are_validated_hops_with_a_safety_violation():
    trips: dict[str, int] = defaultdict(int)
    for hops in RUNS.values():
        spans = by_span(hops)
        for hop in hops:
            if not any(v.startswith("safety:") for v in hop.get("violations", [])):
                continue
            trips[hop["hop_id"]] += 1
            assert hop["validated"] and hop["status"] == "error"
            assert "GuardrailTripwireTriggered" in hop["error"]
            if hop["hop_id"] in SPECIALISTS:  # escalated to a human: handled by the router
                assert spans[hop["parent_id"]]["status"] == "success"
                assert spans[hop["parent_id"]]["metadata"]["escalated"] is True
    assert trips == {"billing_agent": 3, "tech_agent": 2, "router": 2}


def test_silent_errors_caught_by_sampled_validation_and_by_outcomes():
    caught: dict[str, int] = defaultdict(int)
    for hops in RUNS.values():
        for hop in hops:
            if wrong(hop):
                caught[hop["hop_id"]] += 1
    assert caught == {"intake": 1, "billing_agent": 1, "tech_agent": 3, "policy_checker": 5,
                      "router": 5}  # fmt: skip
    # A verdict on some answered runs; a few are wrong where no hop failed (bar handled errors).
    assert sum(map(len, OUTCOMES.values())) == 72
    unflagged = [
        run_id
        for run_id, verdicts in OUTCOMES.items()
        if False in verdicts and not unhandled_failures(RUNS[run_id])
    ]
    assert len(unflagged) == 5


@pytest.mark.parametrize("hop_id", ["policy_checker", "billing_agent", "tech_agent"])
def test_handled_errors_of_sub_agents_leave_their_caller_a_success(hop_id):
    """A policy checker that timed out (skipped review) or a tripped specialist (escalated)."""
    found = 0
    for hops in RUNS.values():
        spans = by_span(hops)
        for hop in hops:
            if hop["hop_id"] == hop_id and hop["status"] == "error":
                caller = spans[hop["parent_id"]]
                if caller["status"] == "success":
                    found += 1
                    if hop_id == "policy_checker":
                        assert caller["metadata"]["review"] == "skipped"
    assert found == {"policy_checker": 11, "billing_agent": 3, "tech_agent": 2}[hop_id]


def test_the_parquet_form_reads_as_the_same_trace(tmp_path):
    """The generator writes the writer library's records to Parquet too (timestamps as epoch
    ms, latency to 0.1 ms): every figure of the report is the same, latency aside."""
    from argus_cli.analysis import analyse

    out = tmp_path / "support_desk.parquet"
    args = ["--hops", "1500", "--seed", "1", "--workflows", "support-desk"]
    subprocess.run([sys.executable, str(GENERATOR), str(out), *args], check=True,
                   capture_output=True)  # fmt: skip

    def figures(path: Path) -> dict[str, Any]:
        report = analyse([str(path)], quiet=True).to_dict()
        report.pop("inputs")
        for workflow in report["workflows"]:
            for hop in workflow["hops"]:
                hop.pop("mean_latency_ms")
        return report

    assert figures(out) == figures(SAMPLE)


def test_the_report_reads_the_same_tree_as_these_tests():
    """argus's figures for the sample against this file's plain reading of the records."""
    from argus_cli.analysis import analyse

    report = analyse([str(SAMPLE)], quiet=True)
    [workflow] = report.workflows
    hops = {h.hop_id: h for h in workflow.hops}
    handled: dict[str, int] = defaultdict(int)
    for run in RUNS.values():
        unhandled = unhandled_failures(run)
        for hop in run:
            if hop["status"] == "error" and hop not in unhandled:
                handled[hop["hop_id"]] += 1
    assert {h: s.handled_errors for h, s in hops.items() if s.handled_errors} == handled
    assert handled == {"lookup_invoice": 25, "search_kb": 16, "policy_checker": 11,
                       "billing_agent": 3, "tech_agent": 2}  # fmt: skip
    # Routes: the two specialists share a stage, and so do their tools.
    stages = {h: s.stage for h, s in hops.items()}
    assert stages["billing_agent"] == stages["tech_agent"] == stages["router"] + 1
    assert stages["lookup_invoice"] == stages["search_kb"] == stages["billing_agent"] + 1
    failed = [
        r for r, run in RUNS.items() if unhandled_failures(run) or False in OUTCOMES.get(r, [])
    ]
    assert workflow.failed_runs == len(failed) == 44
    # The runs whose tool error travelled up are blamed on the tool (the innermost failure).
    causes = {c.hop_id: c.failed_runs for c in workflow.root_causes}
    assert (causes["lookup_invoice"], causes["search_kb"]) == (5, 5)
