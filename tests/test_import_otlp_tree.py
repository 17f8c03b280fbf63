"""The OTLP importer's SPEC v2 tree rules, on hand-written spans: containers are the run, checks
are validations of the hop they judge, errors of non-hop spans are kept, every trace is a run.
(tests/test_realsdk_agents.py holds the same rules against a real SDK's spans.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_import_otlp import TRACE, agent, s, span, traces_data, write
from typer.testing import CliRunner

from argus_cli.cli import app

OTHER = "0123456789abcdef0123456789abcdef"


def b(key: str, value: bool) -> dict[str, Any]:
    return {"key": key, "value": {"boolValue": value}}


def oi(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    attributes = [s("openinference.span.kind", kind)]
    return attributes + ([s("agent.name", name)] if name else [])


def evaluation(label: str | None, name: str = "correctness", note: str | None = None) -> dict:
    attributes = [s("gen_ai.evaluation.name", name)]
    if label is not None:
        attributes.append(s("gen_ai.evaluation.score.label", label))
    if note is not None:
        attributes.append(s("gen_ai.evaluation.explanation", note))
    return {"name": "gen_ai.evaluation.result", "timeUnixNano": "1", "attributes": attributes}


ERROR = {"code": 2}


def convert(path: Path, *flags: str) -> list[dict[str, Any]]:
    out = path.with_suffix(".out.jsonl")
    result = CliRunner().invoke(app, ["convert", str(path), "-o", str(out), "-q", *flags])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return [{k: v for k, v in r.items() if v is not None} for r in rows]


def hops_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] == "hop"]


def outcomes_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] == "outcome"]


def test_the_agents_sdk_shape_its_trace_and_task_spans_are_the_run(tmp_path):
    """OpenInference's Agents SDK spans: an AGENT root naming no agent (the SDK's trace, named
    by trace() or RunConfig.workflow_name), a CHAIN task span, then the agents."""
    named = [
        span("0000000000000001", oi("AGENT"), name="Support desk"),
        span("0000000000000002", oi("CHAIN"), "0000000000000001", 1, name="Agent workflow"),
        span("0000000000000003", oi("AGENT", "triage"), "0000000000000002", 2, name="triage"),
        span("0000000000000004", oi("AGENT", "billing"), "0000000000000002", 3, name="billing"),
    ]
    unnamed = [
        span("0000000000000011", oi("AGENT"), trace=OTHER, name="Agent workflow"),
        span(
            "0000000000000012",
            oi("CHAIN"),
            "0000000000000011",
            1,
            trace=OTHER,
            name="Agent workflow",
        ),
        span(
            "0000000000000013",
            oi("AGENT", "triage"),
            "0000000000000012",
            2,
            trace=OTHER,
            name="triage",
        ),
    ]
    rows = convert(write(tmp_path / "sdk.jsonl", traces_data(*named, *unnamed, service="desk")))
    assert [(h["run_id"], h["hop_id"], h["seq"], h["workflow_id"]) for h in hops_of(rows)] == [
        (OTHER, "triage", 1, "desk"),  # "Agent workflow", the SDK's default, names nothing
        (TRACE, "triage", 1, "Support desk"),
        (TRACE, "billing", 2, "Support desk"),
    ]
    assert all("parent_id" not in h for h in hops_of(rows))  # containers are no parents
    assert outcomes_of(rows) == []  # no verdict on the containers: no outcome record


def test_a_containers_error_label_and_evaluations_are_the_runs_outcome(tmp_path):
    def run(trace: str, root: dict[str, Any]) -> list[dict[str, Any]]:
        root.update(traceId=trace, spanId="00000000000000a1", name="flow")
        return [root, span("00000000000000a2", agent("worker"), "00000000000000a1", 1, trace=trace)]

    traces = [
        # an error: its first line is the note
        run("a" * 32, span("", oi("CHAIN"), status={**ERROR, "message": "boom\n  at line 3"})),
        run("b" * 32, span("", [*oi("CHAIN"), b("argus.correct", False)])),
        run("c" * 32, span("", oi("CHAIN"), events=[evaluation("FAIL", note="wrong total")])),
        run("d" * 32, span("", oi("CHAIN"), events=[evaluation("pass")])),
        run("e" * 32, span("", oi("CHAIN"), events=[evaluation(None)])),  # undecided: none
        # a GenAI invoke_workflow span is a container too; its error has no message
        run("f" * 32, span("", [s("gen_ai.operation.name", "invoke_workflow")], status=ERROR)),
    ]
    rows = convert(write(tmp_path / "runs.jsonl", traces_data(*[x for t in traces for x in t])))
    assert [(o["run_id"][0], o["correct"], o.get("note")) for o in outcomes_of(rows)] == [
        ("a", False, "boom"),
        ("b", False, "argus.correct = false on flow"),
        ("c", False, "correctness: wrong total"),
        ("d", True, None),
        ("f", False, "error"),
    ]
    assert {o["source"] for o in outcomes_of(rows)} == {"otel"}
    assert [h["hop_id"] for h in hops_of(rows)] == ["worker"] * 6  # and no container hop
    assert all(h["status"] == "success" for h in hops_of(rows))


def test_evaluations_are_checks_of_the_hop_they_judge(tmp_path):
    spans = [
        span("0000000000000001", oi("CHAIN"), name="root"),
        # on the agent's own span: fails it
        span(
            "0000000000000002",
            oi("AGENT", "writer"),
            "0000000000000001",
            1,
            events=[evaluation("incorrect", "faithfulness")],
        ),
        # on a model call below the agent: checks the agent, passes
        span("0000000000000003", oi("AGENT", "critic"), "0000000000000001", 2),
        span("0000000000000004", oi("LLM"), "0000000000000003", 3, events=[evaluation("yes")]),
        # a score without a verdict label: checked, no violation
        span(
            "0000000000000005",
            oi("AGENT", "editor"),
            "0000000000000001",
            4,
            events=[evaluation(None)],
        ),
        span("0000000000000006", oi("AGENT", "unchecked"), "0000000000000001", 5),
    ]
    hops = {
        h["hop_id"]: h for h in hops_of(convert(write(tmp_path / "e.jsonl", traces_data(*spans))))
    }
    assert hops["writer"]["validated"] is True
    assert hops["writer"]["violations"] == [
        {"rule": "faithfulness", "severity": None, "category": "evaluator"}
    ]
    assert (hops["critic"]["validated"], hops["critic"]["violations"]) == (True, [])
    assert (hops["editor"]["validated"], hops["editor"]["violations"]) == (True, [])
    assert hops["unchecked"]["validated"] is False


def test_a_guardrail_tripwire_is_a_safety_violation_of_the_tripped_agent(tmp_path):
    exception = {
        "name": "exception",
        "timeUnixNano": "1",
        "attributes": [
            s("exception.type", "agents.exceptions.OutputGuardrailTripwireTriggered"),
            s("exception.message", "Guardrail OutputGuardrail triggered tripwire"),
        ],
    }
    spans = [
        span("0000000000000001", oi("CHAIN"), name="root"),
        # the exception is recorded as an event; the status has no message
        span(
            "0000000000000002",
            oi("AGENT", "writer"),
            "0000000000000001",
            1,
            status=ERROR,
            events=[exception],
        ),
        # the SDK's own message names the guardrail
        span(
            "0000000000000003",
            oi("AGENT", "intake"),
            "0000000000000001",
            2,
            status={**ERROR, "message": "Guardrail tripwire triggered: {'guardrail': 'no_pii'}"},
        ),
        span(
            "0000000000000004",
            oi("AGENT", "crashed"),
            "0000000000000001",
            3,
            status={**ERROR, "message": "ValueError: not a tripwire"},
        ),
    ]
    hops = {
        h["hop_id"]: h for h in hops_of(convert(write(tmp_path / "g.jsonl", traces_data(*spans))))
    }
    writer = hops["writer"]
    assert (writer["status"], writer["validated"]) == ("error", True)
    assert writer["error"] == (
        "agents.exceptions.OutputGuardrailTripwireTriggered: "
        "Guardrail OutputGuardrail triggered tripwire"
    )
    assert writer["violations"] == [
        {"rule": "OutputGuardrailTripwireTriggered", "severity": None, "category": "safety"}
    ]
    assert hops["intake"]["violations"] == [
        {"rule": "no_pii", "severity": None, "category": "safety"}
    ]
    assert (hops["crashed"]["validated"], hops["crashed"]["violations"]) == (False, [])


def test_errors_of_spans_that_are_no_hops_are_counted_on_their_hop(tmp_path):
    spans = [
        span("0000000000000001", oi("CHAIN"), name="root"),
        span("0000000000000002", oi("AGENT", "outer"), "0000000000000001", 1),
        span("0000000000000003", oi("TOOL"), "0000000000000002", 2, status=ERROR, name="t1"),
        span("0000000000000004", oi("LLM"), "0000000000000002", 3, status=ERROR),
        span("0000000000000005", oi("TOOL"), "0000000000000002", 4, name="t2"),
        # a failed check is a violation, not an error
        span("0000000000000006", oi("GUARDRAIL"), "0000000000000002", 5, status=ERROR),
        # a nested agent's failed tool is the nested agent's
        span("0000000000000007", oi("AGENT", "inner"), "0000000000000002", 6),
        span("0000000000000008", oi("TOOL"), "0000000000000007", 7, status=ERROR, name="t3"),
    ]
    path = write(tmp_path / "c.jsonl", traces_data(*spans))
    hops = {h["hop_id"]: h for h in hops_of(convert(path))}
    assert hops["outer"]["metadata"]["child_errors"] == 2
    assert hops["inner"]["metadata"]["child_errors"] == 1
    assert hops["inner"]["parent_id"] == hops["outer"]["span_id"]
    # under --hop-spans tools the tools are hops: their errors are their own
    tools = {h["hop_id"]: h for h in hops_of(convert(path, "--hop-spans", "tools"))}
    assert tools["outer"]["metadata"]["child_errors"] == 1  # the LLM span only
    assert "child_errors" not in tools["inner"]["metadata"]
    assert (tools["t3"]["status"], tools["t3"]["parent_id"]) == ("error", tools["inner"]["span_id"])
    assert tools["t1"]["parent_id"] == tools["outer"]["span_id"]


def test_a_trace_without_a_hop_keeps_its_root_as_its_only_hop(tmp_path):
    with_hops = [
        span("0000000000000001", oi("CHAIN"), name="LangGraph"),
        span("0000000000000002", oi("AGENT", "worker"), "0000000000000001", 1),
    ]
    failed_before_any_agent = [
        span("0000000000000011", oi("CHAIN"), trace=OTHER, name="LangGraph", status=ERROR),
        span("0000000000000012", oi("LLM"), "0000000000000011", 1, trace=OTHER, status=ERROR),
    ]
    named = [
        span(
            "0000000000000021",
            [s("gen_ai.operation.name", "invoke_workflow"), s("gen_ai.workflow.name", "flow")],
            trace="2" * 32,
            name="invoke_workflow flow",
        ),
        span("0000000000000022", oi("LLM"), "0000000000000021", 1, trace="2" * 32),
    ]
    rows = convert(
        write(tmp_path / "h.jsonl", traces_data(*with_hops, *failed_before_any_agent, *named))
    )
    hops = {h["run_id"]: h for h in hops_of(rows)}
    assert len(hops) == 3  # every trace is a run
    lost = hops[OTHER]
    assert (lost["hop_id"], lost["status"], lost["span_id"]) == (
        "LangGraph",
        "error",
        "0000000000000011",
    )
    assert lost["metadata"]["container"] is True
    assert lost["metadata"]["child_errors"] == 1
    assert (hops["2" * 32]["hop_id"], hops["2" * 32]["workflow_id"]) == ("flow", "flow")
    assert "container" not in hops[TRACE]["metadata"]
    assert outcomes_of(rows) == []  # the root's error is its hop's, not an outcome as well


def test_hop_id_prefers_the_genai_agent_name(tmp_path):
    both = span(
        "0000000000000001",
        [*agent("by-gen-ai"), s("agent.name", "by-openinference")],
        name="span-name",
    )
    (hop,) = hops_of(convert(write(tmp_path / "n.jsonl", traces_data(both))))
    assert hop["hop_id"] == "by-gen-ai"


@pytest.mark.parametrize(
    ("flag", "fixture", "said"),
    [
        ("langfuse", "otlp/genai_collector.jsonl", "not a Langfuse file: it reads as an OTLP JSON"),
        ("otlp", "langfuse/blob_export.jsonl", "not an OTLP JSON file: it reads as a Langfuse"),
    ],
)
def test_a_wrong_from_says_the_file_is_not_that_format(flag, fixture, said):
    path = Path(__file__).parent / "data" / fixture
    result = CliRunner().invoke(app, ["report", "--from", flag, str(path)])
    assert result.exit_code == 2
    assert f"{path}: {said} one (leave --from out to detect it, or say --from" in result.output
    assert "--hop-spans" not in result.output


@pytest.mark.parametrize("flags", [[], ["--from", "otlp"], ["--from", "langfuse"]])
def test_an_empty_file_is_named(tmp_path, flags):
    empty = tmp_path / "empty.json"
    empty.write_text("\n\n")
    result = CliRunner().invoke(app, ["report", *flags, str(empty)])
    assert result.exit_code == 2
    assert result.output.strip().endswith(f"{empty}: empty: no records in it")


def test_a_genai_guardrail_check_span_checks_its_agent(tmp_path):
    """opentelemetry-instrumentation-openai-agents-v2 writes a guardrail as a guardrail_check
    span; gen_ai.guardrail.triggered says it tripped, even with status OK."""

    def check(span_id: str, parent: str, triggered: bool) -> dict[str, Any]:
        attributes = [
            s("gen_ai.operation.name", "guardrail_check"),
            s("gen_ai.guardrail.name", "no_pii"),
            b("gen_ai.guardrail.triggered", triggered),
        ]
        return span(span_id, attributes, parent, 5, name="guardrail_check")

    spans = [
        span("0000000000000001", agent("writer"), start_ms=1),
        check("0000000000000002", "0000000000000001", True),
        span("0000000000000003", agent("editor"), start_ms=2),
        check("0000000000000004", "0000000000000003", False),
    ]
    rows = convert(write(tmp_path / "gc.jsonl", traces_data(*spans)), "--hop-spans", "all")
    hops = {h["hop_id"]: h for h in hops_of(rows)}
    assert set(hops) == {"writer", "editor"}  # a check is never a hop
    assert (hops["writer"]["validated"], hops["writer"]["violations"]) == (
        True,
        [{"rule": "no_pii", "severity": None, "category": "safety"}],
    )
    assert (hops["editor"]["validated"], hops["editor"]["violations"]) == (True, [])
    assert "child_errors" not in hops["writer"]["metadata"]
