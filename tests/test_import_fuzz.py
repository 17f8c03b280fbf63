"""Fuzzing the loader through the OTLP and Langfuse importers (issue 12).

Real exports from tests/data with one value anywhere replaced by a wrong one, a line cut short
or a byte that is not UTF-8: the load either refuses the whole input with one InputError, or
loads; it never raises anything else, and every record it counts is either loaded or named.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus_cli.diagnostics import InputError
from argus_cli.load.loading import load

DATA = Path(__file__).parent / "data"
EXPORTS = {
    "otlp": (DATA / "otlp" / "genai_collector.jsonl").read_text().splitlines(),
    "langfuse": (DATA / "langfuse" / "blob_export.jsonl").read_text().splitlines(),
}
WRONG: list[Any] = ["0.9", "true", "", -1, 1.5, 1e30, math.nan, True, None, [], {}, "ERROR"]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))] or [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))] or [path]
    return [path]


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], rest, new)  # type: ignore[index]
    return copy


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(EXPORTS)))
    lines = [line.encode() for line in EXPORTS[fmt]]
    index = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["value", "value", "value", "cut", "latin1"]))
    if how == "value":
        record = json.loads(lines[index])
        path = draw(st.sampled_from(_leaves(record)))
        lines[index] = json.dumps(_replace(record, path, draw(st.sampled_from(WRONG)))).encode()
    elif how == "cut":
        lines[index] = lines[index][: draw(st.integers(0, len(lines[index]) - 1))]
    else:
        at = draw(st.integers(0, len(lines[index])))
        lines[index] = lines[index][:at] + b"\xe9" + lines[index][at:]
    return fmt, b"".join(line + b"\n" for line in lines)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_importers_never_traceback_and_count_every_record(case):
    fmt, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        path.write_bytes(data)
        for forced in (None, fmt):
            try:
                trace = load([str(path)], source_format=forced, hop_spans="all")
            except InputError as exc:
                assert str(exc).strip() and "Traceback" not in str(exc)
                continue
            try:
                loaded = sum(
                    trace.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in ("hops", "intents", "outcomes")
                )
                assert loaded + len(trace.bad) == trace.records
                assert all(b.line >= 1 and b.reason for b in trace.bad)
            finally:
                trace.close()
