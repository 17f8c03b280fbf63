"""The seed article's code examples, run as written with `argus_ai` renamed to `argus_cli`.

The article (`seed/argus-multi-agent-blog.txt` beside SPEC.md) lost its indentation and its
`__init__` underscores in publishing; they are restored here, and nothing else is changed. Where
a snippet uses a name it never defines (`random`, `ContractViolation`, `hashlib`, the agents and
the supervisor's `decompose`/`synthesize`), the test supplies it, in plain sight, around the
snippet rather than inside it.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis_server import redis_url  # noqa: F401 - a fixture

from argus_cli import ValidatedAgent, ValidationContract
from argus_cli.analysis import analyse
from argus_cli.schema import intent_checksum


def run_snippet(source: str, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    exec(compile(textwrap.dedent(source), "<article>", "exec"), namespace)
    return namespace


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """The article's tracers write to the default argus-traces/ folder: keep it in tmp."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARGUS_TRACE_PATH", raising=False)
    yield
    ValidationContract.unregister("eligibility")
    ValidationContract.unregister("clinical")


RELIABILITY_MATH = """
    import math

    def end_to_end_reliability(agent_reliability: float, num_agents: int) -> float:
        return math.pow(agent_reliability, num_agents)

    # What most teams are actually deploying
    print(end_to_end_reliability(0.85, 5)) # → 0.4437
    print(end_to_end_reliability(0.90, 5)) # → 0.5905
    print(end_to_end_reliability(0.97, 5)) # → 0.8587

    # The target you need before orchestrating
    print(end_to_end_reliability(0.99, 5)) # → 0.9510
"""


def test_the_math_that_kills_multi_agent_systems(capsys):
    run_snippet(RELIABILITY_MATH)
    printed = [round(float(x), 4) for x in capsys.readouterr().out.split()]
    assert printed == [0.4437, 0.5905, 0.8587, 0.951]


VALIDATED_AGENT = """
    from argus_cli import AgentTracer, ValidationContract

    tracer = AgentTracer(workflow_id="rcm-prior-auth-v2")

    class ValidatedAgent:
        def __init__(self, agent_fn, contract: ValidationContract, sample_rate=0.15):
            self.agent = agent_fn
            self.contract = contract
            self.sample_rate = sample_rate

        def run(self, input_payload: dict, hop_id: str) -> dict:
            output = self.agent(input_payload)

            # Sample 15% of hops for deep validation
            # 100% validation on high-stakes decision points
            should_validate = (
                random.random() < self.sample_rate
                or input_payload.get("high_stakes", False)
            )

            if should_validate:
                violations = self.contract.check(output)
                tracer.record_hop(
                    hop_id=hop_id,
                    input=input_payload,
                    output=output,
                    violations=violations,
                    validated=True
                )
                if violations:
                    raise ContractViolation(f"hop {hop_id}: {violations}")
            else:
                tracer.record_hop(hop_id=hop_id, input=input_payload,
                                  output=output, validated=False)

            return output
"""


def test_failure_mode_1_validated_agent(tmp_path):
    namespace = run_snippet(
        "import random\nfrom argus_cli import ContractViolation\n"  # the article omits these
        + textwrap.dedent(VALIDATED_AGENT)
    )
    namespace["random"].seed(4)

    def eligibility(payload: dict) -> dict:
        return {"member_id": payload["member_id"], "eligible": payload["member_id"] != "M-bad"}

    def eligible(output: dict) -> list[str]:
        return [] if output["eligible"] else ["eligibility:coverage_mismatch"]

    contract = ValidationContract({"member_id": str, "eligible": bool}, eligible)
    agent = namespace["ValidatedAgent"](eligibility, contract)
    for n in range(200):
        agent.run({"member_id": f"M-{n}"}, "eligibility-checker")
    assert agent.run({"member_id": "M-9", "high_stakes": True}, "eligibility-checker")
    with pytest.raises(namespace["ContractViolation"], match="coverage_mismatch"):
        agent.run({"member_id": "M-bad", "high_stakes": True}, "eligibility-checker")

    trace = tmp_path / "argus-traces" / "rcm-prior-auth-v2.jsonl"
    written = records(trace)
    assert len(written) == 202  # every hop recorded, validated or not
    assert written[-1]["violations"] == ["eligibility:coverage_mismatch"]
    assert written[-2]["validated"] and written[-1]["validated"]
    sampled = sum(r["validated"] for r in written[:200])
    assert 10 <= sampled <= 50  # 15% of 200, with room
    hop = analyse([str(trace)], quiet=True).workflows[0].hops[0]
    assert (hop.executions, hop.validated, hop.wrong) == (202, sampled + 2, 1)


