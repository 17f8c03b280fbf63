"""Loading trace files into DuckDB: the `hops`, `intents` and `outcomes` relations.

Every input (JSON Lines, gzip, Parquet, folders, globs, stdin, and OTLP or Langfuse exports
through `importers/`) becomes rows of one staging table, checked and typed field by field in
SQL; no Python touches a record. Three ways in, one set of checks (`_error_sql`):

- Clean JSON Lines: one parallel `read_json` scan with explicit column types, chosen so that
  every SPEC check still works on the typed values (DuckDB's own casts are lenient).
- Parquet whose column types fit the SPEC fields: read column by column, cast by its types.
- Everything else, and any file where a fast path finds a single bad record: read as numbered
  lines of text (Parquet rows as JSON), each parsed once with `json_transform`. This is the way
  that names every malformed record by file and line, so a clean file is parsed once and a
  dirty one at most twice.
Explicit types also mean no guessing from the first 20,480 records, and files with different
columns load side by side. `columns="metrics"` reads only the fields metrics.py uses, and keeps
of each record only the scalars derived from them (`_HOP_FACTS`).

Small inputs are loaded into an in-memory database; past WORK_ON_DISK_BYTES, into a database
file in a private temporary folder, so that memory stays bounded whatever the input size.

The loaded relations:

- `hops`: one row per valid hop record, every loaded SPEC 1.1 field typed and defaulted, plus
  `position` (SPEC 2: rank in its run by seq, started_at, input order; NULL for skipped hops),
  `_file` and `_line` (where it came from) and `_order` (input order across all files).
- `intents`, `outcomes`: the SPEC 1.2 and 1.3 records, with `intent_checksum` computed where
  the record lacks it.
- `hop_facts`: what the metrics read of each hop (`_HOP_FACTS`, `_order`). With
  `columns="metrics"` it, `intents` and `outcomes` are views over the narrow staged rows.
With `keep_unknown=True` (for `argus query`) each relation also gets one column per unknown
top-level field, and `record`, the whole record as JSON.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Literal, Protocol
from urllib.parse import unquote

import duckdb

from argus_cli.diagnostics import BadRecord, InputError, UsageError
from argus_cli.importers import HopSpans, SourceFormat, detect_format, import_sql, no_hops_message
from argus_cli.schema import FIELDS, KINDS, METRIC_FIELDS, STATUSES, Field

# argus's own records (jsonl, parquet), or a foreign format that an importer maps to them.
Format = Literal["jsonl", "parquet", "otlp", "langfuse"]
# Which fields to load: all of them, or only those the metrics read.
Columns = Literal["all", "metrics"]

TRACE_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# A hop record can carry its payloads; DuckDB's default line limit (2 MB) is too small for that.
MAX_LINE_BYTES = 64 * 1024 * 1024
STDIN = "-"


@dataclass(frozen=True)
class Source:
    """One file to read, as the user will see it named in messages."""

    path: str
    display: str
    format: Format
    gzip: bool = False
    hive: tuple[tuple[str, str], ...] = ()
    hop_spans: HopSpans = "agents"  # which spans an importer makes hops


class LoadProgress(Protocol):
    """Something that shows how far a load has got (render.LoadProgressBar, on a terminal)."""

    def begin(self, total_bytes: int) -> None: ...

    def reading(
        self, con: duckdb.DuckDBPyConnection, size: int
    ) -> contextlib.AbstractContextManager[None]: ...

    def end(self) -> None: ...


@dataclass
class Trace:
    """The loaded trace: a DuckDB connection holding `hops`, `intents` and `outcomes`."""

    con: duckdb.DuckDBPyConnection
    files: list[str]
    records: int
    bad: list[BadRecord] = field(default_factory=list)
    work_dir: str | None = None  # the database file's folder, for a load worked on disk
    watched: bool = False  # someone watches stderr: a long step may say what it is doing

    def close(self) -> None:
        """Close the database and remove its work folder (also done at exit if forgotten)."""
        self.con.close()
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            with contextlib.suppress(ValueError):
                _WORK_DIRS.remove(self.work_dir)


# --------------------------------------------------------------------------------------------
# Resolving inputs to files


def resolve_inputs(
    inputs: Sequence[str],
    stdin: BinaryIO | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Source]:
    """Expand files, folders, globs and `-` into the ordered list of files to read.

    With `since`/`until`, `date=` partition folders outside the range are skipped unopened.
    """
    if not inputs:
        raise InputError("no input given: name trace files, folders, globs or - for stdin")
    sources: list[Source] = []
    for item in inputs:
        if item == STDIN:
            sources.append(_stdin_source(stdin if stdin is not None else sys.stdin.buffer))
        elif os.path.isdir(item):
            found = list(_folder_sources(Path(item), since, until))
            if not found and any(True for _ in _folder_files(Path(item))):
                raise InputError(f"{item}: no date= partition in the --since/--until range")
            if not found:
                raise InputError(f"{item}: folder has no trace files ({', '.join(TRACE_SUFFIXES)})")
            sources.extend(found)
        elif os.path.exists(item):
            sources.append(_file_source(Path(item), item))
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            if not files:
                raise InputError(f"{item}: no files match this pattern")
            sources.extend(_file_source(Path(m), m) for m in files)
        else:
            raise InputError(f"{item}: no such file or folder")
    return sources


def _folder_sources(
    root: Path, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Source]:
    """Trace files below `root`, in path order; `key=value` folders become fields (hive).

    A file in a `date=` folder outside [since, until] is pruned before it is opened.
    """
    for path, hive in _folder_files(root):
        if _pruned(dict(hive).get("date"), since, until):
            continue
        source = _file_source(path, str(path))
        yield Source(source.path, source.display, source.format, source.gzip, hive)


def _folder_files(root: Path) -> Iterator[tuple[Path, tuple[tuple[str, str], ...]]]:
    """Trace file paths below `root` and their `key=value` folders, without opening a file.

    Values are percent-decoded: DuckDB and Spark encode `/`, `=`, spaces and the like.
    """
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue  # _SUCCESS markers, .crc files, hidden folders
        if not path.name.endswith(TRACE_SUFFIXES):
            continue
        hive = tuple(
            (unquote(key), unquote(value))
            for key, _, value in (part.partition("=") for part in rel.parts[:-1])
            if value and key
        )
        yield path, hive


def _pruned(folder_date: str | None, since: datetime | None, until: datetime | None) -> bool:
    """Whether a `date=` folder can hold no run in range, so its files need not be read.

    `argus convert --partition` files a whole run under its first hop's UTC date, `unknown`
    without one (such runs are out of any range); a value that is neither is not pruned.
    """
    if folder_date is None or (since is None and until is None):
        return False
    if folder_date == "unknown":
        return True
    try:
        day = date.fromisoformat(folder_date)
    except ValueError:
        return False
    return (since is not None and day < since.date()) or (until is not None and day > until.date())


def _file_source(path: Path, display: str) -> Source:
    """Decide a file's format by its first bytes, so a misnamed file still loads."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise InputError(f"{display}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(PARQUET_MAGIC):
        return Source(str(path), display, "parquet")
    return Source(str(path), display, "jsonl", gzip=head.startswith(GZIP_MAGIC))


