"""OTLP JSON import: each mapping rule and each encoding quirk of the OTLP JSON encoding.

The fixtures under tests/data/otlp/ were written from the OTLP specification (JSON Protobuf
Encoding), the OpenTelemetry GenAI semantic conventions and the OpenInference semantic
conventions; the expected hop rows are worked out by hand in the comments.
"""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from argus_cli.diagnostics import InputError
from argus_cli.load.loading import load

DATA = Path(__file__).parent / "data" / "otlp"
T0 = 1_775_037_600_000_000_000  # 2026-04-01T10:00:00Z in ns
TRACE = "5b8efff798038103d269b633813fc60c"

COLUMNS = (
    "run_id, hop_id, workflow_id, span_id, parent_id, seq, status, error, input_tokens, "
    "output_tokens, model, cost_usd, validated, violations, confidence, correct, high_stakes, "
    "scores, intent_checksum, latency_ms, started_at, _line"
)


def hops(path: Path | str, **options: Any) -> list[dict[str, Any]]:
    con = load([str(path)], **options).con
    cursor = con.execute(f"SELECT {COLUMNS} FROM hops ORDER BY run_id, seq")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def s(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def agent(name: str) -> list[dict[str, Any]]:
    return [s("gen_ai.operation.name", "invoke_agent"), s("gen_ai.agent.name", name)]


def span(
    span_id: str,
    attributes: list[dict[str, Any]],
    parent: str = "",
    start_ms: int = 0,
    end_ms: int | None = None,
    trace: str = TRACE,
    name: str = "span",
    **extra: Any,
) -> dict[str, Any]:
    record = {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "startTimeUnixNano": str(T0 + start_ms * 1_000_000),
        "endTimeUnixNano": str(T0 + (end_ms if end_ms is not None else start_ms + 1) * 1_000_000),
        "attributes": attributes,
    }
    record.update(extra)
    return record


def traces_data(*spans: dict[str, Any], service: str = "svc") -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [s("service.name", service)]},
                "scopeSpans": [{"scope": {}, "spans": list(spans)}],
            }
        ]
    }


