"""Reading every input file into the one `staged` table, checked and typed in SQL.

Every input (JSON Lines, gzip, Parquet, folders, globs, stdin, and OTLP or Langfuse exports
through `importers/`) becomes rows of one staging table, checked and typed field by field in
SQL; no Python touches a record of a readable file. Three ways in, one rule (`_error_sql`):

- Clean JSON Lines: one parallel `read_json` scan that hands over each field as its JSON
  fragment, typed by the same SQL as the line-by-line way (validation._value_sql).
- Parquet: read column by column, cast by its types (parquet.py, held to the JSON rule by a
  property test); a column of a type the field cannot take as it is (a `scores` struct) is
  typed from its own JSON by the JSON rule.
- Everything else, and any file where a fast path finds a single bad record: read as numbered
  lines of text (Parquet rows as JSON), each parsed once with `json_transform`. This is the way
  that names every malformed record by file and line, so a clean file is parsed once and a
  dirty one at most twice. A file DuckDB cannot read as text (a byte that is not UTF-8, a gzip
  stream cut short) is read once more by Python (`_rescue`): its readable lines load, and the
  fault is a bad record of its own.
Explicit types also mean no guessing from the first 20,480 records, and files with different
columns load side by side. `columns="metrics"` checks every field as the other mode does, and
keeps of each record only the scalars derived from them (`_HOP_FACTS`).

Many files are not many statements (issue 13): planning the typed SQL costs milliseconds a
statement, which 100,000 small files paid 100,000 times. Files of one kind are grouped into
scans (`_scans`: JSON Lines by compression and folder values, Parquet by identical column
types, up to SCAN_BYTES and SCAN_FILES a scan) and each scan is one statement over the list of
its files, every name escaped. A many-file JSON Lines scan first reads records with
`read_ndjson_objects`; if that raises or finds a bad record, the whole scan is read line by
line, each file's lines numbered from its own first; a scan DuckDB cannot read as text is
halved until the file at fault is alone. Either way a file's rows are what they would be if
it were read alone (tests/test_many_files.py holds them to it).

The rule itself is validation.py's; this module decides which way each file goes, runs it, and
counts what came out (`_check_staged`). loading.py builds the relations from `staged`.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import duckdb

from argus_cli.diagnostics import BadRecord, InputError
from argus_cli.importers import IMPORTERS, import_sql, no_hops_message
from argus_cli.load.inputs import _TEMP_FILES, Source, _hive_fields, _size
from argus_cli.load.parquet import _parquet_stage_sql
from argus_cli.load.scans import _parquet_schemas, _Scan, _scans
from argus_cli.load.validation import (
    _digest,
    _error_sql,
    _lit,
    _q,
    _staged_columns,
    _struct_spec,
)
from argus_cli.load.workdb import _first_line
from argus_cli.schema import FIELDS, Field

# A hop record can carry its payloads; DuckDB's default line limit (2 MB) is too small for that.
MAX_LINE_BYTES = 64 * 1024 * 1024


class LoadProgress(Protocol):
    """Something that shows how far a load has got (render.LoadProgressBar, on a terminal)."""

    def begin(self, total_bytes: int) -> None: ...

    def reading(
        self, con: duckdb.DuckDBPyConnection, size: int
    ) -> contextlib.AbstractContextManager[None]: ...

    def end(self) -> None: ...


# What the metrics read of a hop, in both load modes: scalars with the SPEC defaults applied,
# derived from the typed fields. With `columns="metrics"` they are computed as each file is
# staged; otherwise the `hop_facts` view derives them from `hops`.
_HOP_FACTS: tuple[tuple[str, str], ...] = (
    ("run_id", "run_id"),
    ("hop_id", "hop_id"),
    ("workflow_id", "coalesce(workflow_id, 'default')"),
    # The run tree (SPEC 3.1): only compared, so digests in metrics mode; metrics/runs.py hashes
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


# SPEC 1.2's checksum in SQL; its Python twin is schema.intent_checksum (a test holds them equal).
_INTENT_CHECKSUM_SQL = (
    "sha256('{\"constraints\":' || to_json(coalesce(constraints, CAST([] AS VARCHAR[]))) "
    "|| ',\"goal\":' || coalesce(CAST(to_json(goal) AS VARCHAR), 'null') || '}')"
)

# The fields a narrowed load (`columns="metrics"`) reads a value of: those the facts and the
# computed checksum are derived from, `kind` and `status`, and the required ones. The others are
# only checked.
_FACT_SOURCES = frozenset(
    f.name
    for f in FIELDS
    if f.required_for
    or f.name in ("kind", "status")
    or re.search(rf"\b{f.name}\b", " ".join(sql for _, sql in _HOP_FACTS) + _INTENT_CHECKSUM_SQL)
)


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
    then staged again one transaction per scan, so the failing scan alone can be rolled back.
    """
    con.execute("CREATE TEMP TABLE files (_file_index INTEGER, _file VARCHAR)")
    con.execute(
        "INSERT INTO files SELECT unnest(range(len($1::VARCHAR[]))), unnest($1::VARCHAR[])",
        [[s.display for s in sources]],
    )
    scans = _scans(sources, _parquet_schemas(con, sources))
    con.execute("BEGIN TRANSACTION")
    try:
        _stage_files(con, sources, scans, keep_raw, fields, progress, facts, per_file=False)
    except _FastPathFailed:
        con.execute("ROLLBACK")
        if progress is not None:
            progress.begin(sum(_size(s) for s in sources))
        _stage_files(con, sources, scans, keep_raw, fields, progress, facts, per_file=True)
    else:
        con.execute("COMMIT")
    if [i for scan in scans for i in scan.indices] != list(range(len(sources))):
        _restore_input_order(con)


