"""A real Pydantic AI application, traced by Pydantic AI's own instrumentation, read by argus.

`realsdk/pydantic_app.py` runs 10 support requests (a router agent delegating to a specialist
agent through a tool, then a reviewer agent with an output validator) against the fake model
server, with faults injected at known runs, and exports the spans as OTLP JSON. Every expected
figure below comes from `CASES` (the script of the faults) or from the spans Pydantic AI wrote
(each model call's usage and cost), never from argus.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

for _module in ("pydantic_ai", "opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.common"):
    pytest.importorskip(_module, reason="needs the `integration` extra")

from opentelemetry.sdk.trace import ReadableSpan  # noqa: E402
from realsdk import reading  # noqa: E402
from realsdk.pydantic_app import (  # noqa: E402
    AGENTS,
    BILLING_PROMPT,
    CASES,
    RAISED,
    REQUEST_SPAN,
    REVIEWER_PROMPT,
    ROUTER_PROMPT,
    TECH_PROMPT,
    Case,
    Outcome,
    run_cases,
    write_otlp,
)

pytestmark = pytest.mark.realsdk


@dataclass
class Traced:
    spans: list[ReadableSpan]
    hex_file: Path
    base64_file: Path
    outcomes: list[Outcome]
    case_of: dict[str, Case]  # run_id (trace id, hex) -> the case that trace ran


def _trace_id(span: ReadableSpan) -> str:
    return f"{span.context.trace_id:032x}"


def _span_id(span: ReadableSpan) -> str:
    return f"{span.context.span_id:016x}"


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Traced:
    spans, outcomes = run_cases()
    tmp = tmp_path_factory.mktemp("pydantic")
    case_of: dict[str, Case] = {}
    by_name = {c.name: c for c in CASES}
    for span in spans:
        if span.parent is None:  # the request span, tagged with the case by the application
            case_of[_trace_id(span)] = by_name[str((span.attributes or {})["request.id"])]
    return Traced(
        spans=spans,
        hex_file=write_otlp(spans, tmp / "pydantic.otlp.json", hex_ids=True),
        base64_file=write_otlp(spans, tmp / "pydantic.protobuf.json", hex_ids=False),
        outcomes=outcomes,
        case_of=case_of,
    )


def _calls_of(traced: Traced) -> dict[str, list[dict[str, Any]]]:
    """The model calls (chat spans) of each agent run, by the agent run's span id: their
    usage and cost as Pydantic AI wrote them."""
    calls: dict[str, list[dict[str, Any]]] = {}
    for span in traced.spans:
        attributes = span.attributes or {}
        if attributes.get("gen_ai.operation.name") == "chat" and span.parent is not None:
            calls.setdefault(f"{span.parent.span_id:016x}", []).append(dict(attributes))
    return calls


def _sums(calls: list[dict[str, Any]]) -> tuple[int | None, int | None, float | None]:
    """Tokens in, tokens out and cost of some model calls; None where none recorded any."""

    def total(key: str) -> Any:
        values = [c[key] for c in calls if key in c]
        return sum(values) if values else None

    return (
        total("gen_ai.usage.input_tokens"),
        total("gen_ai.usage.output_tokens"),
        total("operation.cost"),
    )


# --- the harness -----------------------------------------------------------------------------


def test_the_faults_happened_as_scripted(traced: Traced) -> None:
    raised = {o.case.name: o.raised for o in traced.outcomes}
    assert raised == {
        c.name: RAISED[c.fault].format(name=c.name) if c.failed and c.fault else None for c in CASES
    }
    assert sorted(c.name for c in traced.case_of.values()) == [c.name for c in CASES]
    # one trace per request: the app's span holds the router and the reviewer
    roots = [s for s in traced.spans if s.parent is None]
    assert [s.name for s in roots] == [REQUEST_SPAN] * len(CASES)
    assert len({_trace_id(s) for s in traced.spans}) == len(CASES)
    # every model call was priced (Pydantic AI knows these models) and counted
    chats = [s for s in traced.spans if (s.attributes or {}).get("gen_ai.operation.name") == "chat"]
    answered = [s for s in chats if "gen_ai.usage.input_tokens" in (s.attributes or {})]
    assert len(chats) == len(answered) + 1  # the router's call that got HTTP 500 to the end
    assert all((s.attributes or {}).get("operation.cost", 0) > 0 for s in answered)


def _chats(case: Case) -> dict[str, int]:
    """Model calls (chat spans) per agent in this case's run, from the script."""
    if case.fault == "router_500":
        return {"router": 1}
    turns = len(case.tool_calls) + (0 if case.fault == "tool_crash" else 1)
    if case.fault == "tool_crash":
        return {"router": 1, case.specialist: turns}
    reviews = 2 if case.fault in ("validator_retry", "validator_gives_up") else 1
    return {"router": 2, case.specialist: turns, "reviewer": reviews}


