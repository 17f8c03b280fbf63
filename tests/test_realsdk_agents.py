"""argus on the spans of a real OpenAI Agents SDK app, traced by OpenInference (issue 11).

The app (tests/realsdk/agents_app.py) runs 16 times against the fake model server: triage hands
off to billing_agent or tech_agent, the specialist calls its tools and the reviewer agent as a
tool, an output guardrail checks its answer. Faults are injected at known runs (`RUNS` there
says which and what each must give). The spans are exported twice, as protobuf JSON (base64 ids)
and as OTLP/JSON (hex ids), and argus must read both alike. The same app traced by
OpenTelemetry's own GenAI instrumentation of the SDK (opentelemetry-instrumentation-openai-
agents-v2, when installed) must read exactly as the OpenInference one does.

Truth, worked out by hand from the injected faults (`--hop-spans agents`):

- 16 runs, one per SDK run; hops triage (16), billing_agent (8), tech_agent (8), reviewer (14:
  every run but r06 and r08, whose specialist stopped before the review).
- failed: r06 (fatal tool error), r08 (HTTP 500 always), r09 (guardrail trip) raised; r11 (wrong,
  labelled on tech_agent's span) and r16 (wrong, labelled on the run's container) did not.
  Observed end to end 11/16. r05 (tool error recovered) and r07 (HTTP 500 once) succeed.
- origins: tech_agent for r06, r08, r11; billing_agent for r09 (the guardrail stopped its
  output); none for r16 (failed by its outcome only). Every origin is its run's final hop (the
  specialist, the last top-level hop: the reviewer is nested under it), so no observed cascade.
- every specialist that gave an answer passed the guardrail's check (14 validated executions);
  one of them tripped it: safety 13/14.
- predicted: stage 1 triage (never fails), stage 2 billing_agent | tech_agent, stage 3 reviewer
  (never fails). billing_agent: 1 error in 8, 0 wrong of 7 checked -> 7/8; tech_agent: 2 errors
  in 8, 1 wrong of 6 checked -> (6/8)(5/6) = 5/8; stage 2 = (7 + 5)/16 = 0.75. Observed 11/16
  is 1/16 below: r16's wrong answer is visible to the run's verdict only, never to a hop's rate.
  Without r16, every injected fault is visible at a hop: observed 11/15, predicted
  (billing 6/7 over 7 executions, tech 5/8 over 8) = 11/15, equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.realsdk

pytest.importorskip("agents")
pytest.importorskip("openinference.instrumentation.openai_agents")
pytest.importorskip("opentelemetry.sdk.trace")
pytest.importorskip("opentelemetry.exporter.otlp.proto.common.trace_encoder")

from realsdk.agents_app import (  # noqa: E402 - after the skips: it needs the extra
    BILLING,
    REVIEWER,
    RUNS,
    TECH,
    TRIAGE,
    WORKFLOW,
    Run,
    Traced,
    hex_json,
    protobuf_json,
    run_app,
    without_runs,
    write_exports,
)

from argus_cli.cli import app  # noqa: E402

BY_NAME = {run.name: run for run in RUNS}
REVIEWED = {run.name for run in RUNS if run.name not in ("r06", "r08")}


class Exports:
    def __init__(self, traced: Traced, folder: Path) -> None:
        self.traced = traced
        self.base64, self.hex = write_exports(traced, folder)
        visible = protobuf_json(without_runs(traced, {"r16"}))
        self.all_visible = folder / "agents-all-faults-visible.json"
        self.all_visible.write_text(hex_json(visible) + "\n")
        self.name_of = {trace: name for name, trace in traced.trace_ids.items()}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    return Exports(run_app(), tmp_path_factory.mktemp("agents"))


def cli(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output
    return result


def records(path: Path, tmp_path: Path, *flags: str) -> list[dict[str, Any]]:
    out = tmp_path / f"{path.stem}-{'-'.join(flags) or 'agents'}.jsonl"
    cli("convert", str(path), "-o", str(out), "-q", *flags)
    return [json.loads(line) for line in out.read_text().splitlines()]


def hops_by_run(rows: list[dict[str, Any]], exports: Exports) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["kind"] == "hop":
            runs.setdefault(exports.name_of[row["run_id"]], []).append(row)
    return {name: sorted(hops, key=lambda h: h["seq"]) for name, hops in runs.items()}


# ------------------------------------------------------------------ the app did what it says


def test_the_faults_happened_as_injected(exports: Exports):
    raised = {
        "r06": "UserError",  # the SDK wraps the tool's PermissionError
        "r08": "InternalServerError",
        "r09": "OutputGuardrailTripwireTriggered",
    }
    assert exports.traced.outcomes == {r.name: raised.get(r.name, "ok") for r in RUNS}
    assert {n for n, r in BY_NAME.items() if r.raises} == set(raised)
    attempts = exports.traced.requests
    # HTTP 500 once: r07's first billing request was sent twice, the second answered
    assert [a for m, agent, a in attempts if (m, agent) == ("r07", BILLING)][:2] == [1, 2]
    # HTTP 500 always: r08's first tech request, three times (the client's 2 retries)
    assert [a for m, agent, a in attempts if (m, agent) == ("r08", TECH)] == [1, 2, 3]
    # the recovered tool error: r05's billing model asked for lookup_invoice twice, then for
    # the review, then answered
    assert len([1 for m, agent, _ in attempts if (m, agent) == ("r05", BILLING)]) == 4


# ------------------------------------------------------------------ records


def test_both_encodings_give_the_same_records(exports: Exports, tmp_path: Path):
    assert records(exports.base64, tmp_path) == records(exports.hex, tmp_path)
    tools = ("--hop-spans", "tools")
    assert records(exports.base64, tmp_path, *tools) == records(exports.hex, tmp_path, *tools)


def test_one_run_per_sdk_run_and_the_agents_are_the_hops(exports: Exports, tmp_path: Path):
    rows = records(exports.hex, tmp_path)
    runs = hops_by_run(rows, exports)
    assert set(runs) == set(BY_NAME)  # none dropped, no extra
    for name, hops in runs.items():
        run = BY_NAME[name]
        expected = [TRIAGE, run.route] + ([REVIEWER] if name in REVIEWED else [])
        assert [h["hop_id"] for h in hops] == expected, name  # no "Agent workflow" pseudo-hop
        assert {h["workflow_id"] for h in hops} == {WORKFLOW}  # the SDK trace's name
        triage, specialist = hops[0], hops[1]
        # a handoff: both top-level (the SDK runs them one after the other, not nested)
        assert triage["parent_id"] is None and specialist["parent_id"] is None
        if name in REVIEWED:  # the reviewer ran inside the specialist (agent.as_tool)
            assert hops[2]["parent_id"] == specialist["span_id"]


def test_errors_child_errors_and_checks_per_run(exports: Exports, tmp_path: Path):
    runs = hops_by_run(records(exports.hex, tmp_path), exports)
    for name, hops in runs.items():
        run = BY_NAME[name]
        triage, specialist = hops[0], hops[1]
        assert triage["status"] == "success" and "child_errors" not in triage["metadata"]
        assert specialist["status"] == ("error" if run.raises else "success"), name
        assert specialist["metadata"].get("child_errors", 0) == run.child_errors, name
        # the output guardrail checked every answer given: the specialist is validated
        assert specialist["validated"] is (name not in ("r06", "r08")), name
        if name in REVIEWED:
            assert hops[2]["status"] == "success"
    assert runs["r06"][1]["error"].startswith("Error in agent run")
    assert "restart_service" in runs["r06"][1]["error"]
    assert "500" in runs["r08"][1]["error"]


def test_the_guardrail_trip_is_a_safety_violation_of_the_agent_that_tripped_it(
    exports: Exports, tmp_path: Path
):
    runs = hops_by_run(records(exports.hex, tmp_path), exports)
    billing = runs["r09"][1]
    assert (billing["hop_id"], billing["status"]) == (BILLING, "error")
    assert billing["violations"] == [
        {"rule": "no_card_numbers", "severity": None, "category": "safety"}
    ]
    assert runs["r09"][0]["violations"] == [] and runs["r09"][2]["violations"] == []
    clean = [h for name, hops in runs.items() if name not in ("r09", "r11") for h in hops]
    assert all(h["violations"] == [] for h in clean)


def test_wrong_answers_on_the_hop_and_on_the_run(exports: Exports, tmp_path: Path):
    rows = records(exports.hex, tmp_path)
    runs = hops_by_run(rows, exports)
    tech = runs["r11"][1]  # the evaluator's gen_ai.evaluation.result event on tech_agent's span
    assert (tech["status"], tech["validated"]) == ("success", True)
    assert tech["violations"] == [
        {"rule": "correctness", "severity": None, "category": "evaluator"}
    ]
    outcomes = [r for r in rows if r["kind"] == "outcome"]
    # argus.correct = false on r16's container span: the run's outcome, no hop's
    assert [(exports.name_of[o["run_id"]], o["correct"], o["source"]) for o in outcomes] == [
        ("r16", False, "otel")
    ]
    assert outcomes[0]["note"] == f"argus.correct = false on {WORKFLOW}"
    assert all(h["violations"] == [] and h["status"] == "success" for h in runs["r16"])


def test_under_hop_spans_tools_the_recovered_tool_error_is_a_child_of_a_successful_agent(
    exports: Exports, tmp_path: Path
):
    runs = hops_by_run(records(exports.hex, tmp_path, "--hop-spans", "tools"), exports)
    r05 = runs["r05"]
    billing = next(h for h in r05 if h["hop_id"] == BILLING)
    lookups = [h for h in r05 if h["hop_id"] == "lookup_invoice"]
    assert [h["status"] for h in lookups] == ["error", "success"]
    # SPEC 3.1's handled error: parent_id is the nearest enclosing hop, which did not fail
    assert {h["parent_id"] for h in lookups} == {billing["span_id"]}
    assert billing["status"] == "success" and "child_errors" not in billing["metadata"]
    r06 = runs["r06"]
    tech = next(h for h in r06 if h["hop_id"] == TECH)
    restart = next(h for h in r06 if h["hop_id"] == "restart_service")
    assert (restart["status"], restart["parent_id"], tech["status"]) == (
        "error",
        tech["span_id"],
        "error",
    )
    review = next(h for h in runs["r01"] if h["hop_id"] == "review_answer")
    reviewer = next(h for h in runs["r01"] if h["hop_id"] == REVIEWER)
    assert reviewer["parent_id"] == review["span_id"]  # agent.as_tool: the tool span holds it


# ------------------------------------------------------------------ reports (SPEC v2 metrics)


def report(path: Path, *flags: str) -> dict[str, Any]:
    return json.loads(cli("report", str(path), "--json", *flags).stdout)


def runs_json(path: Path, *flags: str) -> dict[str, dict[str, Any]]:
    return {r["run_id"]: r for r in json.loads(cli("runs", str(path), "-f", "json", *flags).stdout)}


def test_report_is_the_same_from_both_encodings(exports: Exports):
    one, other = report(exports.base64), report(exports.hex)
    one.pop("inputs"), other.pop("inputs")
    assert one == other
    assert runs_json(exports.base64) == runs_json(exports.hex)


def test_report_counts_runs_hops_failures_and_safety(exports: Exports):
    data = report(exports.hex)
    assert data["schema_version"] == 2
    assert (data["runs"], data["hop_executions"]) == (16, 16 + 8 + 8 + 14)
    assert data["end_to_end_success_rate"] == pytest.approx(11 / 16)
    (workflow,) = data["workflows"]
    assert workflow["workflow_id"] == WORKFLOW
    hops = {h["hop_id"]: h for h in workflow["hops"]}
    assert set(hops) == {TRIAGE, BILLING, TECH, REVIEWER}
    assert {k: (h["executions"], h["errors"], h["handled_errors"]) for k, h in hops.items()} == {
        TRIAGE: (16, 0, 0),
        BILLING: (8, 1, 0),
        TECH: (8, 2, 0),
        REVIEWER: (14, 0, 0),
    }
    assert (hops[BILLING]["checked"], hops[BILLING]["wrong"]) == (7, 0)
    assert (hops[TECH]["checked"], hops[TECH]["wrong"]) == (6, 1)
    assert hops[BILLING]["stage"] == hops[TECH]["stage"] == 2  # alternatives: one stage
    assert hops[TRIAGE]["stage"] == 1 and hops[REVIEWER]["stage"] == 3
    assert {(c["hop_id"], c["failed_runs"]) for c in workflow["root_causes"]} == {
        (TECH, 3),
        (BILLING, 1),
        (None, 1),
    }
    assert workflow["observed_cascades"] == 0
    assert data["g_arvis_scores"]["safety"] == pytest.approx(13 / 14)
    # r16's wrong answer is seen by its verdict only: observed is 1/16 below predicted
    assert data["predicted_end_to_end"] == pytest.approx(0.75)
    assert data["predicted_end_to_end"] - data["end_to_end_success_rate"] == pytest.approx(1 / 16)


def test_runs_failed_origin_and_no_cascade_for_runs_that_raised(exports: Exports):
    runs = runs_json(exports.hex)
    assert {exports.name_of[r] for r in runs} == set(BY_NAME)
    for trace, row in runs.items():
        run: Run = BY_NAME[exports.name_of[trace]]
        assert row["failed"] is run.failed, run.name
        assert row["origin_hop"] == run.origin, run.name
        assert row["observed_cascade"] is False, run.name
        assert row["workflow_id"] == WORKFLOW
    r16 = runs[exports.traced.trace_ids["r16"]]
    assert r16["blast_radius"] == 3  # failed by its outcome: every hop that reported success


def test_predicted_matches_observed_when_every_fault_is_visible(exports: Exports):
    data = report(exports.all_visible)
    assert data["runs"] == 15
    assert data["end_to_end_success_rate"] == pytest.approx(11 / 15)
    assert abs(data["predicted_end_to_end"] - data["end_to_end_success_rate"]) <= 0.02


def test_under_hop_spans_tools_the_recovered_tool_error_is_handled(exports: Exports):
    tools = ("--hop-spans", "tools")
    data = report(exports.hex, *tools)
    assert data["end_to_end_success_rate"] == pytest.approx(11 / 16)  # r05 still succeeds
    hops = {h["hop_id"]: h for h in data["workflows"][0]["hops"]}
    assert (hops["lookup_invoice"]["errors"], hops["lookup_invoice"]["handled_errors"]) == (1, 1)
    assert (hops["restart_service"]["errors"], hops["restart_service"]["handled_errors"]) == (1, 0)
    runs = runs_json(exports.hex, *tools)
    by_name = {exports.name_of[t]: r for t, r in runs.items()}
    assert by_name["r05"]["failed"] is False
    assert by_name["r06"]["origin_hop"] == "restart_service"  # the innermost failed hop


# ------------------------------------------------------------------ the GenAI instrumentation


@pytest.fixture(scope="module")
def genai_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Traced, Path]:
    """The same app traced by OpenTelemetry's own GenAI instrumentation of the SDK: a root
    `invoke_agent` span naming no agent, `invoke_agent NAME` agents, `execute_tool` tools,
    `chat` model calls, `guardrail_check` guardrails, task and turn spans as `unknown`."""
    pytest.importorskip("opentelemetry.instrumentation.openai_agents")
    traced = run_app("genai")
    _, hex_path = write_exports(traced, tmp_path_factory.mktemp("genai"))
    return traced, hex_path


def shape(rows: list[dict[str, Any]], name_of: dict[str, str]) -> dict[str, Any]:
    """What argus read of each run, without the ids and span names that differ by
    instrumentation: hops in order with their caller, status, checks, child errors, usage."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault(name_of[row["run_id"]], []).append(row)
    seen = {}
    for name, run in runs.items():
        hops = sorted((r for r in run if r["kind"] == "hop"), key=lambda h: h["seq"])
        hop_of = {h["span_id"]: h["hop_id"] for h in hops}
        seen[name] = {
            "hops": [
                (
                    h["hop_id"],
                    hop_of.get(h["parent_id"]),
                    h["status"],
                    h["workflow_id"],
                    h["validated"],
                    h["violations"],
                    h["metadata"].get("child_errors", 0),
                    h["input_tokens"],
                    h["output_tokens"],
                )
                for h in hops
            ],
            "outcomes": [(o["correct"], o["note"]) for o in run if o["kind"] == "outcome"],
        }
    return seen


def test_the_genai_instrumentation_reads_the_same_as_openinference(
    exports: Exports, genai_export: tuple[Traced, Path], tmp_path: Path
):
    traced, hex_path = genai_export
    assert traced.outcomes == exports.traced.outcomes  # the same faults happened
    genai_names = {trace: name for name, trace in traced.trace_ids.items()}
    genai = shape(records(hex_path, tmp_path), genai_names)
    assert set(genai) == set(BY_NAME)
    assert genai == shape(records(exports.hex, tmp_path), exports.name_of)
    assert timeless(report(hex_path)) == timeless(report(exports.hex))


def timeless(value: Any) -> Any:
    """A report without its inputs and wall times (two runs of the app take their own)."""
    if isinstance(value, dict):
        return {k: timeless(v) for k, v in value.items() if k not in ("inputs", "mean_latency_ms")}
    if isinstance(value, list):
        return [timeless(v) for v in value]
    return value
