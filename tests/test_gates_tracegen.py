"""Trace records built to order for the gate, config, diff and CI-output tests (no tests here).

`workflow_runs` writes `n` runs of one workflow through the given hops. Counts are exact, not
random: hop h is validated in the first `validated[h]` runs, wrong (a violation) in the first
`wrong[h]` of those, and reports an error in the last `errors[h]` runs; so every rate the
report shows is a known fraction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tracebook import write_jsonl

from argus_cli.analysis import analyse
from argus_cli.report import Report, Settings


def workflow_runs(
    n: int,
    *,
    workflow: str = "w",
    hops: Sequence[str] = ("a", "b"),
    validated: Mapping[str, int] | None = None,
    wrong: Mapping[str, int] | None = None,
    errors: Mapping[str, int] | None = None,
    high_stakes: Mapping[str, tuple[int, int]] | None = None,
    drifted: Mapping[str, int] | None = None,
    confidence: float | None = 0.9,
    scores: Mapping[str, float] | None = None,
    latency_ms: float = 100.0,
    cost_usd: float = 0.01,
    prefix: str = "r",
) -> list[dict[str, Any]]:
    validated = validated or {}
    wrong = wrong or {}
    errors = errors or {}
    high_stakes = high_stakes or {}
    drifted = drifted or {}
    records: list[dict[str, Any]] = []
    for i in range(n):
        run = f"{prefix}{workflow}-{i}"
        for seq, hop in enumerate(hops, start=1):
            checked = i < validated.get(hop, 0)
            stakes, unvalidated = high_stakes.get(hop, (0, 0))
            record: dict[str, Any] = {
                "run_id": run,
                "hop_id": hop,
                "workflow_id": workflow,
                "seq": seq,
                "validated": checked,
                "violations": ["format:bad"] if checked and i < wrong.get(hop, 0) else [],
                "status": "error" if i >= n - errors.get(hop, 0) else "success",
                "latency_ms": latency_ms,
                "cost_usd": cost_usd,
                "intent_checksum": "drift" if i < drifted.get(hop, 0) else "k",
            }
            if i < stakes:
                record["high_stakes"] = True
                # The unvalidated ones are the last high-stakes runs; the rest are validated.
                record["validated"] = i < stakes - unvalidated
                record["violations"] = []
            if seq == len(hops) and confidence is not None:
                record["confidence"] = confidence
            if scores:
                record["scores"] = dict(scores)
            records.append(record)
    return records


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_jsonl(path, records)


def report_of(path: Path, settings: Settings | None = None) -> Report:
    return analyse([str(path)], settings, quiet=True)
