"""The tracers: one SPEC record per hop, error capture, nesting, runs, payloads, finalize()."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from argus_cli import AgentTracer, EmptyTraceError, GARVISScorer, WorkflowTracer
from argus_cli.analysis import analyse
from argus_cli.schema import FIELD_NAMES, PAYLOAD_FIELDS, canonical_json
from argus_cli.writer.records import payload_hash, rfc3339
from argus_cli.writer.tracing import current_hop

T0 = 1_775_030_400.0  # 2026-04-01T08:00:00Z


class Clock:
    """A settable clock, so timestamps and latencies are exact."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def trace(tmp_path):
    return tmp_path / "trace.jsonl"


def test_one_hop_writes_one_spec_record(trace):
    clock = Clock()
    tracer = AgentTracer(workflow_id="test-001", path=trace, clock=clock)
    with tracer.hop("my-first-agent") as hop:
        output = {"result": "hello", "confidence": 0.94}
        clock.tick(0.25)
        hop.record(output=output, confidence=0.94)
    [record] = lines(trace)
    assert record == {
        "kind": "hop",
        "run_id": tracer.run_id,
        "workflow_id": "test-001",
        "hop_id": "my-first-agent",
        "span_id": record["span_id"],
        "seq": 1,
        "status": "success",
        "started_at": "2026-04-01T08:00:00.000000Z",
        "ended_at": "2026-04-01T08:00:00.250000Z",
        "latency_ms": 250.0,
        "confidence": 0.94,
        "validated": False,
        "high_stakes": False,
        "output_hash": payload_hash(output),
    }
    assert len(tracer.run_id) == 32 and int(tracer.run_id, 16) >= 0  # a UUID hex (SPEC 8)
    assert set(record) <= FIELD_NAMES


def test_nothing_is_written_before_the_hop_ends(trace):
    tracer = AgentTracer(path=trace)
    with tracer.hop("a") as hop:
        hop.record(confidence=0.5)
        assert not trace.exists()
    assert len(lines(trace)) == 1


def test_every_spec_field_round_trips_through_the_loader(trace):
    tracer = AgentTracer(workflow_id="w", path=trace)
    with tracer.hop("a", agent="agent-a", model="m1", high_stakes=True) as hop:
        hop.record(
            {"answer": 42},
            input={"question": "?"},
            confidence=0.8,
            input_tokens=100,
            output_tokens=20,
            cost_usd=0.01,
            scores={"groundedness": 0.9, "accuracy": 1, "safety": 0.0},
            violations=["safety:pii", {"rule": "late", "severity": "low", "category": "sla"}],
            validated=True,
            correct=False,
            intent_checksum="abc",
            metadata={"prompt_version": "v3", "attempt": 2},
        )
    report = analyse([str(trace)], quiet=True)
    assert report.bad_records == 0 and report.hop_executions == 1
    hop_stats = report.workflows[0].hops[0]
    assert (hop_stats.validated, hop_stats.wrong, hop_stats.high_stakes) == (1, 1, 1)
    assert report.g_arvis_scores.safety == 0.0
    [record] = lines(trace)
    assert record["input_hash"] == payload_hash({"question": "?"})
    assert "input" not in record and "output" not in record  # not stored unless asked


def test_an_escaping_exception_is_recorded_as_an_error_and_reraised(trace):
    tracer = AgentTracer(path=trace)
    with pytest.raises(TimeoutError, match="model did not answer"), tracer.hop("slow") as hop:
        hop.record(model="m")
        raise TimeoutError("model did not answer\nin 30 s")
    with pytest.raises(KeyError), tracer.hop("lookup"):
        raise KeyError
    slow, lookup = lines(trace)
    assert slow["status"] == "error"
    assert slow["error"] == "TimeoutError: model did not answer in 30 s"
    assert slow["model"] == "m"  # what was recorded before the failure is kept
    assert lookup["error"] == "KeyError"


def test_status_can_be_recorded_explicitly(trace):
    tracer = AgentTracer(path=trace)
    with tracer.hop("cache") as hop:
        hop.record(status="skipped", metadata={"reason": "cached"})
    with tracer.hop("api") as hop:
        hop.record(status="error", error="HTTP 503")
    assert [(r["status"], r.get("error")) for r in lines(trace)] == [
        ("skipped", None),
        ("error", "HTTP 503"),
    ]