def write(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------------------------
# The fixtures


def test_collector_fixture_genai_conventions():
    """Trace A (GenAI conventions) and trace B (OpenInference, upper-case ids, no workflow
    span), spread over two lines and three scopes, spans out of order.

    A: workflow "support" encloses triage (no usage: its chat span's 150/40; its own request
    model wins over the chat's response model), resolver (status code 2 and error.type; its
    own usage, in the older prompt/completion names, is an aggregate of its model calls: its
    chat span's 999/999 counts instead, never both; model from its one chat span), and
    lookup, nested in resolver (70/7 from its chat span plus 30/3 from a text_completion under
    its kb_search tool span: a model call counts for the nearest hop only, never for resolver
    too).
    B: service.name is the workflow; triage carries argus.* attributes (violations as a JSON
    string); resolver is an OpenInference AGENT with llm.token_count.*, llm.model_name and
    llm.cost.total, and a failing GUARDRAIL child: validated, with a safety violation.
    """
    a, b = "0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"
    b_triage_id = "00f067aa0ba902b8"  # written upper-case in the file
    rows = hops(DATA / "genai_collector.jsonl")
    picked = [
        (
            r["run_id"],
            r["hop_id"],
            r["workflow_id"],
            r["seq"],
            r["status"],
            r["error"],
            r["parent_id"],
            r["input_tokens"],
            r["output_tokens"],
            r["model"],
            r["_line"],
        )
        for r in rows
    ]
    assert picked == [
        (a, "triage", "support", 1, "success", None, None, 150, 40, "gpt-4o", 1),
        (a, "resolver", "support", 2, "error", "TimeoutError", None, 999, 999, "gpt-4o", 1),
        (a, "lookup", "support", 3, "success", None, "2222222222222222", 100, 10, "gpt-4o-mini", 1),
        (b, "triage", "support-bot", 1, "success", None, None, None, None, None, 2),
        (b, "resolver", "support-bot", 2, "success", None, b_triage_id, 10, 2, "claude-sonnet", 2),
    ]
    b_triage, b_resolver = rows[3], rows[4]
    assert b_triage["validated"] is True and b_triage["confidence"] == 0.7
    assert b_triage["violations"] == [
        {"rule": "missing_field", "severity": None, "category": "format"}
    ]
    assert b_resolver["cost_usd"] == 0.002 and b_resolver["validated"] is True
    assert b_resolver["violations"] == [
        {"rule": "pii_guard", "severity": None, "category": "safety"}
    ]
    assert rows[0]["latency_ms"] == 4000.0 and str(rows[0]["started_at"]) == "2026-04-01 10:00:01"


def test_tools_makes_tool_spans_hops_and_moves_their_model_calls():
    rows = hops(DATA / "genai_collector.jsonl", hop_spans="tools")
    usage = {(r["hop_id"], r["seq"]): (r["input_tokens"], r["output_tokens"]) for r in rows}
    # kb_search is now lookup's nearest-hop for the text_completion below it: 30/3 move over.
    assert usage[("lookup", 3)] == (70, 7)
    assert usage[("kb_search", 4)] == (30, 3)
    kb = next(r for r in rows if r["hop_id"] == "kb_search")
    assert kb["parent_id"] == "4444444444444444"


def test_genai_and_all_make_more_spans_hops():
    genai = hops(DATA / "genai_collector.jsonl", hop_spans="genai")
    names = sorted(r["hop_id"] for r in genai if r["run_id"].startswith("0af7"))
    # every GenAI span but the invoke_workflow span; model calls are hops with their own usage,
    # named as steps of the agent that made them (the nearest agent hop above: a tool is none)
    assert names == [
        "kb_search",
        "lookup",
        "lookup/chat",
        "lookup/text_completion",
        "resolver",
        "resolver/chat",
        "triage",
        "triage/chat",
    ]
    usage = {
        r["hop_id"]: (r["input_tokens"], r["output_tokens"])
        for r in genai
        if r["run_id"].startswith("0af7")
    }
    # never twice: the agents' model calls carry the usage, the agents none (resolver's own
    # figure is an aggregate of its call)
    assert usage["triage"] == usage["resolver"] == usage["lookup"] == (None, None)
    assert usage["triage/chat"] == (150, 40) and usage["resolver/chat"] == (999, 999)
    assert usage["lookup/chat"] == (70, 7) and usage["lookup/text_completion"] == (30, 3)
    every = hops(DATA / "genai_collector.jsonl", hop_spans="all")
    # the GUARDRAIL span checks a hop and is never one itself
    assert "pii_guard" not in {r["hop_id"] for r in every}
    assert len(every) == len(genai)


def test_pretty_printed_openinference_with_base64_ids():
    """One pretty-printed TracesData, ids in base64 (protobuf's JSON default), the pre-0.15
    `instrumentationLibrarySpans`, numbers as numbers. planner's usage and cost come from its
    LLM child; writer's EVALUATOR child failed (status code 2), its GUARDRAIL child passed."""
    planner, writer = hops(DATA / "openinference_pretty.json")
    assert (planner["run_id"], planner["span_id"], writer["span_id"]) == (
        TRACE,
        "a000000000000002",
        "a000000000000004",
    )
    assert (planner["input_tokens"], planner["output_tokens"], planner["cost_usd"]) == (
        1200,
        80,
        0.0125,
    )
    assert planner["violations"] == [
        {"rule": "plan_too_long", "severity": "low", "category": "format"}
    ]
    assert planner["scores"] == {"groundedness": 0.75} and planner["high_stakes"] is False
    assert writer["validated"] is True and writer["correct"] is False
    assert writer["violations"] == [
        {"rule": "faithfulness", "severity": None, "category": "evaluator"}
    ]
    assert writer["intent_checksum"] == "abc123" and writer["model"] == "gpt-4o"
    assert {planner["workflow_id"], writer["workflow_id"]} == {"rag-app"}
    assert planner["_line"] == writer["_line"] == 1  # the document starts on line 1


def test_gzip_is_read_like_plain(tmp_path):
    plain = DATA / "genai_collector.jsonl"
    packed = tmp_path / "export.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert hops(packed) == hops(plain)
    pretty = tmp_path / "pretty.json.gz"
    pretty.write_bytes(gzip.compress((DATA / "openinference_pretty.json").read_bytes()))
    assert hops(pretty) == hops(DATA / "openinference_pretty.json")


# --------------------------------------------------------------------------------------------
# Encoding quirks


def test_ids_hex_in_either_case_or_base64(tmp_path):
    b64 = base64.b64encode(bytes.fromhex(TRACE)).decode()
    assert len(b64) == 24
    parent_b64 = base64.b64encode(bytes.fromhex("00000000000000aa")).decode()
    assert len(parent_b64) == 12
    path = write(
        tmp_path / "ids.jsonl",
        traces_data(span("00000000000000AA", agent("a"), trace=TRACE.upper())),
        traces_data(span("00000000000000bb", agent("b"), parent=parent_b64, trace=b64, start_ms=5)),
    )
    rows = hops(path)
    assert {r["run_id"] for r in rows} == {TRACE}  # one run, however the id was written
    assert [(r["span_id"], r["parent_id"]) for r in rows] == [
        ("00000000000000aa", None),
        ("00000000000000bb", "00000000000000aa"),
    ]


def test_64_bit_integers_as_strings_or_numbers(tmp_path):
    as_number = span("0000000000000001", agent("a"))
    as_number["startTimeUnixNano"] = T0 + 2_000_000  # a JSON number, not a string
    as_number["endTimeUnixNano"] = T0 + 5_000_000
    usage = [
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 12}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "9007199254740993"}},
    ]
    as_string = span("0000000000000002", agent("b") + usage, start_ms=1, end_ms=4)
    (first, second) = hops(write(tmp_path / "ints.jsonl", traces_data(as_number, as_string)))
    assert (first["hop_id"], first["latency_ms"]) == ("b", 3.0)  # started at 1 ms, before 2 ms
    assert (first["input_tokens"], first["output_tokens"]) == (12, 9007199254740993)
    assert (second["hop_id"], second["latency_ms"]) == ("a", 3.0)