PROMPTS = {
    "router": ROUTER_PROMPT,
    "billing_agent": BILLING_PROMPT,
    "tech_agent": TECH_PROMPT,
    "reviewer": REVIEWER_PROMPT,
}


def test_retries_the_client_made(traced: Traced) -> None:
    """The transient 500 was retried by the openai client inside one model call (one more
    request, no more chat spans, no error); the router's 500 was sent three times (the
    client's max_retries=2), in one chat span that failed."""
    run_of = {case.name: run for run, case in traced.case_of.items()}
    for outcome in traced.outcomes:
        case = outcome.case
        chats = Counter(
            (s.attributes or {}).get("gen_ai.agent.name")
            for s in traced.spans
            if _trace_id(s) == run_of[case.name] and s.name.startswith("chat")
        )
        assert chats == Counter(_chats(case)), case
        expected = Counter({PROMPTS[agent]: n for agent, n in _chats(case).items()})
        if case.fault == "transient_500":
            expected[PROMPTS[case.specialist]] += 1
        if case.fault == "router_500":
            expected[ROUTER_PROMPT] = 3
        assert outcome.attempts == expected, case


# --- what argus reads ------------------------------------------------------------------------


def test_one_run_per_request_the_agents_are_its_hops(traced: Traced) -> None:
    runs = reading.by_run(reading.records(traced.hex_file))
    assert set(runs) == set(traced.case_of)
    for run_id, hops in runs.items():
        case = traced.case_of[run_id]
        assert Counter(h["hop_id"] for h in hops) == case.executions(), case
        by_span = {h["span_id"]: h for h in hops}
        for hop in hops:
            caller = by_span[hop["parent_id"]]["hop_id"] if hop["parent_id"] else None
            assert caller == ("router" if hop["hop_id"].endswith("_agent") else None), hop
        # the service names the workflow: the request span names none
        assert {h["workflow_id"] for h in hops} == {"pydantic-support-desk"}


@pytest.mark.parametrize("hop_spans", ["agents", "tools", "genai"])
def test_each_run_failed_or_not_with_its_origin_and_message(traced: Traced, hop_spans: str) -> None:
    """Per run: failed or not, the innermost agent (or tool, or model call) where the error was
    born, and its real message from the span's exception event (Pydantic AI sets no status
    message)."""
    runs = reading.runs(traced.hex_file, "--hop-spans", hop_spans)
    records = reading.by_run(reading.records(traced.hex_file, "--hop-spans", hop_spans))
    assert set(runs) == set(traced.case_of)
    for run_id, row in runs.items():
        case = traced.case_of[run_id]
        origin = case.origin
        if hop_spans != "agents" and case.fault == "tool_crash":
            origin = "issue_refund"  # the tool is a hop now, and the innermost
        if hop_spans == "genai" and case.fault == "router_500":
            origin = "router/chat"  # so is the model call that got HTTP 500 to the end
        assert (row["failed"], row["origin_hop"]) == (case.failed, origin), case
        failed = [h for h in records[run_id] if h["status"] == "error"]
        if not case.failed:
            # a tool's ModelRetry, handled by its agent, is an error only where it is a hop
            expected = Counter(case.tool_calls[:1]) if case.fault == "tool_retry" else Counter()
            assert Counter(h["hop_id"] for h in failed) == (
                expected if hop_spans != "agents" else Counter()
            ), case
            if failed:
                assert failed[0]["error"].startswith("pydantic_ai.exceptions.ToolRetryError: ")
            continue
        raised = RAISED[str(case.fault)].format(name=case.name)
        module = {
            "tool_crash": "realsdk.pydantic_app.",
            "router_500": "pydantic_ai.exceptions.",
            "validator_gives_up": "pydantic_ai.exceptions.",
        }[str(case.fault)]
        origin_hop = next(h for h in failed if h["hop_id"] == origin)
        assert origin_hop["error"] == module + raised, case
        assert "Traceback" not in origin_hop["error"]