class _FastPathFailed(Exception):
    """A fast path raised inside the all-files transaction, which DuckDB has now aborted."""


def _restore_input_order(con: duckdb.DuckDBPyConnection) -> None:
    """Rows back in input order after scans of interleaved kinds (a folder of JSON Lines and
    Parquet files side by side): `rowid` is the input order the positions' last tie-break and
    the line numbers of the fast path rely on."""
    con.execute("CREATE TABLE staged_in_order AS SELECT * FROM staged ORDER BY _file_index, rowid")
    con.execute("DROP TABLE staged")
    con.execute("ALTER TABLE staged_in_order RENAME TO staged")


def _stage_files(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    scans: list[_Scan],
    keep_raw: bool,
    fields: Sequence[Field],
    progress: LoadProgress | None,
    facts: bool,
    per_file: bool,
) -> None:
    first = _Scan((sources[0],), (0,))
    if not per_file and scans[0] == first and (keep_raw or first.first.format in IMPORTERS):
        # The first file goes line by line: one statement makes `staged` and fills it. The
        # stage query costs far more to plan than to run on a small file (an importer's query
        # about half a second), and `LIMIT 0` then INSERT would plan it twice.
        watch = progress.reading(con, _size(first.first)) if progress else contextlib.nullcontext()
        try:
            with watch:
                sql = _lines_stage_sql(first, keep_raw, fields, facts)
                con.execute(f"CREATE TABLE staged AS {sql}")
        except duckdb.Error:  # (the transaction is aborted: stage again scan by scan)
            raise _FastPathFailed from None
        scans = scans[1:]
    else:
        try:
            con.execute(
                f"CREATE TABLE staged AS {_lines_stage_sql(first, keep_raw, fields, facts)} LIMIT 0"
            )
        except duckdb.Error as exc:
            raise InputError(
                f"{first.first.display}: not a readable trace ({_first_line(exc)})"
            ) from None
    for scan in scans:
        size = sum(_size(s) for s in scan.sources)
        watch = progress.reading(con, size) if progress else contextlib.nullcontext()
        try:
            with watch:
                if not keep_raw and _try_fast(con, scan, fields, facts, per_file):
                    continue
                _stage_lines(con, scan, keep_raw, fields, facts, per_file)
        except duckdb.Error as exc:
            raise InputError(
                f"{scan.first.display}: not a readable trace ({_first_line(exc)})"
            ) from None