def test_nested_hops_get_the_enclosing_span_as_parent_and_seq_in_start_order(trace):
    tracer = AgentTracer(path=trace)
    with tracer.hop("supervisor") as outer:
        with tracer.hop("parser") as first, tracer.hop("tool-call") as tool:
            pass
        with tracer.hop("validator") as second:
            pass
    with tracer.hop("next") as after:
        pass
    by_id = {r["hop_id"]: r for r in lines(trace)}
    assert by_id["supervisor"].get("parent_id") is None
    assert by_id["parser"]["parent_id"] == outer.span_id
    assert by_id["tool-call"]["parent_id"] == first.span_id
    assert by_id["validator"]["parent_id"] == outer.span_id
    assert by_id["next"].get("parent_id") is None
    order = ("supervisor", "parser", "tool-call", "validator", "next")
    assert [by_id[h]["seq"] for h in order] == [1, 2, 3, 4, 5]
    spans = {outer.span_id, first.span_id, tool.span_id, second.span_id, after.span_id}
    assert len(spans) == 5
    # Records are written as hops end: inner before outer. The loader orders by seq.
    assert [r["hop_id"] for r in lines(trace)][:2] == ["tool-call", "parser"]


def test_a_chain_of_hops_is_all_top_level(trace):
    """SPEC 8: a hop that only passed its output on is not a parent; seq counts from 1."""
    tracer = AgentTracer(path=trace)
    output = None
    for hop_id in ("parser", "checker", "writer"):
        with tracer.hop(hop_id, input=output) as hop:
            output = {"from": hop_id}
            hop.record(output)
    records = lines(trace)
    assert [(r["hop_id"], r["seq"]) for r in records] == [
        ("parser", 1),
        ("checker", 2),
        ("writer", 3),
    ]
    assert all("parent_id" not in r for r in records)


def test_a_caught_child_error_leaves_the_caller_a_success(trace):
    """SPEC 8: a tool call that fails and is retried is a handled error under a successful
    caller; the retry is a second execution of the same hop, under the same caller."""
    tracer = AgentTracer(path=trace)
    with tracer.hop("billing_agent") as agent:
        for attempt in (1, 2):
            try:
                with tracer.hop("lookup_invoice", metadata={"attempt": attempt}):
                    if attempt == 1:
                        raise TimeoutError("invoice API")
            except TimeoutError:
                continue
            break
        agent.record(confidence=0.9)
    first, second, caller = lines(trace)
    assert (first["hop_id"], first["status"], first["error"]) == (
        "lookup_invoice",
        "error",
        "TimeoutError: invoice API",
    )
    assert (second["hop_id"], second["status"]) == ("lookup_invoice", "success")
    assert (caller["hop_id"], caller["status"]) == ("billing_agent", "success")
    assert "error" not in caller
    assert first["parent_id"] == second["parent_id"] == caller["span_id"] == agent.span_id
    assert [caller["seq"], first["seq"], second["seq"]] == [1, 2, 3]


def test_an_uncaught_error_travels_up_through_every_caller(trace):
    """SPEC 8: each hop the exception leaves records it as its error; it is re-raised."""
    tracer = AgentTracer(path=trace)
    with (
        pytest.raises(PermissionError, match="account locked"),
        tracer.hop("router") as router,
        tracer.hop("billing_agent") as agent,
        tracer.hop("lookup_invoice"),
    ):
        raise PermissionError("account locked")
    tool, specialist, top = lines(trace)  # written as each hop ends: innermost first
    assert [r["hop_id"] for r in (tool, specialist, top)] == [
        "lookup_invoice",
        "billing_agent",
        "router",
    ]
    assert {r["status"] for r in (tool, specialist, top)} == {"error"}
    assert {r["error"] for r in (tool, specialist, top)} == {"PermissionError: account locked"}
    assert tool["parent_id"] == agent.span_id and specialist["parent_id"] == router.span_id
    assert "parent_id" not in top


def test_explicit_parent_names_a_caller_outside_the_block(trace):
    """Work a hop hands to another thread does not see the open hop: `parent=` names it."""
    tracer = AgentTracer(path=trace)
    with tracer.hop("planner") as planner:
        worker = threading.Thread(target=lambda: tracer.hop("search", parent=planner).__enter__()
                                  .__exit__(None, None, None))  # fmt: skip
        worker.start()
        worker.join()
        with tracer.hop("tool", parent="span-of-another-process"):
            pass
    search, tool, outer = lines(trace)
    assert search["parent_id"] == planner.span_id and search["seq"] == 2
    assert tool["parent_id"] == "span-of-another-process"
    assert "parent_id" not in outer