def test_trace_shows_the_error_message_not_error(traced: Traced) -> None:
    (run_id,) = [r for r, c in traced.case_of.items() if c.fault == "tool_crash"]
    out = reading.argus("trace", str(traced.hex_file), run_id)
    assert "RefundGatewayError: refund gateway unavailable for INV-p03" in out
    assert "error (error)" not in out and "retry after 30 s" not in out


def test_each_run_has_its_verdict_from_the_request_span(traced: Traced) -> None:
    outcomes = {
        r["run_id"]: r for r in reading.records(traced.hex_file) if r.get("kind") == "outcome"
    }
    assert {traced.case_of[r].name for r in outcomes} == {c.name for c in CASES if c.failed}
    for run_id, outcome in outcomes.items():
        case = traced.case_of[run_id]
        assert outcome["correct"] is False
        assert outcome["note"].endswith(RAISED[str(case.fault)].format(name=case.name))


@pytest.mark.parametrize("hop_spans", ["agents", "tools"])
def test_tokens_and_cost_per_agent_are_its_model_calls(traced: Traced, hop_spans: str) -> None:
    """Each agent run's hop carries exactly the sums of its own model calls (the chat spans
    directly under its invoke_agent span), never its delegate's, whatever the aggregate
    Pydantic AI writes on the agent run (its own calls' total in 2.x; older versions counted a
    delegate's calls in when the usage object was shared, as `ask_billing` shares it)."""
    calls = _calls_of(traced)
    agent_spans = {
        _span_id(s): s
        for s in traced.spans
        if (s.attributes or {}).get("gen_ai.operation.name") == "invoke_agent"
    }
    runs = reading.by_run(reading.records(traced.hex_file, "--hop-spans", hop_spans))
    seen = 0
    for hops in runs.values():
        for hop in hops:
            if hop["hop_id"] not in AGENTS:
                assert hop["input_tokens"] is None and hop["cost_usd"] is None, hop  # tools
                continue
            tokens_in, tokens_out, cost = _sums(calls.get(hop["span_id"], []))
            got = (hop.get("input_tokens"), hop.get("output_tokens"), hop.get("cost_usd"))
            assert got[:2] == (tokens_in, tokens_out), hop
            assert got[2] == pytest.approx(cost) if cost is not None else got[2] is None, hop
            attributes = agent_spans[hop["span_id"]].attributes or {}
            if tokens_in is not None:  # (the router whose one call failed has none)
                assert attributes["gen_ai.aggregated_usage.input_tokens"] >= tokens_in
            seen += 1
    assert seen == sum(sum(c.executions().values()) for c in CASES)


def test_genai_names_model_calls_by_their_agent_and_counts_usage_once(traced: Traced) -> None:
    runs = reading.by_run(reading.records(traced.hex_file, "--hop-spans", "genai"))
    calls = _calls_of(traced)
    every_call = [c for run_calls in calls.values() for c in run_calls]
    names = Counter(h["hop_id"] for hops in runs.values() for h in hops)
    expected = Counter(f"{c['gen_ai.agent.name']}/chat" for c in every_call)
    assert {k: v for k, v in names.items() if k.endswith("/chat")} == dict(expected)
    assert not [n for n in names if n.startswith("chat ")]
    hops = [h for hops in runs.values() for h in hops]
    tokens_in, tokens_out, cost = _sums(every_call)
    assert sum((h["input_tokens"] or 0) for h in hops) == tokens_in
    assert sum((h["output_tokens"] or 0) for h in hops) == tokens_out
    assert sum((h["cost_usd"] or 0.0) for h in hops) == pytest.approx(cost)
    # the agents' own figures went to their calls: per agent, agent + agent/chat = its calls
    for agent in AGENTS:
        own = [c for c in every_call if c["gen_ai.agent.name"] == agent]
        mine = [h for h in hops if h["hop_id"] in (agent, f"{agent}/chat")]
        assert sum((h["input_tokens"] or 0) for h in mine) == _sums(own)[0], agent


def test_protobuf_and_hex_ids_give_the_same_records(traced: Traced) -> None:
    def key(records: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(r, sort_keys=True) for r in records)

    assert key(reading.records(traced.hex_file)) == key(reading.records(traced.base64_file))


