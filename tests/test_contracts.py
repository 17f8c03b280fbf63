"""Validation contracts and ValidatedAgent: violations, the registry, and honest sampling."""

from __future__ import annotations

import json
import math
import random

import pytest

from argus_cli import AgentTracer, ContractViolation, ValidatedAgent, ValidationContract
from argus_cli.analysis import analyse


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def tracer(tmp_path):
    return AgentTracer("w", path=tmp_path / "t.jsonl")


# --------------------------------------------------------------------------------------------
# Contracts


def test_contract_from_a_pydantic_model():
    pydantic = pytest.importorskip("pydantic")

    class Decision(pydantic.BaseModel):
        member_id: str
        approved: bool
        confidence: float = pydantic.Field(ge=0, le=1)

    contract = ValidationContract.from_model(Decision)
    assert contract.check({"member_id": "M1", "approved": True, "confidence": 0.9}) == []
    assert contract.check({"approved": "maybe", "confidence": 3}) == [
        "format:missing_field:member_id",
        "format:bool_parsing:approved",
        "format:less_than_equal:confidence",
    ]
    assert ValidationContract(Decision, category="schema").check({}) == [
        "schema:missing_field:member_id",
        "schema:missing_field:approved",
        "schema:missing_field:confidence",
    ]


def test_any_object_with_model_validate_is_a_model():
    class Strict:
        @classmethod
        def model_validate(cls, value):
            if not isinstance(value, dict):
                raise TypeError("not a dict")
            return value

    assert ValidationContract(Strict).check({}) == []
    assert ValidationContract(Strict).check([1]) == ["format:invalid:TypeError"]
    with pytest.raises(TypeError, match="has no model_validate"):
        ValidationContract.from_model(dict)


def test_contract_from_a_json_schema_dict():
    contract = ValidationContract.from_schema(
        {
            "type": "object",
            "required": ["member_id", "decision", "codes"],
            "properties": {
                "member_id": {"type": "string"},
                "decision": {"enum": ["approve", "deny"]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "codes": {"type": "array", "items": {"type": "string"}},
                "letter": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {"reason": {"type": ["string", "null"]}},
                },
                "count": {"type": "integer"},
            },
            "additionalProperties": False,
        }
    )
    good = {"member_id": "M1", "decision": "deny", "codes": ["A"], "letter": {"reason": None}}
    assert contract.check(good) == []
    bad = {
        "member_id": 7,
        "decision": "maybe",
        "confidence": 1.5,
        "codes": ["A", 3],
        "letter": {},
        "count": True,
        "extra": 1,
    }
    assert contract.check(bad) == [
        "format:wrong_type:member_id",
        "format:not_allowed:decision",
        "format:out_of_range:confidence",
        "format:wrong_type:codes[1]",
        "format:missing_field:letter.reason",
        "format:wrong_type:count",
        "format:unexpected_field:extra",
    ]
    assert contract.check("text") == ["format:wrong_type:output"]
    with pytest.raises(ValueError, match="unsupported JSON schema type"):
        ValidationContract({"type": "date"}).check("x")


def test_contract_from_the_shorthand_dict_of_required_keys_and_types():
    contract = ValidationContract(
        {"member_id": str, "amount": float, "count": int, "note": (str, None), "plan": {"id": str}}
    )
    assert contract.check({"member_id": "M", "amount": 3, "count": 2, "note": None,
                           "plan": {"id": "p"}}) == []  # fmt: skip
    assert contract.check({"member_id": 1, "amount": True, "count": 2.0, "plan": {}}) == [
        "format:wrong_type:member_id",
        "format:wrong_type:amount",
        "format:wrong_type:count",
        "format:missing_field:note",
        "format:missing_field:plan.id",
    ]
    assert contract.check(None) == ["format:wrong_type:output"]
    with pytest.raises(TypeError, match=r"schema\.member_id: expected a type"):
        ValidationContract({"member_id": "string"})


def test_contract_from_check_functions():
    def no_phi(output):
        return ["safety:phi_in_free_text"] if "SSN" in output.get("note", "") else []

    def has_reason(output):
        return None if output.get("reason") else "missing_reason"

    contract = ValidationContract.from_checks(no_phi, has_reason)
    assert contract.check({"reason": "r"}) == []
    assert contract.check({"note": "SSN 123"}) == [
        "safety:phi_in_free_text",
        "contract:missing_reason",
    ]
    with pytest.raises(TypeError, match="returned a bool"):
        ValidationContract(lambda _: True).check({})
    with pytest.raises(TypeError, match="must return strings"):
        ValidationContract(lambda _: [1]).check({})