def _stdin_source(stream: BinaryIO) -> Source:
    """Copy stdin to a private temporary file: DuckDB reads files, and stdin can be read once."""
    handle = tempfile.NamedTemporaryFile(prefix="argus-stdin-", delete=False)  # noqa: SIM115
    with handle:
        shutil.copyfileobj(stream, handle)
    source = _file_source(Path(handle.name), "<stdin>")
    _TEMP_FILES.append(handle.name)
    return source


_TEMP_FILES: list[str] = []


def _remove_temp_files() -> None:
    while _TEMP_FILES:
        with contextlib.suppress(OSError):
            os.unlink(_TEMP_FILES.pop())


# --------------------------------------------------------------------------------------------
# SQL: checking and casting each field


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


def _lines_sql(source: Source) -> str:
    """(_line, _raw) for every non-blank line or Parquet row of one file."""
    if source.format in ("otlp", "langfuse"):  # its text lines, mapped to SPEC records
        text = _lines_sql(replace(source, format="jsonl"))
        return import_sql(source.format, text, source.hop_spans)
    path = _lit(source.path)
    if source.format == "parquet":
        return (
            # The row number is DuckDB's, not the record's: keep it out of the JSON.
            f"SELECT file_row_number + 1 AS _line, CAST(to_json(struct_pack("
            f"*COLUMNS(* EXCLUDE (file_row_number)))) AS VARCHAR) AS _raw "
            f"FROM read_parquet({path}, file_row_number = true, hive_partitioning = false)"
        )
    compression = "gzip" if source.gzip else "none"
    # Read lines as one text column: a delimiter and quote that valid JSON never holds raw.
    return (
        f"SELECT ordinality AS _line, line AS _raw FROM read_csv({path}, "
        f"columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '', escape = '', "
        f"header = false, auto_detect = false, strict_mode = false, "
        f"compression = {_lit(compression)}, max_line_size = {MAX_LINE_BYTES}, "
        f"buffer_size = {MAX_LINE_BYTES}) WITH ORDINALITY "
        f"WHERE line IS NOT NULL AND trim(line) <> ''"
    )


