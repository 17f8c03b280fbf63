"""The shared state store: write-once intent on every backend, contract-checked writes, drift."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid

import pytest
from redis_server import redis_url  # noqa: F401 - a fixture

from argus_cli import (
    AgentTracer,
    AgentWriteContract,
    Intent,
    IntentConflict,
    SharedStateStore,
    StateContract,
)
from argus_cli.analysis import analyse
from argus_cli.schema import intent_checksum

GOAL = "Prior authorisation für MRT — patient naïve"
CONSTRAINTS = ["HIPAA minimum necessary", "decision within 72h"]


@pytest.fixture(params=["memory", "file", "redis"])
def make_store(request, tmp_path):
    """A factory of stores that share one state (one file, one Redis namespace)."""
    backend = request.param
    options: dict = {}
    if backend == "file":
        options["path"] = tmp_path / "state.json"
    elif backend == "redis":
        options["url"] = request.getfixturevalue("redis_url")
        options["namespace"] = f"test-{uuid.uuid4().hex}"
    stores: list[SharedStateStore] = []
    memory: list[SharedStateStore] = []

    def make(**extra) -> SharedStateStore:
        if backend == "memory" and memory:  # one process: share the backend object
            store = SharedStateStore(memory[0].backend, **extra)
        else:
            store = SharedStateStore(backend, **options, **extra)
            memory.append(store)
        stores.append(store)
        return store

    make.backend = backend
    make.options = options
    yield make
    for store in stores:
        store.close()


def test_write_intent_returns_the_spec_checksum(make_store):
    store = make_store(goal_id="g1")
    intent = store.write_intent(GOAL, CONSTRAINTS)
    assert isinstance(intent, Intent)
    assert intent.goal_id == "g1" and intent.goal == GOAL
    assert intent.constraints == tuple(CONSTRAINTS)
    assert intent.intent_checksum == intent.checksum == intent_checksum(GOAL, CONSTRAINTS)
    assert intent.created_at.endswith("Z")
    assert store.get_intent("g1") == intent == store.get_intent()


def test_intent_is_write_once_and_idempotent(make_store):
    first = make_store(goal_id="g1")
    other = make_store(goal_id="g1")  # another agent (or process) on the same state
    intent = first.write_intent(GOAL, CONSTRAINTS)
    assert other.write_intent(GOAL, list(CONSTRAINTS)) == intent  # the same again: a no-op
    with pytest.raises(IntentConflict, match=r"g1 already has an intent .* write-once"):
        other.write_intent(GOAL + " (expedited)", CONSTRAINTS)
    with pytest.raises(PermissionError):  # IntentConflict is a PermissionError
        first.write_intent(GOAL, CONSTRAINTS[:-1])
    assert other.get_intent("g1") == intent
    assert other.write_intent("another goal", [], goal_id="g2").goal == "another goal"


def test_protected_keys_cannot_be_set(make_store):
    store = make_store()
    for key in ("original_intent", "goal_id"):
        with pytest.raises(PermissionError, match=f"{key} is write-once"):
            store.set(key, "hijacked", written_by="rogue")


def test_set_get_and_who_wrote_it(make_store):
    store = make_store()
    reader = make_store()
    store.set("eligibility", {"eligible": True, "plan": "gold"}, written_by="eligibility-agent")
    assert reader.get("eligibility") == {"eligible": True, "plan": "gold"}
    entry = reader.entry("eligibility")
    assert entry is not None and entry.written_by == "eligibility-agent"
    assert reader.get("missing", "default") == "default" and reader.entry("missing") is None
    with pytest.raises(TypeError, match="must be JSON"):
        store.set("bad", {1, 2})


def test_write_contracts_refuse_forbidden_and_undeclared_keys(make_store):
    store = make_store()
    contract = AgentWriteContract(agent_id="coder", allowed_write_keys=["codes"])
    assert contract.forbidden_write_keys == ("original_intent", "goal_id")
    assert StateContract is AgentWriteContract
    store.write_with_contract("coder", "codes", ["M54.5"], contract)
    assert store.entry("codes").written_by == "coder"
    with pytest.raises(
        PermissionError, match="Agent coder attempted to overwrite protected key: original_intent"
    ):
        store.write_with_contract("coder", "original_intent", "new goal", contract)
    with pytest.raises(PermissionError, match="Agent coder attempted to write undeclared key: x"):
        store.write_with_contract("coder", "x", 1, contract)
    sneaky = AgentWriteContract("coder", allowed_write_keys=["goal_id"])
    with pytest.raises(PermissionError, match="overwrite protected key: goal_id"):
        store.write_with_contract("coder", "goal_id", "g", sneaky)
    with pytest.raises(PermissionError, match="Agent intruder used the write contract of"):
        store.write_with_contract("intruder", "codes", [], contract)
    with pytest.raises(PermissionError, match="undeclared key: y"):
        contract.check("y")
    with pytest.raises(TypeError, match="list of keys"):
        AgentWriteContract("a", allowed_write_keys="codes")


def test_with_a_tracer_each_run_has_its_intent_and_hops_record_what_they_read(tmp_path, make_store):
    tracer = AgentTracer("w", path=tmp_path / "t.jsonl")
    store = make_store(tracer=tracer)
    for run in range(3):
        tracer.new_run(f"run{run}")
        intent = store.write_intent(GOAL, CONSTRAINTS)  # goal id: the run id
        assert intent.goal_id == f"run{run}"
        assert store.write_intent(GOAL, CONSTRAINTS) == intent  # no second intent record
        with tracer.hop("reader"):
            assert store.get_intent() == intent
        with tracer.hop("drifted") as hop:
            hop.record(intent_checksum=intent_checksum(GOAL, CONSTRAINTS[:1]))
            store.get_intent()  # an explicit checksum is not overwritten
        with tracer.hop("unanchored"):
            pass
    records = [json.loads(line) for line in tracer.path.read_text().splitlines()]
    intents = [r for r in records if r["kind"] == "intent"]
    assert [(r["run_id"], r["goal_id"]) for r in intents] == [(f"run{n}",) * 2 for n in range(3)]
    reader = next(r for r in records if r.get("hop_id") == "reader")
    assert reader["intent_checksum"] == intent_checksum(GOAL, CONSTRAINTS)
    drift = analyse([str(tracer.path)], quiet=True).workflows[0].drift
    assert (drift.drifted_hops, drift.unanchored_hops, drift.conflicting_intents) == (3, 3, 0)
    assert drift.drift_rate == 0.5


def test_get_intent_before_write_is_a_clear_error(make_store):
    with pytest.raises(KeyError, match="no intent written for goal nope"):
        make_store().get_intent("nope")


RACE = textwrap.dedent(
    """
    import json, sys, time
    from argus_cli import SharedStateStore, IntentConflict

    backend, where, namespace, n, start = sys.argv[1:6]
    options = {"path": where} if backend == "file" else {"url": where, "namespace": namespace}
    store = SharedStateStore(backend, goal_id="shared", **options)
    while time.time() < float(start):
        pass
    try:
        intent = store.write_intent(f"goal from writer {n}", ["c"])
        print(json.dumps({"n": n, "won": intent.goal == f"goal from writer {n}",
                          "goal": intent.goal}))
    except IntentConflict:
        print(json.dumps({"n": n, "won": False, "goal": store.get_intent().goal}))
    store.set(f"result-{n}", n, written_by=f"writer-{n}")
    store.close()
    """
)


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_eight_processes_race_to_write_the_intent_and_exactly_one_wins(backend, tmp_path, request):
    if backend == "file":
        where, namespace = str(tmp_path / "state.json"), ""
    else:
        where, namespace = request.getfixturevalue("redis_url"), f"race-{uuid.uuid4().hex}"
    import time

    start = str(time.time() + 1.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, backend, where, namespace, str(n), start],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(8)
    ]
    results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    winners = [r for r in results if r["won"]]
    assert len(winners) == 1
    assert {r["goal"] for r in results} == {winners[0]["goal"]}  # everyone reads the winner's
    options = {"path": where} if backend == "file" else {"url": where, "namespace": namespace}
    with SharedStateStore(backend, goal_id="shared", **options) as store:
        assert store.get_intent().goal == winners[0]["goal"]
        assert [store.get(f"result-{n}") for n in range(8)] == [str(n) for n in range(8)]


def test_file_backend_needs_a_path_and_refuses_a_foreign_file(tmp_path, monkeypatch):
    monkeypatch.delenv("ARGUS_STATE_PATH", raising=False)
    with pytest.raises(ValueError, match="backend='file' needs path="):
        SharedStateStore("file")
    monkeypatch.setenv("ARGUS_STATE_PATH", str(tmp_path / "env.json"))
    SharedStateStore("file").set("k", 1)
    assert json.loads((tmp_path / "env.json").read_text())["values"]["k"]
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(ValueError, match="not a shared state file"):
        SharedStateStore("file", path=bad).get("k")
    with pytest.raises(ValueError, match="unknown backend 'sqlite'"):
        SharedStateStore("sqlite")  # type: ignore[arg-type]


def test_redis_backend_uses_set_nx_under_its_namespace(redis_url):  # noqa: F811
    import redis

    namespace = f"ns-{uuid.uuid4().hex}"
    with SharedStateStore("redis", url=redis_url, namespace=namespace, goal_id="g") as store:
        intent = store.write_intent(GOAL, CONSTRAINTS)
        store.set("k", [1, 2], written_by="a")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        stored = json.loads(client.get(f"{namespace}:intent:g"))
        assert stored["intent_checksum"] == intent.intent_checksum
        assert client.ttl(f"{namespace}:intent:g") == -1  # no expiry: write-once for good
        assert json.loads(client.get(f"{namespace}:value:k"))["value"] == [1, 2]
        # A client of the caller's own (decode_responses=True gives str, not bytes) works too.
        store = SharedStateStore("redis", client=client, namespace=namespace, goal_id="g")
        assert store.get_intent() == intent and store.get("k") == [1, 2]
    finally:
        client.close()


def test_redis_url_from_the_environment(redis_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ARGUS_REDIS_URL", redis_url)
    with SharedStateStore(backend="redis", namespace=f"env-{uuid.uuid4().hex}") as store:
        assert store.write_intent("g", []).goal == "g"
