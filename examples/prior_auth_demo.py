"""The seed article's supervisor loop, runnable: five fake prior-authorisation agents, traced.

No LLM and no network: each specialist is a seeded function with tunable rates of errors (which
it reports), silent errors (wrong output reported as success) and cascades (a wrong input turning
into a wrong output). The supervisor does what the article's loop does with the argus_cli
library: it writes the intent once to a SharedStateStore, every agent reads it back at the start
of its hop, a ValidatedAgent checks a sampled share of outputs (and every denial, a high-stakes
decision) against a ValidationContract, and every hop is traced. A reviewer's verdict arrives for
some runs as an `outcome` record, as it would in production.

    python examples/prior_auth_demo.py --runs 50 --seed 7 --out /tmp/demo.jsonl
    argus report /tmp/demo.jsonl

The same seed gives the same runs, verdicts and timestamps (a simulated clock drives the
tracer); only the random span ids differ.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argus_cli import (
    ContractViolation,
    SharedStateStore,
    ValidatedAgent,
    ValidationContract,
    WorkflowTracer,
)
from argus_cli.schema import intent_checksum

EPOCH = 1_775_030_400.0  # 2026-04-01T08:00:00Z: timestamps never depend on the real clock
GOALS = (
    (
        "Prior authorisation for lumbar spine MRI, member {member}",
        ["payer policy LCD L35936", "no PHI in free text", "decision within 72h"],
    ),
    (
        "Prior authorization: GLP-1 agonist for type 2 diabetes, member {member}",
        ["step therapy: metformin >= 90 days", "formulary tier 3", "HIPAA minimum necessary"],
    ),
    (
        "Prior authorization for 12 physical therapy visits, member {member}",
        ["payer policy PT-2026-04", "no PHI in free text", "decision within 72h"],
    ),
)
PRICES = {  # USD per million tokens: input, output
    "claude-haiku-4-5": (1.0, 5.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "claude-sonnet-4-6": (3.0, 15.0),
}
ERRORS = (TimeoutError, ConnectionResetError, RuntimeError)


class SimClock:
    """Simulated wall time: agents advance it by their latency, the tracer reads it."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000.0


@dataclass(frozen=True)
class Specialist:
    """One step of the workflow and the rates that drive its simulated behaviour."""

    task_id: str
    agent_type: str
    model: str
    silent_rate: float  # wrong output from a clean input
    carry_rate: float  # wrong output from a wrong input: the cascade
    error_rate: float  # raises (reported: status "error")
    sample_rate: float  # share of outputs validated
    tokens: tuple[int, int]  # input, output tokens (mean)
    drift_rate: float = 0.0  # works from the previous agent's paraphrase, not the store
    rule: str = "grounding:member_id_mismatch"


PIPELINE = (
    Specialist("intake-parser", "intake", "claude-haiku-4-5", 0.02, 0.0, 0.01, 0.15, (6000, 400)),
    Specialist(
        "eligibility-checker", "eligibility", "gpt-4.1-mini", 0.06, 0.6, 0.02, 0.15, (1500, 250)
    ),
    Specialist(
        "clinical-reviewer",
        "clinical",
        "claude-sonnet-4-6",
        0.07,
        0.9,
        0.015,
        0.10,
        (6000, 800),
        drift_rate=0.03,
        rule="safety:contraindication_missed",
    ),
    Specialist(
        "policy-validator",
        "policy",
        "claude-sonnet-4-6",
        0.04,
        0.95,
        0.01,
        0.08,
        (4000, 300),
        drift_rate=0.02,
        rule="policy:step_therapy_skipped",
    ),
    Specialist(
        "approval-writer",
        "letter",
        "claude-sonnet-4-6",
        0.015,
        0.95,
        0.008,
        0.03,
        (2500, 900),
        rule="compliance:missing_denial_reason",
    ),
)


class FakeAgent:
    """A deterministic stand-in for an LLM agent, with the specialist's error rates."""

    def __init__(self, spec: Specialist, rng: random.Random, clock: SimClock, scale: float) -> None:
        self.spec = spec
        self.rng = rng
        self.clock = clock
        self.scale = scale
        self.__name__ = f"{spec.agent_type}-agent"
        self.last_usage: dict[str, Any] = {}

    def __call__(self, context: dict[str, Any]) -> dict[str, Any]:
        spec, rand = self.spec, self.rng.random
        tokens_in = int(spec.tokens[0] * (0.6 + 0.8 * rand()))
        tokens_out = int(spec.tokens[1] * (0.6 + 0.8 * rand()))
        self.clock.advance(300 + 8 * tokens_out * (0.7 + 0.6 * rand()))
        price_in, price_out = PRICES[spec.model]
        self.last_usage = {
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "cost_usd": round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6),
        }
        if rand() < spec.error_rate * self.scale:
            raise ERRORS[int(rand() * len(ERRORS))](f"{spec.model} did not answer")
        member = context["case"]["member_id"]
        tainted = any(r.get("_wrong") for r in context["prior_results"].values())
        wrong = rand() < (spec.carry_rate if tainted else spec.silent_rate * self.scale)
        decision = "deny" if (context["case"]["deny"] or (wrong and rand() < 0.3)) else "approve"
        if wrong:  # confidently wrong most of the time: the dangerous case
            confidence = 0.87 + 0.1 * (rand() - rand()) if rand() < 0.7 else 0.55 + 0.2 * rand()
        else:
            confidence = min(0.995, 0.92 + 0.12 * (rand() - rand()))
        return {
            "member_id": member if not wrong else member[:-1] + "X",
            "source_member_id": member,
            "decision": decision,
            "finding": spec.rule if wrong else None,
            "confidence": round(confidence, 3),
            "_wrong": wrong,  # the simulation's truth: no check reads it
        }