def test_a_hop_of_a_new_run_has_no_parent_in_the_previous_run(trace):
    tracer = AgentTracer(path=trace, run_id="first")
    with tracer.hop("outer"):
        tracer.new_run("second")
        with tracer.hop("inner"):
            pass
    inner, outer = lines(trace)
    assert (inner["run_id"], inner["seq"], outer["run_id"]) == ("second", 1, "first")
    assert "parent_id" not in inner


def test_a_seeded_simulation_writes_the_same_records_every_time(tmp_path):
    """`span_ids` and `clock` make the bytes repeatable; `sink` keeps records in memory."""

    class ListSink:
        def __init__(self) -> None:
            self.records: list[dict] = []

        @property
        def path(self) -> Path:
            return tmp_path / "unused.jsonl"

        def write(self, record) -> None:
            self.records.append(dict(record))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    def simulate() -> list[dict]:
        counter = iter(range(1, 100))
        sink = ListSink()
        clock = Clock()
        tracer = AgentTracer("sim", sink=sink, clock=clock, run_id="r1",
                             span_ids=lambda: f"{next(counter):016x}")  # fmt: skip
        for run in ("r1", "r2"):
            if run != "r1":
                tracer.new_run(run)
            with tracer.hop("a"), tracer.hop("b") as b:
                clock.tick(0.5)
                b.record({"answer": run})
        assert not (tmp_path / "unused.jsonl").exists()
        return sink.records

    first = simulate()
    assert first == simulate()
    assert [(r["run_id"], r["hop_id"], r["span_id"], r.get("parent_id")) for r in first] == [
        ("r1", "b", "0000000000000002", "0000000000000001"),
        ("r1", "a", "0000000000000001", None),
        ("r2", "b", "0000000000000004", "0000000000000003"),
        ("r2", "a", "0000000000000003", None),
    ]
    with pytest.raises(ValueError, match="not both"):
        AgentTracer("sim", sink=ListSink(), path=tmp_path / "x.jsonl")


def test_hops_of_another_tracer_are_not_parents(tmp_path):
    one = AgentTracer(path=tmp_path / "one.jsonl")
    two = AgentTracer(path=tmp_path / "two.jsonl")
    with one.hop("outer"), two.hop("inner"):
        pass
    assert "parent_id" not in lines(tmp_path / "two.jsonl")[0]


