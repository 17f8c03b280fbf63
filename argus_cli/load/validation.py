"""The validation rule: what a valid record is, field by field, as SQL. The one place that says it.

(Checks on trace records as they are loaded; the writer library's checks of what it writes are
records.py.) Every load path (the typed JSON Lines scan, line by line, Parquet, the OTLP and
Langfuse importers) and every command (`report`, `check`, `trace`, `query`, `convert`) gets a
record's fields as JSON fragments and types them with `_value_sql`; one CASE (`_error_sql`) gives
the first reason a record is unusable, or NULL. So a record is valid or malformed the same way
everywhere, with the same reason. (Parquet columns whose types fit are cast directly by
`_parquet_value_sql`, which must agree with `_value_sql` on the row's JSON: a property test holds
them together.)

The rule is the SPEC's types, strictly: a string is not a bool or a number (`"true"`, `"0.9"` and
`"1"` are refused where a bool or number is due), and a number is not a string (a numeric
`run_id` is refused: SPEC 1 says string, and `1`, `1.0` and `"1"` would otherwise be one run or
three depending on the path). Ranges: costs, tokens and latencies finite and >= 0, confidence and
scores in [0, 1]; NaN and Infinity are refused. `status` is case-folded (`"ERROR"` is `error`:
an uppercase status means what it says, and skipping such hops would hide failures); any other
value is refused. `kind` is not folded. Timestamps are RFC 3339 text or epoch numbers: a number
of magnitude below 1e11 is seconds (1e11 ms is March 1973, 1e11 s the year 5138), otherwise
milliseconds; one out of the representable range is refused.

DuckDB's own casts are lenient ("yes" would be true), so every shape is checked explicitly.
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


# Epoch numbers of a smaller magnitude than this are seconds, larger ones milliseconds.
EPOCH_SECONDS_BELOW = 1e11


# A fragment's JSON type, read off its text instead of parsing it again (json_type and DuckDB's
# JSON casts do; that was most of the cost of loading a clean JSON Lines file). Every fragment
# `_value_sql` is given is one DuckDB wrote (read_json's and json_transform's JSON columns and
# list items, to_json), and DuckDB writes them minified, the value's first character first: '"'
# a string, '{' an object, '[' an array, 't' or 'f' a bool; a JSON null is handed over as SQL
# NULL, never as text. A number is the fragment whose text casts to a double, and that cast is
# its value: no other fragment's text does (quoted, `true`, braces), and a number's text is the
# shortest that reads back to the double DuckDB read, non-finite ones (`nan`, `-Infinity`,
# `1e400`) as they were written. tests/test_validation_paths.py holds all of this to json_type
# and DuckDB's own casts, on fragments of both readers.
def _text(x: str) -> str:
    return f"CAST({x} AS VARCHAR)"


def _json_string(x: str) -> str:
    return f"ascii({_text(x)}) = 34"


def _json_double(x: str) -> str:
    """A number fragment's value, NULL for any other fragment."""
    return f"TRY_CAST({_text(x)} AS DOUBLE)"


def _json_number(x: str) -> str:
    return f"{_json_double(x)} IS NOT NULL"


def _json_bool(x: str) -> str:
    return f"ascii({_text(x)}) IN (102, 116)"


def _json_object(x: str) -> str:
    return f"ascii({_text(x)}) = 123"


def _json_array(x: str) -> str:
    return f"ascii({_text(x)}) = 91"


def _json_whole(x: str) -> str:
    """An integer fragment's value (json_type's BIGINT or UBIGINT: digits alone, which no other
    number is written as), NULL past BIGINT and for any other fragment."""
    return f"TRY_CAST({_text(x)} AS BIGINT)"


# Both SPEC shapes of a violation become one struct: "cat:rule" and {rule, severity, category}.
_VIOLATION_ITEM = (
    f"CASE WHEN {_json_string('v')} THEN {{"
    "'rule': CASE WHEN strpos(v->>'$', ':') > 0 "
    "THEN substr(v->>'$', strpos(v->>'$', ':') + 1) ELSE v->>'$' END, "
    "'severity': CAST(NULL AS VARCHAR), "
    "'category': CASE WHEN strpos(v->>'$', ':') > 0 "
    "THEN split_part(v->>'$', ':', 1) END} "
    "ELSE {'rule': v->>'rule', 'severity': v->>'severity', "
    "'category': v->>'category'} END"
)
_VIOLATION_SHAPE_OK = f"lambda v: NOT ({_json_string('v')} OR {_json_object('v')})"


def _digest(value: str) -> str:
    """A 64-bit hash of a string that is only ever compared (NULL stays NULL)."""
    return f"CASE WHEN ({value}) IS NOT NULL THEN hash({value}) END"


def _epoch_sql(number: str) -> str:
    """An epoch number as a timestamp: seconds below EPOCH_SECONDS_BELOW, else milliseconds."""
    n = f"CAST({number} AS DOUBLE)"
    return (
        f"CASE WHEN isfinite({n}) THEN CAST(try(to_timestamp(CASE WHEN abs({n}) < "
        f"{EPOCH_SECONDS_BELOW:.0f} THEN {n} ELSE {n} / 1000.0 END)) AS TIMESTAMP) END"
    )