@pytest.mark.parametrize("code", [2, "STATUS_CODE_ERROR", "2"])
def test_status_code_as_integer_or_name(tmp_path, code):
    failing = span("0000000000000001", agent("a"), status={"code": code, "message": "boom"})
    ok = span("0000000000000002", agent("b"), start_ms=1, status={"code": 1})
    unset = span("0000000000000003", agent("c"), start_ms=2, status={"code": "STATUS_CODE_UNSET"})
    rows = hops(write(tmp_path / "status.jsonl", traces_data(failing, ok, unset)))
    assert [(r["status"], r["error"]) for r in rows] == [
        ("error", "boom"),
        ("success", None),
        ("success", None),
    ]


def test_error_type_alone_is_an_error(tmp_path):
    attributes = [*agent("a"), s("error.type", "RateLimitError")]
    (row,) = hops(write(tmp_path / "e.jsonl", traces_data(span("0000000000000001", attributes))))
    assert (row["status"], row["error"]) == ("error", "RateLimitError")


def test_every_anyvalue_type(tmp_path):
    attributes = [
        *agent("a"),
        {"key": "argus.validated", "value": {"boolValue": True}},
        {"key": "argus.confidence", "value": {"doubleValue": 0.5}},
        {"key": "argus.score.safety", "value": {"intValue": "1"}},
        {"key": "argus.score.accuracy", "value": {"doubleValue": 0.25}},
        {"key": "argus.intent_checksum", "value": {"stringValue": "K"}},
        {
            "key": "argus.violations",
            "value": {
                "arrayValue": {
                    "values": [
                        {"stringValue": "fmt:missing"},
                        {
                            "kvlistValue": {
                                "values": [
                                    s("rule", "dose"),
                                    s("severity", "high"),
                                    s("category", "safety"),
                                ]
                            }
                        },
                    ]
                }
            },
        },
        {"key": "unrelated.bytes", "value": {"bytesValue": "AAEC"}},
        {"key": "unrelated.empty", "value": {}},
    ]
    (row,) = hops(write(tmp_path / "any.jsonl", traces_data(span("0000000000000001", attributes))))
    assert row["validated"] is True and row["confidence"] == 0.5
    assert row["scores"] == {"safety": 1.0, "accuracy": 0.25}
    assert row["intent_checksum"] == "K"
    assert row["violations"] == [
        {"rule": "missing", "severity": None, "category": "fmt"},
        {"rule": "dose", "severity": "high", "category": "safety"},
    ]


