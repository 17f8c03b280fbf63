"""Loading trace files into DuckDB: the `hops`, `intents` and `outcomes` relations.

`load()` is the load step of the pipeline, end to end: inputs.py resolves what to read,
workdb.py opens the database (in memory, or in a work folder for a large load), staging.py reads
every file (a statement a scan of files of one kind, as scans.py groups them) into one `staged`
table, checked and typed field by field by validation.py's SQL,
and this module builds the relations from it. It stays the one way in for the rest of argus.

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

import contextlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Literal

import duckdb

from argus_cli.diagnostics import BadRecord
from argus_cli.importers import HopSpans, SourceFormat
from argus_cli.load.inputs import (
    TRACE_SUFFIXES,
    _remove_temp_files,
    _size,
    _with_format,
    resolve_inputs,
)
from argus_cli.load.staging import (
    _HOP_FACTS,
    _INTENT_CHECKSUM_SQL,
    HOP_FACT_NAMES,
    LoadProgress,
    _check_staged,
    _stage,
)
from argus_cli.load.validation import _lit, _q
from argus_cli.load.workdb import _WORK_DIRS, _work_dir, connect
from argus_cli.schema import FIELDS, KINDS, METRIC_FIELDS, Field

# What the rest of argus imports from here (names now defined in the modules above included).
__all__ = [
    "HOP_FACT_NAMES",
    "TRACE_SUFFIXES",
    "Columns",
    "LoadProgress",
    "Trace",
    "load",
    "position_sql",
    "resolve_inputs",
]


# Which fields to load: all of them, or only those the metrics read.
Columns = Literal["all", "metrics"]


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


def fact_relations(
    order: str, facts: str = ", ".join(HOP_FACT_NAMES), checksum: str = "intent_checksum"
) -> dict[str, str]:
    """The queries of `hop_facts`, `intents` and `outcomes` over the narrow staged rows: what
    metrics/ reads, on either engine. `order` is the input order as one number (DuckDB's rowid;
    file and row on Spark); `facts` and `checksum` let Spark digest the compared strings itself.
    """
    valid = "FROM staged WHERE _error IS NULL AND kind"
    return {
        "hop_facts": f"SELECT {facts}, {order} AS _order {valid} = 'hop'",
        "intents": f"SELECT run_id, {checksum} AS intent_checksum, {order} AS _order "
        f"{valid} = 'intent'",
        "outcomes": f"SELECT run_id, correct, {order} AS _order {valid} = 'outcome'",
    }


def _build_fact_views(con: duckdb.DuckDBPyConnection) -> None:
    """`hop_facts`, `intents` and `outcomes` as views over the narrow staged rows.

    `hops` is a view too, for the odd question about hops by position or line; nothing that
    computes a metric reads it.
    """
    _number_files(con)
    for name, sql in fact_relations("rowid").items():
        con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
    con.execute(f"""
        CREATE TEMP VIEW hops AS
        SELECT h.*, p.position, f._file, coalesce(s._line, h._order - f._first + 1) AS _line
        FROM hop_facts h JOIN staged s ON s.rowid = h._order JOIN files f USING (_file_index)
        LEFT JOIN (SELECT _order, {position_sql("_order")} AS position
                   FROM hop_facts WHERE status <> 'skipped') p USING (_order)
    """)


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


def _json_path(key: str) -> str:
    """A JSON path to one top-level key, whatever it holds (`a\\`, `a"b`, `a.b`)."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


_RESERVED = frozenset({"position", "_file", "_line", "_order", "record", "kind"})


def _unknown_columns(con: duckdb.DuckDBPyConnection, kind: str) -> str:
    """A typed column per unknown top-level key, so `argus query` can select it by name."""
    known = {f.name for f in FIELDS if kind in f.kinds} | _RESERVED
    rows = con.execute(
        "SELECT key, list(DISTINCT json_type(record, '$.\"' || replace(replace(key, '\\', "
        "'\\\\'), '\"', '\\\"') || '\"')) FROM ("
        "SELECT record, unnest(json_keys(record)) AS key FROM staged "
        "WHERE _error IS NULL AND kind = ? AND record IS NOT NULL) GROUP BY key ORDER BY key",
        [kind],
    ).fetchall()
    columns = []
    for key, types in rows:
        if key in known:
            continue
        path = _lit(_json_path(key))
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