def _stage_sql(source: Source, file_index: int, keep_raw: bool, fields: Sequence[Field]) -> str:
    """One pass over one file: every line parsed once, typed, and given its error or NULL."""
    raw = "_raw"
    if source.hive:
        hive_json = json.dumps(dict(source.hive), ensure_ascii=False)
        # Fields in the record win over the folder names (json_merge_patch: right side wins).
        raw = f"CASE WHEN is_object THEN json_merge_patch({_lit(hive_json)}, _raw) ELSE _raw END"
    record = f", CAST(try(CAST({raw} AS JSON)) AS JSON) AS record" if keep_raw else ""
    lines = _lines_sql(source)
    parsed = (
        f"SELECT _line, _raw, is_object, try(json_transform({raw}, '{_struct_spec(fields)}')) AS j "
        f"FROM (SELECT _line, _raw, ltrim(_raw) LIKE '{{%' AS is_object FROM ({lines}))"
    )
    typed = f"SELECT _line, _raw, is_object, j, {_staged_columns(fields)} FROM ({parsed})"
    return (
        f"SELECT {file_index} AS _file_index, _line, * EXCLUDE (_line, _raw, is_object, j), "
        f"{_error_sql(fields)} AS _error{record} FROM ({typed}){_stage_order(source)}"
    )


def _stage_order(source: Source) -> str:
    """Rows are inserted in line order (rowid is the input order). A file's own lines come in
    order already; an importer's joins do not, so its spans are sorted by line, run and seq."""
    return " ORDER BY _line, run_id, seq" if source.format in ("otlp", "langfuse") else ""


def _facts_sql(stage_sql: str, source: Source) -> str:
    """A stage query's typed records narrowed to what the metrics read (`columns="metrics"`).

    Lists, maps and the fields only used to derive others are reduced to scalars in the same
    pass, so a staged row is a few dozen bytes: `_HOP_FACTS` for hops, the computed checksum
    for intents, `correct` for outcomes. The record's `_error` was decided on the typed values.
    """
    facts = ", ".join(f"{sql} AS {name}" for name, sql in _HOP_FACTS if name != "intent_checksum")
    checksum = (
        f"coalesce(intent_checksum, CASE WHEN kind = 'intent' THEN "
        f"{_digest(_INTENT_CHECKSUM_SQL)} END) AS intent_checksum"
    )
    return (
        f"SELECT _file_index, _line, kind, {facts}, {checksum}, _error "
        f"FROM ({stage_sql}){_stage_order(source)}"
    )


def _fast_stage_sql(source: Source, file_index: int, fields: Sequence[Field]) -> str:
    """A clean JSON Lines file in one parallel typed scan; any error sends it to the slow path.

    Its `_line` is left NULL: a clean file's records are numbered from their row ids when the
    relations are built, and a file with an error is recounted line by line anyway.
    """
    columns = "{" + ", ".join(f"{_lit(f.name)}: {_lit(_FAST_TYPES[f.shape])}" for f in fields) + "}"
    hive = dict(source.hive)  # folder values fill fields the record leaves out
    pack = (
        "{"
        + ", ".join(
            f"{_lit(f.name)}: coalesce({_q(f.name)}, {_lit(hive[f.name])})"
            if f.name in hive and f.shape == "string"
            else f"{_lit(f.name)}: {_q(f.name)}"
            for f in fields
        )
        + "}"
    )
    compression = "gzip" if source.gzip else "none"
    scan = (
        f"read_json({_lit(source.path)}, format = 'newline_delimited', records = true, "
        f"columns = {columns}, compression = {_lit(compression)}, "
        f"maximum_object_size = {MAX_LINE_BYTES}, hive_partitioning = false)"
    )
    typed = (
        f"SELECT true AS is_object, j, {_staged_columns(fields, fast=True)} FROM ("
        f"SELECT {pack} AS j FROM {scan})"
    )
    return (
        f"SELECT {file_index} AS _file_index, CAST(NULL AS BIGINT) AS _line, "
        f"* EXCLUDE (is_object, j), {_error_sql(fields)} AS _error FROM ({typed})"
    )


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