def test_violations_as_a_plain_string_or_json_text(tmp_path):
    one = [*agent("a"), s("argus.validated", "yes"), s("argus.violations", "safety:pii")]
    plain = [*agent("b"), s("argus.violations", "safety:pii")]
    many = [*agent("c"), s("argus.violations", '[{"rule": "r", "category": "c"}]')]
    path = write(
        tmp_path / "v.jsonl",
        traces_data(span("0000000000000001", one)),
        traces_data(
            span("0000000000000002", plain, start_ms=1), span("0000000000000003", many, start_ms=2)
        ),
    )
    trace = load([str(path)])
    # a string where a bool belongs is a bad record named at its line, as in argus's own files
    assert [str(b) for b in trace.bad] == [f"{path}:1: field 'validated' must be true or false"]
    rows = trace.con.execute("SELECT hop_id, violations FROM hops ORDER BY seq").fetchall()
    assert rows == [
        ("b", [{"rule": "pii", "severity": None, "category": "safety"}]),
        ("c", [{"rule": "r", "severity": None, "category": "c"}]),
    ]


def test_unknown_fields_are_ignored(tmp_path):
    record = span("0000000000000001", agent("a"), futureField={"x": [1, 2]}, flags=257)
    data = traces_data(record)
    data["resourceSpans"][0]["newResourceField"] = True
    data["extension"] = "whatever"
    (row,) = hops(write(tmp_path / "u.jsonl", data))
    assert row["hop_id"] == "a"


def test_spans_in_any_order_within_and_across_lines(tmp_path):
    wf = span(
        "00000000000000f0",
        [s("gen_ai.operation.name", "invoke_workflow"), s("gen_ai.workflow.name", "flow")],
        end_ms=100,
    )
    first = span("0000000000000001", agent("first"), parent="00000000000000f0", start_ms=10)
    second = span("0000000000000002", agent("second"), parent="00000000000000f0", start_ms=20)
    model = span(
        "0000000000000003",
        [
            s("gen_ai.operation.name", "chat"),
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "7"}},
        ],
        parent="0000000000000002",
        start_ms=21,
    )
    orders = [
        [traces_data(wf, first, second, model)],
        [traces_data(model, second), traces_data(first), traces_data(wf)],
    ]
    results = [hops(write(tmp_path / f"o{i}.jsonl", *lines)) for i, lines in enumerate(orders)]
    for rows in results:
        assert [(r["hop_id"], r["seq"], r["workflow_id"], r["input_tokens"]) for r in rows] == [
            ("first", 1, "flow", None),
            ("second", 2, "flow", 7),
        ]


def test_a_span_written_twice_counts_once(tmp_path):
    usage = [*agent("a"), {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "5"}}]
    twice = span("0000000000000001", usage)
    rows = hops(write(tmp_path / "d.jsonl", traces_data(twice), traces_data(twice)))
    assert [(r["hop_id"], r["input_tokens"], r["_line"]) for r in rows] == [("a", 5, 1)]


