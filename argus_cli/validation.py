"""The validation rule: how every SPEC field of a record is checked and typed, as SQL.

(Checks on trace records as they are loaded; the writer library's sampled validation of agent
outputs is contracts.py.) Three ways in, one set of checks: each staging path (staging.py)
types a record's fields with its own twin of the same rule, and one CASE (`_error_sql`) gives
the first reason a record is unusable, or NULL, evaluated in the same pass:

- `_value_sql`: from the field's JSON fragment, for records read as lines of text;
- `_fast_value_sql`: from `read_json`'s typed columns (`_FAST_TYPES`), NULL wherever the
  line-by-line way would report an error;
- `_parquet_value_sql`: from a Parquet column whose type fits the field, or None.

DuckDB's own casts are lenient ("yes" would be true), so every shape is checked explicitly.
It is a module of its own because the rule is the SPEC's, whatever the records are read from:
SQL text only, built from schema.FIELDS, with no connection and no file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from argus_cli.schema import KINDS, STATUSES, Field


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_NUMBER = "('BIGINT', 'UBIGINT', 'DOUBLE')"


# Both SPEC shapes of a violation become one struct: "cat:rule" and {rule, severity, category}.
_VIOLATION_ITEM = (
    "CASE WHEN json_type(v) = 'VARCHAR' THEN {"
    "'rule': CASE WHEN strpos(v->>'$', ':') > 0 "
    "THEN substr(v->>'$', strpos(v->>'$', ':') + 1) ELSE v->>'$' END, "
    "'severity': CAST(NULL AS VARCHAR), "
    "'category': CASE WHEN strpos(v->>'$', ':') > 0 "
    "THEN split_part(v->>'$', ':', 1) END} "
    "ELSE {'rule': v->>'rule', 'severity': v->>'severity', "
    "'category': v->>'category'} END"
)
_VIOLATION_SHAPE_OK = "lambda v: json_type(v) NOT IN ('VARCHAR', 'OBJECT')"


def _digest(value: str) -> str:
    """A 64-bit hash of a string that is only ever compared (NULL stays NULL)."""
    return f"CASE WHEN ({value}) IS NOT NULL THEN hash({value}) END"


def _timestamp_sql(text: str) -> str:
    """Epoch milliseconds (as a number or its digits) or RFC 3339 text (no offset means UTC)."""
    return (
        f"CASE WHEN TRY_CAST({text} AS DOUBLE) IS NOT NULL "
        f"THEN CAST(try(to_timestamp(TRY_CAST({text} AS DOUBLE) / 1000.0)) AS TIMESTAMP) "
        f"ELSE CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP) END"
    )


def _value_sql(f: Field) -> str:
    """SQL that turns the field's JSON fragment `j.name` into its typed value."""
    x = f"j.{_q(f.name)}"
    t = f"json_type({x})"
    match f.shape:
        case "string":
            return f"CASE WHEN {t} IN ('VARCHAR', 'BIGINT', 'UBIGINT') THEN {x}->>'$' END"
        case "digest":
            return _digest(_value_sql(replace(f, shape="string")))
        case "int":
            return (
                f"CASE WHEN {t} IN ('BIGINT', 'UBIGINT') THEN TRY_CAST({x} AS BIGINT) "
                f"WHEN {t} = 'DOUBLE' AND TRY_CAST({x} AS DOUBLE) = floor(TRY_CAST({x} AS DOUBLE)) "
                f"THEN TRY_CAST(TRY_CAST({x} AS DOUBLE) AS BIGINT) END"
            )
        case "float":
            return f"CASE WHEN {t} IN {_NUMBER} THEN CAST({x} AS DOUBLE) END"
        case "unit":
            return (
                f"CASE WHEN {t} IN {_NUMBER} AND TRY_CAST({x} AS DOUBLE) BETWEEN 0 AND 1 "
                f"THEN CAST({x} AS DOUBLE) END"
            )
        case "bool":
            return f"CASE WHEN {t} = 'BOOLEAN' THEN CAST({x} AS BOOLEAN) END"
        case "timestamp":
            return f"CASE WHEN {t} IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE') THEN " + (
                _timestamp_sql(f"({x}->>'$')") + " END"
            )
        case "violations":
            items = f"json_transform({x}, '[\"JSON\"]')"
            return (
                f"CASE WHEN {t} = 'ARRAY' AND len(list_filter({items}, {_VIOLATION_SHAPE_OK})) = 0 "
                f"THEN list_transform({items}, lambda v: {_VIOLATION_ITEM}) END"
            )
        case "scores":
            entries = f"map_values(json_transform({x}, '\"MAP(VARCHAR, JSON)\"'))"
            return (
                f"CASE WHEN {t} = 'OBJECT' AND len(list_filter({entries}, lambda v: "
                f"json_type(v) NOT IN {_NUMBER} OR TRY_CAST(v AS DOUBLE) NOT BETWEEN 0 AND 1)) = 0 "
                f"THEN json_transform({x}, '\"MAP(VARCHAR, DOUBLE)\"') END"
            )
        case "strings":
            return (
                f"CASE WHEN {t} = 'ARRAY' AND len(list_filter(json_transform({x}, '[\"JSON\"]'), "
                f"lambda v: json_type(v) <> 'VARCHAR')) = 0 "
                f"THEN json_transform({x}, '[\"VARCHAR\"]') END"
            )
        case "object":
            return f"CASE WHEN {t} = 'OBJECT' THEN {x} END"
    raise AssertionError(f"unhandled shape {f.shape}")