def _parquet_stage_sql(
    con: duckdb.DuckDBPyConnection, source: Source, file_index: int, fields: Sequence[Field]
) -> str | None:
    """A Parquet file read column by column, cast by its own types: no detour through JSON.

    None when a column has a type the SPEC field cannot take as it is: the file then goes the
    JSON way, which names each bad row.
    """
    scan = f"read_parquet({_lit(source.path)}, hive_partitioning = false)"
    types = dict(
        (name, type_)
        for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    )
    hive = dict(source.hive)
    raw, values = [], []
    for f in fields:
        column = _q(f.name)
        if f.name in types:
            value = _parquet_value_sql(f, column, types[f.name])
            if value is None:
                return None
            raw.append(f"{_lit(f.name)}: {column}")
        elif f.name in hive and f.shape == "string":
            value = _lit(hive[f.name])
            raw.append(f"{_lit(f.name)}: {value}")
        else:
            value = "NULL"
            raw.append(f"{_lit(f.name)}: NULL")
        if f.name == "kind":
            value = f"coalesce({value}, 'hop')"
        elif f.name == "status":
            value = f"coalesce({value}, 'success')"
        values.append(f"{value} AS {column}")
    typed = f"SELECT true AS is_object, {{{', '.join(raw)}}} AS j, {', '.join(values)} FROM {scan}"
    return (
        f"SELECT {file_index} AS _file_index, CAST(NULL AS BIGINT) AS _line, "
        f"* EXCLUDE (is_object, j), {_error_sql(fields)} AS _error FROM ({typed})"
    )


# --------------------------------------------------------------------------------------------
# Building the relations