def _stage_lines(
    con: duckdb.DuckDBPyConnection,
    scan: _Scan,
    keep_raw: bool,
    fields: Sequence[Field],
    facts: bool,
    per_file: bool,
) -> None:
    """Files line by line. A scan DuckDB cannot read as text (a byte that is not UTF-8, a gzip
    stream cut short) is halved until the file at fault is alone; that file is read again
    through `_rescue`: the lines it can read are staged and the faults are staged as bad
    records of their own, so one bad line never sinks the file."""
    try:
        con.execute(f"INSERT INTO staged BY NAME {_lines_stage_sql(scan, keep_raw, fields, facts)}")
        return
    except duckdb.Error:
        if not per_file:  # the all-files transaction is aborted: stage again scan by scan
            raise _FastPathFailed from None
        if scan.many:
            for half in scan.halves():
                _stage_lines(con, half, keep_raw, fields, facts, per_file)
            return
        if scan.first.format == "parquet":
            raise
    readable, faults = _rescue(scan.first)
    rescued = _lines_stage_sql(_Scan((readable,), scan.indices), keep_raw, fields, facts)
    con.execute(f"INSERT INTO staged BY NAME {rescued}")
    con.executemany(
        "INSERT INTO staged (_file_index, _line, kind, _error) VALUES (?, ?, 'hop', ?)",
        [(scan.indices[0], line, reason) for line, reason in faults],
    )


def _lines_stage_sql(
    scan: _Scan, keep_raw: bool, fields: Sequence[Field], facts: bool, objects: bool = False
) -> str:
    """The line-by-line stage query, narrowed to the metrics' facts with `facts`."""
    sql = _stage_sql(scan, keep_raw, fields, objects)
    return _facts_sql(sql, _stage_order(scan, objects), fields) if facts else sql


def _rescue(source: Source) -> tuple[Source, list[tuple[int, str]]]:
    """A text file DuckDB refused, copied with what Python can read of it, and its faults.

    A line that is not UTF-8 is left blank in the copy (line numbers stay the file's) and
    named; a gzip stream that ends early keeps the lines before the cut, and the cut is named
    at the line after the last one read.
    """
    faults: list[tuple[int, str]] = []
    handle = tempfile.NamedTemporaryFile(prefix="argus-rescued-", suffix=".jsonl", delete=False)  # noqa: SIM115
    _TEMP_FILES.append(handle.name)
    number = 0
    with handle:
        try:
            with gzip.open(source.path) if source.gzip else open(source.path, "rb") as text:
                for number, line in enumerate(text, start=1):
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        byte = line[exc.start]
                        faults.append(
                            (
                                number,
                                f"not UTF-8 text (byte 0x{byte:02x} at column {exc.start + 1})",
                            )
                        )
                        line = b"\n"
                    handle.write(line if line.endswith(b"\n") else line + b"\n")
        except (EOFError, OSError, zlib.error) as exc:
            if isinstance(exc, EOFError):
                what = "gzip stream cut short"
            else:
                what = "gzip stream unreadable" if source.gzip else "unreadable"
            faults.append(
                (number + 1, f"{what} here ({exc}); the {number} line(s) before it were read")
            )
    return replace(source, path=handle.name, scan="", gzip=False), faults  # scan: of the copy


def _try_fast(
    con: duckdb.DuckDBPyConnection,
    scan: _Scan,
    fields: Sequence[Field],
    facts: bool,
    per_file: bool,
) -> bool:
    """Load a scan by a fast path if all of it is clean; leave nothing behind if it is not.

    With `per_file`, in a transaction of its own; otherwise inside the caller's, where a
    failing statement raises _FastPathFailed (DuckDB aborts the whole transaction).
    """
    source = scan.first
    if source.format == "jsonl" and scan.many:
        sql: str | None = _lines_stage_sql(scan, False, fields, facts, objects=True)
        facts = False  # (narrowed already)
    elif source.format == "jsonl":
        sql = _fast_stage_sql(scan, fields)
    elif source.format == "parquet" and not scan.many:
        sql = _parquet_stage_sql(
            con, source, scan.indices[0], fields, _FACT_SOURCES if facts else None
        )
    else:
        sql = None
    if sql is None:
        return False
    if facts:
        sql = _facts_sql(sql, "", fields)
    if per_file:
        con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"INSERT INTO staged BY NAME {sql}")
        (bad,) = con.execute(
            f"SELECT count(_error) FROM staged WHERE {scan.where_sql()}"
        ).fetchone() or (0,)
    except duckdb.Error:
        if not per_file:
            raise _FastPathFailed from None
        con.execute("ROLLBACK")
        return False
    if per_file:
        con.execute("ROLLBACK" if bad else "COMMIT")
    elif bad:  # (rows added in a transaction have no final rowid yet: select by file)
        con.execute(f"DELETE FROM staged WHERE {scan.where_sql()}")
    return not bad


