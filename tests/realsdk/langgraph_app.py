"""A LangGraph support desk, traced by OpenInference, with faults injected at known runs.

The graph, as a LangGraph user would write it:

    START -> supervisor --(route)--> billing_agent --> reviewer -> END
                         \\-------> tech_agent ----/

- `supervisor`: a function node that asks the model which specialist should answer;
- `billing_agent`, `tech_agent`: `create_react_agent` subgraphs (their own `agent` and `tools`
  nodes), each with a `ToolNode` that hands lookup misses (`LookupError`) back to the model as an
  error `ToolMessage` and lets anything else raise out of the graph;
- `reviewer`: asks the model for a JSON verdict on the answer, parses it, and then grades the
  answer against the reference answer of the case (an evaluator with ground truth), writing the
  grade on the run's root span as `argus.correct` (`get_ancestor_spans()[-1]`, OpenInference's
  way to reach the root from inside a node).

`run_cases` drives every case against the fake model server (`realsdk.fake_openai`): the
responder plays all four roles, told apart by their system prompts, and each case's user message
carries its `[run:NAME]` marker. `CASES` says, for each run, the fault injected and the truth the
importer must recover from the spans alone.
"""

from __future__ import annotations

import json
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, create_react_agent
from openinference.instrumentation.langchain import LangChainInstrumentor, get_ancestor_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from realsdk.agents_app import hex_json, protobuf_json
from realsdk.desk import DeskCase
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

GRAPH_NAME = "support_desk"
SERVICE_NAME = "support-desk"

SUPERVISOR_PROMPT = "You are the supervisor. Answer with one word: billing or tech."
BILLING_PROMPT = "You are billing_agent. Use your tools to answer invoice questions."
TECH_PROMPT = "You are tech_agent. Use your tools to diagnose service problems."
REVIEWER_PROMPT = 'You are the reviewer. Reply with JSON: {"approved": true|false}.'

Fault = Literal[
    "handled_tool_error",  # a lookup miss: ToolNode returns it to the model, the agent goes on
    "fatal_tool_error",  # the refund gateway raises: out of ToolNode, the subgraph, the graph
    "supervisor_500",  # the supervisor's model call answers HTTP 500 every time
    "reviewer_crash",  # the reviewer's model answers prose, the node's json.loads raises
    "transient_500",  # HTTP 500 once on the specialist's first model call: retried away
    "wrong_answer",  # the specialist answers wrongly, the reviewer approves: graded wrong
]


@dataclass(frozen=True)
class Case(DeskCase):
    """One graph invocation: its route, the fault injected, and what the trace must say."""

    fault: Fault | None = None

    # --- the truth, from the script below -------------------------------------------------

    @property
    def raises(self) -> bool:
        return self.fault in ("fatal_tool_error", "supervisor_500", "reviewer_crash")

    @property
    def failed(self) -> bool:
        return self.raises or self.fault == "wrong_answer"

    @property
    def origin(self) -> str | None:
        """The innermost graph node whose error failed the run (None: failed by its grade)."""
        return {
            "fatal_tool_error": f"{self.specialist}/tools",
            "supervisor_500": "supervisor",
            "reviewer_crash": "reviewer",
        }.get(self.fault or "")

    @property
    def tool_calls(self) -> list[str]:
        """The tools the specialist calls, in order."""
        tool = "lookup_invoice" if self.route == "billing" else "check_service"
        if self.fault == "supervisor_500":
            return []
        if self.fault == "handled_tool_error":
            return [tool, tool]
        if self.fault == "fatal_tool_error":
            return [tool, "issue_refund"]
        return [tool]

    def executions(self) -> dict[str, int]:
        """Executions of each graph node (hop id) in this run."""
        counts = {"supervisor": 1}
        if self.fault == "supervisor_500":
            return counts
        calls = len(self.tool_calls)
        counts[self.specialist] = 1
        # the ReAct loop: one model turn per tool call, and one to answer unless a tool raised
        counts[f"{self.specialist}/agent"] = calls + (0 if self.fault == "fatal_tool_error" else 1)
        counts[f"{self.specialist}/tools"] = calls
        if self.fault != "fatal_tool_error":
            counts["reviewer"] = 1
        return counts