def load(
    inputs: Sequence[str],
    *,
    strict: bool = False,
    keep_unknown: bool = False,
    stdin: BinaryIO | None = None,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
    columns: Columns = "all",
    progress: LoadProgress | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Trace:
    """Read every input into a fresh in-memory DuckDB database; raise InputError if unusable.

    `source_format` forces every file's format (`--from`); by default each file's is detected.
    `columns="metrics"` loads only the fields the metrics read (and checks only those).
    `since`/`until` only prune `date=` partitions; the run filter itself is metrics.prepare's.
    """
    facts = columns == "metrics" and not keep_unknown
    fields = METRIC_FIELDS if facts else FIELDS
    try:
        sources = resolve_inputs(inputs, stdin, since, until)
        sources = [_with_format(s, source_format, hop_spans) for s in sources]
        work_dir = _work_dir(sources)
        con = connect(work_dir)
        if progress is not None:
            # DuckDB tracks a query's progress only with its bar on; it must never print it.
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = false")
            progress.begin(sum(_size(s) for s in sources))
        try:
            _stage(con, sources, keep_unknown, fields, progress, facts)
        finally:
            if progress is not None:
                progress.end()
    finally:
        _remove_temp_files()
    records, bad = _check_staged(con, sources, strict)
    # Metrics read the staged facts once (into m_hops), through views: no copy of any record.
    # `trace`, `query` and `convert` get tables of whole records.
    if facts:
        _build_fact_views(con)
    else:
        _build_relations(con, keep_unknown, fields)
        con.execute("DROP TABLE staged")
    return Trace(
        con=con, files=[s.display for s in sources], records=records, bad=bad, work_dir=work_dir
    )


# Inputs of about this many bytes of JSON or more are worked on in a database file (see
# connect): some 1.3 million hops. Below it, working in memory is faster and peaks under 1 GB.
WORK_ON_DISK_BYTES = 1024 * 1024 * 1024
# Parquet and gzip hold about an eighth of the bytes of the same records as JSON Lines.
PACKED_RATIO = 8
# The memory DuckDB may use when it works in a database file and the user has not said.
DEFAULT_DISK_MEMORY_LIMIT = "1GB"


def _work_dir(sources: Sequence[Source]) -> str | None:
    """A private folder for the database file of a large load, or None to work in memory.

    ARGUS_WORK=disk or ARGUS_WORK=memory decides instead of the input size.
    """
    choice = os.environ.get("ARGUS_WORK", "").strip().lower()
    if choice not in ("", "disk", "memory"):
        raise UsageError(f"ARGUS_WORK={choice!r} is not usable: expected disk or memory")
    if choice == "memory":
        return None
    if choice == "" and sum(_json_bytes(s) for s in sources) < WORK_ON_DISK_BYTES:
        return None
    parent = os.environ.get("ARGUS_TEMP_DIRECTORY") or tempfile.gettempdir()
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_abandoned_work_dirs(parent)
        work_dir = tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-", dir=parent)
    except OSError as exc:
        raise InputError(f"{parent}: cannot make a work folder ({exc.strerror or exc})") from None
    _WORK_DIRS.append(work_dir)
    return work_dir


_WORK_PREFIX = "argus-work-"


def _remove_abandoned_work_dirs(parent: str) -> None:
    """Work folders of argus processes that are gone (killed before their exit handler ran).

    A folder is named after its process id; one whose process still runs (or that this user
    may not signal) is left alone. Folders can be gigabytes: a killed run must not leave them.
    """
    for entry in Path(parent).glob(f"{_WORK_PREFIX}*-*"):
        pid = entry.name[len(_WORK_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not entry.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue  # alive under another user, or not ours to judge


def _json_bytes(source: Source) -> int:
    packed = source.gzip or source.format == "parquet"
    return _size(source) * (PACKED_RATIO if packed else 1)


_WORK_DIRS: list[str] = []


@atexit.register
def _remove_work_dirs() -> None:
    """Whatever a load left behind goes at exit, even when nobody closed its Trace."""
    while _WORK_DIRS:
        shutil.rmtree(_WORK_DIRS.pop(), ignore_errors=True)


def connect(work_dir: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB set up for argus: UTC, and the resource limits the user asked for.

    In memory by default. With `work_dir`, tables live in a database file there instead: DuckDB
    writes a large table's rows compressed as they come (some 40 bytes a hop) and keeps in
    memory only what a query is using, so memory stays bounded (DEFAULT_DISK_MEMORY_LIMIT)
    whatever the input size; temporary tables and views stay in memory either way.
    ARGUS_THREADS and ARGUS_MEMORY_LIMIT (e.g. "2GB") cap DuckDB; past the memory limit it
    spills to ARGUS_TEMP_DIRECTORY (default: a folder in the system temp dir, never the
    current folder). Insertion order stays preserved: the loader's input order relies on it.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    spill = os.environ.get("ARGUS_TEMP_DIRECTORY") or os.path.join(
        tempfile.gettempdir(), f"argus-spill-{os.getpid()}"
    )
    limit = os.environ.get("ARGUS_MEMORY_LIMIT")
    if work_dir is not None:
        con.execute(f"ATTACH {_lit(os.path.join(work_dir, 'work.duckdb'))} AS work")
        con.execute("USE work")
        spill = os.path.join(work_dir, "spill")
        limit = limit or DEFAULT_DISK_MEMORY_LIMIT
    settings = {
        "threads": os.environ.get("ARGUS_THREADS"),
        "memory_limit": limit,
        "temp_directory": spill,
    }
    for name, value in settings.items():
        if not value:
            continue
        try:
            con.execute(f"SET {name} = ?", [int(value) if name == "threads" else value])
        except (duckdb.Error, ValueError) as exc:
            variable = "ARGUS_" + name.upper()
            raise UsageError(f"{variable}={value!r} is not usable: {_first_line(exc)}") from None
    return con


def _with_format(source: Source, forced: SourceFormat | None, hop_spans: HopSpans) -> Source:
    """The file's format: argus records keep the reader their first bytes chose."""
    found = forced or detect_format(Path(source.path), source.display)
    return source if found == "argus" else replace(source, format=found, hop_spans=hop_spans)


def _size(source: Source) -> int:
    with contextlib.suppress(OSError):
        return os.path.getsize(source.path)
    return 0


def _stage(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    keep_raw: bool,
    fields: Sequence[Field],
    progress: LoadProgress | None = None,
    facts: bool = False,
) -> None:
    """Every file into `staged`, in input order: clean JSON Lines by the fast path, the rest
    line by line. Rows keep the order they are inserted in, so `rowid` is the input order.
    With `facts`, rows are narrowed to what the metrics read as they are staged.

    All files go in one transaction: a commit per file costs a flush of the work file each
    time, which made a dataset of many files slower than the same records in one. A fast path
    that raises (a line that is not JSON, say) aborts that transaction, though; the files are
    then staged again one transaction per file, so the failing file alone can be rolled back.
    """
    con.execute("CREATE TEMP TABLE files (_file_index INTEGER, _file VARCHAR)")
    con.executemany("INSERT INTO files VALUES (?, ?)", list(enumerate(s.display for s in sources)))
    con.execute("BEGIN TRANSACTION")
    try:
        _stage_files(con, sources, keep_raw, fields, progress, facts, per_file=False)
    except _FastPathFailed:
        con.execute("ROLLBACK")
        if progress is not None:
            progress.begin(sum(_size(s) for s in sources))
        _stage_files(con, sources, keep_raw, fields, progress, facts, per_file=True)
        return
    con.execute("COMMIT")


class _FastPathFailed(Exception):
    """A fast path raised inside the all-files transaction, which DuckDB has now aborted."""


def _stage_files(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    keep_raw: bool,
    fields: Sequence[Field],
    progress: LoadProgress | None,
    facts: bool,
    per_file: bool,
) -> None:
    for index, source in enumerate(sources):
        watch = progress.reading(con, _size(source)) if progress else contextlib.nullcontext()
        try:
            with watch:
                if index == 0:
                    empty = _stage_sql(source, 0, keep_raw, fields)
                    empty = _facts_sql(empty, source) if facts else empty
                    con.execute(f"CREATE TABLE staged AS {empty} LIMIT 0")
                if not keep_raw and _try_fast(con, source, index, fields, facts, per_file):
                    continue
                sql = _stage_sql(source, index, keep_raw, fields)
                sql = _facts_sql(sql, source) if facts else sql
                con.execute(f"INSERT INTO staged BY NAME {sql}")
        except duckdb.Error as exc:
            raise InputError(
                f"{source.display}: not a readable trace ({_first_line(exc)})"
            ) from None


def _try_fast(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    index: int,
    fields: Sequence[Field],
    facts: bool,
    per_file: bool,
) -> bool:
    """Load a file by a fast path if it is clean; leave nothing behind if it is not.

    With `per_file`, in a transaction of its own; otherwise inside the caller's, where a
    failing statement raises _FastPathFailed (DuckDB aborts the whole transaction).
    """
    if source.format == "jsonl":
        sql: str | None = _fast_stage_sql(source, index, fields)
    elif source.format == "parquet":
        sql = _parquet_stage_sql(con, source, index, fields)
    else:
        sql = None
    if sql is None:
        return False
    if facts:
        sql = _facts_sql(sql, source)
    if per_file:
        con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"INSERT INTO staged BY NAME {sql}")
        (bad,) = con.execute(
            "SELECT count(_error) FROM staged WHERE _file_index = ?", [index]
        ).fetchone() or (0,)
    except duckdb.Error:
        if not per_file:
            raise _FastPathFailed from None
        con.execute("ROLLBACK")
        return False
    if per_file:
        con.execute("ROLLBACK" if bad else "COMMIT")
    elif bad:  # (rows added in a transaction have no final rowid yet: select by file)
        con.execute("DELETE FROM staged WHERE _file_index = ?", [index])
    return not bad


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_staged(
    con: duckdb.DuckDBPyConnection, sources: list[Source], strict: bool
) -> tuple[int, list[BadRecord]]:
    """Count records, collect the bad ones, and refuse inputs with no usable record at all.

    A foreign file that maps to no record at all is refused too, saying why, not reported empty.
    """
    per_file = con.execute(
        "SELECT _file_index, count(*), count(_error) FROM staged GROUP BY ALL ORDER BY 1"
    ).fetchall()
    total = sum(n for _, n, _ in per_file)
    for index, records, errors in per_file:
        if records and records == errors:
            source = sources[index]
            line, reason = con.execute(
                "SELECT _line, _error FROM staged WHERE _file_index = ? ORDER BY _line LIMIT 1",
                [index],
            ).fetchone() or (0, "no records")
            raise InputError(
                f"{source.display}: not a trace (no usable record; line {line}: {reason})"
            )
    rows = con.execute(
        "SELECT _file_index, _line, _error FROM staged WHERE _error IS NOT NULL "
        "ORDER BY _file_index, _line"
    ).fetchall()
    bad = [BadRecord(sources[i].display, line, _bad_reason(sources[i], e)) for i, line, e in rows]
    if strict and bad:
        raise InputError(f"{bad[0]} (--strict: malformed records are fatal)")
    counts = {index: records for index, records, _ in per_file}
    for index, source in enumerate(sources):
        if source.format in ("otlp", "langfuse") and not counts.get(index):
            message = no_hops_message(source.format, source.hop_spans, Path(source.path))
            raise InputError(f"{source.display}: {message}")
    if not total and sources:  # every file empty or blank: name them, not "no hop records"
        names = ", ".join(source.display for source in sources)
        raise InputError(f"{names}: empty: no records in {'it' if len(sources) == 1 else 'them'}")
    return total, bad


def _bad_reason(source: Source, error: str) -> str:
    if source.format == "parquet" and error == "invalid JSON":
        return "row holds a value JSON cannot (NaN or infinity)"
    return error


# The hops relation's columns: (the field it needs, its SQL with SPEC defaults applied).
_HOP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "run_id"),
    ("hop_id", "hop_id"),
    ("workflow_id", "coalesce(workflow_id, 'default') AS workflow_id"),
    (
        "span_id",
        "coalesce(span_id, run_id || '/' || hop_id || '/' || coalesce(CAST(seq AS VARCHAR), "
        "CAST(position AS VARCHAR), 'skipped')) AS span_id",
    ),
    ("parent_id", "parent_id"),
    ("agent", "coalesce(agent, hop_id) AS agent"),
    ("seq", "seq"),
    ("status", "status"),
    ("error", "error"),
    ("validated", "coalesce(validated, false) AS validated"),
    (
        "violations",
        "coalesce(violations, "
        "CAST([] AS STRUCT(rule VARCHAR, severity VARCHAR, category VARCHAR)[])) AS violations",
    ),
    ("high_stakes", "coalesce(high_stakes, false) AS high_stakes"),
    ("confidence", "confidence"),
    ("correct", "correct"),
    ("scores", "scores"),
    ("input_tokens", "input_tokens"),
    ("output_tokens", "output_tokens"),
    ("cost_usd", "cost_usd"),
    (
        "latency_ms",
        "coalesce(latency_ms, (epoch_us(ended_at) - epoch_us(started_at)) / 1000.0) AS latency_ms",
    ),
    ("started_at", "started_at"),
    ("ended_at", "ended_at"),
    ("model", "model"),
    ("input_hash", "input_hash"),
    ("output_hash", "output_hash"),
    ("intent_checksum", "intent_checksum"),
    ("metadata", "metadata"),
)