def _timestamp_sql(text: str) -> str:
    """Epoch seconds or milliseconds (as a number or its digits) or RFC 3339 text (no offset
    means UTC); NULL when out of range."""
    return (
        f"CASE WHEN TRY_CAST({text} AS DOUBLE) IS NOT NULL "
        f"THEN {_epoch_sql(f'TRY_CAST({text} AS DOUBLE)')} "
        f"ELSE try(CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP)) END"
    )


def _finite(value: str, f: Field) -> str:
    """The condition a number must meet for the field: finite, and >= 0 where it must be."""
    return f"isfinite({value})" + (f" AND {value} >= 0" if f.nonnegative else "")


def _unit(value: str) -> str:
    """A number in [0, 1]. (`isfinite` first: DuckDB folds a comparison on a Parquet column by
    its statistics, which leave NaN out, so `NaN BETWEEN 0 AND 1` alone can come out true.)"""
    return f"(isfinite({value}) AND {value} BETWEEN 0 AND 1)"


def _value_sql(f: Field, x: str | None = None) -> str:
    """SQL that turns the field's JSON fragment (`j.name` by default) into its typed value,
    NULL where it breaks the rule (`_error_sql` then names the field)."""
    x = x or f"j.{_q(f.name)}"
    number = _json_double(x)
    match f.shape:
        case "string":
            return f"CASE WHEN {_json_string(x)} THEN {x}->>'$' END"
        case "digest":
            return _digest(_value_sql(replace(f, shape="string"), x))
        case "int":
            # Digits alone cast exactly (no other fragment's text casts as an integer); the
            # text of any other number reads as a double, whole or not.
            digits = " AND ".join(f"NOT contains({_text(x)}, {_lit(c)})" for c in ".eE")
            whole = (
                f"CASE WHEN {digits} THEN {_json_whole(x)} "
                f"WHEN isfinite({number}) AND {number} = floor({number}) "
                f"AND abs({number}) < 9e18 "
                f"THEN CAST({number} AS BIGINT) END"
            )
            if not f.nonnegative:
                return whole
            return f"CASE WHEN ({whole}) >= 0 THEN ({whole}) END"
        case "float":
            return f"CASE WHEN {_finite(number, f)} THEN {number} END"
        case "unit":
            return f"CASE WHEN {_unit(number)} THEN {number} END"
        case "bool":
            return f"CASE WHEN {_json_bool(x)} THEN {_text(x)} = 'true' END"
        case "timestamp":
            epoch = _epoch_sql(number)
            text = _timestamp_sql(f"({x}->>'$')")
            return (
                f"CASE WHEN {_json_number(x)} THEN {epoch} WHEN {_json_string(x)} THEN {text} END"
            )
        case "violations":
            items = f"json_transform({x}, '[\"JSON\"]')"
            return (
                f"CASE WHEN {_json_array(x)} "
                f"AND len(list_filter({items}, {_VIOLATION_SHAPE_OK})) = 0 "
                f"THEN list_transform({items}, lambda v: {_VIOLATION_ITEM}) END"
            )
        case "scores":
            entries = f"map_values(json_transform({x}, '\"MAP(VARCHAR, JSON)\"'))"
            # (an entry that is no number has no double: refused; a null one is let through)
            return (
                f"CASE WHEN {_json_object(x)} AND len(list_filter({entries}, lambda v: "
                f"NOT coalesce({_unit(_json_double('v'))}, v IS NULL))) = 0 "
                f"THEN json_transform({x}, '\"MAP(VARCHAR, DOUBLE)\"') END"
            )
        case "strings":
            items = f"json_transform({x}, '[\"JSON\"]')"
            return (
                f"CASE WHEN {_json_array(x)} AND len(list_filter({items}, "
                f"lambda v: NOT {_json_string('v')})) = 0 "
                f"THEN json_transform({x}, '[\"VARCHAR\"]') END"
            )
        case "object":
            return f"CASE WHEN {_json_object(x)} THEN {x} END"
    raise AssertionError(f"unhandled shape {f.shape}")


_EXPECTED = {
    "string": "a string",
    "digest": "a string",
    "int": "a whole number",
    "float": "a finite number",
    "unit": "a number in 0..1",
    "bool": "true or false",
    "timestamp": "an RFC 3339 timestamp or epoch seconds or milliseconds",
    "violations": "a list of strings or {rule, severity, category} objects",
    "scores": "an object of numbers in 0..1, each key once",
    "strings": "a list of strings",
    "object": "an object",
}


def expected(f: Field) -> str:
    """What the field must be, as an error message says it."""
    return _EXPECTED[f.shape] + (" >= 0" if f.nonnegative else "")


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
            f"THEN {_lit(f'field {f.name!r} must be {expected(f)}')}"
        )
    branches.append(
        f"WHEN kind = 'hop' AND status NOT IN ({', '.join(_lit(s) for s in STATUSES)}) "
        "THEN 'unknown status \"' || (j.status->>'$') || "
        "'\" (expected success, error or skipped)'"
    )
    return "CASE " + " ".join(branches) + " END"


