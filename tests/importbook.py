"""One description of a trace, rendered three ways: SPEC hop records, OTLP JSON and Langfuse.

The import tests build all three from the same `Run`s and expect the same report: the SPEC
rendering is what the mapping tables in argus_cli/importers say an export means. The foreign
renderings use the awkward encodings the specifications allow (upper-case and base64 ids,
64-bit integers as strings, enum names, spans shuffled across lines) so that every report
comparison also exercises them.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

T0_MS = 1_775_037_600_000  # 2026-04-01T10:00:00Z


@dataclass
class Hop:
    """One hop execution, in SPEC terms."""

    hop: str
    error: str | None = None  # an error type: status error
    input_tokens: int | None = None
    output_tokens: int | None = None
    usage_on_models: bool = False  # tokens and cost recorded on two model calls below the hop
    cost: float | None = None
    validated: bool = False
    violations: tuple[str, ...] = ()  # "cat:rule", from argus.violations
    failed_checks: tuple[str, ...] = ()  # guardrails that fail: violations "safety:<name>"
    passed_checks: int = 0  # guardrails that pass: validated, no violation
    confidence: float | None = None
    correct: bool | None = None
    high_stakes: bool = False
    intent_checksum: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    model: str | None = None
    duration_ms: int = 1000


@dataclass
class Run:
    trace_id: str  # 32 lower-case hex characters
    workflow: str
    hops: list[Hop]
    start_ms: int = T0_MS


def trace_id(n: int) -> str:
    return f"{n:032x}"


def _span_id(run: int, index: int, sub: int = 0) -> str:
    return f"{run + 1:04x}{index + 1:06x}{sub:06x}"


def _hop_start(run: Run, index: int) -> int:
    return run.start_ms + index * 10_000


# --------------------------------------------------------------------------------------------
# SPEC records


def spec_records(runs: list[Run]) -> list[dict[str, Any]]:
    records = []
    for run in runs:
        for index, h in enumerate(run.hops):
            start = _hop_start(run, index)
            record: dict[str, Any] = {
                "run_id": run.trace_id,
                "hop_id": h.hop,
                "workflow_id": run.workflow,
                "seq": index + 1,
                "status": "error" if h.error else "success",
                "started_at": start,
                "ended_at": start + h.duration_ms,
            }
            if h.error:
                record["error"] = h.error
            violations: list[Any] = list(h.violations)
            violations += [{"rule": g, "category": "safety"} for g in h.failed_checks]
            if h.validated or h.failed_checks or h.passed_checks:
                record["validated"] = True
            if violations:
                record["violations"] = violations
            optional = {
                "input_tokens": h.input_tokens,
                "output_tokens": h.output_tokens,
                "cost_usd": h.cost,
                "confidence": h.confidence,
                "correct": h.correct,
                "intent_checksum": h.intent_checksum,
                "model": h.model,
            }
            record.update({k: v for k, v in optional.items() if v is not None})
            if h.high_stakes:
                record["high_stakes"] = True
            if h.scores:
                record["scores"] = dict(h.scores)
            records.append(record)
    return records


# --------------------------------------------------------------------------------------------
# OTLP JSON


def _string(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def _int(key: str, value: int, rng: random.Random) -> dict[str, Any]:
    # proto3 JSON: int64 as a decimal string, and readers accept numbers too
    return {"key": key, "value": {"intValue": str(value) if rng.random() < 0.5 else value}}


def _double(key: str, value: float) -> dict[str, Any]:
    return {"key": key, "value": {"doubleValue": value}}


def _bool(key: str, value: bool) -> dict[str, Any]:
    return {"key": key, "value": {"boolValue": value}}


def _hex_or_base64(hex_id: str, rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.3:
        return base64.b64encode(bytes.fromhex(hex_id)).decode()
    return hex_id.upper() if choice < 0.6 else hex_id


def _nanos(ms: int, rng: random.Random) -> str | int:
    ns = ms * 1_000_000
    return str(ns) if rng.random() < 0.7 else ns


def _span(
    run: Run,
    span_id: str,
    parent: str | None,
    name: str,
    start_ms: int,
    end_ms: int,
    attributes: list[dict[str, Any]],
    rng: random.Random,
    error: bool = False,
) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": _hex_or_base64(run.trace_id, rng),
        "spanId": _hex_or_base64(span_id, rng),
        "parentSpanId": _hex_or_base64(parent, rng) if parent else "",
        "name": name,
        "kind": rng.choice([1, "SPAN_KIND_INTERNAL"]),
        "startTimeUnixNano": _nanos(start_ms, rng),
        "endTimeUnixNano": _nanos(end_ms, rng),
        "attributes": attributes,
        "droppedAttributesCount": 0,
        "events": [],
        "links": [],
        "status": {},
        "flags": 257,  # a field newer than some readers: must be ignored
    }
    if error:
        span["status"] = {"code": rng.choice([2, "STATUS_CODE_ERROR"]), "message": "failed"}
    return span


def otlp_spans(runs: list[Run], rng: random.Random) -> list[dict[str, Any]]:
    spans = []
    for r, run in enumerate(runs):
        workflow_id = _span_id(r, 999_999)
        end = _hop_start(run, len(run.hops)) + 1
        spans.append(
            _span(
                run,
                workflow_id,
                None,
                f"invoke_workflow {run.workflow}",
                run.start_ms,
                end,
                [
                    _string("gen_ai.operation.name", "invoke_workflow"),
                    _string("gen_ai.workflow.name", run.workflow),
                ],
                rng,
            )
        )
        for index, h in enumerate(run.hops):
            spans.extend(_otlp_hop(run, r, index, h, workflow_id, rng))
    return spans


def _otlp_hop(
    run: Run, r: int, index: int, h: Hop, parent: str, rng: random.Random
) -> list[dict[str, Any]]:
    start = _hop_start(run, index)
    hop_id = _span_id(r, index)
    attributes = [
        _string("gen_ai.operation.name", "invoke_agent"),
        _string("gen_ai.agent.name", h.hop),
    ]
    if h.error:
        attributes.append(_string("error.type", h.error))
    if h.model and not h.usage_on_models:
        attributes.append(_string("gen_ai.request.model", h.model))
    if not h.usage_on_models:
        if h.input_tokens is not None:
            attributes.append(_int("gen_ai.usage.input_tokens", h.input_tokens, rng))
        if h.output_tokens is not None:
            attributes.append(_int("gen_ai.usage.output_tokens", h.output_tokens, rng))
        if h.cost is not None:
            attributes.append(_double("llm.cost.total", h.cost))
    if h.validated:
        attributes.append(_bool("argus.validated", True))
    if h.violations:
        values = [{"stringValue": v} for v in h.violations]
        attributes.append({"key": "argus.violations", "value": {"arrayValue": {"values": values}}})
    if h.confidence is not None:
        attributes.append(_double("argus.confidence", h.confidence))
    if h.correct is not None:
        attributes.append(_bool("argus.correct", h.correct))
    if h.high_stakes:
        attributes.append(_bool("argus.high_stakes", True))
    if h.intent_checksum is not None:
        attributes.append(_string("argus.intent_checksum", h.intent_checksum))
    for name, value in h.scores.items():
        attributes.append(_double(f"argus.score.{name}", value))
    rng.shuffle(attributes)
    spans = [
        _span(
            run,
            hop_id,
            parent,
            f"invoke_agent {h.hop}",
            start,
            start + h.duration_ms,
            attributes,
            rng,
            error=bool(h.error),
        )
    ]
    sub = 1
    if h.usage_on_models:
        for part in (0, 1):  # the usage split over two model calls
            model_attributes = [_string("gen_ai.operation.name", "chat")]
            if h.model:
                model_attributes.append(_string("gen_ai.response.model", h.model))
            for key, total in (
                ("gen_ai.usage.input_tokens", h.input_tokens),
                ("gen_ai.usage.output_tokens", h.output_tokens),
            ):
                if total is not None:
                    model_attributes.append(_int(key, _half(total, part), rng))
            if h.cost is not None:
                model_attributes.append(_double("llm.cost.total", h.cost / 2))
            spans.append(
                _span(
                    run,
                    _span_id(r, index, sub),
                    hop_id,
                    "chat",
                    start + 1 + part,
                    start + 2 + part,
                    model_attributes,
                    rng,
                )
            )
            sub += 1
    for name, failed in [(g, True) for g in h.failed_checks] + [
        (f"check{i}", False) for i in range(h.passed_checks)
    ]:
        spans.append(
            _span(
                run,
                _span_id(r, index, sub),
                hop_id,
                name,
                start + 5,
                start + 6,
                [_string("openinference.span.kind", "GUARDRAIL")],
                rng,
                error=failed,
            )
        )
        sub += 1
    return spans


def _half(total: int, part: int) -> int:
    return total // 2 if part == 0 else total - total // 2


def write_otlp(path: Path, runs: list[Run], seed: int = 0, lines: int = 3) -> Path:
    """Collector file-exporter style: TracesData per line, spans shuffled across the lines."""
    rng = random.Random(seed)
    spans = otlp_spans(runs, rng)
    rng.shuffle(spans)
    chunks = [spans[i::lines] for i in range(lines)]
    with path.open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            if not chunk:
                continue
            data = {
                "resourceSpans": [
                    {
                        "resource": {
                            "attributes": [_string("service.name", "unused-service")],
                            "droppedAttributesCount": 0,
                        },
                        "scopeSpans": [
                            {"scope": {"name": "importbook", "version": "1"}, "spans": chunk}
                        ],
                        "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
                    }
                ]
            }
            handle.write(json.dumps(data) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Langfuse


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


def langfuse_rows(runs: list[Run]) -> list[dict[str, Any]]:
    """Observations as the public API (and the UI export) spells them, plus score rows."""
    rows: list[dict[str, Any]] = []
    for r, run in enumerate(runs):
        root = f"root-{r}"
        base = {"traceId": run.trace_id, "traceName": run.workflow}
        rows.append(
            {
                **base,
                "id": root,
                "type": "SPAN",
                "name": "pipeline",
                "startTime": _iso(run.start_ms),
                "endTime": _iso(_hop_start(run, len(run.hops))),
                "level": "DEFAULT",
                "parentObservationId": None,
                "usageDetails": {},
                "costDetails": {},
                "usage": {"input": 0, "output": 0, "total": 0, "unit": "TOKENS"},
            }
        )
        for index, h in enumerate(run.hops):
            rows.extend(_langfuse_hop(run, r, index, h, root, base))
    return rows


def _langfuse_hop(
    run: Run, r: int, index: int, h: Hop, root: str, base: dict[str, Any]
) -> list[dict[str, Any]]:
    start = _hop_start(run, index)
    agent = f"agent-{r}-{index}"
    metadata: dict[str, Any] = {"framework": "importbook"}
    if h.validated:
        metadata["argus.validated"] = True
    if h.violations:
        metadata["argus.violations"] = list(h.violations)
    optional = {
        "argus.confidence": h.confidence,
        "argus.correct": h.correct,
        "argus.intent_checksum": h.intent_checksum,
    }
    metadata.update({k: v for k, v in optional.items() if v is not None})
    if h.high_stakes:
        metadata["argus.high_stakes"] = True
    usage: dict[str, int] = {}
    if h.input_tokens is not None:
        usage["input"] = h.input_tokens
    if h.output_tokens is not None:
        usage["output"] = h.output_tokens
    observation: dict[str, Any] = {
        **base,
        "id": agent,
        "type": "AGENT",
        "name": h.hop,
        "startTime": _iso(start),
        "endTime": _iso(start + h.duration_ms),
        "level": "ERROR" if h.error else "DEFAULT",
        "statusMessage": h.error,
        "parentObservationId": root,
        "metadata": metadata,
        "usageDetails": {} if h.usage_on_models else usage,
        "costDetails": {} if h.usage_on_models or h.cost is None else {"total": h.cost},
        "model": None if h.usage_on_models else h.model,
    }
    rows = [observation]
    if h.usage_on_models:
        for part in (0, 1):
            rows.append(
                {
                    **base,
                    "id": f"{agent}-gen{part}",
                    "type": "GENERATION",
                    "name": "llm",
                    "startTime": _iso(start + 1 + part),
                    "endTime": _iso(start + 2 + part),
                    "level": "DEFAULT",
                    "parentObservationId": agent,
                    "model": h.model,
                    "usageDetails": {k: _half(v, part) for k, v in usage.items()},
                    "costDetails": {} if h.cost is None else {"total": h.cost / 2},
                }
            )
    checks = [(g, True) for g in h.failed_checks]
    checks += [(f"check{i}", False) for i in range(h.passed_checks)]
    for n, (name, failed) in enumerate(checks):
        rows.append(
            {
                **base,
                "id": f"{agent}-check{n}",
                "type": "GUARDRAIL",
                "name": name,
                "startTime": _iso(start + 5),
                "endTime": _iso(start + 6),
                "level": "ERROR" if failed else "DEFAULT",
                "parentObservationId": agent,
            }
        )
    for name, value in h.scores.items():
        rows.append(
            {
                "id": f"{agent}-score-{name}",
                "traceId": run.trace_id,
                "observationId": agent,
                "name": name,
                "value": value,
                "dataType": "NUMERIC",
                "source": "EVAL",
            }
        )
    return rows


def write_langfuse(path: Path, runs: list[Run], seed: int = 0, as_array: bool = False) -> Path:
    rows = langfuse_rows(runs)
    random.Random(seed).shuffle(rows)
    with path.open("w", encoding="utf-8") as handle:
        if as_array:
            handle.write(json.dumps(rows, indent=2))
        else:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    return path


# --------------------------------------------------------------------------------------------
# A description with every rule in it


def sample_runs() -> list[Run]:
    """Two workflows; errors, silent violations, failed guardrails, usage on the hop or on its
    model calls, drift, scores, confidence: the report has something in every section. Costs
    are binary fractions, so sums are exact in any order."""
    return [
        Run(
            trace_id(1),
            "claims",
            [
                Hop(
                    "intake",
                    input_tokens=120,
                    output_tokens=30,
                    cost=0.0625,
                    model="gpt-4o",
                    intent_checksum="K",
                    scores={"groundedness": 0.9},
                ),
                Hop(
                    "coder",
                    validated=True,
                    violations=("safety:pii",),
                    usage_on_models=True,
                    input_tokens=401,
                    output_tokens=77,
                    cost=0.25,
                    model="gpt-4o-mini",
                    intent_checksum="K",
                ),
                Hop(
                    "reviewer",
                    confidence=0.95,
                    passed_checks=1,
                    intent_checksum="X",
                    high_stakes=True,
                ),
            ],
        ),
        Run(
            trace_id(2),
            "claims",
            [
                Hop("intake", input_tokens=100, output_tokens=20, cost=0.0625),
                Hop(
                    "coder",
                    error="TimeoutError",
                    usage_on_models=True,
                    input_tokens=50,
                    output_tokens=0,
                    cost=0.125,
                    model="gpt-4o-mini",
                ),
                Hop("reviewer", confidence=0.5, correct=True),
            ],
            start_ms=T0_MS + 3_600_000,
        ),
        Run(
            trace_id(3),
            "claims",
            [
                Hop("intake", validated=True, scores={"accuracy": 0.25}),
                Hop("coder", failed_checks=("toxicity",), usage_on_models=True, input_tokens=9),
                Hop("reviewer", confidence=0.9, high_stakes=True, validated=True),
            ],
            start_ms=T0_MS + 7_200_000,
        ),
        Run(
            trace_id(4),
            "triage",
            [Hop("router", correct=False, cost=0.5), Hop("solo", duration_ms=2500)],
            start_ms=T0_MS + 60_000,
        ),
        Run(trace_id(5), "triage", [Hop("router"), Hop("solo", error="ValueError")]),
    ]