def test_rules_mix_and_repeats_are_dropped():
    contract = ValidationContract({"a": int}, lambda o: ["format:missing_field:a", "x:y"])
    assert contract.check({}) == ["format:missing_field:a", "x:y"]
    nested = ValidationContract(contract, lambda o: "z")
    assert nested.check({}) == ["format:missing_field:a", "x:y", "format:z"]
    with pytest.raises(ValueError, match="at least one rule"):
        ValidationContract()
    with pytest.raises(TypeError, match="a contract rule is"):
        ValidationContract(42)


def test_registry_for_task():
    contract = ValidationContract.register("eligibility", {"member_id": str})
    try:
        assert ValidationContract.for_task("eligibility") is contract
        assert contract.check({}) == ["format:missing_field:member_id"]
        replacement = ValidationContract(lambda o: None)
        assert ValidationContract.register("eligibility", replacement) is replacement
        assert ValidationContract.for_task("eligibility") is replacement
    finally:
        ValidationContract.unregister("eligibility")
    with pytest.raises(KeyError, match=r"register\('eligibility', contract\)"):
        ValidationContract.for_task("eligibility")


# --------------------------------------------------------------------------------------------
# ValidatedAgent


def must_be_positive(output):
    return [] if output["value"] > 0 else ["math:not_positive"]


def test_every_execution_is_recorded_validated_or_not(tracer):
    agent = ValidatedAgent(lambda p: {"value": p["x"]}, ValidationContract(must_be_positive),
                           sample_rate=0.5, tracer=tracer, seed=1)  # fmt: skip
    for x in range(1, 41):
        assert agent.run({"x": x}, "scorer") == {"value": x}
    records = lines(tracer.path)
    assert len(records) == 40 == agent.executions
    assert sum(r["validated"] for r in records) == agent.validations
    assert 0 < agent.validations < 40
    assert all(r["violations"] == [] for r in records if r["validated"])
    assert all("violations" not in r for r in records if not r["validated"])
    assert {r["agent"] for r in records} == {"<lambda>"}


def test_a_violation_is_recorded_then_raised(tracer):
    agent = ValidatedAgent(lambda p: {"value": -1}, ValidationContract(must_be_positive),
                           sample_rate=1.0, tracer=tracer)  # fmt: skip
    with pytest.raises(ContractViolation, match=r"hop scorer: \['math:not_positive'\]") as info:
        agent.run({"x": 1}, "scorer")
    assert info.value.violations == ["math:not_positive"] and info.value.hop_id == "scorer"
    assert info.value.output == {"value": -1}
    [record] = lines(tracer.path)
    # The hop did its work and reported success; the contract found it wrong (SPEC 2).
    assert (record["status"], record["validated"], record["violations"]) == (
        "success",
        True,
        ["math:not_positive"],
    )
    report = analyse([str(tracer.path)], quiet=True)
    assert report.workflows[0].hops[0].silent_error_rate == 1.0


def test_an_agent_exception_is_an_error_hop(tracer):
    def broken(_):
        raise ConnectionError("reset")

    agent = ValidatedAgent(broken, ValidationContract(must_be_positive), tracer=tracer)
    with pytest.raises(ConnectionError):
        agent.run({}, "scorer")
    [record] = lines(tracer.path)
    assert (record["status"], record["error"], record["validated"]) == (
        "error",
        "ConnectionError: reset",
        False,
    )


def test_sampling_rate_is_within_its_binomial_bounds_and_high_stakes_always(tracer):
    n, rate = 4_000, 0.15
    rng = random.Random(3)
    agent = ValidatedAgent(lambda p: {"value": 1}, ValidationContract(must_be_positive),
                           sample_rate=rate, tracer=tracer, seed=42)  # fmt: skip
    stakes = [rng.random() < 0.1 for _ in range(n)]
    for i, high in enumerate(stakes):
        payload = {"i": i, "high_stakes": True} if high and i % 2 else {"i": i}
        agent.run(payload, "decider", high_stakes=True if high and not i % 2 else None)
    records = lines(tracer.path)
    assert len(records) == n
    high_records = [r for r in records if r["high_stakes"]]
    assert len(high_records) == sum(stakes)
    assert all(r["validated"] for r in high_records)  # 100% at high-stakes points
    standard = [r for r in records if not r["high_stakes"]]
    k, m = sum(r["validated"] for r in standard), len(standard)
    sigma = math.sqrt(m * rate * (1 - rate))
    assert abs(k - m * rate) <= 4 * sigma, (k, m)
    report = analyse([str(tracer.path)], quiet=True)
    assert report.workflows[0].hops[0].high_stakes_unvalidated == 0