# The fast path: DuckDB's read_json with these column types parses clean files in parallel,
# once. Its casts are lenient ("yes" would be true), so types are chosen to keep every SPEC
# check possible on the typed value: booleans as text, whole numbers as doubles.
_FAST_TYPES = {
    "string": "VARCHAR",
    "digest": "VARCHAR",
    "int": "DOUBLE",
    "float": "DOUBLE",
    "unit": "DOUBLE",
    "bool": "VARCHAR",
    "timestamp": "VARCHAR",
    "violations": "JSON[]",
    "scores": "MAP(VARCHAR, DOUBLE)",
    "strings": "VARCHAR[]",
    "object": "JSON",
}


def _fast_value_sql(f: Field) -> str:
    """The fast path's twin of _value_sql: NULL wherever the slow path would report an error."""
    x = f"j.{_q(f.name)}"
    match f.shape:
        case "digest":
            return _digest(_fast_value_sql(replace(f, shape="string")))
        case "string":  # read_json turns an object into its JSON text: refuse that
            return (
                f"CASE WHEN left({x}, 1) IN ('{{', '[') AND json_valid({x}) THEN NULL ELSE {x} END"
            )
        case "int":
            return f"CASE WHEN {x} = floor({x}) AND abs({x}) < 9e18 THEN CAST({x} AS BIGINT) END"
        case "float":
            return x
        case "unit":
            return f"CASE WHEN {x} BETWEEN 0 AND 1 THEN {x} END"
        case "bool":
            return f"CASE {x} WHEN 'true' THEN true WHEN 'false' THEN false END"
        case "timestamp":
            return _timestamp_sql(x)
        case "violations":
            return (
                f"CASE WHEN len(list_filter({x}, {_VIOLATION_SHAPE_OK})) = 0 "
                f"THEN list_transform({x}, lambda v: {_VIOLATION_ITEM}) END"
            )
        case "scores":
            return (
                f"CASE WHEN len(list_filter(map_values({x}), "
                f"lambda v: v IS NULL OR v NOT BETWEEN 0 AND 1)) = 0 THEN {x} END"
            )
        case "strings":
            return x
        case "object":
            return f"CASE WHEN json_type({x}) = 'OBJECT' THEN {x} END"
    raise AssertionError(f"unhandled shape {f.shape}")


_EXPECTED = {
    "string": "a string",
    "digest": "a string",
    "int": "a whole number",
    "float": "a number",
    "unit": "a number in 0..1",
    "bool": "true or false",
    "timestamp": "an RFC 3339 timestamp or epoch milliseconds",
    "violations": "a list of strings or {rule, severity, category} objects",
    "scores": "an object of numbers in 0..1",
    "strings": "a list of strings",
    "object": "an object",
}


