"""A customer-support app on the real OpenAI Agents SDK, traced by OpenInference, with faults
injected at known runs: the material of tests/test_realsdk_agents.py.

The app: a `triage` agent hands off to `billing_agent` or `tech_agent`; each specialist calls
its function tools, then the `reviewer` agent as a tool (`agent.as_tool`, structured output),
then answers; an output guardrail (`no_card_numbers`) checks every specialist's answer. Models
are served by the fake server in `fake_openai`, scripted per run by the `[run:NAME]` marker in
the user's message; spans go through `openinference-instrumentation-openai-agents` (or
OpenTelemetry's own `opentelemetry-instrumentation-openai-agents-v2`) into an in-memory
OpenTelemetry exporter, then out as OTLP JSON in two encodings:

- protobuf JSON (`encode_spans` + `MessageToJson`): ids in base64, as protobuf's JSON mapping
  writes `bytes`;
- OTLP/JSON as the specification and the Collector write it: the same document, ids in hex.

`RUNS` is the truth each run's faults make, worked out by hand from the script below.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realsdk.fake_openai import (
    ChatRequest,
    Fail,
    FailThen,
    FakeOpenAI,
    Json,
    Reply,
    Text,
    ToolCall,
    ToolCalls,
)

WORKFLOW = "Support desk"
SERVICE = "support-desk"
TRIAGE, BILLING, TECH, REVIEWER = "triage", "billing_agent", "tech_agent", "reviewer"


@dataclass(frozen=True)
class Run:
    """One SDK run and what argus must make of it (`--hop-spans agents` unless said)."""

    name: str
    route: str  # the specialist triage hands off to
    fault: str  # what was injected, "" for none
    raises: bool  # Runner.run raised
    failed: bool  # the run failed, by an error or a wrong answer
    origin: str | None  # the origin hop of a failed run (None: failed by its outcome only)
    child_errors: int = 0  # failed non-hop spans whose nearest hop is the specialist
    hop_wrong: bool = False  # the wrong answer is labelled on the specialist's own span
    run_wrong: bool = False  # the wrong answer is labelled on the run's container span


RUNS: tuple[Run, ...] = (
    Run("r01", BILLING, "", False, False, None),
    Run("r02", TECH, "", False, False, None),
    Run("r03", BILLING, "", False, False, None),
    Run("r04", TECH, "", False, False, None),
    # lookup_invoice raises once; the SDK returns the error to the model, which calls it again
    Run("r05", BILLING, "tool error, recovered", False, False, None, child_errors=1),
    # restart_service (failure_error_function=None) raises: the exception ends the run
    Run("r06", TECH, "tool error, fatal", True, True, TECH, child_errors=1),
    # the specialist's first model call gets HTTP 500 once: the client retries it away
    Run("r07", BILLING, "HTTP 500 once", False, False, None),
    # (its failed model call is a child error of tech_agent)
    Run("r08", TECH, "HTTP 500 always", True, True, TECH, child_errors=1),
    # billing_agent's answer quotes a card number: the output guardrail trips
    Run("r09", BILLING, "guardrail trip", True, True, BILLING),
    Run("r10", TECH, "", False, False, None),
    # tech_agent says the service is up when it is down; an evaluator labels its span wrong
    Run("r11", TECH, "wrong answer, labelled on the hop", False, True, TECH, hop_wrong=True),
    Run("r12", BILLING, "", False, False, None),
    Run("r13", TECH, "", False, False, None),
    Run("r14", BILLING, "", False, False, None),
    Run("r15", TECH, "", False, False, None),
    # billing_agent quotes the wrong amount; the run's verdict says so on its container span
    Run("r16", BILLING, "wrong answer, labelled on the run", False, True, None, run_wrong=True),
)

CARD_NUMBER = "4111 1111 1111 1111"


def respond(request: ChatRequest) -> Reply:
    """The model of every agent, scripted per run; which agent is asking is in its prompt."""
    run = next((r for r in RUNS if r.name == request.marker), None)
    if run is None:
        raise KeyError(f"no script for marker {request.marker!r}")
    agent = request.system.split(":", 1)[0]
    if agent == TRIAGE:
        return ToolCalls(ToolCall(f"transfer_to_{run.route}", {}))
    if agent == REVIEWER:
        return Json({"approved": True, "note": "clear and polite"})
    if agent == BILLING:
        return _billing(run, request)
    if agent == TECH:
        return _tech(run, request)
    raise KeyError(f"no script for agent {agent!r}")


def _billing(run: Run, request: ChatRequest) -> Reply:
    lookups = request.outputs_of("lookup_invoice")
    if not lookups or (run.name == "r05" and len(lookups) == 1):
        first = ToolCalls(ToolCall("lookup_invoice", {"invoice_id": f"INV-{run.name}"}))
        if run.name == "r07" and not lookups:
            return FailThen(first)  # HTTP 500 once: the openai client retries the same body
        return first
    if not request.outputs_of("review_answer"):
        return ToolCalls(
            ToolCall("review_answer", {"input": f"[run:{run.name}] Invoice paid on 2 May."})
        )
    if run.name == "r09":
        return Text(f"Invoice paid with card {CARD_NUMBER}.")
    if run.name == "r16":
        return Text("Invoice INV-r16 is paid: 12.00 EUR.")  # it was 120.00 EUR
    return Text(f"Invoice INV-{run.name} is paid: 120.00 EUR.")


def _tech(run: Run, request: ChatRequest) -> Reply:
    if run.name == "r08":
        return Fail(500)  # HTTP 500 always: the retries run out and the SDK raises
    if not request.outputs_of("check_status"):
        return ToolCalls(ToolCall("check_status", {"service": "mail"}))
    if run.name == "r06" and not request.outputs_of("restart_service"):
        return ToolCalls(ToolCall("restart_service", {"service": "mail"}))
    if not request.outputs_of("review_answer"):
        return ToolCalls(ToolCall("review_answer", {"input": f"[run:{run.name}] Mail is down."}))
    if run.name == "r11":
        return Text("Mail is up.")  # check_status said it was down
    return Text("Mail is down for maintenance until 14:00.")


@dataclass
class Traced:
    """What the app left: the spans, and how each SDK run ended."""

    spans: list[Any]  # opentelemetry.sdk.trace.ReadableSpan
    outcomes: dict[str, str]  # run name -> "ok" or the exception's type name
    trace_ids: dict[str, str]  # run name -> trace id, 32 hex
    requests: list[tuple[str | None, str, int]]  # (marker, agent, attempt) per model request


def run_app(instrumentation: str = "openinference") -> Traced:
    """Run every scripted run once and return the finished spans, traced by OpenInference
    (`openinference`) or by OpenTelemetry's own GenAI instrumentation of the SDK (`genai`:
    opentelemetry-instrumentation-openai-agents-v2, `invoke_agent`/`execute_tool` spans)."""
    from agents import (
        Agent,
        GuardrailFunctionOutput,
        OpenAIChatCompletionsModel,
        RunContextWrapper,
        RunHooks,
        Runner,
        function_tool,
        output_guardrail,
        set_trace_processors,
        trace,
    )
    from openai import AsyncOpenAI
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Span
    from pydantic import BaseModel

    class Review(BaseModel):
        approved: bool
        note: str

    class OpenSpans(SpanProcessor):
        """Keeps the spans still open, so the app can label them before they end (as an
        evaluator that writes its verdict on the span it judged would)."""

        def __init__(self) -> None:
            self.open: list[Span] = []

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            self.open.append(span)

        def on_end(self, span: ReadableSpan) -> None:
            self.open = [s for s in self.open if s.get_span_context() != span.get_span_context()]

        def named(self, name: str) -> Span:
            """The latest open span of this agent or workflow (the GenAI instrumentation
            names an agent's span `invoke_agent NAME`)."""
            names = (name, f"invoke_agent {name}")
            return next(s for s in reversed(self.open) if getattr(s, "name", None) in names)

    failures: dict[str, int] = {}

    @function_tool
    def lookup_invoice(invoice_id: str) -> str:
        """Look an invoice up in the ledger."""
        if invoice_id == "INV-r05" and not failures.get(invoice_id):
            failures[invoice_id] = 1
            raise TimeoutError("ledger timed out")
        return f"{invoice_id}: 120.00 EUR, paid on 2 May"

    @function_tool
    def check_status(service: str) -> str:
        """The status of a service."""
        return f"{service}: down for maintenance until 14:00"

    @function_tool(failure_error_function=None)
    def restart_service(service: str) -> str:
        """Restart a service."""
        raise PermissionError(f"not allowed to restart {service}")

    @output_guardrail
    def no_card_numbers(
        context: RunContextWrapper[Any], agent: Agent[Any], output: Any
    ) -> GuardrailFunctionOutput:
        leaked = CARD_NUMBER in str(output)
        return GuardrailFunctionOutput(output_info={"leaked": leaked}, tripwire_triggered=leaked)

    exporter = InMemorySpanExporter()
    opened = OpenSpans()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(opened)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    if instrumentation == "genai":
        from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        # It adds its processor beside the SDK's own, which exports to OpenAI's platform:
        # only this one, no traffic anywhere.
        set_trace_processors([])
    else:
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor
    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    outcomes: dict[str, str] = {}
    trace_ids: dict[str, str] = {}
    try:
        with FakeOpenAI(respond) as server:
            client = AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=2)
            model = OpenAIChatCompletionsModel(model="fake-model", openai_client=client)
            reviewer = Agent(
                name=REVIEWER,
                instructions=f"{REVIEWER}: review the draft answer.",
                model=model,
                output_type=Review,
            )
            review_answer = reviewer.as_tool("review_answer", "Review a draft answer.")
            billing = Agent(
                name=BILLING,
                instructions=f"{BILLING}: answer billing questions.",
                model=model,
                tools=[lookup_invoice, review_answer],
                output_guardrails=[no_card_numbers],
            )
            tech = Agent(
                name=TECH,
                instructions=f"{TECH}: answer technical questions.",
                model=model,
                tools=[check_status, restart_service, review_answer],
                output_guardrails=[no_card_numbers],
            )
            triage = Agent(
                name=TRIAGE,
                instructions=f"{TRIAGE}: hand the customer to the right specialist.",
                model=model,
                handoffs=[billing, tech],
            )

            class Evaluator(RunHooks[Any]):
                """Judges a specialist's answer as it ends, on its agent span (r11)."""

                def __init__(self, run: Run) -> None:
                    self.run = run

                async def on_agent_end(
                    self, context: RunContextWrapper[Any], agent: Agent[Any], output: Any
                ) -> None:
                    if self.run.hop_wrong and agent.name == self.run.route:
                        label_hop_wrong(opened.named(agent.name))

            async def every_run() -> None:
                # One event loop for all: the client's connections belong to the loop.
                try:
                    for run in RUNS:
                        outcomes[run.name] = await _one_run(
                            run, triage, opened, trace_ids, Runner, trace, Evaluator(run)
                        )
                finally:
                    await client.close()

            asyncio.run(every_run())
            requests = [(r.marker, r.system.split(":", 1)[0], r.attempt) for r in server.requests]
    finally:
        instrumentor.uninstrument()
        set_trace_processors([])
        provider.shutdown()
    return Traced(list(exporter.get_finished_spans()), outcomes, trace_ids, requests)