SHARED_STATE = """
    from argus_cli import SharedStateStore, StateContract
    from pydantic import BaseModel
    from typing import Optional
    import hashlib

    class WorkflowIntent(BaseModel):
        \"\"\"The original goal. Immutable after creation.\"\"\"
        goal_id: str
        original_prompt: str
        compliance_constraints: list[str]
        created_at: str
        checksum: str # sha256 of original_prompt + constraints

    class AgentWriteContract(BaseModel):
        \"\"\"What each agent is allowed to write.\"\"\"
        agent_id: str
        allowed_write_keys: list[str]
        forbidden_write_keys: list[str] = ["original_intent", "goal_id"]

    store = SharedStateStore(backend="redis")

    def write_with_contract(
        agent_id: str,
        key: str,
        value: any,
        contract: AgentWriteContract
    ) -> None:
        if key in contract.forbidden_write_keys:
            raise PermissionError(
                f"Agent {agent_id} attempted to overwrite protected key: {key}"
            )
        if key not in contract.allowed_write_keys:
            raise PermissionError(
                f"Agent {agent_id} attempted to write undeclared key: {key}"
            )
        store.set(key, value, written_by=agent_id)
"""


def test_failure_mode_2_shared_state_with_write_contracts(redis_url, monkeypatch):  # noqa: F811
    pytest.importorskip("pydantic")
    monkeypatch.setenv("ARGUS_REDIS_URL", redis_url)  # `SharedStateStore(backend="redis")`
    namespace = run_snippet(SHARED_STATE)
    store = namespace["store"]
    try:
        goal_id = f"goal-{uuid.uuid4().hex}"
        intent = store.write_intent("Prior auth for MRI", ["no PHI in free text"], goal_id=goal_id)
        model = namespace["WorkflowIntent"](
            goal_id=intent.goal_id,
            original_prompt=intent.goal,
            compliance_constraints=list(intent.constraints),
            created_at=intent.created_at,
            checksum=intent.checksum,
        )
        assert model.checksum == intent_checksum("Prior auth for MRI", ["no PHI in free text"])
        with pytest.raises(PermissionError):  # write-once, whoever tries
            store.write_intent("Prior auth for CT", [], goal_id=goal_id)

        write = namespace["write_with_contract"]
        contract = namespace["AgentWriteContract"](agent_id="coder", allowed_write_keys=["codes"])
        write("coder", "codes", ["M54.5"], contract)
        assert store.get("codes") == ["M54.5"] and store.entry("codes").written_by == "coder"
        with pytest.raises(PermissionError, match="overwrite protected key: original_intent"):
            write("coder", "original_intent", "a new goal", contract)
        with pytest.raises(PermissionError, match="write undeclared key: notes"):
            write("coder", "notes", "x", contract)
        # The library's own check gives the same answers for the article's pydantic contract.
        with pytest.raises(PermissionError, match="overwrite protected key: goal_id"):
            store.write_with_contract("coder", "goal_id", "g", contract)
        assert namespace["StateContract"](agent_id="a", allowed_write_keys=["k"]).check("k") is None
    finally:
        store.close()


WORKFLOW_TRACER = """
    from argus_cli import WorkflowTracer, GARVISScorer

    # Initialize once per workflow run
    tracer = WorkflowTracer(
        workflow_id="prior-auth-batch-20260408",
        g_arvis_dimensions=["groundedness", "accuracy", "reliability",
                            "variance", "inference_cost", "safety"]
    )

    # Each agent wraps its execution
    with tracer.hop("parser", metadata={"model": "claude-sonnet-4-6"}) as hop:
        result = parser_agent.run(document)
        hop.record(
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            confidence=result.confidence,
            output_hash=hashlib.sha256(
                str(result.output).encode()
            ).hexdigest()
        )

    # After workflow completes — full trace available
    report = tracer.finalize()
    print(report.end_to_end_success_rate) # 0.943
    print(report.weakest_hop) # "validator" — 84.2% pass rate
    print(report.g_arvis_scores) # per-dimension scores
    print(report.cascade_risk_score) # probability of undetected cascade
"""


@dataclass
class ParseResult:
    output: dict
    input_tokens: int
    output_tokens: int
    confidence: float


class ParserAgent:
    def run(self, document: str) -> ParseResult:
        return ParseResult({"member_id": "M-1", "text": document}, 5200, 310, 0.93)


def test_failure_mode_3_workflow_tracing_with_g_arvis(tmp_path, capsys):
    import hashlib

    namespace = run_snippet(
        WORKFLOW_TRACER,
        {"hashlib": hashlib, "parser_agent": ParserAgent(), "document": "referral.pdf"},
    )
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "1.0"
    assert printed[1] == '"parser" — 100.0% pass rate'
    assert json.loads(printed[2].replace("None", "null").replace("'", '"')) == {
        "groundedness": None,
        "accuracy": None,
        "reliability": 1.0,
        "variance": None,
        "inference_cost": None,
        "safety": None,
        "g_arvis": 1.0,
    }
    assert printed[3] == "0.0"
    [record] = records(tmp_path / "argus-traces" / "prior-auth-batch-20260408.jsonl")
    assert record["metadata"] == {"model": "claude-sonnet-4-6"}
    assert (record["input_tokens"], record["output_tokens"], record["confidence"]) == (
        5200,
        310,
        0.93,
    )
    assert namespace["GARVISScorer"]().score(namespace["tracer"])["reliability"] == 1.0