def test_report_figures_from_the_truth(traced: Traced) -> None:
    report: dict[str, Any] = json.loads(reading.argus("report", str(traced.hex_file), "--json"))
    assert report["runs"] == len(CASES)
    failed = sum(c.failed for c in CASES)
    assert report["end_to_end_success_rate"] == (len(CASES) - failed) / len(CASES)
    (workflow,) = report["workflows"]
    hops = {h["hop_id"]: h for h in workflow["hops"]}
    calls = [c for run_calls in _calls_of(traced).values() for c in run_calls]
    for agent in AGENTS:
        own = [c for c in calls if c["gen_ai.agent.name"] == agent]
        assert hops[agent]["total_cost_usd"] == pytest.approx(_sums(own)[2]), agent
    causes = {c["hop_id"]: c["failed_runs"] for c in workflow["root_causes"]}
    assert causes == Counter(c.origin for c in CASES if c.failed)
    # the inference-cost dimension is read: cost per successful run against the 1 USD budget
    cost = _sums(calls)[2] or 0.0
    assert workflow["g_arvis_scores"]["inference_cost"] == pytest.approx(
        1 - cost / (len(CASES) - failed)
    )


def test_without_a_request_span_each_agent_run_is_a_run(tmp_path: Path) -> None:
    """Without a span of the application's around the request, Pydantic AI starts a trace for
    each `agent.run` (the delegate inside the router's tool stays in the router's): the router
    and the reviewer are two runs, and a reviewer that gives up fails only its own. The
    conversation id the app gave both runs is in every hop's metadata, so `argus query` can put
    a request back together."""
    by_name = {c.name: c for c in CASES}
    cases = [by_name["p01"], by_name["p07"]]
    spans, outcomes = run_cases(cases, one_trace=False)
    assert [o.raised is not None for o in outcomes] == [False, True]
    path = write_otlp(spans, tmp_path / "unwrapped.json", hex_ids=True)
    runs = reading.by_run(reading.records(path))
    assert sorted(sorted(h["hop_id"] for h in hops) for hops in runs.values()) == [
        ["billing_agent", "router"],
        ["billing_agent", "router"],
        ["reviewer"],
        ["reviewer"],
    ]
    rows = reading.runs(path)
    assert {row["origin_hop"] for row in rows.values() if row["failed"]} == {"reviewer"}
    sql = (
        "SELECT metadata->>'conversation_id' AS conversation, count(DISTINCT run_id) AS runs, "
        "list(DISTINCT hop_id ORDER BY hop_id) AS hops FROM hops GROUP BY 1 ORDER BY 1"
    )
    grouped = json.loads(reading.argus("query", str(path), sql, "--format", "json"))
    assert grouped == [
        {
            "conversation": f"support-{c.name}",
            "runs": 2,
            "hops": ["billing_agent", "reviewer", "router"],
        }
        for c in cases
    ]


DOCS = Path(__file__).parent.parent / "docs" / "importing.md"


def test_the_importing_pages_one_trace_snippet_keeps_a_request_in_one_run(tmp_path: Path) -> None:
    """The snippet docs/importing.md shows, run as the request handler of the desk: one trace
    per request, so one run with the router, its specialist and the reviewer."""
    (code,) = re.findall(
        r'^```python title="one trace per request"\n(.*?)^```\n',
        DOCS.read_text(encoding="utf-8"),
        re.M | re.S,
    )
    compiled = compile(code, str(DOCS), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    async def snippet(desk: Any, tracer: Any, case: Case) -> object:
        names = {"tracer": tracer, "router": desk.router, "reviewer": desk.reviewer}
        result = eval(compiled, {**names, "question": case.question})
        return await result if result is not None else None

    by_name = {c.name: c for c in CASES}
    cases = [by_name["p01"], by_name["p07"]]
    spans, outcomes = run_cases(cases, handler=snippet)
    assert [o.raised is not None for o in outcomes] == [False, True]
    assert len({_trace_id(s) for s in spans}) == len(cases)
    path = write_otlp(spans, tmp_path / "snippet.json", hex_ids=True)
    runs = reading.runs(path)
    assert sorted((row["failed"], row["origin_hop"]) for row in runs.values()) == [
        (False, None),
        (True, "reviewer"),
    ]
    hops = reading.by_run(reading.records(path))
    assert sorted(sorted(h["hop_id"] for h in run) for run in hops.values()) == [
        ["billing_agent", "reviewer", "router"],
        ["billing_agent", "reviewer", "router"],
    ]