# SPEC 1.2's checksum in SQL; its Python twin is schema.intent_checksum (a test holds them equal).
_INTENT_CHECKSUM_SQL = (
    "sha256('{\"constraints\":' || to_json(coalesce(constraints, CAST([] AS VARCHAR[]))) "
    "|| ',\"goal\":' || coalesce(CAST(to_json(goal) AS VARCHAR), 'null') || '}')"
)

# Where a record came from, and the input order (files in the order given, then line) as one
# number: staged's rowid, since files are inserted in order and inserts keep row order. A fast-
# path file has no line numbers of its own; its rows are numbered from their rowids.
_FROM_STAGED = """
    (SELECT s.* EXCLUDE (_line), f._file, s.rowid AS _order,
            coalesce(s._line, s.rowid - f._first + 1) AS _line
     FROM staged s JOIN files f USING (_file_index)
     WHERE s._error IS NULL AND s.kind = '{kind}')
"""
_TRAILER = "_file, _line, _order"


def position_sql(order: str) -> str:
    """SPEC 2's position of a hop in its run (over hops that are not skipped), as a window."""
    return (
        "row_number() OVER (PARTITION BY run_id "
        f"ORDER BY seq NULLS LAST, started_at NULLS LAST, {order})"
    )


# What metrics.py reads of a hop, in both load modes: scalars with the SPEC defaults applied,
# derived from the typed fields. With `columns="metrics"` they are computed as each file is
# staged; otherwise the `hop_facts` view derives them from `hops`.
_HOP_FACTS: tuple[tuple[str, str], ...] = (
    ("run_id", "run_id"),
    ("hop_id", "hop_id"),
    ("workflow_id", "coalesce(workflow_id, 'default')"),
    # The run tree (SPEC 3.1): only compared, so digests in metrics mode; metrics.py hashes
    # both again and applies span_id's default there, where positions are known.
    ("span_id", "span_id"),
    ("parent_id", "parent_id"),
    ("seq", "seq"),
    ("started_at", "started_at"),
    ("status", "status"),
    ("validated", "coalesce(validated, false)"),
    ("high_stakes", "coalesce(high_stakes, false)"),
    ("confidence", "confidence"),
    ("correct", "correct"),
    ("cost_usd", "cost_usd"),
    ("latency_ms", "coalesce(latency_ms, (epoch_us(ended_at) - epoch_us(started_at)) / 1000.0)"),
    ("input_hash", "input_hash"),
    ("output_hash", "output_hash"),
    ("intent_checksum", "intent_checksum"),
    ("score_groundedness", "scores['groundedness']"),
    ("score_accuracy", "scores['accuracy']"),
    ("score_safety", "scores['safety']"),
    ("has_violation", "coalesce(len(violations) > 0, false)"),
    (
        "safety_violation",
        "coalesce(len(list_filter(violations, lambda v: v.category = 'safety')) > 0, false)",
    ),
)
HOP_FACT_NAMES = tuple(name for name, _ in _HOP_FACTS)