def test_nesting_is_per_thread(trace):
    tracer = AgentTracer(path=trace)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(50):
                with tracer.hop(f"outer-{n}") as outer, tracer.hop(f"inner-{n}") as inner:
                    assert current_hop(tracer) is inner
                    assert inner.parent_id == outer.span_id
                    inner.record(metadata={"i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    records = lines(trace)
    assert len(records) == 800
    assert sorted(r["seq"] for r in records) == list(range(1, 801))  # unique, from 1
    spans = {r["span_id"]: r for r in records}
    for r in records:
        if r["hop_id"].startswith("inner"):
            assert spans[r["parent_id"]]["hop_id"] == r["hop_id"].replace("inner", "outer")


def test_nesting_is_per_asyncio_task(trace):
    tracer = AgentTracer(path=trace)

    async def agent(name: str) -> None:
        with tracer.hop(name) as outer:
            await asyncio.sleep(0)
            with tracer.hop(f"{name}-tool") as tool:
                await asyncio.sleep(0)
                assert tool.parent_id == outer.span_id

    async def main() -> None:
        await asyncio.gather(*(agent(f"agent{i}") for i in range(5)))

    asyncio.run(main())
    spans = {r["span_id"]: r["hop_id"] for r in lines(trace)}
    for r in lines(trace):
        if r["hop_id"].endswith("-tool"):
            assert spans[r["parent_id"]] + "-tool" == r["hop_id"]


def test_new_run_starts_the_next_run_with_seq_from_one(trace):
    tracer = AgentTracer(path=trace, run_id="run-1")
    for _ in range(2):
        with tracer.hop("a"), tracer.hop("b"):
            pass
        first = tracer.run_id
        second = tracer.new_run()
        assert second != first
    assert tracer.new_run("chosen") == "chosen"
    records = lines(trace)
    assert [(r["run_id"] == "run-1", r["seq"]) for r in records[:2]] == [(True, 2), (True, 1)]
    assert [r["seq"] for r in records[2:]] == [2, 1]
    assert records[2]["run_id"] not in ("run-1", "chosen")
    assert analyse([str(trace)], quiet=True).runs == 2


def test_record_hop_writes_directly_with_given_timing(trace):
    tracer = AgentTracer(path=trace, clock=Clock())
    written = tracer.record_hop(
        "validator", {"ok": True}, input={"x": 1}, violations=[], validated=True, latency_ms=120.0
    )
    assert lines(trace) == [written]
    assert written["seq"] == 1 and written["latency_ms"] == 120.0
    assert written["started_at"] == "2026-04-01T07:59:59.880000Z"
    assert written["ended_at"] == "2026-04-01T08:00:00.000000Z"
    assert written["violations"] == [] and written["validated"] is True
    with tracer.hop("outer") as outer:
        inner = tracer.record_hop("inner", status="error", error="boom")
    assert inner["parent_id"] == outer.span_id and inner["seq"] == 3


def test_payloads_are_hashed_canonically_and_stored_only_when_asked(tmp_path):
    a = {"b": [1, 2.5, "ü"], "a": None}
    b = {"a": None, "b": [1, 2.5, "ü"]}  # same payload, other key order
    assert payload_hash(a) == payload_hash(b)
    import hashlib

    assert payload_hash(a) == hashlib.sha256(canonical_json(a).encode()).hexdigest()

    plain = AgentTracer(path=tmp_path / "plain.jsonl")
    stored = AgentTracer(path=tmp_path / "stored.jsonl", store_payloads=True)
    for tracer in (plain, stored):
        with tracer.hop("h", input=b) as hop:
            hop.record(a)
    [p] = lines(tmp_path / "plain.jsonl")
    [s] = lines(tmp_path / "stored.jsonl")
    assert p["output_hash"] == s["output_hash"] == payload_hash(a)
    assert not PAYLOAD_FIELDS & set(p)
    assert s["output"] == a and s["input"] == b


@dataclass
class Result:
    text: str
    tokens: int


def test_payloads_of_any_python_type_hash_and_store(trace):
    tracer = AgentTracer(path=trace, store_payloads=True)
    with tracer.hop("h") as hop:
        hop.record({"r": Result("x", 3), "tags": {"b", "a"}, "nan": math.nan, "raw": b"\x00"})
    [record] = lines(trace)
    assert record["output"] == {"r": {"text": "x", "tokens": 3}, "tags": ["a", "b"], "nan": "nan",
                                "raw": "AA=="}  # fmt: skip
    assert analyse([str(trace)], quiet=True).bad_records == 0


def test_explicit_output_hash_wins(trace):
    tracer = AgentTracer(path=trace)
    with tracer.hop("h") as hop:
        hop.record({"x": 1}, output_hash="given")
    assert lines(trace)[0]["output_hash"] == "given"


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"confidence": 1.2}, ValueError, "'confidence' must be a number in 0..1"),
        ({"confidence": math.nan}, ValueError, "'confidence' must be a number in 0..1"),
        ({"confidence": "high"}, TypeError, "'confidence' must be a number in 0..1"),
        ({"input_tokens": 1.5}, TypeError, "'input_tokens' must be a whole number"),
        ({"input_tokens": True}, TypeError, "'input_tokens' must be a whole number"),
        ({"cost_usd": math.inf}, ValueError, "'cost_usd' must be a finite number"),
        ({"cost_usd": -0.5}, ValueError, "'cost_usd' must be >= 0"),
        ({"output_tokens": -1}, ValueError, "'output_tokens' must be >= 0"),
        ({"validated": 1}, TypeError, "'validated' must be True or False"),
        ({"scores": {"accuracy": 2}}, ValueError, "'scores.accuracy' must be a number in 0..1"),
        ({"violations": "safety:pii"}, TypeError, "'violations' must be a list"),
        ({"violations": [{"category": "x"}]}, TypeError, "'violations' must be a list"),
        ({"status": "ok"}, ValueError, "'status' must be one of success, error, skipped"),
        ({"metadata": ["x"]}, TypeError, "'metadata' must be a mapping"),
        ({"confidance": 0.5}, TypeError, "unknown hop field\\(s\\) confidance"),
    ],
)
def test_fields_are_checked_when_recorded(trace, fields, error, message):
    tracer = AgentTracer(path=trace)
    with tracer.hop("h") as hop, pytest.raises(error, match=message):
        hop.record(**fields)
    assert lines(trace)[0]["status"] == "success"  # the bad call changed nothing


