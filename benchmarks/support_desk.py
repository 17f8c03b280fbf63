"""support-desk: a tree-shaped workflow (SPEC v2), simulated through the argus writer library.

Where generate_traces.py builds chain records by hand for speed, this workflow is written by the
library that agent code uses (`AgentTracer` and nested `tracer.hop()` blocks), so its sample also
shows the writer's nesting: a hop opened inside another gets that hop as its parent, a chain's
hops are top-level, an exception that leaves a hop is its error, one that a caller catches is a
handled error under a successful caller. Each run:

    intake                          top-level: parses the customer's message into a ticket
    router                          top-level, the final hop: routes, then writes the reply
    └── billing_agent | tech_agent  ONE of two specialists (alternative routes)
        ├── lookup_invoice | search_kb   the specialist's tool; transient errors are retried
        └── policy_checker          a sub-agent that reviews the specialist's draft

What goes wrong, at seeded rates:

- a tool call times out or is rate limited: the specialist catches it and retries (a handled
  error); after three failed attempts, or on a non-retryable error (a locked account), the error
  travels up: the tool, the specialist and the router all end in error and the run has no answer;
- the specialist's or the router's own model call fails (the error goes up from there);
- the policy checker times out: the specialist goes on without a review (handled);
- the specialist's draft quotes personal data: the output guardrail trips on it (the hop records
  the `safety` violation and raises), and the router escalates the ticket to a human instead
  (the specialist's error is handled, its violation still counts for safety);
- a prompt-injection attempt trips the router's input guardrail: the run fails at the router;
- silent errors: a wrong ticket from intake carries into a wrong draft, a specialist drafts a
  wrong answer; the policy checker catches some and the draft is revised, the rest reach the
  reply. Sampled validation (a `ValidationContract` on a share of outputs) catches some of
  those; a human or an evaluator gives an `outcome` verdict on a share of the answered runs,
  which also fails runs no check caught.

Every draw comes from `random.Random(seed)` and the tracer runs on a simulated clock with seeded
span ids, so a seed always gives the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argus_cli import AgentTracer, ValidationContract
from argus_cli.writer.records import describe_error
from argus_cli.writer.tracing import Hop

WORKFLOW_ID = "support-desk"
EPOCH_S = 1_775_030_400.0  # 2026-04-01T08:00:00Z, as the chain workflows
RUN_GAP_S = 9.0  # mean time between tickets
MAX_ATTEMPTS = 3  # tool calls per specialist, first try included

# USD per million tokens (input, output).
PRICES: dict[str, tuple[float, float]] = {
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "gpt-4.1-mini": (0.4, 1.6),
}


class RateLimitError(Exception):
    """A provider's 429: worth retrying after a pause."""


class APIError(Exception):
    """A provider's 5xx on a model call."""


class InputGuardrailTripwireTriggered(Exception):
    """The router's input guardrail refused the message."""


class OutputGuardrailTripwireTriggered(Exception):
    """A specialist's output guardrail refused its draft."""


RETRYABLE = (TimeoutError, RateLimitError)
# Sampled validation: the share of each kind of hop's outputs that a check looks at.
SAMPLE_RATES: dict[str, float] = {
    "intake": 0.15,
    "specialist": 0.25,
    "policy_checker": 0.15,
    "router": 0.15,
}


@dataclass(frozen=True, slots=True)
class Route:
    """A specialist, its tool, and the rates that drive them."""

    agent: str  # the hop_id of the specialist
    tool: str  # the hop_id of its tool
    model: str
    share: float  # of routed tickets
    silent_rate: float  # a wrong draft from a right ticket
    error_rate: float  # the specialist's own model call fails
    tool_transient_rate: float  # per attempt: timeout or 429, retried
    tool_fatal_rate: float  # not retried: travels up to the router
    fatal_error: type[Exception]  # the tool's non-retryable error
    fatal_message: str
    pii_rate: float  # the draft quotes personal data: the output guardrail trips
    rules: tuple[str, ...]  # what sampled validation reports on a wrong draft


