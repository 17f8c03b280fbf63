"""`argus convert`: a loaded trace written back out as argus records, JSON Lines or Parquet.

Convert once, analyse many times: an OTLP or Langfuse export (or argus's own records) is mapped
and checked once, and the output holds exactly what the loader built: every SPEC field under
its SPEC name with its default applied (`workflow_id`, `span_id`, `agent`, `latency_ms`), unknown
fields kept, hops, intents and outcomes each in input order. So `argus report` on the output
gives the same numbers as on the input. Malformed records are left out; loading names them.

DuckDB writes the file (`COPY ... TO`). It is written beside the target and moved into place,
so a run that fails leaves no half-written file (SPEC 9: nothing is written on exit 2).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb

from argus_cli.analysis import open_trace
from argus_cli.diagnostics import InputError, UsageError
from argus_cli.importers import HopSpans, SourceFormat
from argus_cli.schema import FIELDS

# Target suffix: (DuckDB COPY format, compression).
OUTPUT_FORMATS: dict[str, tuple[str, str | None]] = {
    ".jsonl": ("json", None),
    ".ndjson": ("json", None),
    ".jsonl.gz": ("json", "gzip"),
    ".ndjson.gz": ("json", "gzip"),
    ".parquet": ("parquet", None),
}
# Columns the loader adds for its own bookkeeping: not part of a record.
_INTERNAL = frozenset({"position", "_file", "_line", "_order", "record"})
_RELATIONS = (("hop", "hops"), ("intent", "intents"), ("outcome", "outcomes"))


@dataclass(frozen=True)
class Converted:
    """What `argus convert` wrote, for its one line on stderr."""

    path: str
    hops: int
    intents: int
    outcomes: int


def output_format(path: str) -> tuple[str, str | None]:
    """The COPY format for a target file, from its suffix; a usage error for any other."""
    for suffix, spec in OUTPUT_FORMATS.items():
        if path.endswith(suffix):
            return spec
    raise UsageError(f"-o {path}: the output must end in {', '.join(OUTPUT_FORMATS)}")


def convert(
    inputs: Sequence[str],
    output: str,
    *,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
    strict: bool = False,
    quiet: bool = False,
    stdin: BinaryIO | None = None,
) -> Converted:
    """Load the inputs (any format) and write their records to `output`."""
    output_format(output)  # a bad target is refused before anything is read
    trace = open_trace(
        inputs,
        strict=strict,
        keep_unknown=True,
        stdin=stdin,
        quiet=quiet,
        source_format=source_format,
        hop_spans=hop_spans,
    )
    return write_records(trace.con, output)


def write_records(con: duckdb.DuckDBPyConnection, output: str) -> Converted:
    """Every record of the loaded relations, as SPEC records, to a JSON Lines or Parquet file."""
    fmt, compression = output_format(output)
    options = f"FORMAT {fmt}" + (f", COMPRESSION {compression}" if compression else "")
    target = Path(output)
    temporary = target.with_name(f".{target.name}.argus-{os.getpid()}.tmp")
    try:
        sql = records_sql(con, rfc3339=fmt == "json")
        con.execute(f"COPY ({sql}) TO {_lit(str(temporary))} ({options})")
        os.replace(temporary, target)
    except (duckdb.Error, OSError) as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"-o {output}: cannot write ({first})") from None
    counts = {kind: _count(con, table) for kind, table in _RELATIONS}
    return Converted(output, counts["hop"], counts["intent"], counts["outcome"])


def records_sql(con: duckdb.DuckDBPyConnection, *, rfc3339: bool = False) -> str:
    """One SELECT over hops, intents and outcomes: `kind`, then each relation's record columns.

    Hops come first, then intents, then outcomes, each in input order: the order the loader
    reads them in again, so positions, a run's first intent and its workflow stay the same.
    With `rfc3339`, timestamps become RFC 3339 text (JSON has no timestamp type; Parquet keeps
    its own).
    """
    parts = []
    for rank, (kind, table) in enumerate(_RELATIONS):
        columns = _record_columns(con, kind, table)
        select = ", ".join(
            f"strftime({_quote(name)}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {_quote(name)}"
            if rfc3339 and type_ == "TIMESTAMP"
            else _quote(name)
            for name, type_ in columns
        )
        parts.append(
            f"SELECT {_lit(kind)} AS kind, {select}, {rank} AS _rank, _order AS _input FROM {table}"
        )
    union = " UNION ALL BY NAME ".join(parts)
    return f"SELECT * EXCLUDE (_rank, _input) FROM ({union}) ORDER BY _rank, _input"


def _record_columns(con: duckdb.DuckDBPyConnection, kind: str, table: str) -> list[tuple[str, str]]:
    """The kind's SPEC fields, and the unknown fields that hold a value in at least one record.

    A file that held several kinds in one table (Parquet) gives every record every column:
    those empty columns are not fields of the record, and would clash in type across kinds.
    """
    own = {f.name for f in FIELDS if kind in f.kinds} - {"kind"}
    columns = [(n, t) for n, t in _columns(con, table) if n not in _INTERNAL and n != "kind"]
    unknown = [n for n, _ in columns if n not in own]
    filled: set[str] = set()
    if unknown:
        counts = (
            con.execute(
                f"SELECT {', '.join(f'count({_quote(n)})' for n in unknown)} FROM {table}"
            ).fetchone()
            or ()
        )
        filled = {n for n, count in zip(unknown, counts, strict=True) if count}
    return [(n, t) for n, t in columns if n in own or n in filled]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
    return [(str(name), str(type_)) for name, type_ in rows]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (n,) = con.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)
    return int(n)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