def _lines_sql(scan: _Scan, objects: bool = False) -> str:
    """(_file_index, _line, _raw) for every non-blank line or Parquet row of the scan's files."""
    source = scan.first
    if source.format in ("otlp", "langfuse"):  # its text lines, mapped to SPEC records
        text = _lines_sql(_Scan((replace(source, format="jsonl"),), scan.indices))
        text = f"SELECT _line, _raw FROM ({text})"
        mapped = import_sql(source.format, text, source.hop_spans)
        return f"SELECT {scan.index_sql()} AS _file_index, * FROM ({mapped})"
    path = scan.paths_sql()
    if source.format == "parquet":
        rows = (
            # The row number is DuckDB's, not the record's: keep it out of the JSON.
            f"SELECT {scan.index_sql()} AS _file_index, file_row_number + 1 AS _line, "
            f"CAST(to_json(struct_pack(*COLUMNS(* EXCLUDE (file_row_number)))) AS VARCHAR) AS _raw "
            f"FROM read_parquet({path}, file_row_number = true, hive_partitioning = false)"
        )
        # (sorted into full chunks, as `_in_order` says why)
        return f"SELECT * FROM ({rows}) ORDER BY _file_index, _line" if scan.many else rows
    compression = "gzip" if source.gzip else "none"
    if objects:  # a many-file scan's first try: records, which are lines if the files are clean
        reader = (
            f"read_ndjson_objects({path}, compression = {_lit(compression)}, "
            f"maximum_object_size = {MAX_LINE_BYTES}, hive_partitioning = false)"
        )
        return (
            f"SELECT {scan.index_sql()} AS _file_index, CAST(NULL AS BIGINT) AS _line, "
            f"CAST(json AS VARCHAR) AS _raw FROM ({_in_order(reader, 'json')})"
        )
    # Read lines as one text column: a delimiter and quote that valid JSON never holds raw.
    reader = (
        f"read_csv({path}, "
        f"columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '', escape = '', "
        f"header = false, auto_detect = false, strict_mode = false, "
        f"compression = {_lit(compression)}, max_line_size = {MAX_LINE_BYTES}, "
        f"buffer_size = {MAX_LINE_BYTES})"
    )
    if scan.many:
        # The ordinality runs on across the files: a file's lines count from its first.
        number = "ordinality - min(ordinality) OVER (PARTITION BY file_index) + 1"
        lines = f"SELECT file_index, {number} AS _line, line FROM ({_in_order(reader, 'line')})"
    else:
        lines = f"SELECT ordinality AS _line, line FROM {reader} WITH ORDINALITY"
    return (
        f"SELECT {scan.index_sql()} AS _file_index, _line, line AS _raw FROM ({lines}) "
        f"WHERE line IS NOT NULL AND trim(line) <> ''"
    )


def _in_order(reader: str, column: str) -> str:
    """A many-file reader's rows in input order, gathered into full chunks.

    Each small file comes out of a reader as a chunk of its own, and the typing SQL costs
    about a millisecond a chunk whatever its size: sorting by the ordinality (which runs on
    across the files, in list order) first hands it chunks of 2,048 rows instead.
    """
    return (
        f"SELECT file_index, ordinality, {column} FROM {reader} WITH ORDINALITY ORDER BY ordinality"
    )


