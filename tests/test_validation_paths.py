"""One validation rule on every path (issue 12): the same records valid, for the same reasons.

A record reaches validation.py by one of several ways: the typed `read_json` scan (a clean JSON
Lines file), line by line (a file with one bad line, and every file `query`/`convert` load),
Parquet column by column, or Parquet row by row as JSON. Each way, and both load modes (the
metrics' narrow one and every field), must call the same records malformed with the same reason.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus_cli.diagnostics import InputError
from argus_cli.load.loading import load
from argus_cli.schema import FIELDS

SCORES = "field 'scores' must be an object of numbers in 0..1, each key once"
GOOD = {"run_id": "r1", "hop_id": "h", "status": "success", "confidence": 0.5}

# Wrong (and right) values of every kind: the strings that look like other types, numbers out of
# range, NaN and Infinity, lists and objects where scalars are due.
WRONG: list[Any] = [
    "0.9",
    "true",
    "false",
    "1",
    "",
    "ERROR",
    "Skipped",
    "done",
    "2024-05-01T10:00:00Z",
    "99999-01-01T00:00:00Z",
    1,
    -1,
    0,
    0.5,
    1.5,
    -0.0,
    1e30,
    1700000000,
    1700000000000,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    None,
    [],
    ["a"],
    ["safety:x", {"rule": "r"}],
    [1],
    {},
    {"a": 0.5},
    {"a": "0.5"},
    {"a": 2},
    {"a": math.nan},
]
# every hop field SPEC 1.1 names (schema.FIELDS), so the list cannot fall behind the schema
FIELD_NAMES = [f.name for f in FIELDS if "hop" in f.kinds]

mutation = st.tuples(st.sampled_from(FIELD_NAMES), st.sampled_from(WRONG))
record = st.lists(mutation, min_size=1, max_size=3).map(lambda m: {**GOOD, **dict(m)})


def _bad(paths: list[Path], **kwargs: Any) -> tuple[int, list[tuple[int, str]]] | str:
    """(records, [(line, reason)]) of a load, or the refusal of the whole input."""
    try:
        trace = load([str(p) for p in paths], **kwargs)
    except InputError as exc:
        return f"refused: {exc}".replace(str(paths[0]), "FILE")
    try:
        return trace.records, [(b.line, b.reason) for b in trace.bad]
    finally:
        trace.close()


def _write(path: Path, rows: list[dict[str, Any]], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra)
    return path


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(record, min_size=1, max_size=4))
def test_every_jsonl_path_and_mode_agrees(records):
    rows = [GOOD, *records]  # one good record, so the file is a trace whatever the others are
    with tempfile.TemporaryDirectory() as tmp:
        clean = _write(Path(tmp) / "t.jsonl", rows)
        torn = _write(Path(tmp) / "torn.jsonl", rows, '{"run_id": "r1", "hop_\n')
        metrics = _bad([clean], columns="metrics")  # the typed scan, when the file is clean
        every = _bad([clean], columns="all")
        lines = _bad([clean], keep_unknown=True)  # always line by line
        assert metrics == every == lines
        if isinstance(lines, str):
            return
        count, bad = lines
        torn_expected = (count + 1, [*bad, (len(rows) + 1, "invalid JSON")])
        assert _bad([torn], columns="metrics") == torn_expected
        assert _bad([torn], columns="all") == torn_expected
        # The records the line path accepts, alone in a file, take the typed scan and pass it.
        valid = [r for i, r in enumerate(rows, 1) if i not in {line for line, _ in bad}]
        alone = _write(Path(tmp) / "valid.jsonl", valid)
        assert _bad([alone], columns="metrics") == (len(valid), [])


# Parquet: a column has one type, so each field takes values of one type throughout.
PARQUET_COLUMNS: dict[str, tuple[pa.DataType, list[Any]]] = {
    "run_id": (pa.int64(), [1, 2]),
    "seq": (pa.int64(), [-1, 0, 3]),
    "status": (pa.string(), ["success", "ERROR", "Skipped", "done"]),
    "correct": (pa.string(), ["true", "false"]),
    "validated": (pa.bool_(), [True, False]),
    "confidence": (pa.float64(), [-0.1, 0.0, 0.7, 1.0, 1.2, math.nan]),
    "cost_usd": (pa.float64(), [-1.0, 0.0, 0.25, math.nan, math.inf]),
    "latency_ms": (pa.float32(), [-3.0, 12.5, math.inf]),
    "input_tokens": (pa.int64(), [-5, 0, 10]),
    "output_tokens": (pa.float64(), [1.0, 2.5, -1.0]),
    "scores": (pa.map_(pa.string(), pa.float64()), [[("a", 0.5)], [("a", 1.5)], [("a", -0.1)]]),
    "started_at": (pa.int64(), [1700000000, 1700000000000, 10**17]),
    "ended_at": (pa.string(), ["2024-05-01T10:00:00Z", "99999-01-01T00:00:00Z", "soon"]),
    "violations": (pa.list_(pa.string()), [["safety:x"], [], ["a", None]]),
    "agent": (pa.string(), ["a", None]),
}


@st.composite
def parquet_case(draw: st.DrawFn) -> tuple[dict[str, pa.DataType], list[dict[str, Any]]]:
    names = draw(st.lists(st.sampled_from(sorted(PARQUET_COLUMNS)), min_size=1, max_size=4))
    names = sorted(set(names))
    n = draw(st.integers(1, 4))
    rows = []
    for _ in range(n):
        row: dict[str, Any] = {"hop_id": "h"}
        for name in names:
            row[name] = draw(st.sampled_from(PARQUET_COLUMNS[name][1]))
        rows.append(row)
    types = {"hop_id": pa.string(), **{name: PARQUET_COLUMNS[name][0] for name in names}}
    return types, rows


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    if isinstance(out.get("scores"), list):
        out["scores"] = dict(out["scores"])
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(parquet_case())
def test_parquet_typed_columns_agree_with_the_json_rule(case):
    types, rows = case
    good = {name: None for name in types} | {"hop_id": "h"}
    if types.get("run_id") != pa.int64():
        good["run_id"] = "r1"
        types = {**types, "run_id": pa.string()}
        rows = [{**r, "run_id": "r1"} for r in rows]
    rows = [good, *rows]
    schema = pa.schema(list(types.items()))
    with tempfile.TemporaryDirectory() as tmp:
        parquet = Path(tmp) / "t.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), parquet)
        jsonl = _write(Path(tmp) / "t.jsonl", [_json_row(r) for r in rows])
        columns = _bad([parquet], columns="metrics")  # column by column, when the types fit
        as_json = _bad([parquet], keep_unknown=True)  # row by row, as JSON
        assert columns == _bad([parquet], columns="all") == as_json
        as_text = _bad([jsonl], keep_unknown=True)
        if not isinstance(as_text, str):  # the same records, written as JSON Lines
            assert isinstance(as_json, tuple)
            assert as_json == as_text, (rows, as_json, as_text)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("correct", "false", "field 'correct' must be true or false"),
        ("validated", "true", "field 'validated' must be true or false"),
        ("confidence", "0.9", "field 'confidence' must be a number in 0..1"),
        ("run_id", 5, "field 'run_id' must be a string"),
        ("seq", "1", "field 'seq' must be a whole number"),
        ("scores", {"a": "0.5"}, SCORES),
        ("cost_usd", -1000, "field 'cost_usd' must be a finite number >= 0"),
        ("cost_usd", math.nan, "field 'cost_usd' must be a finite number >= 0"),
        ("latency_ms", math.inf, "field 'latency_ms' must be a finite number >= 0"),
        ("input_tokens", -1, "field 'input_tokens' must be a whole number >= 0"),
        ("confidence", math.nan, "field 'confidence' must be a number in 0..1"),
        ("scores", {"a": math.inf}, SCORES),
        ("status", "done", 'unknown status "done" (expected success, error or skipped)'),
    ],
)
def test_wrong_types_and_ranges_are_refused_in_every_mode(tmp_path, field, value, reason):
    path = _write(tmp_path / "t.jsonl", [GOOD, {**GOOD, field: value}])
    for kwargs in ({"columns": "metrics"}, {"columns": "all"}, {"keep_unknown": True}):
        assert _bad([path], **kwargs) == (2, [(2, reason)]), kwargs


def test_status_case_is_folded(tmp_path):
    """`"ERROR"` is an error hop, not a malformed one: the failing hops count against the run."""
    path = _write(tmp_path / "t.jsonl", [GOOD, {**GOOD, "run_id": "r2", "status": "ERROR"}])
    for kwargs in ({"columns": "metrics"}, {"keep_unknown": True}):
        trace = load([str(path)], **kwargs)
        statuses = trace.con.execute("SELECT status FROM hops ORDER BY _order").fetchall()
        assert statuses == [("success",), ("error",)]
        trace.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, "2023-11-14 22:13:20"),  # seconds
        (1700000000000, "2023-11-14 22:13:20"),  # milliseconds
        (1700000000.5, "2023-11-14 22:13:20.5"),
        ("2023-11-14T22:13:20Z", "2023-11-14 22:13:20"),
    ],
)
def test_epoch_seconds_and_milliseconds(tmp_path, value, expected):
    path = _write(tmp_path / "t.jsonl", [{**GOOD, "started_at": value}])
    for kwargs in ({"columns": "metrics"}, {"keep_unknown": True}):
        trace = load([str(path)], **kwargs)
        (got,) = trace.con.execute("SELECT CAST(started_at AS VARCHAR) FROM hops").fetchone()
        assert got == expected
        trace.close()


def test_folder_values_fill_the_same_fields_on_every_path(tmp_path):
    """`key=value` folders fill string fields left out or null; never a number (`seq=3`)."""
    folder = tmp_path / "workflow_id=wf1" / "seq=3"
    folder.mkdir(parents=True)
    _write(
        folder / "a.jsonl",
        [
            {"run_id": "r1", "hop_id": "h"},
            {"run_id": "r2", "hop_id": "h", "workflow_id": None},
            {"run_id": "r3", "hop_id": "h", "workflow_id": "own"},
        ],
    )
    table = {"run_id": ["p1", "p2"], "hop_id": ["h", "h"], "workflow_id": [None, "own"]}
    pq.write_table(pa.table(table), folder / "b.parquet")
    expected = [
        ("p1", "wf1", None),
        ("p2", "own", None),
        ("r1", "wf1", None),
        ("r2", "wf1", None),
        ("r3", "own", None),
    ]
    for kwargs in ({"columns": "metrics"}, {"columns": "all"}, {"keep_unknown": True}):
        trace = load([str(tmp_path)], **kwargs)
        assert trace.bad == []
        sql = "SELECT run_id, workflow_id, seq FROM hops ORDER BY run_id"
        assert trace.con.execute(sql).fetchall() == expected, kwargs
        trace.close()


number = st.sampled_from([-1000, -1, -0.0, 0, 1e-9, 0.5, 1, 1.5, 1e12, math.nan, math.inf])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "run_id": st.sampled_from(["r1", "r2", "r3"]),
                "hop_id": st.sampled_from(["a", "b"]),
                "status": st.sampled_from(["success", "error", "ERROR"]),
            },
            optional={
                "cost_usd": number,
                "latency_ms": number,
                "confidence": number,
                "correct": st.booleans(),
                "scores": st.dictionaries(
                    st.sampled_from(["groundedness", "accuracy", "safety"]), number
                ),
            },
        ),
        min_size=1,
        max_size=8,
    )
)
def test_every_g_arvis_value_is_in_0_1(records):
    """Whatever the costs, latencies, confidences and scores, a G-ARVIS value is in [0, 1]:
    the values that would push one out (a negative cost, NaN) are malformed records."""
    from argus_cli.analysis import analyse

    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / "t.jsonl", [GOOD, *records])
        report = analyse([str(path)], quiet=True)
    for name, value in report.g_arvis_scores.to_dict().items():
        assert value is None or 0.0 <= value <= 1.0, (name, value)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_convert_then_report_gives_the_numbers_report_gives(runner, tmp_path, suffix):
    """`convert` keeps exactly the records `report` analyses, so the figures are the same."""
    from argus_cli.cli import app

    rows = [
        GOOD,
        {**GOOD, "run_id": "r2", "correct": "false"},
        {**GOOD, "run_id": "r3", "status": "error", "cost_usd": 0.5},
        {**GOOD, "run_id": "r4", "cost_usd": -1000},
        {**GOOD, "run_id": "r5", "confidence": "0.9"},
        {**GOOD, "run_id": "r6", "correct": False, "seq": 1.0},
    ]
    source = _write(tmp_path / "t.jsonl", rows)
    converted = tmp_path / f"c{suffix}"
    assert runner.invoke(app, ["convert", str(source), "-o", str(converted)]).exit_code == 0
    reports = []
    for path in (source, converted):
        result = runner.invoke(app, ["report", str(path), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        report.pop("inputs")
        reports.append(report)
    assert reports[0] == reports[1]
    assert reports[0]["runs"] == 3  # r1, r3 and r6


# JSON texts, some only DuckDB's reader takes (non-finite literals, numbers past a double or an
# int64), for the fragments it writes of them.
_SCALAR_TEXT = st.one_of(
    st.sampled_from(
        [
            *("null", "true", "false", "nan", "-nan", "NaN", "inf", "-Infinity", "1e400"),
            *("-1E400", "-0", "-0.0", "1E2", "1e-400", "9223372036854775807"),
            *("9223372036854775808", "18446744073709551616", "-9223372036854775809"),
            *("123456789012345678901234567890", '""', '"\\u00e9\\"x"', '"a\\/b"'),
            *('"tab\\t"', '"1"', '"true"', '"null"'),
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=5).map(lambda t: json.dumps(t, ensure_ascii=False)),
)
_JSON_TEXT = st.recursive(
    _SCALAR_TEXT,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(inner, max_size=3).map(
            lambda items: "{" + ", ".join(f'"k{i}" : {v}' for i, v in enumerate(items)) + "}"
        ),
    ),
    max_leaves=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_JSON_TEXT, min_size=1, max_size=6))
def test_a_fragments_first_character_is_its_json_type(texts):
    """validation._json_* read a fragment's type off its text instead of parsing it again: on
    every fragment DuckDB hands over (read_json, json_transform, their list items and map
    values), they must say what json_type says, and a number's text must cast to the value
    DuckDB's JSON cast gives (an integer's exactly; text with no '.' or exponent that is not an
    integer is out of BIGINT's range, as the rule's double route also finds)."""
    import duckdb

    from argus_cli.load.validation import (
        _json_array,
        _json_bool,
        _json_double,
        _json_number,
        _json_object,
        _json_string,
        _json_whole,
    )

    lines = [f'{{"a": {t}}}' for t in texts]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.jsonl"
        path.write_text("".join(line + "\n" for line in lines))
        con = duckdb.connect()
        con.execute(
            "CREATE TABLE f AS SELECT a FROM read_json(?, format = 'newline_delimited', "
            "columns = {'a': 'JSON'}) UNION ALL "
            'SELECT json_transform(line, \'{"a":"JSON"}\').a FROM unnest(?::VARCHAR[]) t(line)',
            [str(path), lines],
        )
        con.execute(
            "INSERT INTO f SELECT unnest(json_transform(a, '[\"JSON\"]')) FROM f "
            "WHERE json_type(a) = 'ARRAY'"
        )
        con.execute(
            "INSERT INTO f SELECT unnest(map_values(json_transform(a, '\"MAP(VARCHAR, JSON)\"'))) "
            "FROM f WHERE json_type(a) = 'OBJECT'"
        )
        number = "json_type(a) IN ('BIGINT', 'UBIGINT', 'DOUBLE')"
        integer = "json_type(a) IN ('BIGINT', 'UBIGINT')"
        disagree = con.execute(
            f"""SELECT CAST(a AS VARCHAR), json_type(a) FROM f WHERE a IS NOT NULL AND (
            CAST(a AS VARCHAR) = 'null'
            OR ({_json_string("a")}) IS DISTINCT FROM (json_type(a) = 'VARCHAR')
            OR ({_json_number("a")}) IS DISTINCT FROM ({number})
            OR ({_json_bool("a")}) IS DISTINCT FROM (json_type(a) = 'BOOLEAN')
            OR ({_json_object("a")}) IS DISTINCT FROM (json_type(a) = 'OBJECT')
            OR ({_json_array("a")}) IS DISTINCT FROM (json_type(a) = 'ARRAY')
            OR ({number} AND {_json_double("a")} IS DISTINCT FROM TRY_CAST(a AS DOUBLE))
            OR ({integer} AND regexp_matches(CAST(a AS VARCHAR), '[.eE]'))
            OR ({integer} AND {_json_whole("a")} IS DISTINCT FROM TRY_CAST(a AS BIGINT))
            OR (NOT {integer} AND NOT regexp_matches(CAST(a AS VARCHAR), '[.eE]')
                AND {_json_whole("a")} IS NOT NULL)
            OR (json_type(a) = 'BOOLEAN'
                AND CAST(a AS BOOLEAN) <> (CAST(a AS VARCHAR) = 'true')))"""
        ).fetchall()
        assert disagree == []