def _struct_spec(fields: Sequence[Field]) -> str:
    """json_transform's target: every loaded field as a JSON fragment, parsed once per line."""
    return "{" + ", ".join(f'"{f.name}":"JSON"' for f in fields) + "}"


def _staged_columns(fields: Sequence[Field]) -> str:
    """Every field typed from its JSON fragment `j.name`; `kind` and `status` defaulted."""
    cols = []
    for f in fields:
        if f.name == "kind":
            cols.append(
                "CASE WHEN j.kind IS NULL THEN 'hop' "
                f"WHEN {_json_string('j.kind')} THEN j.kind->>'$' END AS kind"
            )
        elif f.name == "status":
            cols.append(
                "CASE WHEN j.status IS NULL THEN 'success' "
                f"WHEN {_json_string('j.status')} THEN lower(j.status->>'$') END AS status"
            )
        else:
            cols.append(f"{_value_sql(f)} AS {_q(f.name)}")
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


def _parquet_always_valid(f: Field, type_: str) -> bool:
    """Whether no value of a Parquet column of this type can break the field's rule.

    Such a column decides nothing about a record's validity, so a load that does not use the
    field's value need not read it. Strings, booleans, timestamps and objects hold by their type;
    numbers can leave a range, lists can hold nulls.
    """
    match f.shape:
        case "string" | "digest":
            return type_ == "VARCHAR"
        case "bool":
            return type_ == "BOOLEAN"
        case "timestamp":
            return type_.startswith("TIMESTAMP")
        case "object":
            return type_.startswith(("MAP(", "STRUCT("))
    return False


def _parquet_value_sql(f: Field, x: str, type_: str) -> str | None:
    """A Parquet column of this type as the field's typed value, or None: not a type to trust
    (the file then goes the JSON way, `_value_sql` over each row's JSON).

    It must give what `_value_sql` gives on the row's JSON (a property test holds them
    together): NULL where the value breaks the rule, so `_error_sql` names the field.
    """
    number = _is_number(type_)
    no_nulls = f"len(list_filter({x}, lambda v: v IS NULL)) = 0"
    match f.shape:
        case "digest":
            value = _parquet_value_sql(replace(f, shape="string"), x, type_)
            return None if value is None else _digest(value)
        case "string" if type_ == "VARCHAR":
            return x
        case "int" if type_ in _INTEGERS:
            whole = f"TRY_CAST({x} AS BIGINT)"
            return f"CASE WHEN {whole} >= 0 THEN {whole} END" if f.nonnegative else whole
        case "int" if type_ in ("FLOAT", "DOUBLE"):
            n = f"CAST({x} AS DOUBLE)"
            ok = f"isfinite({n}) AND {n} = floor({n}) AND abs({n}) < 9e18"
            ok += f" AND {n} >= 0" if f.nonnegative else ""
            return f"CASE WHEN {ok} THEN CAST({n} AS BIGINT) END"
        case "float" if number:
            n = f"CAST({x} AS DOUBLE)"
            return f"CASE WHEN {_finite(n, f)} THEN {n} END"
        case "unit" if number:
            n = f"CAST({x} AS DOUBLE)"
            return f"CASE WHEN {_unit(n)} THEN {n} END"
        case "bool" if type_ == "BOOLEAN":
            return x
        case "timestamp" if type_.startswith("TIMESTAMP"):
            return f"CAST({x} AS TIMESTAMP)"
        case "timestamp" if number:
            return _epoch_sql(x)
        case "timestamp" if type_ == "VARCHAR":
            return _timestamp_sql(x)
        case "violations" if type_ == "VARCHAR[]":
            item = (
                "{'rule': CASE WHEN strpos(v, ':') > 0 THEN substr(v, strpos(v, ':') + 1) "
                "ELSE v END, 'severity': CAST(NULL AS VARCHAR), "
                "'category': CASE WHEN strpos(v, ':') > 0 THEN split_part(v, ':', 1) END}"
            )
            return f"CASE WHEN {no_nulls} THEN list_transform({x}, lambda v: {item}) END"
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
            return f"CASE WHEN {no_nulls} THEN list_transform({x}, lambda v: {{{item}}}) END"
        case "scores" if type_.startswith("MAP(VARCHAR,") and _is_number(type_[12:-1].strip()):
            typed = f"CAST({x} AS MAP(VARCHAR, DOUBLE))"
            return (
                f"CASE WHEN len(list_filter(map_values({typed}), "
                f"lambda v: v IS NULL OR NOT {_unit('v')})) = 0 THEN {typed} END"
            )
        case "strings" if type_ == "VARCHAR[]":
            return f"CASE WHEN {no_nulls} THEN {x} END"
        case "object" if type_.startswith(("MAP(", "STRUCT(")):
            return f"CAST(to_json({x}) AS JSON)"
    return None