async def _one_run(
    run: Run,
    triage: Any,
    opened: Any,
    trace_ids: dict[str, str],
    runner: Any,
    trace: Any,
    hooks: Any,
) -> str:
    """One run in its own SDK trace (one OpenTelemetry trace: its root is the SDK's workflow
    span); a wrong answer is labelled before the spans it labels end."""
    with trace(WORKFLOW):
        root = opened.named(WORKFLOW)
        trace_ids[run.name] = format(root.get_span_context().trace_id, "032x")
        try:
            await runner.run(triage, f"[run:{run.name}] I have a question.", hooks=hooks)
        except Exception as exc:
            return type(exc).__name__
        if run.run_wrong:
            root.set_attribute("argus.correct", False)
        return "ok"


def label_hop_wrong(span: Any) -> None:
    """An evaluator's verdict on one agent's answer, as the OpenTelemetry GenAI event."""
    span.add_event(
        "gen_ai.evaluation.result",
        {
            "gen_ai.evaluation.name": "correctness",
            "gen_ai.evaluation.score.label": "incorrect",
            "gen_ai.evaluation.score.value": 0.0,
            "gen_ai.evaluation.explanation": "says mail is up; check_status said down",
        },
    )


def protobuf_json(spans: list[Any]) -> str:
    """The spans as one ExportTraceServiceRequest in protobuf's JSON mapping (base64 ids)."""
    from google.protobuf.json_format import MessageToJson
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return MessageToJson(encode_spans(spans), indent=None)