def test_sampling_is_unbiased_so_the_silent_error_estimate_is_honest(tracer):
    """A sampled check must not depend on the output: the estimate then matches the truth."""
    truth, rate, n = 0.2, 0.3, 3_000
    world = random.Random(11)

    def flaky(_):
        return {"value": -1 if world.random() < truth else 1}

    agent = ValidatedAgent(flaky, ValidationContract(must_be_positive), sample_rate=rate,
                           tracer=tracer, seed=5)  # fmt: skip
    caught = 0
    for i in range(n):
        tracer.new_run()
        try:
            agent.run({"i": i}, "flaky")
        except ContractViolation:
            caught += 1
    hop = analyse([str(tracer.path)], quiet=True).workflows[0].hops[0]
    assert hop.checked == agent.validations and hop.wrong == caught
    sigma = math.sqrt(truth * (1 - truth) / hop.checked)
    assert abs(hop.silent_error_rate - truth) <= 4 * sigma
    assert abs(hop.validation_coverage - rate) <= 4 * math.sqrt(rate * (1 - rate) / n)


def test_the_same_seed_validates_the_same_executions(tmp_path):
    picks = []
    for name in ("a", "b"):
        tracer = AgentTracer("w", path=tmp_path / f"{name}.jsonl")
        agent = ValidatedAgent(lambda p: {"value": 1}, ValidationContract(must_be_positive),
                               tracer=tracer, seed=99)  # fmt: skip
        for i in range(200):
            agent.run({"i": i}, "h")
        picks.append([r["validated"] for r in lines(tracer.path)])
    assert picks[0] == picks[1]


def test_run_with_validation_records_onto_the_open_hop(tracer):
    contract = ValidationContract(must_be_positive)
    agent = ValidatedAgent(lambda ctx: {"value": ctx["x"]}, sample_rate=0.0, tracer=tracer)
    with tracer.hop("task", high_stakes=True) as hop:
        output = agent.run_with_validation({"x": 5}, contract)
        hop.record(output, confidence=0.9)
    with pytest.raises(ContractViolation), tracer.hop("task2"):
        agent.run_with_validation({"x": -5, "high_stakes": True}, contract)
    first, second = lines(tracer.path)
    assert first["validated"] is True and first["violations"] == []  # high-stakes hop
    assert first["confidence"] == 0.9 and first["agent"] == "<lambda>"
    assert (second["status"], second["violations"]) == ("success", ["math:not_positive"])
    with pytest.raises(RuntimeError, match=r"inside `with tracer\.hop"):
        agent.run_with_validation({"x": 1}, contract)
    with tracer.hop("t3"), pytest.raises(ValueError, match="has no contract"):
        agent.run_with_validation({"x": 1})


def test_a_contract_violation_escaping_an_outer_hop_is_an_error_there(tracer):
    agent = ValidatedAgent(lambda p: {"value": -1}, ValidationContract(must_be_positive),
                           sample_rate=1.0, tracer=tracer)  # fmt: skip
    with pytest.raises(ContractViolation), tracer.hop("supervisor"):
        agent.run({}, "worker")
    worker, supervisor = lines(tracer.path)
    assert worker["status"] == "success" and worker["parent_id"] == supervisor["span_id"]
    assert supervisor["status"] == "error" and supervisor["error"].startswith("ContractViolation")


def test_a_childs_violation_is_its_callers_error_even_when_the_caller_was_checked(tracer):
    """Only the hop whose output broke the contract is wrong; a caller it leaves is in error,
    whatever violations the caller recorded of its own (the exception names the child's span)."""
    agent = ValidatedAgent(lambda p: {"value": -1}, ValidationContract(must_be_positive),
                           sample_rate=1.0, tracer=tracer)  # fmt: skip
    with pytest.raises(ContractViolation) as info, tracer.hop("supervisor") as supervisor:
        supervisor.record(validated=True, violations=["format:late"])
        agent.run({}, "worker")
    worker, outer = lines(tracer.path)
    assert info.value.span_id == worker["span_id"] != outer["span_id"]
    assert (worker["status"], worker["violations"]) == ("success", ["math:not_positive"])
    assert (outer["status"], outer["violations"]) == ("error", ["format:late"])
    assert outer["error"].startswith("ContractViolation: hop worker")


def test_sample_rate_must_be_a_share(tracer):
    for bad in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="sample_rate"):
            ValidatedAgent(lambda p: p, ValidationContract(must_be_positive), bad, tracer=tracer)
