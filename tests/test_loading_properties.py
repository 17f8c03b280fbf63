"""Property tests: no record, however odd, breaks a load; valid records come back as written."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus_cli.load.loading import load
from argus_cli.schema import FIELDS

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from([f.name for f in FIELDS] + ["tenant", "input"])
any_record = st.dictionaries(field_names, json_values, max_size=8)


def _load_lines(lines: list[str]):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.jsonl"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return load([str(path)], keep_unknown=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_record, min_size=1, max_size=6))
def test_any_json_object_is_either_loaded_or_reported(records):
    # Anchor the file with one valid hop so it is a trace; every other record is arbitrary.
    lines = [json.dumps({"run_id": "anchor", "hop_id": "h"})]
    lines += [json.dumps(r, ensure_ascii=False) for r in records]
    trace = _load_lines(lines)
    counted = sum(
        trace.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("hops", "intents", "outcomes")
    )
    assert counted + len(trace.bad) == len(lines) == trace.records
    assert all(b.line >= 2 for b in trace.bad)


ids = st.text(min_size=1, max_size=10).filter(lambda s: s.strip() == s and s)
unit = st.floats(min_value=0, max_value=1, allow_nan=False)
valid_hop = st.fixed_dictionaries(
    {"run_id": ids, "hop_id": ids},
    optional={
        "seq": st.integers(min_value=0, max_value=10**6),
        "status": st.sampled_from(["success", "error", "skipped"]),
        "validated": st.booleans(),
        "confidence": unit,
        "cost_usd": st.floats(min_value=0, max_value=1e6, allow_nan=False),
        "scores": st.dictionaries(st.sampled_from(["groundedness", "accuracy", "safety"]), unit),
        "violations": st.lists(st.text(max_size=10), max_size=3),
        "model": st.text(max_size=10),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(valid_hop, min_size=1, max_size=8))
def test_valid_hops_round_trip(records):
    trace = _load_lines([json.dumps(r, ensure_ascii=False) for r in records])
    assert trace.bad == []
    rows = trace.con.execute(
        "SELECT run_id, hop_id, seq, status, validated, confidence, cost_usd, scores, model, "
        "len(violations) FROM hops ORDER BY _order"
    ).fetchall()
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row[0:2] == (record["run_id"], record["hop_id"])
        assert row[2] == record.get("seq")
        assert row[3] == record.get("status", "success")
        assert row[4] == record.get("validated", False)
        for got, key in ((row[5], "confidence"), (row[6], "cost_usd")):
            want = record.get(key)
            assert (got is None and want is None) or math.isclose(got, want)
        assert (row[7] or {}) == pytest_approx_map(record.get("scores", {}))
        assert row[8] == record.get("model")
        assert row[9] == len(record.get("violations", []))


def pytest_approx_map(scores: dict) -> dict:
    return {k: float(v) for k, v in scores.items()}
