"""Small traces whose every metric is worked out by hand in the comments and the tests.

TRACE_A is one workflow `w` with hops a -> b -> c over four runs:

    run1: a ok (validated, clean)   b ok          c ok  conf 0.90   (+ a skipped hop d)
    run2: a WRONG (safety:pii)      b ok          c ok  conf 0.95   -> fails at a, cascade
    run3: a ok  b ERROR  c ok conf 0.50, no seq: order from started_at -> fails at b
    run4: a ok  b ok (validated, clean)  c ok (no confidence); outcome wrong -> fails, no origin

Per hop (executions 4 each):
    a: validated 2, checked 2, wrong 1 -> silent 0.5, pass 0.5, coverage 0.5
    b: errors 1, validated 1, wrong 0 -> error rate 0.25, silent 0, pass 0.75, coverage 0.25
    c: nothing checked -> silent NULL, pass 1.0, coverage 0
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from argus_cli.schema import intent_checksum

GOAL = "Approve MRT für Patient — naïve"
CONSTRAINTS = ["HIPAA", "no PHI in logs"]
K = intent_checksum(GOAL, CONSTRAINTS)


def hop(run: str, hop_id: str, seq: int | None = None, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"run_id": run, "hop_id": hop_id, "workflow_id": "w"}
    if seq is not None:
        record["seq"] = seq
    record.update(fields)
    return record


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    """Records as JSON Lines; a str is written verbatim (for malformed lines)."""
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
            handle.write(line + "\n")
    return path


TRACE_A: list[dict[str, Any]] = [
    # run1: an intent without checksum (the reader computes K); b drifted; c unanchored.
    {"kind": "intent", "run_id": "run1", "goal": GOAL, "constraints": CONSTRAINTS},
    hop(
        "run1",
        "a",
        1,
        validated=True,
        violations=[],
        input_hash="x",
        output_hash="o1",
        scores={"groundedness": 0.9, "accuracy": 0.8},
        cost_usd=0.05,
        intent_checksum=K,
    ),
    hop("run1", "b", 2, input_hash="y", output_hash="p", cost_usd=0.05, intent_checksum="other"),
    hop("run1", "d", 3, status="skipped", cost_usd=5.0, validated=True, violations=["x:y"]),
    hop(
        "run1",
        "c",
        4,
        confidence=0.9,
        scores={"safety": 1},
        input_hash="z",
        output_hash="q",
        cost_usd=0.05,
    ),
    # run2: no intent record; the anchor is a's checksum "Z"; c drifted to "Y".
    hop(
        "run2",
        "a",
        1,
        validated=True,
        violations=["safety:pii"],
        input_hash="x",
        output_hash="o1",
        scores={"groundedness": 0.5},
        cost_usd=0.05,
        intent_checksum="Z",
    ),
    hop("run2", "b", 2, input_hash="y", output_hash="p", cost_usd=0.05, intent_checksum="Z"),
    hop("run2", "c", 3, confidence=0.95, cost_usd=0.05, intent_checksum="Y"),
    # run3: written out of order and without seq; started_at (both shapes) gives a, b, c.
    # Two different intents: a conflicting-intent run, and its hops are unanchored.
    {"kind": "intent", "run_id": "run3", "goal": "first goal", "constraints": []},
    {"kind": "intent", "run_id": "run3", "goal": "second goal", "constraints": []},
    hop("run3", "c", confidence=0.5, started_at="2026-04-01T10:00:02Z", cost_usd=0.05),
    hop("run3", "a", started_at=1775037600000, input_hash="x", output_hash="o2", cost_usd=0.05),
    hop(
        "run3",
        "b",
        status="error",
        error="TimeoutError",
        started_at="2026-04-01T12:00:01+02:00",
        cost_usd=0.05,
    ),
    # run4: every hop succeeds, but the outcome says the answer was wrong.
    hop("run4", "a", 1, cost_usd=0.05),
    hop("run4", "b", 2, validated=True, violations=[], cost_usd=0.05),
    hop("run4", "c", 3, cost_usd=0.05),
    {"kind": "outcome", "run_id": "run4", "correct": False, "source": "human"},
    {"kind": "outcome", "run_id": "run1", "correct": True, "source": "eval"},
]

# A second workflow `v`: one hop, two runs, one error. Risk 0 (a single hop cannot cascade).
TRACE_B: list[dict[str, Any]] = [
    {"run_id": "v1", "hop_id": "solo", "workflow_id": "v", "cost_usd": 0.2},
    {"run_id": "v2", "hop_id": "solo", "workflow_id": "v", "status": "error", "cost_usd": 0.2},
]
