"""Parquet files read by their column types, checked by the one rule (validation.py).

A column whose type already says what the SPEC asks (a VARCHAR `run_id`, a DOUBLE `cost_usd`) is
cast and range-checked as it is; one whose type a field cannot take as it is (a `scores`
struct, a numeric `run_id`) is typed from its own JSON by the JSON rule, so a Parquet record is
valid or malformed as the same record in JSON Lines would be (tests/test_validation_paths.py).
staging.py decides when a file goes this way.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from argus_cli.load.inputs import Source, _hive_fields
from argus_cli.load.validation import (
    _error_sql,
    _lit,
    _parquet_always_valid,
    _parquet_value_sql,
    _q,
    _value_sql,
)
from argus_cli.schema import Field


def _parquet_stage_sql(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    file_index: int,
    fields: Sequence[Field],
    used: frozenset[str] | None = None,
) -> str | None:
    """A Parquet file read column by column, cast by its own types: no detour through JSON.

    A column whose type the field cannot take as it is (a `scores` struct, a numeric `run_id`)
    is read as its JSON and typed by the JSON rule itself (validation._value_sql), the other
    columns still by type. None when `kind` or `status` is not text: the file then goes the
    JSON way, which names each bad row. With `used` (the fields a narrowed load reads), a
    column outside it whose type alone makes every value valid is not read at all (a
    `metadata` map, `model` text): it could neither fail a record nor feed a figure.
    """
    scan = f"read_parquet({_lit(source.scan)}, hive_partitioning = false)"
    types = dict(
        (name, type_)
        for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    )
    hive = _hive_fields(source)
    raw, values = [], []
    for f in fields:
        column = _q(f.name)
        unread = used is not None and f.name not in used
        if unread and _parquet_always_valid(f, types.get(f.name, "")):
            raw.append(f"{_lit(f.name)}: NULL")
            values.append(f"NULL AS {column}")
            continue
        if f.name in types:
            value = _parquet_value_sql(f, column, types[f.name])
            if value is None and f.name in ("kind", "status"):
                return None  # (their defaults fill a null value, not only a missing one)
            if value is None:  # this column alone as JSON, through the JSON rule itself
                value = _value_sql(f, f"CAST(to_json({column}) AS JSON)")
            read = column
            if f.name in hive:  # a folder value fills a null, as on every path
                filled = _parquet_value_sql(f, _lit(hive[f.name]), "VARCHAR")
                value = f"coalesce({value}, {filled})"
                read = f"coalesce({column}, {_lit(hive[f.name])})"
            raw.append(f"{_lit(f.name)}: {read}")
        elif f.name in hive:
            value = _parquet_value_sql(f, _lit(hive[f.name]), "VARCHAR") or "NULL"
            raw.append(f"{_lit(f.name)}: {value}")
        else:  # a null of the field's type (an untyped NULL leaves `epoch_us(NULL)` ambiguous)
            value = _value_sql(f, "CAST(NULL AS JSON)")
            raw.append(f"{_lit(f.name)}: NULL")
        if f.name == "kind":
            value = f"coalesce({value}, 'hop')"
        elif f.name == "status":
            value = f"coalesce(lower({value}), 'success')"
        values.append(f"{value} AS {column}")
    typed = f"SELECT true AS is_object, {{{', '.join(raw)}}} AS j, {', '.join(values)} FROM {scan}"
    return (
        f"SELECT {file_index} AS _file_index, CAST(NULL AS BIGINT) AS _line, "
        f"* EXCLUDE (is_object, j), {_error_sql(fields)} AS _error FROM ({typed})"
    )
