"""What goes into a hop record: field checks, payload fingerprints, timestamps, error text.

The tracers (argus_cli.writer.tracing) decide when a hop starts and ends and where it sits in its
run; this module turns what a hop recorded into the SPEC 1.1 record that is written.

Fields are checked against schema.FIELDS when they are recorded, not when the trace is read: a
wrong type is a bug at the call site, and the loader would otherwise skip the whole record.
Payloads are fingerprinted (sha256 of canonical JSON) and kept in the record only when the tracer
is asked to store them: a trace is often kept longer, and by more people, than the payloads.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import hashlib
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from argus_cli.schema import FIELDS, STATUSES, Shape, canonical_json


class Unset(enum.Enum):
    """The type of UNSET: "no payload given", which None (a JSON null payload) cannot say."""

    UNSET = 0


UNSET = Unset.UNSET


class HopFields(TypedDict, total=False):
    """The SPEC 1.1 fields a hop can record; None means "not recorded"."""

    input: Any
    agent: str | None
    model: str | None
    status: Literal["success", "error", "skipped"] | None
    error: str | None
    confidence: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    scores: Mapping[str, float] | None
    violations: Sequence[str | Mapping[str, Any]] | None
    validated: bool | None
    high_stakes: bool | None
    correct: bool | None
    input_hash: str | None
    output_hash: str | None
    intent_checksum: str | None
    metadata: Mapping[str, Any] | None


HOP_FIELD_NAMES = frozenset(HopFields.__annotations__)

# The order fields are written in: the SPEC's (schema.FIELDS), so a trace reads well with `head`.
HOP_ORDER = (*(f.name for f in FIELDS if "hop" in f.kinds), "input", "output")


# --------------------------------------------------------------------------------------------
# Payloads


def to_jsonable(value: Any) -> Any:
    """A JSON value for any payload, so that every payload can be hashed and stored.

    Pydantic models, dataclasses, enums, dates, bytes and sets get a stable JSON spelling;
    anything else falls back to `str()`, whose hash is only as stable as that string.
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)  # NaN is not JSON
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=canonical_json)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic v2, without importing it
        return to_jsonable(model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return to_jsonable(float(value))
    return str(value)


def payload_hash(value: Any) -> str:
    """sha256 hex of a payload's canonical JSON: equal payloads give equal `*_hash` fields."""
    return hashlib.sha256(canonical_json(to_jsonable(value)).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Checking fields as they are recorded

_SHAPES: dict[str, Shape] = {f.name: f.shape for f in FIELDS}
_NONNEGATIVE = frozenset(f.name for f in FIELDS if f.nonnegative)  # as the loader checks them
_EXPECTED: dict[Shape, str] = {
    "string": "a string",
    "int": "a whole number",
    "float": "a finite number",
    "unit": "a number in 0..1",
    "bool": "True or False",
    "timestamp": "a timestamp",
    "violations": "a list of 'category:rule' strings or {rule, severity, category} mappings",
    "scores": "a mapping of names to numbers in 0..1",
    "strings": "a list of strings",
    "object": "a mapping",
}


def _bad(name: str, shape: Shape, value: Any) -> TypeError:
    return TypeError(f"field {name!r} must be {_EXPECTED[shape]}, got {value!r}")


def _unit(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(name, "unit", value)
    number = float(value)
    if not 0.0 <= number <= 1.0:  # NaN fails this too
        raise ValueError(f"field {name!r} must be a number in 0..1, got {value!r}")
    return number


def _violation(item: Any) -> str | dict[str, Any]:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and isinstance(item.get("rule"), str):
        extra = set(item) - {"rule", "severity", "category"}
        if not extra and all(isinstance(item.get(k), str | None) for k in ("severity", "category")):
            return {k: item[k] for k in ("rule", "severity", "category") if k in item}
    raise _bad("violations", "violations", [item])


def check_field(name: str, value: Any) -> Any:
    """The value as it will be written, or TypeError/ValueError naming the field."""
    shape = _SHAPES[name]
    if shape == "string":
        if not isinstance(value, str):
            raise _bad(name, shape, value)
        if name == "status" and value not in STATUSES:
            raise ValueError(f"field 'status' must be one of {', '.join(STATUSES)}, got {value!r}")
        return value
    if shape == "bool":
        if not isinstance(value, bool):
            raise _bad(name, shape, value)
        return value
    if shape == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _bad(name, shape, value)
        if name in _NONNEGATIVE and value < 0:
            raise ValueError(f"field {name!r} must be >= 0, got {value!r}")
        return int(value)
    if shape == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _bad(name, shape, value)
        if not math.isfinite(float(value)):
            raise ValueError(f"field {name!r} must be a finite number, got {value!r}")
        if name in _NONNEGATIVE and value < 0:
            raise ValueError(f"field {name!r} must be >= 0, got {value!r}")
        return float(value)
    if shape == "unit":
        return _unit(name, value)
    if shape == "scores":
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _bad(name, shape, value)
        return {k: _unit(f"{name}.{k}", v) for k, v in value.items()}
    if shape == "violations":
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise _bad(name, shape, value)
        return [_violation(v) for v in value]
    if shape == "strings":
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise _bad(name, shape, value)
        if not all(isinstance(v, str) for v in value):
            raise _bad(name, shape, value)
        return list(value)
    if shape == "object":
        if not isinstance(value, Mapping):
            raise _bad(name, shape, value)
        return to_jsonable(value)
    raise AssertionError(f"unhandled shape {shape}")


def checked_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - HOP_FIELD_NAMES
    if unknown:
        raise TypeError(
            f"unknown hop field(s) {', '.join(sorted(unknown))}; put anything else in metadata"
        )
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "input":
            out[name] = value  # a payload: hashed when the record is written
        elif value is not None:
            out[name] = check_field(name, value)
    return out


# --------------------------------------------------------------------------------------------
# Time


def rfc3339(epoch_seconds: float) -> str:
    """UTC with microseconds and `Z`, which the loader reads as TIMESTAMPTZ."""
    stamp = dt.datetime.fromtimestamp(epoch_seconds, tz=dt.timezone.utc)
    return stamp.isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_epoch(value: dt.datetime | float) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone; use an aware datetime")
        return value.timestamp()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"a timestamp is a datetime or epoch seconds, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class Stamp:
    """A moment on both clocks a hop reads."""

    wall: float  # epoch seconds, for started_at/ended_at
    mono: float  # seconds on a monotonic clock, for latency_ms


# --------------------------------------------------------------------------------------------
# The record


def describe_error(exc: BaseException) -> str:
    """`Type: message`, on one line and bounded, for the `error` field."""
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= 500 else text[:499] + "…"


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where a hop sits in its run: given by the tracer when the hop starts."""

    workflow_id: str
    run_id: str
    hop_id: str
    span_id: str
    parent_id: str | None
    seq: int


def hop_record(
    place: Placement,
    fields: Mapping[str, Any],
    output: Any,
    *,
    started: float,
    ended: float,
    latency_ms: float,
    store_payloads: bool,
) -> dict[str, Any]:
    """The SPEC 1.1 record of a hop that has ended, in the SPEC's field order.

    `fields` are what the hop recorded (checked already, `input` still a payload), `output` its
    output payload or UNSET; `started`/`ended` are epoch seconds. Defaults are written out
    (`status`, `validated`, `high_stakes`), None values are left out.
    """
    values: dict[str, Any] = {
        **fields,
        "kind": "hop",
        "run_id": place.run_id,
        "workflow_id": place.workflow_id,
        "hop_id": place.hop_id,
        "span_id": place.span_id,
        "parent_id": place.parent_id,
        "seq": place.seq,
        "status": fields.get("status") or "success",
        "started_at": rfc3339(started),
        "ended_at": rfc3339(ended),
        "latency_ms": round(latency_ms, 3),
        "validated": bool(fields.get("validated")),
        "high_stakes": bool(fields.get("high_stakes")),
    }
    values.pop("input", None)
    for name, payload in (("input", fields.get("input", UNSET)), ("output", output)):
        if payload is UNSET:
            continue
        if not fields.get(f"{name}_hash"):
            values[f"{name}_hash"] = payload_hash(payload)
        if store_payloads:
            values[name] = to_jsonable(payload)
    return {k: values[k] for k in HOP_ORDER if values.get(k) is not None}