def test_bad_lines_are_named_and_the_rest_loads(tmp_path):
    path = write(
        tmp_path / "bad.jsonl",
        traces_data(span("0000000000000001", agent("a"))),
        '{"resourceSpans": [',  # a torn write
        "[1, 2]",
        traces_data(span("0000000000000002", agent("b"), start_ms=1)),
    )
    trace = load([str(path)])
    assert [str(b) for b in trace.bad] == [
        f"{path}:2: invalid JSON",
        f"{path}:3: not a JSON object",
    ]
    assert trace.con.execute("SELECT list(hop_id ORDER BY seq) FROM hops").fetchone() == (
        ["a", "b"],
    )


def test_bad_argus_value_names_the_spans_line(tmp_path):
    bad = [*agent("a"), {"key": "argus.confidence", "value": {"doubleValue": 1.5}}]
    path = write(
        tmp_path / "c.jsonl",
        traces_data(span("0000000000000001", agent("ok"))),
        traces_data(span("0000000000000002", bad, start_ms=1)),
    )
    trace = load([str(path)])
    assert [str(b) for b in trace.bad] == [f"{path}:2: field 'confidence' must be a number in 0..1"]


# --------------------------------------------------------------------------------------------
# Mapping rules


def test_hop_id_from_agent_name_then_openinference_name_then_span_name(tmp_path):
    gen_ai = span("0000000000000001", agent("by-gen-ai"), name="invoke_agent x")
    openinference = span(
        "0000000000000002",
        [s("openinference.span.kind", "AGENT"), s("agent.name", "by-openinference")],
        start_ms=1,
    )
    unnamed = span(
        "0000000000000003",
        [s("gen_ai.operation.name", "invoke_agent")],
        start_ms=2,
        name="invoke_agent by-span-name",
    )
    lowercase_kind = span(
        "0000000000000004", [s("openinference.span.kind", "agent")], start_ms=3, name="lower"
    )
    rows = hops(
        write(tmp_path / "n.jsonl", traces_data(gen_ai, openinference, unnamed, lowercase_kind))
    )
    assert [r["hop_id"] for r in rows] == [
        "by-gen-ai",
        "by-openinference",
        "invoke_agent by-span-name",
        "lower",
    ]


def test_workflow_from_nearest_invoke_workflow_then_service_name(tmp_path):
    outer = span(
        "00000000000000f1",
        [s("gen_ai.operation.name", "invoke_workflow"), s("gen_ai.workflow.name", "outer")],
        end_ms=100,
    )
    inner = span(
        "00000000000000f2",
        # later GenAI conventions name the workflow with gen_ai.agent.name
        [s("gen_ai.operation.name", "invoke_workflow"), s("gen_ai.agent.name", "inner")],
        parent="00000000000000f1",
        start_ms=1,
        end_ms=50,
    )
    in_inner = span("0000000000000001", agent("a"), parent="00000000000000f2", start_ms=2)
    in_outer = span("0000000000000002", agent("b"), parent="00000000000000f1", start_ms=60)
    elsewhere = span("0000000000000003", agent("c"), trace="1" * 32, start_ms=70)
    rows = hops(
        write(tmp_path / "w.jsonl", traces_data(outer, inner, in_inner, in_outer, elsewhere))
    )
    assert [(r["hop_id"], r["workflow_id"]) for r in rows] == [
        ("c", "svc"),
        ("a", "inner"),
        ("b", "outer"),
    ]


def test_seq_from_start_time_within_the_trace(tmp_path):
    spans = [
        span("0000000000000003", agent("late"), start_ms=30),
        span("0000000000000001", agent("early"), start_ms=10),
        span("0000000000000002", agent("middle"), start_ms=20),
        span("0000000000000009", agent("other-trace"), start_ms=5, trace="2" * 32),
    ]
    rows = hops(write(tmp_path / "seq.jsonl", traces_data(*spans)))
    assert [(r["hop_id"], r["seq"]) for r in rows] == [
        ("other-trace", 1),
        ("early", 1),
        ("middle", 2),
        ("late", 3),
    ]