# A record with a top-level key twice keeps its last value, as Python's json and jq do (DuckDB's
# parser keeps the first). Only such a line is rebuilt: its keys and values, in order, with
# every entry whose key comes again later dropped.
_DUPLICATE_KEY = "try(len(json_keys(_raw)) > len(list_distinct(json_keys(_raw))))"
_LAST_KEY_WINS = (
    f"CASE WHEN {_DUPLICATE_KEY} THEN "
    "CAST(to_json(map_from_entries(list_transform(list_filter("
    "list_zip(json_keys(_raw), json_extract(_raw, '$.*'), range(1, len(json_keys(_raw)) + 1)), "
    "lambda e: NOT list_contains(json_keys(_raw)[e[3] + 1:], e[1])), "
    "lambda e: {'k': e[1], 'v': e[2]}))) AS VARCHAR) ELSE _raw END"
)


def _stage_sql(scan: _Scan, keep_raw: bool, fields: Sequence[Field], objects: bool = False) -> str:
    """One pass over the scan's files: every line parsed once, typed, and given its error or
    NULL."""
    source = scan.first
    raw = "_raw"
    if source.hive:
        hive_json = json.dumps(dict(source.hive), ensure_ascii=False)
        # The whole record, for `argus query`: every folder value, the record's own fields win
        # (json_merge_patch: right side wins).
        raw = f"CASE WHEN is_object THEN json_merge_patch({_lit(hive_json)}, _raw) ELSE _raw END"
    record = f", CAST(try(CAST({raw} AS JSON)) AS JSON) AS record" if keep_raw else ""
    lines = _lines_sql(scan, objects)
    # A many-file scan's records (`objects`) are numbered by record, which is the line only if
    # the file is clean; DuckDB's record reader skips blank lines. A record with a key twice
    # fails that try (as it fails the one-file fast path, whose reader refuses it), so the
    # file is read line by line and the record keeps its line number, whichever way it came.
    rebuilt = f"CASE WHEN {_DUPLICATE_KEY} THEN NULL ELSE _raw END" if objects else _LAST_KEY_WINS
    parsed = (
        f"SELECT _file_index, _line, _raw, is_object, "
        f"try(json_transform(_raw, '{_struct_spec(fields)}')) AS j "
        f"FROM (SELECT _file_index, _line, {rebuilt} AS _raw, "
        f"ltrim(_raw) LIKE '{{%' AS is_object FROM ({lines}))"
    )
    names = {f.name for f in fields}
    fill = {k: v for k, v in _hive_fields(source).items() if k in names}
    if fill:  # folder values fill the string fields a record leaves out or null, as on every path
        update = ", ".join(
            f"{_q(k)} := coalesce(j.{_q(k)}, CAST(to_json({_lit(v)}) AS JSON))"
            for k, v in fill.items()
        )
        parsed = (
            f"SELECT _file_index, _line, _raw, is_object, struct_update(j, {update}) AS j "
            f"FROM ({parsed})"
        )
    typed = (
        f"SELECT _file_index, _line, _raw, is_object, j, {_staged_columns(fields)} FROM ({parsed})"
    )
    return (
        f"SELECT _file_index, _line, * EXCLUDE (_file_index, _line, _raw, is_object, j), "
        f"{_error_sql(fields)} AS _error{record} FROM ({typed}){_stage_order(scan, objects)}"
    )


def _stage_order(scan: _Scan, objects: bool = False) -> str:
    """Rows are inserted in line order (rowid is the input order). One file's own lines come
    in order already; a scan of many files numbers its lines by a window, and an importer's
    joins do not keep order either, so those rows are sorted. A many-file scan's records
    (`objects`) come sorted by the reader's ordinality already (`_in_order`) and have no line
    numbers: sorting them again by file would shuffle each file's records (a sort is not
    stable), so they keep the order they come in."""
    if scan.first.format in ("otlp", "langfuse"):
        return " ORDER BY _line, run_id, seq"
    return " ORDER BY _file_index, _line" if scan.many and not objects else ""


