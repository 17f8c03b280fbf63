"""SPEC v2 on a run tree: every number of a small support-desk trace worked out by hand.

Workflow `desk`. A router hands each run to ONE specialist (billing or tech: alternative
routes); the specialist calls tools and a reviewer sub-agent below it; a responder (top level)
gives the answer. Positions are the seq numbers; `<-` names the caller (parent_id).

    R1 billing, clean:     router1  billing2  lookup3<-billing  reviewer4<-billing (validated,
                           clean)  responder5 (validated, clean, conf 0.9)
    R2 billing, retried:   router1  billing2  lookup3<-billing ERROR (handled: billing went on)
                           lookup4<-billing  reviewer5<-billing  responder6 (conf 0.9)
    R3 tech, error up two callers: router1  tech2 ERROR  diagnose3<-tech ERROR
                           kb_search4<-diagnose ERROR (the origin: innermost); no responder
    R4 tech, guardrail trip: router1  tech2  diagnose3<-tech  responder4 ERROR
                           (OutputGuardrailTripwireTriggered, validated, safety:pii)
    R5 billing, silent wrong in the sub-agent: router1  billing2  lookup3<-billing
                           reviewer4<-billing (validated, accuracy:wrong_total)  responder5
                           (conf 0.95)
    R6 tech, outcome only: router1  tech2  diagnose3<-tech  responder4 (conf 0.85);
                           outcome correct=false

Per hop (executions, errors, handled, checked, wrong):
    router     6 0 0 0 0   pass 1      run pass 1       coverage 0
    billing    3 0 0 0 0   pass 1      run pass 1
    tech       3 1 0 0 0   pass 2/3    run pass 2/3     (R3's error fails its run)
    lookup     4 1 1 0 0   pass 3/4    run pass 1       (the retried error fails no run)
    diagnose   3 1 0 0 0   pass 2/3    run pass 2/3     (its caller tech failed too)
    kb_search  1 1 0 0 0   pass 0      run pass 0
    reviewer   3 0 0 2 1   silent 1/2, pass 1/2, run pass 1/2, coverage 2/3
    responder  5 1 0 1 0   (R4 errored: counted once, as an error, not as checked)
               error rate 1/5, silent 0, pass 4/5, run pass 4/5, coverage 2/5

Medians: router 1; billing 2, tech 2 (never in one run: one stage); diagnose 3, lookup 3
(R2's lookups at 3 and 4: median of 3,3,4,3 is 3; never in one run: one stage); kb_search 4,
reviewer 4 (median of 4,5,4; one stage); responder 5 (of 4,4,5,5,6). Stages 1..5.

Runs:
    R1 ok; R2 ok (1 handled error); R3 fails at kb_search, blast 0 (its callers failed, router
    ran before), final hop tech errored: not confident; R4 fails at responder, blast 0, final
    hop errored; R5 fails at reviewer, blast 2 (billing: its caller, reported success;
    responder: after it, not below it), final responder confident: an observed cascade;
    R6 fails by its outcome: no origin, blast = hops that reported success = 4.
    Observed 2/6. Confident: R1, R2, R5, R6 = 4/6. Final confidences recorded: 4 runs.

Predicted = 1 * (3*1 + 3*2/3)/6 * (3*2/3 + 4*1)/7 * (1*0 + 3*1/2)/4 * 4/5
          = 1 * 5/6 * 6/7 * 3/8 * 4/5 = 3/14.

Cascade: stage 4 has s = (1*0 + 3*1/2)/4 = 3/8, v = (1*0 + 3*2/3)/4 = 1/2; stage 5 v = 2/5;
every other stage s = 0. escape_4 = (1 - 1/2)(1 - 2/5) = 3/10. Risk = 4/6 * (3/8 * 3/10)
= 4/6 * 9/80 = 3/40 = 0.075. Contributions: reviewer 1/2 * 3/10 = 0.15, every other 0.

G-ARVIS: safety over validated hops: R1 reviewer 1, R5 reviewer 1 (accuracy, not safety),
R1 responder 1, R4 responder 0 (the guardrail) = 3/4; accuracy over checked hops: R1 reviewer
1, R5 reviewer 0, R1 responder 1 = 2/3; reliability 1/3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tracebook import write_jsonl
from typer.testing import CliRunner

from argus_cli.analysis import analyse
from argus_cli.cli import app

T0_NS = 1_775_037_600_000 * 1_000_000


def _hop(run: str, hop_id: str, seq: int, parent: str | None = None, **fields: Any) -> dict:
    record: dict[str, Any] = {
        "run_id": run,
        "hop_id": hop_id,
        "workflow_id": "desk",
        "span_id": f"{run}-{seq}",
        "seq": seq,
    }
    if parent is not None:
        record["parent_id"] = f"{run}-{parent}"
    record.update(fields)
    return record


ERR = {"status": "error", "error": "TimeoutError"}
CLEAN = {"validated": True, "violations": []}

TREE: list[dict[str, Any]] = [
    _hop("R1", "router", 1),
    _hop("R1", "billing", 2),
    _hop("R1", "lookup", 3, "2"),
    _hop("R1", "reviewer", 4, "2", **CLEAN),
    _hop("R1", "responder", 5, confidence=0.9, **CLEAN),
    _hop("R2", "router", 1),
    _hop("R2", "billing", 2),
    _hop("R2", "lookup", 3, "2", **ERR),
    _hop("R2", "lookup", 4, "2"),
    _hop("R2", "reviewer", 5, "2"),
    _hop("R2", "responder", 6, confidence=0.9),
    _hop("R3", "router", 1),
    _hop("R3", "tech", 2, status="error", error="KeyError: 'sku'"),
    _hop("R3", "diagnose", 3, "2", status="error", error="KeyError: 'sku'"),
    _hop("R3", "kb_search", 4, "3", status="error", error="KeyError: 'sku'"),
    _hop("R4", "router", 1),
    _hop("R4", "tech", 2),
    _hop("R4", "diagnose", 3, "2"),
    _hop(
        "R4",
        "responder",
        4,
        status="error",
        error="OutputGuardrailTripwireTriggered",
        validated=True,
        violations=["safety:pii"],
    ),
    _hop("R5", "router", 1),
    _hop("R5", "billing", 2),
    _hop("R5", "lookup", 3, "2"),
    _hop("R5", "reviewer", 4, "2", validated=True, violations=["accuracy:wrong_total"]),
    _hop("R5", "responder", 5, confidence=0.95),
    _hop("R6", "router", 1),
    _hop("R6", "tech", 2),
    _hop("R6", "diagnose", 3, "2"),
    _hop("R6", "responder", 4, confidence=0.85),
]
OUTCOME = {"kind": "outcome", "run_id": "R6", "correct": False, "source": "human"}

HOPS = {
    # hop: (executions, errors, handled, checked, wrong, stage, pass rate, coverage)
    "router": (6, 0, 0, 0, 0, 1, 1.0, 0.0),
    "billing": (3, 0, 0, 0, 0, 2, 1.0, 0.0),
    "tech": (3, 1, 0, 0, 0, 2, 2 / 3, 0.0),
    "diagnose": (3, 1, 0, 0, 0, 3, 2 / 3, 0.0),
    "lookup": (4, 1, 1, 0, 0, 3, 3 / 4, 0.0),
    "kb_search": (1, 1, 0, 0, 0, 4, 0.0, 0.0),
    "reviewer": (3, 0, 0, 2, 1, 4, 1 / 2, 2 / 3),
    "responder": (5, 1, 0, 1, 0, 5, 4 / 5, 2 / 5),
}


def _check(data: dict[str, Any]) -> None:
    """Every hand-worked number of the module docstring, in `argus report --json` terms."""
    assert data["schema_version"] == 2
    assert data["runs"] == 6 and data["hop_executions"] == 28
    (wf,) = data["workflows"]
    assert wf["workflow_id"] == "desk"
    hops = {h["hop_id"]: h for h in wf["hops"]}
    assert list(hops) == list(HOPS)  # canonical order: median position, then name
    for hop_id, (n, errors, handled, checked, wrong, stage, pass_rate, cov) in HOPS.items():
        h = hops[hop_id]
        got = (h["executions"], h["errors"], h["handled_errors"], h["checked"], h["wrong"])
        assert got == (n, errors, handled, checked, wrong), hop_id
        assert h["stage"] == stage, hop_id
        assert h["pass_rate"] == pytest.approx(pass_rate), hop_id
        assert h["validation_coverage"] == pytest.approx(cov), hop_id
    assert hops["reviewer"]["silent_error_rate"] == 0.5
    assert hops["responder"]["silent_error_rate"] == 0.0
    assert hops["responder"]["error_rate"] == pytest.approx(0.2)
    assert wf["end_to_end_success_rate"] == pytest.approx(1 / 3)
    assert wf["predicted_end_to_end"] == pytest.approx(3 / 14)
    assert data["predicted_end_to_end"] == pytest.approx(3 / 14)
    assert wf["confident_share"] == pytest.approx(4 / 6)
    assert wf["runs_with_final_confidence"] == 4
    assert wf["observed_cascades"] == 1
    assert wf["cascade_risk_score"] == pytest.approx(0.075)
    contributions = {h["hop_id"]: h["cascade_contribution"] for h in wf["hops"]}
    assert contributions.pop("reviewer") == pytest.approx(0.15)
    assert set(contributions.values()) == {0.0}
    causes = [
        (c["hop_id"], c["failed_runs"], c["mean_blast_radius"], c["observed_cascades"])
        for c in wf["root_causes"]
    ]
    assert causes == [
        (None, 1, 4.0, 0),
        ("kb_search", 1, 0.0, 0),
        ("responder", 1, 0.0, 0),
        ("reviewer", 1, 2.0, 1),  # R5: the one cascade
    ]
    g = data["g_arvis_scores"]
    assert g["safety"] == pytest.approx(0.75)
    assert g["accuracy"] == pytest.approx(2 / 3)
    assert g["reliability"] == pytest.approx(1 / 3)
    weakest = data["weakest_hop"]
    assert (weakest["hop_id"], weakest["pass_rate"]) == ("kb_search", 0.0)


RUNS = {
    # run: (failed, origin, blast radius, final hop, observed cascade, handled errors)
    "R1": (False, None, None, "responder", False, 0),
    "R2": (False, None, None, "responder", False, 1),
    "R3": (True, "kb_search", 0, "tech", False, 0),
    "R4": (True, "responder", 0, "responder", False, 0),
    "R5": (True, "reviewer", 2, "responder", True, 0),
    "R6": (True, None, 4, "responder", False, 0),
}


def _otlp(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The tree as OpenTelemetry GenAI agent spans (one trace per run, argus.* attributes)."""

    def attr(key: str, value: Any) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"key": key, "value": {"boolValue": value}}
        if isinstance(value, float):
            return {"key": key, "value": {"doubleValue": value}}
        if isinstance(value, list):
            items = [{"stringValue": v} for v in value]
            return {"key": key, "value": {"arrayValue": {"values": items}}}
        return {"key": key, "value": {"stringValue": value}}

    runs = sorted({r["run_id"] for r in records})
    spans = []
    for r in records:
        trace = f"{runs.index(r['run_id']) + 1:032x}"
        attributes = [
            attr("gen_ai.operation.name", "invoke_agent"),
            attr("gen_ai.agent.name", r["hop_id"]),
        ]
        for key in ("validated", "violations", "confidence"):
            if key in r:
                attributes.append(attr(f"argus.{key}", r[key]))
        if r.get("status") == "error":
            attributes.append(attr("error.type", r["error"]))
        start = T0_NS + r["seq"] * 1_000_000_000
        spans.append(
            {
                "traceId": trace,
                "spanId": f"{runs.index(r['run_id']) + 1:08x}{r['seq']:08x}",
                "parentSpanId": f"{runs.index(r['run_id']) + 1:08x}{int(r['parent_id'][3:]):08x}"
                if "parent_id" in r
                else "",
                "name": f"invoke_agent {r['hop_id']}",
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + 500_000_000),
                "attributes": attributes,
                "status": {"code": 2} if r.get("status") == "error" else {},
            }
        )
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "desk"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def _report(cli: CliRunner, *paths: Path) -> dict[str, Any]:
    result = cli.invoke(app, ["report", *map(str, paths), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_number_of_the_tree_from_jsonl(tmp_path, cli):
    _check(_report(cli, write_jsonl(tmp_path / "tree.jsonl", [*TREE, OUTCOME])))


def test_every_number_of_the_tree_from_parquet(tmp_path, cli):
    jsonl = write_jsonl(tmp_path / "tree.jsonl", [*TREE, OUTCOME])
    parquet = tmp_path / "tree.parquet"
    result = cli.invoke(app, ["convert", str(jsonl), "-o", str(parquet)])
    assert result.exit_code == 0, result.output
    _check(_report(cli, parquet))


def test_every_number_of_the_tree_from_otlp(tmp_path, cli):
    otlp = tmp_path / "tree.otlp.json"
    otlp.write_text(json.dumps(_otlp(TREE)), encoding="utf-8")
    ids = {f"R{n}": f"{n:032x}" for n in range(1, 7)}
    outcome = write_jsonl(tmp_path / "outcome.jsonl", [{**OUTCOME, "run_id": ids["R6"]}])
    data = _report(cli, otlp, outcome)
    data["workflows"][0]["workflow_id"] = "desk"  # the resource's service.name: desk too
    _check(data)


def test_every_run_of_the_tree(tmp_path, cli):
    path = write_jsonl(tmp_path / "tree.jsonl", [*TREE, OUTCOME])
    result = cli.invoke(app, ["runs", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["run_id"]: r for r in json.loads(result.stdout)}
    for run, (failed, origin, blast, final, cascade, handled) in RUNS.items():
        r = rows[run]
        got = (
            r["failed"],
            r["origin_hop"],
            r["blast_radius"],
            r["final_hop"],
            r["observed_cascade"],
            r["handled_errors"],
        )
        assert got == (failed, origin, blast, final, cascade, handled), run


def test_trace_flags_the_tree(tmp_path):
    """`argus trace`'s rows: parents resolved, the origin, the blast radius, handled errors."""
    from argus_cli.analysis import traced_run
    from argus_cli.load.loading import load

    path = write_jsonl(tmp_path / "tree.jsonl", [*TREE, OUTCOME])
    trace = load([str(path)])
    summary, hops = traced_run(trace, "R5")
    assert summary is not None and summary["final_hop"] == "responder"
    flags = {
        h["hop_id"]: (h["parent_position"], h["is_origin"], h["in_blast_radius"], h["is_final"])
        for h in hops
    }
    assert flags == {
        "router": (None, False, False, False),
        "billing": (None, False, True, False),
        "lookup": (2, False, False, False),
        "reviewer": (2, True, False, False),
        "responder": (None, False, True, True),
    }
    _, hops = traced_run(trace, "R2")
    trace.close()
    assert [(h["hop_id"], h["handled"]) for h in hops if h["status"] == "error"] == [
        ("lookup", True)
    ]


def test_alternatives_that_ran_together_are_two_stages(report_of):
    """x and y tie on median position (2.5) but ran in the same runs: not alternatives."""
    records = [
        {"run_id": "a", "hop_id": "start", "workflow_id": "s", "seq": 1},
        {"run_id": "a", "hop_id": "x", "workflow_id": "s", "seq": 2},
        {"run_id": "a", "hop_id": "y", "workflow_id": "s", "seq": 3, "status": "error"},
        {"run_id": "b", "hop_id": "start", "workflow_id": "s", "seq": 1},
        {"run_id": "b", "hop_id": "y", "workflow_id": "s", "seq": 2},
        {"run_id": "b", "hop_id": "x", "workflow_id": "s", "seq": 3},
    ]
    wf = report_of(records).workflows[0]
    assert [(h.hop_id, h.stage) for h in wf.hops] == [("start", 1), ("x", 2), ("y", 3)]
    assert wf.predicted_end_to_end == pytest.approx(1.0 * 1.0 * 0.5)  # stages multiply


def test_a_parent_given_later_or_unknown_is_no_parent(report_of):
    """SPEC 3.1: a parent_id naming a later hop, or none of the run's, leaves the hop top-level
    (so the tree has no cycles): both errors here fail the run, the first is the origin."""
    records = [
        {"run_id": "r", "hop_id": "a", "span_id": "A", "parent_id": "B", "seq": 1, **ERR},
        {"run_id": "r", "hop_id": "b", "span_id": "B", "parent_id": "nowhere", "seq": 2, **ERR},
        {"run_id": "r", "hop_id": "c", "span_id": "C", "seq": 3, "confidence": 0.99},
    ]
    wf = report_of(records).workflows[0]
    assert {h.hop_id: h.handled_errors for h in wf.hops} == {"a": 0, "b": 0, "c": 0}
    assert [(c.hop_id, c.failed_runs, c.mean_blast_radius) for c in wf.root_causes] == [
        ("a", 1, 1.0)
    ]
    assert wf.observed_cascades == 1  # final hop c reported success, confidently


def test_default_span_ids_can_be_parents(report_of):
    """A parent_id may name a hop by its default span id, run_id/hop_id/seq (SPEC 1.1)."""
    records = [
        {"run_id": "r", "hop_id": "agent", "seq": 1},
        {"run_id": "r", "hop_id": "tool", "seq": 2, "parent_id": "r/agent/1", **ERR},
        {"run_id": "r", "hop_id": "tool", "seq": 3, "parent_id": "r/agent/1"},
    ]
    report = report_of(records)
    assert report.end_to_end_success_rate == 1.0  # the tool's first error was handled
    assert {h.hop_id: h.handled_errors for h in report.workflows[0].hops} == {"agent": 0, "tool": 1}


def test_analyse_gives_the_same_tree(tmp_path):
    data = analyse([str(write_jsonl(tmp_path / "t.jsonl", [*TREE, OUTCOME]))], quiet=True)
    _check(json.loads(json.dumps(data.to_dict())))
