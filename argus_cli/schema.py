"""The record format of SPEC section 1, in one place.

The loader builds its SQL from these declarations and the writer library writes records with
these names, so a field is added or retyped here and nowhere else. Validation is explicit rather
than left to DuckDB's type detection, which samples the first records only and would type a field
by whatever shape happened to come first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Literal

Kind = Literal["hop", "intent", "outcome"]
KINDS: tuple[Kind, ...] = ("hop", "intent", "outcome")
STATUSES = ("success", "error", "skipped")

# JSON value shapes a field accepts; each maps to one way of converting it in SQL.
Shape = Literal[
    "string",
    "int",
    "float",
    "unit",
    "bool",
    "timestamp",
    "violations",
    "scores",
    "strings",
    "object",
    "digest",  # a string only ever compared, loaded as its 64-bit hash
]


@dataclass(frozen=True)
class Field:
    """One top-level key of a record."""

    name: str
    shape: Shape
    kinds: tuple[Kind, ...]
    required_for: tuple[Kind, ...] = ()
    nonnegative: bool = False  # a number that must be >= 0 (costs, tokens, latencies)


FIELDS: tuple[Field, ...] = (
    Field("kind", "string", KINDS),
    Field("run_id", "string", KINDS, required_for=KINDS),
    Field("hop_id", "string", ("hop",), required_for=("hop",)),
    Field("workflow_id", "string", ("hop",)),
    Field("span_id", "string", ("hop",)),
    Field("parent_id", "string", ("hop",)),
    Field("agent", "string", ("hop",)),
    Field("seq", "int", ("hop",)),
    Field("status", "string", ("hop",)),
    Field("error", "string", ("hop",)),
    Field("validated", "bool", ("hop",)),
    Field("violations", "violations", ("hop",)),
    Field("high_stakes", "bool", ("hop",)),
    Field("confidence", "unit", ("hop",)),
    Field("correct", "bool", ("hop", "outcome"), required_for=("outcome",)),
    Field("scores", "scores", ("hop",)),
    Field("input_tokens", "int", ("hop",), nonnegative=True),
    Field("output_tokens", "int", ("hop",), nonnegative=True),
    Field("cost_usd", "float", ("hop",), nonnegative=True),
    Field("latency_ms", "float", ("hop",), nonnegative=True),
    Field("started_at", "timestamp", ("hop",)),
    Field("ended_at", "timestamp", ("hop",)),
    Field("model", "string", ("hop",)),
    Field("input_hash", "string", ("hop",)),
    Field("output_hash", "string", ("hop",)),
    Field("intent_checksum", "string", ("hop", "intent")),
    Field("metadata", "object", ("hop",)),
    Field("goal", "string", ("intent",)),
    Field("constraints", "strings", ("intent",)),
    Field("created_at", "timestamp", ("intent",)),
    Field("source", "string", ("outcome",)),
    Field("note", "string", ("outcome",)),
)

FIELD_NAMES = frozenset(f.name for f in FIELDS)

# What the metrics read (argus_cli/metrics/): `argus report`, `check` and `diff` keep only what
# these give (staging._HOP_FACTS), which makes the tables smaller. (`trace`, `query` and
# `convert` keep every field.) Every field is still checked in both modes: a record is valid or
# malformed the same way whatever the command. Strings that are only ever compared (payload
# hashes, intent checksums, span ids) or not read at all are loaded as "digest": a 64-bit hash
# of the string instead of the string.
_METRIC_NAMES = frozenset(
    {
        "kind",
        "run_id",
        "hop_id",
        "workflow_id",
        "span_id",
        "parent_id",
        "seq",
        "status",
        "validated",
        "violations",
        "high_stakes",
        "confidence",
        "correct",
        "scores",
        "cost_usd",
        "latency_ms",
        "started_at",
        "ended_at",
        "input_hash",
        "output_hash",
        "intent_checksum",
        "goal",
        "constraints",
    }
)
_COMPARED_ONLY = frozenset({"span_id", "parent_id", "input_hash", "output_hash", "intent_checksum"})
METRIC_FIELDS: tuple[Field, ...] = tuple(
    replace(f, shape="digest")
    if f.name in _COMPARED_ONLY or (f.name not in _METRIC_NAMES and f.shape == "string")
    else f
    for f in FIELDS
)
# Payloads are optional and may be large: kept out of the typed tables, reachable in `argus query`.
PAYLOAD_FIELDS = frozenset({"input", "output"})


def canonical_json(value: object) -> str:
    """The one JSON spelling that checksums are taken over (SPEC 1.2)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def intent_checksum(goal: str, constraints: list[str]) -> str:
    """sha256 hex of the canonical intent, as SPEC 1.2 defines it; the SQL twin is in staging.py."""
    payload = canonical_json({"constraints": list(constraints), "goal": goal})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