ROUTES = (
    Route(
        agent="billing_agent",
        tool="lookup_invoice",
        model="claude-sonnet-4-6",
        share=0.55,
        silent_rate=0.08,
        error_rate=0.012,
        tool_transient_rate=0.14,
        tool_fatal_rate=0.025,
        fatal_error=PermissionError,
        fatal_message="account is locked for review",
        pii_rate=0.04,
        rules=("accuracy:wrong_amount", "policy:refund_over_limit", "grounding:invoice_not_found"),
    ),
    Route(
        agent="tech_agent",
        tool="search_kb",
        model="gpt-4.1-mini",
        share=0.45,
        silent_rate=0.12,
        error_rate=0.015,
        tool_transient_rate=0.08,
        tool_fatal_rate=0.01,
        fatal_error=LookupError,
        fatal_message="knowledge base index unavailable",
        pii_rate=0.015,
        rules=("accuracy:wrong_fix", "grounding:article_not_cited", "policy:unsupported_device"),
    ),
)

TOPICS = {
    "billing_agent": ("double charge on invoice", "refund for annual plan", "VAT id missing"),
    "tech_agent": ("app crashes on login", "sync stuck at 99%", "2FA codes rejected"),
}


def _public(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A payload without the simulation's truth (keys starting with `_`): what an agent sees."""
    return {k: v for k, v in payload.items() if not k.startswith("_")}


class SupportDesk:
    """Simulates support-desk runs; `runs()` yields each run's records in write order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.clock = EPOCH_S
        self.records: list[dict[str, Any]] = []
        self.tracer = AgentTracer(
            WORKFLOW_ID,
            sink=_ListSink(self.records),
            clock=lambda: self.clock,
            run_id=self._hex(128),
            span_ids=lambda: self._hex(64),
        )
        self._started = False
        # Wrong outputs are found by a contract on the simulation's truth, as a reviewer would.
        self.contract = ValidationContract.from_checks(
            lambda output: output.get("_violations", []), category="accuracy"
        )

    def runs(self) -> Iterator[list[dict[str, Any]]]:
        """An endless stream of runs."""
        while True:
            yield self.run()

    def run(self) -> list[dict[str, Any]]:
        """One run's records, in the order the tracer wrote them (a hop when it ended)."""
        if self._started:
            self.tracer.new_run(self._hex(128))
        self._started = True
        self.records.clear()
        self.clock += self.rng.expovariate(1.0 / RUN_GAP_S)
        answer: dict[str, Any] | None
        try:
            answer = self._ticket()
        except Exception as exc:  # the run raised: no answer, nothing for a reviewer to judge
            # A simulated failure ended a top-level hop in error; anything else is a bug here.
            if not self.records or self.records[-1].get("error") != describe_error(exc):
                raise
            answer = None
        if answer is not None and self.rng.random() < 0.25:
            source = "human" if self.rng.random() < 0.5 else "eval"
            self.tracer.record_outcome(not answer["_wrong"], source=source)
        return list(self.records)

    # ------------------------------------------------------------------------------------
    # The workflow

    def _ticket(self) -> dict[str, Any]:
        rand = self.rng.random
        route = ROUTES[0] if rand() < ROUTES[0].share else ROUTES[1]
        topic = TOPICS[route.agent][int(rand() * 3)]
        repeated = rand() < 0.3  # a common question, asked again word for word
        case = int(rand() * 20) if repeated else 1_000 + int(rand() * 1_000_000)
        message = {"channel": "email", "text": f"{topic} (case {case})"}

        with self.tracer.hop(
            "intake", agent="intake-agent", model="claude-haiku-4-5", input=message
        ) as hop:
            self._model_call(hop, "claude-haiku-4-5", (600, 1_800), (80, 200), 4.0)
            if rand() < 0.008:
                raise ValueError("could not parse the message: no account or order id")
            wrong = rand() < 0.03  # read the wrong account id
            ticket = {"topic": topic, "account": f"A-{case:07d}", "_wrong": wrong}
            self._finish(hop, "intake", ticket, ["grounding:wrong_account"], confident=0.7)

        with self.tracer.hop(
            "router", agent="triage-agent", model="claude-haiku-4-5", input=_public(ticket)
        ) as hop:
            self._advance(60 + 120 * rand())  # the input guardrail
            if rand() < 0.006:
                hop.record(validated=True, violations=["safety:prompt_injection"])
                raise InputGuardrailTripwireTriggered("prompt_injection")
            self._model_call(hop, "claude-haiku-4-5", (400, 900), (20, 60), 4.0)
            if rand() < 0.008:
                raise APIError("500 Internal Server Error from the model provider")
            hop.record(metadata={"route": route.agent})
            try:
                draft = self._specialist(route, ticket)
            except OutputGuardrailTripwireTriggered:
                draft = {"reply": "escalated to a human agent", "_wrong": False}
                hop.record(metadata={"escalated": True})
            self._model_call(hop, "claude-haiku-4-5", (700, 1_600), (150, 400), 4.0)
            wrong = bool(draft["_wrong"]) and rand() < 0.95  # the reply repeats the draft
            answer = {"reply": draft["reply"], "_wrong": wrong}
            self._finish(hop, "router", answer, ["accuracy:wrong_answer"], confident=1.0)
        return answer

    def _specialist(self, route: Route, ticket: Mapping[str, Any]) -> dict[str, Any]:
        rand = self.rng.random
        with self.tracer.hop(
            route.agent,
            agent=route.agent.replace("_", "-"),
            model=route.model,
            input=_public(ticket),
        ) as hop:
            facts = self._tool(route, ticket)
            self._model_call(hop, route.model, (1_500, 5_000), (200, 700), 9.0)
            if rand() < route.error_rate:
                raise APIError("503 Service Unavailable from the model provider")
            carried = bool(ticket["_wrong"]) and rand() < 0.9  # a wrong ticket, a wrong draft
            wrong = carried or rand() < route.silent_rate
            draft = {"reply": f"{facts['answer']} ({ticket['topic']})", "_wrong": wrong}
            if wrong:
                draft["reply"] += " [wrong]"
            try:
                verdict = self._review(draft)
            except TimeoutError:
                hop.record(metadata={"review": "skipped"})
            else:
                if verdict == "revise":  # the reviewer caught it: one more model call fixes it
                    self._model_call(hop, route.model, (800, 2_000), (200, 600), 9.0)
                    draft = {"reply": draft["reply"].replace(" [wrong]", ""), "_wrong": False}
                hop.record(metadata={"review": verdict})
            if rand() < route.pii_rate:  # the output guardrail runs on every draft
                hop.record(validated=True, violations=["safety:pii_in_reply"])
                raise OutputGuardrailTripwireTriggered("pii_in_reply")
            rule = route.rules[int(rand() * len(route.rules))]
            self._finish(hop, "specialist", draft, [rule], confident=1.0)
        return draft

    def _tool(self, route: Route, ticket: Mapping[str, Any]) -> dict[str, Any]:
        rand = self.rng.random
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.tracer.hop(
                    route.tool,
                    input={"account": ticket["account"]},
                    metadata={"span_kind": "tool", "attempt": attempt},
                ) as hop:
                    self._advance(80 + 400 * rand())
                    if rand() < route.tool_fatal_rate:
                        raise route.fatal_error(route.fatal_message)
                    if rand() < route.tool_transient_rate:
                        if rand() < 0.6:
                            self._advance(10_000)
                            raise TimeoutError(f"{route.tool} did not answer in 10 s")
                        raise RateLimitError("429 Too Many Requests")
                    facts = {"answer": f"{route.tool} result for {ticket['account']}"}
                    hop.record(facts)
                    return facts
            except RETRYABLE:
                if attempt == MAX_ATTEMPTS:
                    raise  # out of retries: the error goes up to the specialist's caller
                self._advance(500 * 2**attempt)  # back off, then retry
        raise AssertionError("unreachable")

    def _review(self, draft: Mapping[str, Any]) -> str:
        rand = self.rng.random
        with self.tracer.hop(
            "policy_checker", agent="policy-agent", model="gpt-4.1-mini", input=_public(draft)
        ) as hop:
            self._model_call(hop, "gpt-4.1-mini", (900, 2_500), (30, 120), 3.0)
            if rand() < 0.03:
                self._advance(15_000)
                raise TimeoutError("policy_checker did not answer in 15 s")
            caught = draft["_wrong"] and rand() < 0.4
            verdict = "revise" if caught else "approve"
            # Approving a wrong draft is the checker's own wrong output.
            missed = draft["_wrong"] and not caught
            output = {"verdict": verdict, "_wrong": missed}
            self._finish(hop, "policy_checker", output, ["policy:missed_violation"], confident=1.0)
        return verdict

    # ------------------------------------------------------------------------------------
    # Telemetry of one hop

    def _finish(
        self,
        hop: Hop,
        kind: str,
        output: dict[str, Any],
        rules: list[str],
        *,
        confident: float,
    ) -> None:
        """Record the output, a confidence, and a sampled check (drawn before looking)."""
        rand = self.rng.random
        wrong = bool(output["_wrong"])
        fields: dict[str, Any] = {}
        if rand() < SAMPLE_RATES[kind]:
            checked = {**output, "_violations": rules if wrong else []}
            fields["validated"] = True
            fields["violations"] = self.contract.check(checked)
        if rand() < confident:
            if not wrong:
                value = min(0.995, 0.9 + 0.12 * (rand() - rand()))
            elif rand() < 0.6:  # confidently wrong: the dangerous case
                value = 0.88 + 0.08 * (rand() - rand())
            else:
                value = 0.55 + 0.2 * (rand() - rand())
            fields["confidence"] = round(value, 3)
        if kind == "router" and rand() < 0.15:  # an evaluator scored the reply
            base = 0.35 if wrong else 0.85
            fields["scores"] = {
                "groundedness": round(min(1.0, base + 0.15 * rand()), 3),
                "accuracy": round(min(1.0, base + 0.15 * rand()), 3),
            }
        hop.record({k: v for k, v in output.items() if not k.startswith("_")}, **fields)

    def _model_call(
        self,
        hop: Hop,
        model: str,
        input_tokens: tuple[int, int],
        output_tokens: tuple[int, int],
        ms_per_token: float,
    ) -> None:
        """One model call inside `hop`: time passes, tokens and cost add up on the hop."""
        rand = self.rng.random
        tokens_in = input_tokens[0] + int((input_tokens[1] - input_tokens[0]) * rand())
        tokens_out = output_tokens[0] + int((output_tokens[1] - output_tokens[0]) * rand())
        self._advance(250 + tokens_out * ms_per_token * (0.6 + 0.8 * rand()))
        price_in, price_out = PRICES[model]
        fields = hop.fields
        total_in = int(fields.get("input_tokens") or 0) + tokens_in
        total_out = int(fields.get("output_tokens") or 0) + tokens_out
        hop.record(
            input_tokens=total_in,
            output_tokens=total_out,
            cost_usd=round((total_in * price_in + total_out * price_out) / 1e6, 6),
        )

    def _advance(self, ms: float) -> None:
        self.clock += ms / 1000.0

    def _hex(self, bits: int) -> str:
        return self.rng.getrandbits(bits).to_bytes(bits // 8, "big").hex()


class _ListSink:
    """Keeps the tracer's records in memory: the generator writes them, whole runs at a time."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    @property
    def path(self) -> Path:
        return Path(f"{WORKFLOW_ID}.jsonl")  # never written: finalize() is not used here

    def write(self, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))

    def flush(self) -> None:
        """Nothing buffered."""

    def close(self) -> None:
        """Nothing to release."""