SUPERVISOR = """
    from argus_cli import (
        AgentTracer, SharedStateStore,
        WorkflowTracer, ValidationContract
    )

    class SupervisorAgent:
        def __init__(self, specialists: dict, tracer: WorkflowTracer):
            self.specialists = specialists
            self.tracer = tracer
            self.store = SharedStateStore()

        def run(self, goal: str, constraints: list[str]) -> dict:
            # Write intent once — immutable
            intent = self.store.write_intent(goal, constraints)

            # Decompose
            subtasks = self.decompose(goal)

            results = {}
            for task_id, task in subtasks.items():
                agent = self.specialists[task.agent_type]
                contract = ValidationContract.for_task(task_id)

                with self.tracer.hop(task_id) as hop:
                    # Agent always reads original intent from store
                    context = {
                        "task": task,
                        "original_intent": self.store.get_intent(intent.goal_id),
                        "prior_results": results # only pass, never overwrite
                    }
                    output = agent.run_with_validation(context, contract)
                    results[task_id] = output
                    hop.record(output)

            return self.synthesize(results, intent)
"""


@dataclass
class Task:
    agent_type: str
    description: str


def test_the_minimal_production_ready_loop(tmp_path):
    namespace = run_snippet(SUPERVISOR)
    tracer = namespace["WorkflowTracer"](workflow_id="prior-auth", path=tmp_path / "loop.jsonl")

    class Supervisor(namespace["SupervisorAgent"]):
        """The two methods the article leaves to the reader."""

        def decompose(self, goal: str) -> dict:
            return {
                "eligibility": Task("eligibility", f"check coverage: {goal}"),
                "clinical": Task("clinical", f"review criteria: {goal}"),
            }

        def synthesize(self, results: dict, intent) -> dict:
            return {"goal_id": intent.goal_id, "decision": results["clinical"]["decision"]}

    def eligibility_agent(context: dict) -> dict:
        assert context["original_intent"].goal.startswith("Prior auth")
        return {"eligible": True}

    def clinical_agent(context: dict) -> dict:
        assert context["prior_results"]["eligibility"] == {"eligible": True}
        return {"decision": "approve"}

    ValidationContract.register("eligibility", {"eligible": bool})
    ValidationContract.register("clinical", {"decision": str})
    specialists = {
        "eligibility": ValidatedAgent(eligibility_agent, sample_rate=1.0, tracer=tracer),
        "clinical": ValidatedAgent(clinical_agent, sample_rate=0.0, tracer=tracer),
    }
    final = Supervisor(specialists, tracer).run("Prior auth for MRI", ["no PHI in free text"])
    assert final["decision"] == "approve"

    written = records(tmp_path / "loop.jsonl")
    assert [(r["hop_id"], r["seq"], r["validated"]) for r in written] == [
        ("eligibility", 1, True),
        ("clinical", 2, False),
    ]
    checksum = intent_checksum("Prior auth for MRI", ["no PHI in free text"])
    assert {r["intent_checksum"] for r in written} == {checksum}  # every agent read the intent
    report = tracer.finalize()
    assert report.end_to_end_success_rate == 1.0
    assert report.workflows[0].drift.unanchored_hops == 0


SMOKE_TEST = """
    # Minimal smoke test
    from argus_cli import AgentTracer

    tracer = AgentTracer(workflow_id="test-001")
    with tracer.hop("my-first-agent") as hop:
        output = {"result": "hello", "confidence": 0.94}
        hop.record(output=output, confidence=0.94)
    print(tracer.finalize().summary())
"""


def test_install_and_try_it(capsys, tmp_path):
    run_snippet(SMOKE_TEST)
    summary = capsys.readouterr().out
    assert summary.startswith("argus · workflow test-001 · 1 runs, 1 hop executions")
    assert "end-to-end success  100.0% observed" in summary
    assert (tmp_path / "argus-traces" / "test-001.jsonl").exists()


def test_the_issues_own_example(tmp_path, capsys):
    run_snippet(
        """
        from argus_cli import (AgentTracer, WorkflowTracer, ValidationContract,
                               ContractViolation, SharedStateStore)

        tracer = AgentTracer(workflow_id="test-001", path="traces/test.jsonl")
        with tracer.hop("my-first-agent") as hop:
            output = {"result": "hello", "confidence": 0.94}
            hop.record(output=output, confidence=0.94)
        print(tracer.finalize().summary())
        """
    )
    assert "1 runs, 1 hop executions · traces/test.jsonl" in capsys.readouterr().out