def test_later_record_calls_override_and_metadata_merges(trace):
    tracer = AgentTracer(path=trace)
    with tracer.hop("h", metadata={"model": "claude-sonnet-4-6"}) as hop:
        hop.record(confidence=0.2, metadata={"attempt": 1})
        hop.record(confidence=0.9, metadata={"attempt": 2}, model=None)
    [record] = lines(trace)
    assert record["confidence"] == 0.9
    assert record["metadata"] == {"model": "claude-sonnet-4-6", "attempt": 2}


def test_a_hop_is_entered_once_and_recorded_inside_its_block(trace):
    tracer = AgentTracer(path=trace)
    hop = tracer.hop("h")
    with hop:
        pass
    with pytest.raises(RuntimeError, match="already entered"), hop:
        pass
    with pytest.raises(RuntimeError, match="inside its block"):
        hop.record(confidence=0.5)
    with pytest.raises(ValueError, match="hop_id"):
        tracer.hop("")


def test_default_path_env_and_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARGUS_TRACE_PATH", raising=False)
    assert AgentTracer("rcm/prior auth").path == Path("argus-traces/rcm_prior_auth.jsonl")
    assert AgentTracer("w", format="parquet").path == Path("argus-traces/w.parquet")
    monkeypatch.setenv("ARGUS_TRACE_PATH", str(tmp_path / "all/{workflow_id}.jsonl"))
    tracer = AgentTracer("wf-1")
    assert tracer.path == tmp_path / "all/wf-1.jsonl" and tracer.format == "jsonl"
    with tracer.hop("h"):
        pass
    assert (tmp_path / "all/wf-1.jsonl").exists()  # folders are made as needed
    assert AgentTracer("w", path=tmp_path / "x.parquet").format == "parquet"
    with pytest.raises(ValueError, match="gzip cannot be appended"):
        AgentTracer("w", path=tmp_path / "x.jsonl.gz")


def test_finalize_reports_with_the_same_engine_as_argus_report(trace):
    tracer = AgentTracer(workflow_id="w", path=trace)
    for run in range(4):
        tracer.new_run()
        with tracer.hop("parser") as hop:
            hop.record(confidence=0.9, validated=True, violations=[] if run else ["format:x"])
        with tracer.hop("writer") as hop:
            hop.record(confidence=0.95)
    report = tracer.finalize()
    reference = analyse([str(trace)], quiet=True)
    assert report.to_dict() == reference.to_dict() | {"settings": report.to_dict()["settings"]}
    assert report.end_to_end_success_rate == reference.end_to_end_success_rate == 0.75
    assert report.cascade_risk_score == reference.cascade_risk_score
    assert report.weakest_hop is not None and report.weakest_hop.hop_id == "parser"
    assert str(report.weakest_hop) == '"parser" — 75.0% pass rate'
    assert report.g_arvis_scores == reference.g_arvis_scores.to_dict()
    summary = report.summary()
    assert "workflow w · 4 runs, 8 hop executions" in summary
    assert "end-to-end success  75.0% observed" in summary
    assert '"parser" — 75.0% pass rate' in summary
    assert "\x1b[" not in summary


def test_finalize_reports_only_the_tracers_workflow(trace):
    for workflow in ("a", "b"):
        tracer = AgentTracer(workflow_id=workflow, path=trace)
        with tracer.hop(f"{workflow}-hop"):
            pass
    report = tracer.finalize()
    assert [w.workflow_id for w in report.workflows] == ["b"] and report.runs == 1


def test_finalize_of_a_tracer_that_wrote_nothing_says_so(tmp_path):
    tracer = AgentTracer(workflow_id="quiet", path=tmp_path / "none.jsonl")
    with pytest.raises(EmptyTraceError, match="nothing to report: no hop of workflow 'quiet'"):
        tracer.finalize()
    other = AgentTracer(workflow_id="other", path=tmp_path / "none.jsonl")
    other.record_intent("goal", [])  # a file exists, but holds no hop of ours
    with pytest.raises(EmptyTraceError, match="no hop of workflow 'other'"):
        other.finalize()