@pytest.mark.parametrize(
    ("input_key", "output_key"),
    [
        ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"),
        ("gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens"),
        ("llm.token_count.prompt", "llm.token_count.completion"),
    ],
)
def test_token_attributes(tmp_path, input_key, output_key):
    attributes = [
        *agent("a"),
        {"key": input_key, "value": {"intValue": "11"}},
        {"key": output_key, "value": {"intValue": 4}},
    ]
    (row,) = hops(write(tmp_path / "t.jsonl", traces_data(span("0000000000000001", attributes))))
    assert (row["input_tokens"], row["output_tokens"]) == (11, 4)


def test_model_from_response_then_request_then_openinference(tmp_path):
    both = [
        *agent("a"),
        s("gen_ai.request.model", "asked"),
        s("gen_ai.response.model", "served"),
        s("llm.model_name", "oi"),
    ]
    request = [*agent("b"), s("gen_ai.request.model", "asked"), s("llm.model_name", "oi")]
    openinference = [*agent("c"), s("llm.model_name", "oi")]
    two_models = span("0000000000000004", agent("d"), start_ms=3)
    calls = [
        span(
            f"00000000000000{n}{n}",
            [s("gen_ai.operation.name", "chat"), s("gen_ai.response.model", model)],
            parent="0000000000000004",
            start_ms=4,
        )
        for n, model in ((5, "m1"), (6, "m2"))
    ]
    spans = [
        span("0000000000000001", both),
        span("0000000000000002", request, start_ms=1),
        span("0000000000000003", openinference, start_ms=2),
        two_models,
        *calls,
    ]
    rows = hops(write(tmp_path / "m.jsonl", traces_data(*spans)))
    # d's model calls name two models: no single model to give it
    assert [r["model"] for r in rows] == ["served", "asked", "oi", None]


def test_agent_usage_is_its_model_calls_never_its_own_figure_too(tmp_path):
    own = [*agent("a"), {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "3"}}]
    call = [
        s("gen_ai.operation.name", "chat"),
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "100"}},
        {"key": "llm.cost.total", "value": {"doubleValue": 0.5}},
    ]
    spans = [
        span("0000000000000001", own),
        span("0000000000000002", call, parent="0000000000000001", start_ms=1),
    ]
    (row,) = hops(write(tmp_path / "own.jsonl", traces_data(*spans)))
    # its own usage (only output) adds up its model calls: the call counts, never both
    assert (row["input_tokens"], row["output_tokens"], row["cost_usd"]) == (100, 100, 0.5)
    (alone,) = hops(write(tmp_path / "alone.jsonl", traces_data(span("0000000000000001", own))))
    # with no model call below it, its own figure is all there is
    assert (alone["input_tokens"], alone["output_tokens"], alone["cost_usd"]) == (None, 3, None)


def test_checks_below_a_hop(tmp_path):
    def check(span_id: str, kind: str, name: str, failed: bool) -> dict[str, Any]:
        status = {"code": 2} if failed else {"code": 1}
        return span(
            span_id,
            [s("openinference.span.kind", kind)],
            parent="0000000000000001",
            start_ms=int(span_id[-1]),
            name=name,
            status=status,
        )

    spans = [
        span("0000000000000001", agent("a")),
        check("0000000000000002", "GUARDRAIL", "pii", failed=True),
        check("0000000000000003", "EVALUATOR", "relevance", failed=True),
        check("0000000000000004", "GUARDRAIL", "jailbreak", failed=False),
        span("0000000000000009", agent("unchecked"), start_ms=9),
    ]
    rows = hops(write(tmp_path / "c.jsonl", traces_data(*spans)))
    assert [(r["hop_id"], r["validated"], r["violations"]) for r in rows] == [
        (
            "a",
            True,
            [
                {"rule": "pii", "severity": None, "category": "safety"},
                {"rule": "relevance", "severity": None, "category": "evaluator"},
            ],
        ),
        ("unchecked", False, []),
    ]


