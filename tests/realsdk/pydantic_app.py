"""A Pydantic AI support desk, traced by its built-in OpenTelemetry instrumentation, with faults
injected at known runs.

The application, as a Pydantic AI user would write it:

    support_request (the app's own span: one trace per request)
      router --(tool ask_billing / ask_tech)--> billing_agent | tech_agent   (agent delegation)
      reviewer (output validator: the verdict must start with APPROVED or REJECTED)

- `router`: asks the model which specialist should answer and calls it through a tool that runs
  the specialist agent (`await billing_agent.run(..., usage=ctx.usage)`, Pydantic AI's agent
  delegation, in the router's conversation: a delegate gets a conversation id of its own
  otherwise), then answers with the specialist's answer;
- `billing_agent`, `tech_agent`: agents with function tools; a lookup miss raises `ModelRetry`
  (the model is told and tries again), the refund gateway raises an error nothing catches;
- `reviewer`: a separate `agent.run` after the router's, whose output validator sends the model
  back (`ModelRetry`) when its verdict has the wrong form, once at most (`retries=1`): a second
  wrong form ends the run with `UnexpectedModelBehavior`.

Traced with `Agent.instrument_all(InstrumentationSettings(tracer_provider=...))`: GenAI spans
`invoke_agent <agent>`, `execute_tool <tool>`, `chat <model>` with `gen_ai.usage.*` and
`operation.cost` (priced by genai-prices from the model name), `gen_ai.aggregated_usage.*` on
the agent runs, exceptions as `exception` span events. Each request is wrapped in one span of
the application's own (`support_request`), the way to keep the router and the reviewer in one
trace: without it every `agent.run` starts a trace of its own.

`run_cases` drives every case against the fake model server (`realsdk.fake_openai`), which
plays all four agents (told apart by their instructions) and computes usage per reply; `CASES`
says, per run, the fault injected and the truth the importer must recover from the spans alone.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from openai import AsyncOpenAI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from realsdk.agents_app import hex_json, protobuf_json
from realsdk.desk import DeskCase
from realsdk.fake_openai import (
    ChatRequest,
    Fail,
    FailThen,
    FakeOpenAI,
    Reply,
    Text,
    ToolCall,
    ToolCalls,
)

SERVICE_NAME = "pydantic-support-desk"
REQUEST_SPAN = "support_request"
# Models genai-prices knows, so Pydantic AI writes `operation.cost` on every chat span.
ROUTER_MODEL = "gpt-4o-mini"
SPECIALIST_MODEL = "gpt-4o"
REVIEWER_MODEL = "gpt-4o-mini"

ROUTER_PROMPT = "You are the router. Delegate the question to ask_billing or ask_tech."
BILLING_PROMPT = "You are billing_agent. Use your tools to answer invoice questions."
TECH_PROMPT = "You are tech_agent. Use your tools to diagnose service problems."
REVIEWER_PROMPT = "You are the reviewer. Start your verdict with APPROVED or REJECTED."

RETRY_PROMPT = "Start the verdict with APPROVED or REJECTED."

AGENTS = ("router", "billing_agent", "tech_agent", "reviewer")

Fault = Literal[
    "tool_retry",  # lookup miss: the tool raises ModelRetry, the model retries, it succeeds
    "tool_crash",  # the refund gateway raises: out of the tool, billing_agent, router, the run
    "transient_500",  # HTTP 500 once on the specialist's first call: the openai client retries
    "router_500",  # the router's model answers HTTP 500 every time: the client gives up
    "validator_retry",  # the reviewer's first verdict has the wrong form, the second is right
    "validator_gives_up",  # the reviewer's verdict has the wrong form every time
]


@dataclass(frozen=True)
class Case(DeskCase):
    """One support request: its route, the fault injected, and what the trace must say."""

    fault: Fault | None = None

    # --- the truth, from the script below -------------------------------------------------

    @property
    def failed(self) -> bool:
        return self.fault in ("tool_crash", "router_500", "validator_gives_up")

    @property
    def origin(self) -> str | None:
        """The innermost agent whose error failed the run."""
        return {
            "tool_crash": self.specialist,
            "router_500": "router",
            "validator_gives_up": "reviewer",
        }.get(self.fault or "")

    @property
    def tool_calls(self) -> list[str]:
        """The tools the specialist calls, in order."""
        tool = "lookup_invoice" if self.route == "billing" else "check_service"
        if self.fault == "router_500":
            return []
        if self.fault == "tool_retry":
            return [tool, tool]
        if self.fault == "tool_crash":
            return [tool, "issue_refund"]
        return [tool]

    def executions(self) -> dict[str, int]:
        """Executions of each agent (hop id under --hop-spans agents) in this run."""
        counts = {"router": 1}
        if self.fault == "router_500":
            return counts
        counts[self.specialist] = 1
        if self.fault != "tool_crash":
            counts["reviewer"] = 1
        return counts


def _cases() -> list[Case]:
    # odd runs go to billing (the only specialist with issue_refund), even ones to tech
    faults: dict[int, Fault] = {
        2: "tool_retry",
        3: "tool_crash",
        4: "transient_500",
        5: "router_500",
        6: "validator_retry",
        7: "validator_gives_up",
        9: "tool_retry",
    }
    return [Case(f"p{n:02d}", "billing" if n % 2 else "tech", faults.get(n)) for n in range(1, 11)]


CASES: list[Case] = _cases()

# What the runs that fail raise out of the application (type and message).
RAISED = {
    "tool_crash": "RefundGatewayError: refund gateway unavailable for INV-{name}",
    "router_500": "ModelServerError: status_code: 500, model_name: gpt-4o-mini, "
    "body: {{'message': 'router model overloaded', 'type': 'server_error', 'code': None, "
    "'param': None}}",
    "validator_gives_up": "UnexpectedModelBehavior: Exceeded maximum output retries (1)",
}


# --- the application ---------------------------------------------------------------------


class RefundGatewayError(RuntimeError):
    """The payment provider is down: nothing the agent can do."""


@dataclass
class Desk:
    router: Agent[None, str]
    billing: Agent[None, str]
    tech: Agent[None, str]
    reviewer: Agent[None, str]
    clients: list[AsyncOpenAI]  # closed when the desk is done, inside its event loop


def build_desk(base_url: str) -> Desk:
    """The four agents, their models served from `base_url`."""

    clients: list[AsyncOpenAI] = []

    def model(name: str) -> OpenAIChatModel:
        client = AsyncOpenAI(base_url=base_url, api_key="test")
        clients.append(client)
        return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))

    billing = Agent(model(SPECIALIST_MODEL), name="billing_agent", instructions=BILLING_PROMPT)
    tech = Agent(model(SPECIALIST_MODEL), name="tech_agent", instructions=TECH_PROMPT)
    router = Agent(model(ROUTER_MODEL), name="router", instructions=ROUTER_PROMPT)
    reviewer = Agent(
        model(REVIEWER_MODEL), name="reviewer", instructions=REVIEWER_PROMPT, retries=1
    )

    @billing.tool_plain
    def lookup_invoice(invoice_id: str) -> str:
        """Look up an invoice by its number (INV-...)."""
        if not invoice_id.startswith("INV-"):
            raise ModelRetry(f"no invoice {invoice_id!r}: invoice numbers start with INV-")
        return f"{invoice_id}: 2 charges of 19.00 USD on 2026-03-01, one is a duplicate"

    @billing.tool_plain
    def issue_refund(invoice_id: str) -> str:
        """Refund the duplicate charge of an invoice."""
        raise RefundGatewayError(f"refund gateway unavailable for {invoice_id}\nretry after 30 s")

    @tech.tool_plain
    def check_service(service: str) -> str:
        """Check the status of a service (vpn, mail, sso)."""
        if service not in ("vpn", "mail", "sso"):
            raise ModelRetry(f"unknown service {service!r}: one of vpn, mail, sso")
        return f"{service}: degraded, packet loss 12% on gateway eu-2"

    @router.tool
    async def ask_billing(ctx: RunContext[None], question: str) -> str:
        """Hand an invoice question to the billing specialist."""
        result = await billing.run(question, usage=ctx.usage, conversation_id=ctx.conversation_id)
        return result.output

    @router.tool
    async def ask_tech(ctx: RunContext[None], question: str) -> str:
        """Hand a service problem to the technical specialist."""
        result = await tech.run(question, usage=ctx.usage, conversation_id=ctx.conversation_id)
        return result.output

    @reviewer.output_validator
    def verdict_form(output: str) -> str:
        if not output.startswith(("APPROVED", "REJECTED")):
            raise ModelRetry(RETRY_PROMPT)
        return output

    return Desk(router, billing, tech, reviewer, clients)


async def handle(desk: Desk, tracer: trace.Tracer, case: Case, one_trace: bool = True) -> str:
    """One support request: route it, then review the answer. In one trace under the app's
    request span; else each agent run is a trace of its own, tied to the other only by the
    `conversation_id` the app gives both (Pydantic AI's `gen_ai.conversation.id`)."""
    if not one_trace:
        conversation = f"support-{case.name}"
        answer = (await desk.router.run(case.question, conversation_id=conversation)).output
        prompt = f"{case.marker} Question: {case.question}\nAnswer: {answer}"
        return (await desk.reviewer.run(prompt, conversation_id=conversation)).output
    with tracer.start_as_current_span(REQUEST_SPAN, attributes={"request.id": case.name}):
        answer = (await desk.router.run(case.question)).output
        review = await desk.reviewer.run(
            f"{case.marker} Question: {case.question}\nAnswer: {answer}"
        )
        return review.output


# --- the model's script ------------------------------------------------------------------


def _case_of(request: ChatRequest) -> Case:
    by_name = {c.name: c for c in CASES}
    if request.marker not in by_name:
        raise ValueError(f"no case for marker {request.marker!r}")
    return by_name[request.marker]


def respond(request: ChatRequest) -> Reply:
    """Every model reply of every case, decided by the case and the conversation so far."""
    case = _case_of(request)
    system = request.system
    if system == ROUTER_PROMPT:
        if case.fault == "router_500":
            return Fail(500, "router model overloaded")
        outputs = request.tool_outputs
        if not outputs:
            tool = f"ask_{case.route}"
            return ToolCalls(ToolCall(tool, {"question": case.question}))
        return Text(outputs[-1].content)
    if system == REVIEWER_PROMPT:
        retried = any(RETRY_PROMPT in text for text in request.user_texts)
        if case.fault == "validator_gives_up" or (case.fault == "validator_retry" and not retried):
            return Text("Looks good to me!")
        return Text("APPROVED: the answer names the cause.")
    if system not in (BILLING_PROMPT, TECH_PROMPT):
        raise ValueError(f"unknown system prompt {system!r}")
    done = len(request.tool_outputs)
    script = case.tool_calls
    if done < len(script):
        name = script[done]
        reply: Reply = ToolCalls(ToolCall(name, _arguments(case, name, done)))
        if case.fault == "transient_500" and done == 0:
            return FailThen(reply)
        return reply
    return Text(f"Found it: {request.tool_outputs[-1].content}")


def _arguments(case: Case, tool_name: str, turn: int) -> dict[str, Any]:
    miss = case.fault == "tool_retry" and turn == 0
    if tool_name == "check_service":
        return {"service": "vpn-eu" if miss else "vpn"}
    return {"invoice_id": case.name if miss else f"INV-{case.name}"}


# --- tracing and running -------------------------------------------------------------------


@contextmanager
def traced() -> Iterator[tuple[InMemorySpanExporter, trace.Tracer]]:
    """Pydantic AI's instrumentation of every agent into an in-memory exporter, for the block."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))
    try:
        yield exporter, provider.get_tracer("support-desk")
    finally:
        Agent.instrument_all(False)
        provider.shutdown()


@dataclass
class Outcome:
    case: Case
    raised: str | None  # "Type: message" (first line) of the exception the request raised
    attempts: Counter[str]  # model requests the server answered, by the agent's instructions


Handler = Callable[[Desk, trace.Tracer, Case], Awaitable[object]]


def run_cases(
    cases: Sequence[Case] = CASES, one_trace: bool = True, handler: Handler | None = None
) -> tuple[list[ReadableSpan], list[Outcome]]:
    """Every case through the desk, traced: the finished spans and what each request did.
    `handler` serves a request instead of `handle` (a documented snippet, say)."""
    if handler is None:

        async def handler(desk: Desk, tracer: trace.Tracer, case: Case) -> object:
            return await handle(desk, tracer, case, one_trace)

    with FakeOpenAI(respond) as server, traced() as (exporter, tracer):
        outcomes = asyncio.run(_run_all(server, tracer, cases, handler))
        spans = list(exporter.get_finished_spans())
    return spans, outcomes


async def _run_all(
    server: FakeOpenAI, tracer: trace.Tracer, cases: Sequence[Case], handler: Handler
) -> list[Outcome]:
    """The cases one after the other in one event loop, whose clients are closed in it."""
    desk = build_desk(server.base_url)
    outcomes = []
    try:
        for case in cases:
            raised = None
            try:
                await handler(desk, tracer, case)
            except Exception as exc:  # the faults that raise out of the request
                raised = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            attempts = Counter(r.system for r in server.requests if r.marker == case.name)
            outcomes.append(Outcome(case, raised, attempts))
    finally:
        for client in desk.clients:
            await client.close()
    return outcomes


def write_otlp(spans: Sequence[ReadableSpan], path: Path, hex_ids: bool) -> Path:
    """The spans as one OTLP JSON file, protobuf's JSON mapping or with hex ids."""
    protobuf = protobuf_json(list(spans))
    path.write_text((hex_json(protobuf) if hex_ids else protobuf) + "\n", encoding="utf-8")
    return path