def test_g_arvis_dimensions_pick_the_composite(trace):
    tracer = WorkflowTracer(
        workflow_id="w", path=trace, g_arvis_dimensions=["accuracy", "reliability"]
    )
    with tracer.hop("h") as hop:
        hop.record(scores={"accuracy": 0.5, "groundedness": 0.1})
    scores = tracer.finalize().g_arvis_scores
    assert scores == {"accuracy": 0.5, "reliability": 1.0, "g_arvis": 0.75}
    assert GARVISScorer(["accuracy", "reliability"]).score(trace) == scores
    assert GARVISScorer().score(tracer)["groundedness"] == 0.1
    with pytest.raises(ValueError, match="unknown G-ARVIS dimension"):
        WorkflowTracer(path=trace, g_arvis_dimensions=["vibes"])


def test_intent_and_outcome_records(trace):
    tracer = AgentTracer(path=trace, clock=Clock())
    intent = tracer.record_intent("Approve MRT — naïve", ["HIPAA"], goal_id="g1")
    with tracer.hop("h") as hop:
        hop.record(intent_checksum=intent["intent_checksum"])
    tracer.record_outcome(False, source="human", note="appeal")
    records = lines(trace)
    assert records[0]["created_at"] == rfc3339(T0) == "2026-04-01T08:00:00.000000Z"
    assert records[2] == {
        "kind": "outcome",
        "run_id": tracer.run_id,
        "correct": False,
        "source": "human",
        "note": "appeal",
    }
    report = analyse([str(trace)], quiet=True)
    assert report.end_to_end_success_rate == 0.0
    assert report.workflows[0].drift.unanchored_hops == 0


def test_importing_the_library_does_not_load_duckdb_pyarrow_or_rich(tmp_path):
    code = f"""
import sys
from argus_cli import (AgentTracer, WorkflowTracer, ValidationContract, ContractViolation,
                       SharedStateStore, AgentWriteContract, ValidatedAgent, StateContract,
                       GARVISScorer)
tracer = AgentTracer("w", path={str(tmp_path / "t.jsonl")!r})
store = SharedStateStore(tracer=tracer)
store.write_intent("goal", ["c"])
with tracer.hop("h") as hop:
    store.get_intent()
    hop.record({{"x": 1}}, confidence=0.5)
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"duckdb", "pyarrow", "rich", "typer"}})
assert not heavy, heavy
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_public_name_is_an_attribute_error():
    import argus_cli

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = argus_cli.Nope
    assert "AgentTracer" in dir(argus_cli)


def test_what_the_tracer_writes_is_read_as_a_tree(trace):
    """The writer's nesting, end to end through the report (SPEC 3.1, 3.2). Four runs of an
    agent calling a tool; runs 1 and 3 retry the tool after a timeout; run 5 meets a locked
    account that nobody catches, so the tool's error travels up through the agent.

    tool: 4 + 2 retries + 1 = 7 executions, 3 errors, 2 of them handled (the agent went on);
    agent: 5 executions, 1 error. Runs: 5, failed 1 (run 5, origin: the tool, the innermost).
    Observed end to end 4/5 = 0.8. Predicted: the agent's run pass rate is 1 - 1/5 = 0.8, the
    tool's 1 - (3 - 2)/7 = 6/7, and each is a stage of its own: 0.8 * 6/7 = 0.685714...
    """
    tracer = AgentTracer("desk", path=trace)
    for run in range(1, 6):
        if run > 1:
            tracer.new_run()
        try:
            with tracer.hop("agent") as agent:
                for attempt in (1, 2):
                    try:
                        with tracer.hop("tool"):
                            if run == 5:
                                raise PermissionError("account locked")
                            if run in (1, 3) and attempt == 1:
                                raise TimeoutError("no answer in 10 s")
                    except TimeoutError:
                        continue
                    break
                agent.record(confidence=0.9)
        except PermissionError:
            pass
    report = analyse([str(trace)], quiet=True)
    [workflow] = report.workflows
    hops = {h.hop_id: h for h in workflow.hops}
    assert (hops["tool"].executions, hops["tool"].errors, hops["tool"].handled_errors) == (7, 3, 2)
    assert (hops["agent"].executions, hops["agent"].errors, hops["agent"].handled_errors) == (
        5,
        1,
        0,
    )
    assert report.runs == 5 and report.end_to_end_success_rate == pytest.approx(0.8)
    assert report.predicted_end_to_end == pytest.approx(0.8 * 6 / 7)
    [cause] = workflow.root_causes
    assert (cause.hop_id, cause.failed_runs, cause.mean_blast_radius) == ("tool", 1, 0.0)
