"""Langfuse import: the UI/API export (camelCase JSON array) and the blob-storage export
(snake_case JSON Lines with score and trace rows), rule by rule.

The fixtures under tests/data/langfuse/ were written from Langfuse's API reference (Observation,
Score), its observation types and the blob storage export field reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from argus_cli.diagnostics import InputError
from argus_cli.load.loading import load

DATA = Path(__file__).parent / "data" / "langfuse"
COLUMNS = (
    "run_id, span_id, hop_id, workflow_id, seq, status, error, parent_id, input_tokens, "
    "output_tokens, model, cost_usd, validated, violations, high_stakes, confidence, scores, "
    "latency_ms, _line"
)


def hops(path: Path, **options: Any) -> list[dict[str, Any]]:
    con = load([str(path)], **options).con
    cursor = con.execute(f"SELECT {COLUMNS} FROM hops ORDER BY run_id, seq")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def observation(id_: str, type_: str, name: str, start: str, **fields: Any) -> dict[str, Any]:
    record = {
        "id": id_,
        "traceId": "t",
        "type": type_,
        "name": name,
        "startTime": f"2026-04-01T10:00:{start}Z",
        "level": "DEFAULT",
    }
    record.update(fields)
    return record


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_api_export_agents_are_hops():
    """lf-trace-1 has AGENT observations: intake (usage and cost from its GENERATION, argus
    fields from metadata) and adjudicator (level ERROR; own usage, so nothing summed; its
    failed GUARDRAIL is a safety violation). The TOOL and EVENT observations are not hops.
    lf-trace-2 has no AGENT: its hops are the SPAN/GENERATION children of its single root
    (intake, summarize: WARNING is no error), not the SPAN nested below intake."""
    rows = hops(DATA / "observations.json")
    assert [
        (r["run_id"], r["hop_id"], r["seq"], r["status"], r["error"], r["workflow_id"])
        for r in rows
    ] == [
        ("lf-trace-1", "intake", 1, "success", None, "claims-review"),
        ("lf-trace-1", "adjudicator", 2, "error", "RateLimitError", "claims-review"),
        ("lf-trace-2", "intake", 1, "success", None, "claims-review"),
        ("lf-trace-2", "summarize", 2, "success", None, "claims-review"),
    ]
    intake, adjudicator, _, summarize = rows
    assert (intake["input_tokens"], intake["output_tokens"], intake["cost_usd"]) == (
        310,
        42,
        0.003,
    )
    assert (intake["model"], intake["validated"], intake["confidence"]) == (
        "gpt-4o-mini",
        True,
        0.8,
    )
    assert (adjudicator["input_tokens"], adjudicator["output_tokens"]) == (50, 5)
    assert (adjudicator["cost_usd"], adjudicator["model"]) == (0.0005, "gpt-4o")
    assert adjudicator["validated"] is True
    assert adjudicator["violations"] == [
        {"rule": "pii-check", "severity": None, "category": "safety"}
    ]
    assert (summarize["input_tokens"], summarize["output_tokens"]) == (80, 20)
    assert intake["latency_ms"] == 4000.0 and intake["_line"] == 1  # a JSON array: line 1


def test_blob_export_snake_case_scores_and_trace_rows():
    """router: its GENERATION's usage, cost and provided model; a BOOLEAN score on that
    generation lands on router; the CATEGORICAL score and the out-of-range one do not.
    answerer: written twice, its last version (level ERROR) counts; two accuracy scores are
    averaged; the trace-level groundedness score goes to the run's last hop. billing-agent's
    workflow is named by the trace row."""
    router, answerer, billing = hops(DATA / "blob_export.jsonl")
    assert (router["hop_id"], router["workflow_id"], router["seq"]) == ("router", "support", 1)
    assert (router["input_tokens"], router["output_tokens"], router["cost_usd"]) == (12, 3, 0.0001)
    assert (router["model"], router["high_stakes"], router["validated"]) == (
        "gpt-4.1-nano",
        True,
        True,
    )
    assert router["scores"] == {"safety": 1.0}
    assert (answerer["status"], answerer["error"], answerer["_line"]) == (
        "error",
        "answer contradicts policy",
        12,
    )
    assert answerer["scores"] == {"accuracy": pytest.approx(0.7), "groundedness": 0.5}
    assert answerer["latency_ms"] == 6000.0
    assert (billing["hop_id"], billing["workflow_id"]) == ("billing-agent", "billing")


def test_tools_and_genai_add_hops():
    tools = [r["hop_id"] for r in hops(DATA / "observations.json", hop_spans="tools")]
    assert tools[:3] == ["intake", "policy_lookup", "adjudicator"]
    genai = hops(DATA / "observations.json", hop_spans="genai")
    names = [r["hop_id"] for r in genai if r["run_id"] == "lf-trace-1"]
    assert names == ["intake", "extract", "policy_lookup", "adjudicator"]
    intake = genai[0]
    assert intake["input_tokens"] is None  # extract is a hop now: its usage is its own
    everything = hops(DATA / "observations.json", hop_spans="all")
    assert {r["hop_id"] for r in everything if r["run_id"] == "lf-trace-1"} == {
        "claims-pipeline",
        "intake",
        "extract",
        "policy_lookup",
        "adjudicator",
    }  # never EVENT or GUARDRAIL


def test_several_top_level_observations_are_the_hops(tmp_path):
    rows = [
        observation("a", "SPAN", "first", "01.000"),
        observation("b", "GENERATION", "second", "02.000", usageDetails={"input": 3}),
        observation("c", "SPAN", "nested", "01.500", parentObservationId="a"),
        observation("d", "EVENT", "note", "03.000"),
    ]
    got = hops(write(tmp_path / "top.jsonl", rows))
    assert [(r["hop_id"], r["input_tokens"]) for r in got] == [("first", None), ("second", 3)]


def test_a_lone_root_is_its_own_hop(tmp_path):
    got = hops(write(tmp_path / "one.jsonl", [observation("a", "GENERATION", "only", "01.000")]))
    assert [r["hop_id"] for r in got] == ["only"]


def test_usage_keys_and_deprecated_usage(tmp_path):
    rows = [
        observation("a", "AGENT", "openai-keys", "01.000",
                    usageDetails={"prompt_tokens": 7, "completion_tokens": 2}),
        observation("b", "AGENT", "legacy", "02.000",
                    usage={"input": 5, "output": 1, "total": 6, "unit": "TOKENS"}),
        observation("c", "AGENT", "legacy-zero", "03.000",
                    usage={"input": 0, "output": 0, "total": 0, "unit": "TOKENS"},
                    calculatedTotalCost=0),
        observation("d", "GENERATION", "call", "03.500", parentObservationId="c",
                    usageDetails={"input": 9, "output": 4}, calculatedTotalCost=0.25),
    ]  # fmt: skip
    got = hops(write(tmp_path / "u.jsonl", rows))
    assert [(r["hop_id"], r["input_tokens"], r["output_tokens"], r["cost_usd"]) for r in got] == [
        ("openai-keys", 7, 2, None),
        ("legacy", 5, 1, None),
        # zeros in the deprecated fields are what the API reports for every span: no usage,
        # so the generation's usage and cost are summed in
        ("legacy-zero", 9, 4, 0.25),
    ]


def test_metadata_as_a_json_string_and_argus_scores(tmp_path):
    metadata = json.dumps({"argus.validated": True, "argus.violations": "safety:pii"})
    rows = [
        observation("a", "AGENT", "a", "01.000", metadata=metadata),
        observation("b", "AGENT", "b", "02.000", metadata={"argus.score.safety": 0.5}),
    ]
    first, second = hops(write(tmp_path / "m.jsonl", rows))
    assert first["validated"] is True
    assert first["violations"] == [{"rule": "pii", "severity": None, "category": "safety"}]
    assert second["scores"] == {"safety": 0.5}


def test_an_api_page_is_read_as_its_data(tmp_path):
    page = {"data": [observation("a", "AGENT", "paged", "01.000")], "meta": {"page": 1}}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page, indent=2), encoding="utf-8")
    assert [r["hop_id"] for r in hops(path)] == ["paged"]


def test_bad_values_are_named(tmp_path):
    rows = [
        observation("a", "AGENT", "ok", "01.000"),
        observation("b", "AGENT", "bad", "02.000", metadata={"argus.confidence": "high"}),
        observation("c", "AGENT", "late", "not a time"),
    ]
    path = write(tmp_path / "b.jsonl", rows)
    trace = load([str(path)])
    assert [str(b) for b in trace.bad] == [
        f"{path}:2: field 'confidence' must be a number in 0..1",
        f"{path}:3: field 'started_at' must be an RFC 3339 timestamp "
        "or epoch seconds or milliseconds",
    ]


def test_no_observation_to_make_a_hop(tmp_path):
    path = write(tmp_path / "events.jsonl", [observation("a", "EVENT", "log", "01.000")])
    with pytest.raises(InputError, match="no hop records in this langfuse file"):
        load([str(path)])