def hex_json(protobuf_text: str) -> str:
    """The same document as OTLP/JSON writes it: trace and span ids in hex."""
    document = json.loads(protobuf_text)
    for span in _spans_of(document):
        for key in ("traceId", "spanId", "parentSpanId"):
            if span.get(key):
                span[key] = base64.b64decode(span[key]).hex()
        for link in span.get("links", []):
            for key in ("traceId", "spanId"):
                if link.get(key):
                    link[key] = base64.b64decode(link[key]).hex()
    return json.dumps(document)


def _spans_of(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            yield from scope.get("spans", [])


def without_runs(traced: Traced, names: set[str]) -> list[Any]:
    """The spans of every run but those named."""
    dropped = {traced.trace_ids[name] for name in names}
    return [s for s in traced.spans if format(s.context.trace_id, "032x") not in dropped]


def write_exports(traced: Traced, folder: Path) -> tuple[Path, Path]:
    """Both encodings of the spans, as files argus reads."""
    folder.mkdir(parents=True, exist_ok=True)
    protobuf = protobuf_json(traced.spans)
    base64_path = folder / "agents-protobuf.json"
    hex_path = folder / "agents-hex.json"
    base64_path.write_text(protobuf + "\n")
    hex_path.write_text(hex_json(protobuf) + "\n")
    return base64_path, hex_path