def _facts_sql(stage_sql: str, order: str, fields: Sequence[Field]) -> str:
    """A stage query's typed records narrowed to what the metrics read (`columns="metrics"`).

    Lists, maps and the fields only used to derive others are reduced to scalars in the same
    pass, so a staged row is a few dozen bytes: `_HOP_FACTS` for hops, the computed checksum
    for intents, `correct` for outcomes. The record's `_error` was decided on the typed values.
    `order` is the stage query's own (`_stage_order`), kept through the narrowing. The computed
    checksum takes the form `fields` give the record's own: a digest, or the string (the Spark
    engine digests on the cluster, spark/loading.py).
    """
    facts = ", ".join(f"{sql} AS {name}" for name, sql in _HOP_FACTS if name != "intent_checksum")
    computed = _INTENT_CHECKSUM_SQL
    if any(f.name == "intent_checksum" and f.shape == "digest" for f in fields):
        computed = _digest(computed)
    checksum = (
        f"coalesce(intent_checksum, CASE WHEN kind = 'intent' THEN {computed} END) "
        "AS intent_checksum"
    )
    return f"SELECT _file_index, _line, kind, {facts}, {checksum}, _error FROM ({stage_sql}){order}"


def _fast_stage_sql(scan: _Scan, fields: Sequence[Field]) -> str:
    """Clean JSON Lines files in one parallel scan; any error sends them to the slow path.

    `read_json` hands over each field as its JSON fragment, so the record is typed by the very
    SQL the line-by-line path uses (validation._value_sql): the rule is the same by
    construction. Its `_line` is left NULL: a clean file's records are numbered from their row
    ids when the relations are built, and a file with an error is recounted line by line anyway.
    A scan of many files keeps them in list order (preserve_insertion_order), each file whole.
    """
    source = scan.first
    columns = "{" + ", ".join(f"{_lit(f.name)}: 'JSON'" for f in fields) + "}"
    hive = _hive_fields(source)  # folder values fill fields the record leaves out
    pack = (
        "{"
        + ", ".join(
            f"{_lit(f.name)}: coalesce({_q(f.name)}, CAST(to_json({_lit(hive[f.name])}) AS JSON))"
            if f.name in hive
            else f"{_lit(f.name)}: {_q(f.name)}"
            for f in fields
        )
        + "}"
    )
    compression = "gzip" if source.gzip else "none"
    read = (
        f"read_json({scan.paths_sql()}, format = 'newline_delimited', records = true, "
        f"columns = {columns}, compression = {_lit(compression)}, "
        f"maximum_object_size = {MAX_LINE_BYTES}, hive_partitioning = false)"
    )
    typed = (
        f"SELECT _file_index, true AS is_object, j, {_staged_columns(fields)} FROM ("
        f"SELECT {scan.index_sql()} AS _file_index, {pack} AS j FROM {read})"
    )
    return (
        f"SELECT _file_index, CAST(NULL AS BIGINT) AS _line, "
        f"* EXCLUDE (_file_index, is_object, j), {_error_sql(fields)} AS _error FROM ({typed})"
    )


def _check_staged(
    con: duckdb.DuckDBPyConnection, sources: list[Source], strict: bool
) -> tuple[int, list[BadRecord]]:
    """Count records, collect the bad ones, and refuse inputs with no usable record at all."""
    per_file = con.execute(
        "SELECT _file_index, count(*), count(_error) FROM staged GROUP BY ALL ORDER BY 1"
    ).fetchall()
    rows = con.execute(
        "SELECT _file_index, _line, _error FROM staged WHERE _error IS NOT NULL "
        "ORDER BY _file_index, _line"
    ).fetchall()
    return judge_staged(sources, per_file, rows, strict)


def judge_staged(
    sources: Sequence[Source],
    per_file: Sequence[tuple[int, int, int]],
    bad_rows: Sequence[tuple[int, int, str]],
    strict: bool,
) -> tuple[int, list[BadRecord]]:
    """What the staged records say of the inputs, whichever engine staged them: the records
    counted, the bad ones named, and an input with no usable record at all refused (a foreign
    file that maps to no record too, saying why, not reported empty).

    `per_file`: (file index, records, bad records); `bad_rows`: (file index, line, reason) in
    file and line order.
    """
    total = sum(n for _, n, _ in per_file)
    for index, records, errors in per_file:
        if records and records == errors:
            line, reason = next(
                ((line, error) for i, line, error in bad_rows if i == index), (0, "no records")
            )
            raise InputError(
                f"{sources[index].display}: not a trace (no usable record; line {line}: {reason})"
            )
    bad = [
        BadRecord(sources[i].display, line, _bad_reason(sources[i], e)) for i, line, e in bad_rows
    ]
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