def _build_fact_views(con: duckdb.DuckDBPyConnection) -> None:
    """`hop_facts`, `intents` and `outcomes` as views over the narrow staged rows.

    `hops` is a view too, for the odd question about hops by position or line; nothing that
    computes a metric reads it.
    """
    _number_files(con)
    names = ", ".join(HOP_FACT_NAMES)
    valid = "FROM staged WHERE _error IS NULL AND kind"
    con.execute(f"CREATE TEMP VIEW hop_facts AS SELECT {names}, rowid AS _order {valid} = 'hop'")
    con.execute(f"""
        CREATE TEMP VIEW hops AS
        SELECT h.*, p.position, f._file, coalesce(s._line, h._order - f._first + 1) AS _line
        FROM hop_facts h JOIN staged s ON s.rowid = h._order JOIN files f USING (_file_index)
        LEFT JOIN (SELECT _order, {position_sql("_order")} AS position
                   FROM hop_facts WHERE status <> 'skipped') p USING (_order)
    """)
    con.execute(
        "CREATE TEMP VIEW intents AS "
        f"SELECT run_id, intent_checksum, rowid AS _order {valid} = 'intent'"
    )
    con.execute(
        f"CREATE TEMP VIEW outcomes AS SELECT run_id, correct, rowid AS _order {valid} = 'outcome'"
    )