def _cases() -> list[Case]:
    # odd runs go to billing (the only specialist with issue_refund), even ones to tech
    faults: dict[int, Fault] = {
        3: "handled_tool_error",
        5: "fatal_tool_error",
        6: "supervisor_500",
        8: "reviewer_crash",
        9: "transient_500",
        10: "wrong_answer",
        12: "handled_tool_error",
    }
    return [Case(f"r{n:02d}", "billing" if n % 2 else "tech", faults.get(n)) for n in range(1, 17)]


CASES: list[Case] = _cases()


# --- the application ---------------------------------------------------------------------


class InvoiceNotFound(LookupError):
    """No such invoice: the model should try again with the right number."""


class ServiceNotFound(LookupError):
    """No such service: the model should try again with the right name."""


class RefundGatewayError(RuntimeError):
    """The payment provider is down: nothing the agent can do."""


@tool
def lookup_invoice(invoice_id: str) -> str:
    """Look up an invoice by its number (INV-...)."""
    if not invoice_id.startswith("INV-"):
        raise InvoiceNotFound(f"no invoice {invoice_id!r}")
    return f"{invoice_id}: 2 charges of 19.00 USD on 2026-03-01, one is a duplicate"


@tool
def issue_refund(invoice_id: str) -> str:
    """Refund the duplicate charge of an invoice."""
    raise RefundGatewayError(f"refund gateway unavailable for {invoice_id}\nretry after 30 s")


@tool
def check_service(service: str) -> str:
    """Check the status of a service (vpn, mail, sso)."""
    if service not in ("vpn", "mail", "sso"):
        raise ServiceNotFound(f"unknown service {service!r}")
    return f"{service}: degraded, packet loss 12% on gateway eu-2"