def test_explicit_argus_validated_wins_over_checks(tmp_path):
    attributes = [*agent("a"), {"key": "argus.validated", "value": {"boolValue": False}}]
    spans = [
        span("0000000000000001", attributes),
        span(
            "0000000000000002",
            [s("openinference.span.kind", "GUARDRAIL")],
            parent="0000000000000001",
            start_ms=1,
        ),
    ]
    (row,) = hops(write(tmp_path / "v.jsonl", traces_data(*spans)))
    assert row["validated"] is False


def test_no_agent_spans_says_so_and_suggests_hop_spans(tmp_path):
    path = write(
        tmp_path / "http.jsonl",
        traces_data(span("0000000000000001", [s("http.request.method", "GET")], name="GET /")),
    )
    with pytest.raises(InputError, match=r"no hop records in this otlp file.*--hop-spans"):
        load([str(path)])
    (row,) = hops(path, hop_spans="all")
    assert row["hop_id"] == "GET /"


def test_an_empty_envelope_is_no_record(tmp_path):
    path = write(tmp_path / "e.jsonl", {"resourceSpans": []})
    with pytest.raises(InputError, match="no hop records"):
        load([str(path)], source_format="otlp")


def d(key: str, value: float) -> dict[str, Any]:
    return {"key": key, "value": {"doubleValue": value}}


@pytest.mark.parametrize(
    ("attributes", "cost"),
    [
        ([d("llm.cost.total", 0.25)], 0.25),  # OpenInference
        ([d("operation.cost", 0.125)], 0.125),  # Pydantic AI / Logfire
        ([d("gen_ai.usage.cost", 0.5)], 0.5),  # OpenLIT (and what Langfuse reads)
        ([d("llm.cost.prompt", 0.25), d("llm.cost.completion", 0.125)], 0.375),
        ([d("llm.cost.completion", 0.125)], 0.125),
        ([d("gen_ai.usage.input_cost", 0.5), d("gen_ai.usage.output_cost", 0.25)], 0.75),
        # a total wins over parts, the first total over the others
        ([d("operation.cost", 1.0), d("llm.cost.prompt", 0.25)], 1.0),
        ([d("llm.cost.total", 0.5), d("operation.cost", 1.0)], 0.5),
        ([{"key": "operation.cost", "value": {"intValue": "2"}}], 2.0),
        ([s("operation.cost", "cheap")], None),
    ],
)
def test_cost_attributes_of_a_model_call_sum_up_to_its_agent(tmp_path, attributes, cost):
    """Each instrumentation's cost attribute on a `chat` span, summed into its agent's hop with
    a second call of 0.5 (so a total read twice, or not at all, shows)."""
    call = [s("gen_ai.operation.name", "chat"), *attributes]
    other = [s("gen_ai.operation.name", "chat"), d("operation.cost", 0.5)]
    spans = [
        span("0000000000000001", agent("a")),
        span("0000000000000002", call, parent="0000000000000001", start_ms=1),
        span("0000000000000003", other, parent="0000000000000001", start_ms=2),
    ]
    (row,) = hops(write(tmp_path / "cost.jsonl", traces_data(*spans)))
    assert row["cost_usd"] == pytest.approx(0.5 + (cost or 0.0))


def test_pydantic_ai_aggregated_usage_counts_only_without_model_calls(tmp_path):
    """Pydantic AI writes a run's usage on its invoke_agent span as gen_ai.aggregated_usage.*
    and each model call's on its chat span: the calls count when they are there (never both),
    the aggregate when they are not (a trace exported without them)."""
    run = [
        *agent("billing_agent"),
        {"key": "gen_ai.aggregated_usage.input_tokens", "value": {"intValue": "30"}},
        {"key": "gen_ai.aggregated_usage.output_tokens", "value": {"intValue": "8"}},
    ]

    def chat(span_id: str, tokens: tuple[int, int], start_ms: int) -> dict[str, Any]:
        usage = [
            s("gen_ai.operation.name", "chat"),
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(tokens[0])}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": str(tokens[1])}},
        ]
        return span(span_id, usage, parent="0000000000000001", start_ms=start_ms)

    with_calls = [
        span("0000000000000001", run),
        chat("0000000000000002", (10, 3), 1),
        chat("0000000000000003", (20, 5), 2),
    ]
    (row,) = hops(write(tmp_path / "calls.jsonl", traces_data(*with_calls)))
    assert (row["input_tokens"], row["output_tokens"]) == (30, 8)
    genai = hops(write(tmp_path / "genai.jsonl", traces_data(*with_calls)), hop_spans="genai")
    assert sum(r["input_tokens"] or 0 for r in genai) == 30  # never twice
    alone = write(tmp_path / "alone.jsonl", traces_data(span("0000000000000001", run)))
    (row,) = hops(alone)
    assert (row["input_tokens"], row["output_tokens"]) == (30, 8)