def _number_files(con: duckdb.DuckDBPyConnection) -> None:
    """Each file's first rowid, found once for every relation that numbers lines from it."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE files AS
        SELECT f.*, b._first FROM files f
        LEFT JOIN (SELECT _file_index, min(rowid) AS _first FROM staged GROUP BY ALL) b
            USING (_file_index)
    """)


def _build_relations(
    con: duckdb.DuckDBPyConnection, keep_unknown: bool, fields: Sequence[Field]
) -> None:
    """Whole records with SPEC defaults, each hop given its position (SPEC 2) in its run."""
    loaded = {f.name for f in fields}
    _number_files(con)
    unknown = {kind: _unknown_columns(con, kind) if keep_unknown else "" for kind in KINDS}
    record = ", record" if keep_unknown else ""
    hop_columns = ", ".join(sql for name, sql in _HOP_COLUMNS if name in loaded)
    # Positions are ranked over the four columns the order needs, not over whole records: a
    # window sorts and holds every column it is given.
    con.execute(f"""
        CREATE TABLE hop_positions AS
        SELECT rowid AS _order, {position_sql("rowid")} AS position
        FROM staged WHERE _error IS NULL AND kind = 'hop' AND status <> 'skipped'
    """)
    con.execute(f"""
        CREATE TABLE hops AS
        SELECT {hop_columns}, position, {_TRAILER}{unknown["hop"]}{record}
        FROM {_FROM_STAGED.format(kind="hop")} LEFT JOIN hop_positions USING (_order)
    """)
    facts = ", ".join(f"{sql} AS {name}" for name, sql in _HOP_FACTS)
    con.execute(f"CREATE TEMP VIEW hop_facts AS SELECT {facts}, _order FROM hops")
    created = ", created_at" if "created_at" in loaded else ""
    con.execute(f"""
        CREATE TABLE intents AS
        SELECT run_id, goal, coalesce(constraints, CAST([] AS VARCHAR[])) AS constraints,
               coalesce(intent_checksum, {_INTENT_CHECKSUM_SQL}) AS intent_checksum
               {created}, {_TRAILER}{unknown["intent"]}{record}
        FROM {_FROM_STAGED.format(kind="intent")}
    """)
    verdict = "".join(f", {c}" for c in ("source", "note") if c in loaded)
    con.execute(f"""
        CREATE TABLE outcomes AS
        SELECT run_id, correct{verdict}, {_TRAILER}{unknown["outcome"]}{record}
        FROM {_FROM_STAGED.format(kind="outcome")}
    """)


_RESERVED = frozenset({"position", "_file", "_line", "_order", "record", "kind"})


def _unknown_columns(con: duckdb.DuckDBPyConnection, kind: str) -> str:
    """A typed column per unknown top-level key, so `argus query` can select it by name."""
    known = {f.name for f in FIELDS if kind in f.kinds} | _RESERVED
    rows = con.execute(
        "SELECT key, list(DISTINCT json_type(record, '$.\"' || key || '\"')) FROM ("
        "SELECT record, unnest(json_keys(record)) AS key FROM staged "
        "WHERE _error IS NULL AND kind = ? AND record IS NOT NULL) GROUP BY key ORDER BY key",
        [kind],
    ).fetchall()
    columns = []
    for key, types in rows:
        if key in known:
            continue
        path = _lit("$." + '"' + key.replace('"', '\\"') + '"')
        value = f"record->{path}"
        present = set(types) - {"NULL"}
        if present <= {"VARCHAR"}:
            expr = f"record->>{path}"
        elif present <= {"BIGINT", "UBIGINT"}:
            expr = f"CAST({value} AS BIGINT)"
        elif present <= {"BIGINT", "UBIGINT", "DOUBLE"}:
            expr = f"CAST({value} AS DOUBLE)"
        elif present <= {"BOOLEAN"}:
            expr = f"CAST({value} AS BOOLEAN)"
        else:
            expr = value
        columns.append(f", {expr} AS {_q(key)}")
    return "".join(columns)