def contract_for(spec: Specialist) -> ValidationContract:
    """A schema for the shape, and a check that the output is about the right member."""

    def grounded(output: dict[str, Any]) -> list[str]:
        if output.get("member_id") != output.get("source_member_id"):
            return [output.get("finding") or spec.rule]
        return []

    schema = {"member_id": str, "decision": str, "confidence": float}
    return ValidationContract(schema, grounded, name=spec.task_id)


@dataclass(frozen=True)
class Subtask:
    agent_type: str
    description: str


class SupervisorAgent:
    """The article's minimal production loop, with the argus_cli library."""

    def __init__(
        self,
        specialists: dict[str, ValidatedAgent],
        tracer: WorkflowTracer,
        *,
        seed: int,
        stop_on_violation: bool = True,
    ) -> None:
        self.specialists = specialists
        self.tracer = tracer
        self.store = SharedStateStore(tracer=tracer)  # intent records go into the trace
        self.drift_rng = random.Random(seed)
        self.stop_on_violation = stop_on_violation

    def decompose(self, goal: str) -> dict[str, Subtask]:
        return {s.task_id: Subtask(s.agent_type, f"{s.task_id} for: {goal}") for s in PIPELINE}

    def run(self, goal: str, constraints: list[str], case: dict[str, Any]) -> dict[str, Any]:
        intent = self.store.write_intent(goal, constraints)  # write once: immutable
        results: dict[str, Any] = {}
        for task_id, task in self.decompose(goal).items():
            agent = self.specialists[task.agent_type]
            contract = ValidationContract.for_task(task_id)
            spec = next(s for s in PIPELINE if s.task_id == task_id)
            with self.tracer.hop(task_id, model=spec.model) as hop:
                if self.drift_rng.random() < spec.drift_rate:
                    # This agent worked from the previous agent's summary, which dropped a
                    # constraint: it records the checksum of what it actually used.
                    hop.record(intent_checksum=intent_checksum(goal, constraints[:-1]))
                    original = None
                else:
                    original = self.store.get_intent(intent.goal_id)  # stamps the checksum
                context = {
                    "task": task,
                    "case": case,
                    "original_intent": original,
                    "prior_results": results,  # only passed on, never overwritten
                }
                stakes = case["deny"] and task_id == "approval-writer"
                fake: FakeAgent = agent.agent  # type: ignore[assignment]
                try:
                    output = agent.run_with_validation(context, contract, high_stakes=stakes)
                except ContractViolation as violation:
                    if self.stop_on_violation or stakes:
                        raise
                    output = violation.output  # flagged for review, and the run goes on
                finally:
                    hop.record(**fake.last_usage)
                results[task_id] = output
                hop.record(output, confidence=output["confidence"])
        return self.synthesize(results, intent.goal_id)

    def synthesize(self, results: dict[str, Any], goal_id: str) -> dict[str, Any]:
        return {
            "goal_id": goal_id,
            "decision": results["approval-writer"]["decision"],
            "wrong": any(r["_wrong"] for r in results.values()),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("argus-traces/prior-auth-demo.jsonl"))
    parser.add_argument("--sample-rate", type=float, help="validation share on every hop")
    parser.add_argument("--error-scale", type=float, default=1.0, help="multiplies error rates")
    parser.add_argument("--review-share", type=float, default=0.25, help="runs a human reviews")
    parser.add_argument(
        "--on-violation",
        choices=("stop", "continue"),
        default="continue",
        help="flag a violating output and go on (never at a high-stakes hop), or stop the run",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    rng = random.Random(args.seed)
    clock = SimClock(EPOCH)
    tracer = WorkflowTracer(workflow_id="prior-auth-demo", path=args.out, clock=clock)
    specialists = {}
    for index, spec in enumerate(PIPELINE):
        ValidationContract.register(spec.task_id, contract_for(spec))
        agent = FakeAgent(spec, random.Random(args.seed * 100 + index), clock, args.error_scale)
        rate = spec.sample_rate if args.sample_rate is None else args.sample_rate
        specialists[spec.agent_type] = ValidatedAgent(
            agent, sample_rate=rate, tracer=tracer, seed=args.seed * 100 + 50 + index
        )
    supervisor = SupervisorAgent(
        specialists, tracer, seed=args.seed, stop_on_violation=args.on_violation == "stop"
    )

    failed = 0
    for number in range(args.runs):
        tracer.new_run(f"{rng.getrandbits(128):032x}")
        clock.advance(rng.expovariate(1 / 4000))
        template, constraints = GOALS[number % len(GOALS)]
        case = {"member_id": f"M-{rng.randrange(10**6):06d}", "deny": rng.random() < 0.15}
        try:
            final = supervisor.run(template.format(member=case["member_id"]), constraints, case)
        except (ContractViolation, *ERRORS):
            failed += 1  # caught: the run stops, and the trace says where
            continue
        if rng.random() < args.review_share:
            tracer.record_outcome(not final["wrong"], source="human", note="UM nurse review")
    report = tracer.finalize()
    print(report.summary())
    print(
        f"\nwrote {args.runs} runs ({failed} stopped by an error or a contract) to {tracer.path}"
        f"\nnext: argus report {tracer.path}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