class State(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    route: str
    reference: str


def build_graph(base_url: str) -> Any:
    """The compiled support desk graph, its models served from `base_url`."""

    def model(name: str) -> ChatOpenAI:
        return ChatOpenAI(model=name, base_url=base_url, api_key="test", max_retries=2)

    with warnings.catch_warnings():
        # create_react_agent is deprecated in favour of langchain.agents.create_agent (LangGraph
        # 1.0), but it is what the LangGraph applications in the field are built with.
        warnings.simplefilter("ignore", DeprecationWarning)
        billing = create_react_agent(
            model("billing-model"),
            ToolNode([lookup_invoice, issue_refund], handle_tool_errors=(LookupError,)),
            prompt=BILLING_PROMPT,
            name="billing_agent",
        )
        tech = create_react_agent(
            model("tech-model"),
            ToolNode([check_service], handle_tool_errors=(LookupError,)),
            prompt=TECH_PROMPT,
            name="tech_agent",
        )

    def supervisor(state: State) -> dict[str, Any]:
        reply = model("supervisor-model").invoke(
            [("system", SUPERVISOR_PROMPT), *state["messages"]]
        )
        route = "billing_agent" if "billing" in str(reply.content).lower() else "tech_agent"
        return {"route": route}

    def reviewer(state: State) -> dict[str, Any]:
        question, answer = state["messages"][0], state["messages"][-1]
        reply = model("reviewer-model").invoke(
            [
                ("system", REVIEWER_PROMPT),
                ("user", f"Question: {question.content}\nAnswer: {answer.content}"),
            ]
        )
        verdict = json.loads(str(reply.content))
        reference = state.get("reference")
        if reference is not None:
            # the evaluator: a grade against the case's reference answer, on the run's root
            root = get_ancestor_spans()[-1]
            root.set_attribute("argus.correct", reference in str(answer.content))
        return {"messages": [AIMessage(f"reviewed: approved={verdict.get('approved')}")]}

    graph = StateGraph(State)
    graph.add_node("supervisor", supervisor)
    graph.add_node("billing_agent", billing)
    graph.add_node("tech_agent", tech)
    graph.add_node("reviewer", reviewer)
    graph.add_edge(START, "supervisor")
    graph.add_conditional_edges("supervisor", lambda s: s["route"], ["billing_agent", "tech_agent"])
    graph.add_edge("billing_agent", "reviewer")
    graph.add_edge("tech_agent", "reviewer")
    graph.add_edge("reviewer", END)
    return graph.compile(name=GRAPH_NAME)


# --- the model's script ------------------------------------------------------------------

REFERENCE = {"billing": "duplicate", "tech": "packet loss"}


def _case_of(request: ChatRequest) -> Case:
    by_name = {c.name: c for c in CASES}
    if request.marker not in by_name:
        raise ValueError(f"no case for marker {request.marker!r}")
    return by_name[request.marker]


def respond(request: ChatRequest) -> Reply:
    """Every model reply of every case, decided by the case and the conversation so far."""
    case = _case_of(request)
    system = request.system
    if system == SUPERVISOR_PROMPT:
        if case.fault == "supervisor_500":
            return Fail(500, "supervisor model overloaded")
        return Text(case.route)
    if system == REVIEWER_PROMPT:
        if case.fault == "reviewer_crash":
            return Text("Looks good to me!")
        return Json({"approved": True})
    if system not in (BILLING_PROMPT, TECH_PROMPT):
        raise ValueError(f"unknown system prompt {system!r}")
    done = len(request.tool_outputs)
    script = case.tool_calls
    if done < len(script):
        name = script[done]
        arguments = _arguments(case, name, done)
        reply: Reply = ToolCalls(ToolCall(name, arguments))
        if case.fault == "transient_500" and done == 0:
            return FailThen(reply)
        return reply
    if case.fault == "wrong_answer":
        return Text("Everything is fine on our side: please restart your laptop.")
    last = request.tool_outputs[-1].content
    return Text(f"Found it: {last}")


def _arguments(case: Case, tool_name: str, turn: int) -> dict[str, Any]:
    if tool_name == "check_service":
        miss = case.fault == "handled_tool_error" and turn == 0
        return {"service": "vpn-eu" if miss else "vpn"}
    miss = tool_name == "lookup_invoice" and case.fault == "handled_tool_error" and turn == 0
    return {"invoice_id": case.name if miss else f"INV-{case.name}"}


# --- tracing and running -------------------------------------------------------------------


@contextmanager
def traced() -> Iterator[InMemorySpanExporter]:
    """OpenInference's LangChain instrumentation into an in-memory exporter, for the block."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


@dataclass
class Outcome:
    case: Case
    raised: str | None  # "Type: message" of the exception that left graph.invoke, if any
    attempts: Counter[str]  # model requests the server answered, by system prompt


def run_cases(cases: Sequence[Case] = CASES) -> tuple[list[ReadableSpan], list[Outcome]]:
    """Every case through the graph, traced: the finished spans and what each invoke did."""
    outcomes = []
    with FakeOpenAI(respond) as server, traced() as exporter:
        graph = build_graph(server.base_url)
        for case in cases:
            state = {
                "messages": [HumanMessage(case.question)],
                "reference": REFERENCE[case.route],
            }
            raised = None
            try:
                graph.invoke(state)
            except Exception as exc:  # the faults that raise out of the graph
                raised = f"{type(exc).__name__}: {exc}"
            attempts = Counter(r.system for r in server.requests if r.marker == case.name)
            outcomes.append(Outcome(case, raised, attempts))
        spans = list(exporter.get_finished_spans())
    return spans, outcomes


def write_otlp(spans: Sequence[ReadableSpan], path: Path, hex_ids: bool) -> Path:
    """The spans as one OTLP JSON file: protobuf's JSON mapping (`encode_spans` +
    `MessageToJson`, base64 ids), or the same document with hex ids as OTLP/JSON writes it."""
    protobuf = protobuf_json(list(spans))
    path.write_text((hex_json(protobuf) if hex_ids else protobuf) + "\n", encoding="utf-8")
    return path