def _kind_in(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(_lit(k) for k in kinds) + ")"


def _error_sql(fields: Sequence[Field]) -> str:
    """The first reason a record is unusable, or NULL: one CASE, evaluated in the same pass."""
    branches = [
        "WHEN j IS NULL THEN 'invalid JSON'",
        "WHEN NOT is_object THEN 'not a JSON object'",
        "WHEN kind IS NULL THEN 'field \"kind\" must be a string'",
        f"WHEN kind NOT IN ({', '.join(_lit(k) for k in KINDS)}) "
        "THEN 'unknown kind \"' || kind || '\" (expected hop, intent or outcome)'",
    ]
    for f in fields:
        for kind in f.required_for:
            empty = f" OR {_q(f.name)} = ''" if f.shape == "string" else ""
            branches.append(
                f"WHEN kind = {_lit(kind)} AND (j.{_q(f.name)} IS NULL{empty}) "
                f"THEN {_lit(f'{kind} record lacks required field {f.name!r}')}"
            )
    for f in fields:
        if f.name == "kind":
            continue
        branches.append(
            f"WHEN {_kind_in(f.kinds)} AND j.{_q(f.name)} IS NOT NULL AND {_q(f.name)} IS NULL "
            f"THEN {_lit(f'field {f.name!r} must be {_EXPECTED[f.shape]}')}"
        )
    branches.append(
        f"WHEN kind = 'hop' AND status NOT IN ({', '.join(_lit(s) for s in STATUSES)}) "
        "THEN 'unknown status \"' || status || '\" (expected success, error or skipped)'"
    )
    return "CASE " + " ".join(branches) + " END"


def _struct_spec(fields: Sequence[Field]) -> str:
    """json_transform's target: every loaded field as a JSON fragment, parsed once per line."""
    return "{" + ", ".join(f'"{f.name}":"JSON"' for f in fields) + "}"


def _staged_columns(fields: Sequence[Field], fast: bool = False) -> str:
    cols = []
    text = "" if fast else "->>'$'"
    for f in fields:
        if f.name == "kind":
            cols.append(f"coalesce(j.kind{text}, 'hop') AS kind")
        elif f.name == "status":
            cols.append(f"coalesce(j.status{text}, 'success') AS status")
        else:
            value = _fast_value_sql(f) if fast else _value_sql(f)
            cols.append(f"{value} AS {_q(f.name)}")
    return ", ".join(cols)


_INTEGERS = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
    }
)


def _is_number(type_: str) -> bool:
    return type_ in _INTEGERS or type_ in ("FLOAT", "DOUBLE") or type_.startswith("DECIMAL")


def _parquet_value_sql(f: Field, x: str, type_: str) -> str | None:
    """A Parquet column of this type as the field's typed value, or None: not a type to trust.

    NULL where the value breaks the SPEC (as in the other paths), so `_error_sql` finds it.
    """
    number = _is_number(type_)
    match f.shape:
        case "digest":
            value = _parquet_value_sql(replace(f, shape="string"), x, type_)
            return None if value is None else _digest(value)
        case "string" if type_ == "VARCHAR" or type_ in _INTEGERS:
            return f"CAST({x} AS VARCHAR)"
        case "int" if type_ in _INTEGERS:
            return f"TRY_CAST({x} AS BIGINT)"
        case "int" if number:
            return f"CASE WHEN {x} = floor({x}) AND abs({x}) < 9e18 THEN CAST({x} AS BIGINT) END"
        case "float" if number:
            return f"CAST({x} AS DOUBLE)"
        case "unit" if number:
            return f"CASE WHEN {x} BETWEEN 0 AND 1 THEN CAST({x} AS DOUBLE) END"
        case "bool" if type_ == "BOOLEAN":
            return x
        case "timestamp" if type_.startswith("TIMESTAMP"):
            return f"CAST({x} AS TIMESTAMP)"
        case "timestamp" if number:
            return f"CAST(try(to_timestamp({x} / 1000.0)) AS TIMESTAMP)"
        case "timestamp" if type_ == "VARCHAR":
            return _timestamp_sql(x)
        case "violations" if type_ == "VARCHAR[]":
            return _fast_value_sql(f).replace(f"j.{_q(f.name)}", f"CAST({x} AS JSON[])")
        case "violations" if type_.startswith("STRUCT(") and type_.endswith(")[]"):
            parts = [
                p
                for p in ("rule", "severity", "category")
                if f'"{p}" VARCHAR' in type_ or f" {p} VARCHAR" in type_ or f"({p} VARCHAR" in type_
            ]
            item = ", ".join(
                f"'{p}': v.{p}" if p in parts else f"'{p}': CAST(NULL AS VARCHAR)"
                for p in ("rule", "severity", "category")
            )
            return f"list_transform({x}, lambda v: {{{item}}})"
        case "scores" if type_.startswith("MAP(VARCHAR,") and _is_number(type_[12:-1].strip()):
            typed = f"CAST({x} AS MAP(VARCHAR, DOUBLE))"
            return (
                f"CASE WHEN len(list_filter(map_values({typed}), "
                f"lambda v: v IS NULL OR v NOT BETWEEN 0 AND 1)) = 0 THEN {typed} END"
            )
        case "strings" if type_ == "VARCHAR[]":
            return x
        case "object" if type_.startswith(("MAP(", "STRUCT(")):
            return f"CAST(to_json({x}) AS JSON)"
    return None
