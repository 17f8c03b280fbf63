"""`argus trace` and `argus runs` on a tree trace, end to end (SPEC 3.1 and 3.2).

One run: triage calls billing, which calls lookup_invoice twice (the first times out and billing
retries: a handled error) and policy_check (a wrong answer: the origin); the responder answers
at top level. By SPEC 3.2 the blast radius is billing and triage (the origin's callers, which
reported success) and the responder (after it, not called by it): 3. The responder answered at
0.9, so the run is an observed cascade.

Run ids as OpenTelemetry writes them: argus keeps a trace id in lower-case hex; protobuf's JSON
writes the same 16 bytes in base64, and `argus trace` takes either.
"""

from __future__ import annotations

import base64
import json

from goldens import ANSI, check_golden
from tracebook import write_jsonl

from argus_cli.cli import app

RUN = "4bf92f3577b34da6a3ce929d0e0e4736"
RUN_B64 = base64.b64encode(bytes.fromhex(RUN)).decode()  # "S/kvNXezTaajzpKdDg5HNg=="


def tree_records() -> list[dict]:
    def hop(seq: int, hop_id: str, parent: int | None, **extra: object) -> dict:
        record = {
            "run_id": RUN,
            "workflow_id": "support",
            "hop_id": hop_id,
            "seq": seq,
            "span_id": f"s{seq}",
            "parent_id": None if parent is None else f"s{parent}",
        }
        record.update(extra)
        return record

    traceback = (
        "Traceback (most recent call last):\n"
        '  File "tools.py", line 12, in lookup\n'
        "TimeoutError: invoice service answered 504"
    )
    return [
        hop(1, "triage", None),
        hop(2, "billing", 1, metadata={"child_errors": 1}),
        hop(3, "lookup_invoice", 2, status="error", error=traceback),
        hop(4, "lookup_invoice", 2),
        hop(5, "policy_check", 2, validated=True, violations=["policy:refund_limit"]),
        hop(6, "responder", None, confidence=0.9),
    ]


def test_trace_draws_a_tree_trace(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "tree.jsonl", tree_records()))
    result = runner.invoke(app, ["trace", path, RUN])
    assert result.exit_code == 0, result.output
    assert not ANSI.search(result.stdout)
    check_golden("trace_tree_cli.txt", result.stdout)
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"run {RUN} · support · failed at policy_check",
        "blast radius 3 · observed cascade · 1 error handled by callers",
    ]
    assert "TimeoutError: invoice service answered 504) handled by its caller" in result.stdout
    assert "Traceback" not in result.stdout


def test_trace_json_has_the_tree_flags_and_child_errors(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "tree.jsonl", tree_records()))
    data = json.loads(runner.invoke(app, ["trace", path, RUN, "--json"]).stdout)
    hops = {h["position"]: h for h in data["hops"]}
    assert [hops[p]["parent_position"] for p in range(1, 7)] == [None, 1, 2, 2, 2, None]
    assert [p for p in hops if hops[p]["handled"]] == [3]
    assert [p for p in hops if hops[p]["is_origin"]] == [5]
    assert [p for p in hops if hops[p]["in_blast_radius"]] == [1, 2, 6]
    assert [p for p in hops if hops[p]["is_final"]] == [6]
    assert [hops[p]["child_errors"] for p in range(1, 7)] == [None, 1, None, None, None, None]
    assert data["run"]["final_hop"] == "responder"


def test_runs_json_keeps_its_keys_and_adds_the_final_hop(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "tree.jsonl", tree_records()))
    (row,) = json.loads(runner.invoke(app, ["runs", path, "--json"]).stdout)
    assert {
        k: row[k]
        for k in ("run_id", "failed", "origin_hop", "blast_radius", "observed_cascade", "final_hop")
    } == {
        "run_id": RUN,
        "failed": True,
        "origin_hop": "policy_check",
        "blast_radius": 3,
        "observed_cascade": True,
        "final_hop": "responder",
    }
    table = runner.invoke(app, ["runs", path]).stdout
    assert "handled" in table  # the run has a handled error: the column shows it


def test_trace_takes_a_run_id_in_protobuf_base64_or_upper_case_hex(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "tree.jsonl", tree_records()))
    assert RUN_B64 == "S/kvNXezTaajzpKdDg5HNg=="
    for given in (RUN_B64, RUN_B64.rstrip("="), RUN.upper()):
        result = runner.invoke(app, ["trace", path, given, "--json"])
        assert result.exit_code == 0, (given, result.output)
        assert json.loads(result.stdout)["run"]["run_id"] == RUN


def test_an_absent_base64_run_id_is_named_with_its_hex_form(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "tree.jsonl", tree_records()))
    other = base64.b64encode(bytes(16)).decode()
    result = runner.invoke(app, ["trace", path, other])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(
        f"argus: error: run '{other}' (as hex: {'0' * 32}) is not in {path}"
    )