def test_exception_event_is_the_error_when_the_status_says_nothing(tmp_path):
    """A tool span that failed with no status message and no error.type: its `exception` event
    (OpenTelemetry's record_exception) gives the message, `type: first line`, never the
    stack trace."""
    event = {
        "name": "exception",
        "timeUnixNano": str(T0),
        "attributes": [
            s("exception.type", "billing.RefundGatewayError"),
            s("exception.message", "refund gateway unavailable\nretry after 30 s"),
            s("exception.stacktrace", "Traceback (most recent call last):\n  ..."),
        ],
    }
    tool = [s("gen_ai.operation.name", "execute_tool"), s("gen_ai.tool.name", "issue_refund")]
    spans = [
        span("0000000000000001", agent("billing_agent")),
        span(
            "0000000000000002",
            tool,
            parent="0000000000000001",
            start_ms=1,
            status={"code": 2},
            events=[event],
        ),
    ]
    rows = hops(write(tmp_path / "exc.jsonl", traces_data(*spans)), hop_spans="tools")
    assert [(r["hop_id"], r["status"], r["error"]) for r in rows] == [
        ("billing_agent", "success", None),
        ("issue_refund", "error", "billing.RefundGatewayError: refund gateway unavailable"),
    ]


def test_genai_names_a_model_call_by_its_agent(tmp_path):
    """Under --hop-spans genai a model call is a step of the agent that made it: named by the
    agent it names itself (Pydantic AI's gen_ai.agent.name on chat spans), else by the nearest
    agent hop above it (through a tool), `<agent>/<operation>`; OpenInference's LLM span is
    `<agent>/llm`. A model call with no agent keeps its span name."""
    oi_agent = [s("openinference.span.kind", "AGENT"), s("agent.name", "planner")]
    spans = [
        span("0000000000000001", agent("router"), name="invoke_agent router"),
        span(
            "0000000000000002",
            [s("gen_ai.operation.name", "chat"), s("gen_ai.agent.name", "router")],
            parent="0000000000000001",
            start_ms=1,
            name="chat gpt-4o-mini",
        ),
        span(
            "0000000000000003",
            [s("gen_ai.operation.name", "execute_tool"), s("gen_ai.tool.name", "search")],
            parent="0000000000000001",
            start_ms=2,
        ),
        span(
            "0000000000000004",
            [s("gen_ai.operation.name", "embeddings")],
            parent="0000000000000003",
            start_ms=3,
            name="embeddings small",
        ),
        span("0000000000000005", oi_agent, start_ms=4, trace="2" * 32),
        span(
            "0000000000000006",
            [s("openinference.span.kind", "LLM")],
            parent="0000000000000005",
            start_ms=5,
            trace="2" * 32,
            name="ChatCompletion",
        ),
        span(
            "0000000000000007",
            [s("gen_ai.operation.name", "chat")],
            start_ms=6,
            trace="3" * 32,
            name="chat lonely",
        ),
    ]
    rows = hops(write(tmp_path / "names.jsonl", traces_data(*spans)), hop_spans="genai")
    assert sorted(r["hop_id"] for r in rows) == [
        "chat lonely",
        "planner",
        "planner/llm",
        "router",
        "router/chat",
        "router/embeddings",
        "search",
    ]
