"""`argus convert`: a loaded trace written back out as argus records, JSON Lines or Parquet.

Convert once, analyse many times: an OTLP or Langfuse export (or argus's own records) is mapped
and checked once, and the output holds exactly what the loader built: every SPEC field under
its SPEC name with its default applied (`workflow_id`, `span_id`, `agent`, `latency_ms`), unknown
fields kept, hops, intents and outcomes each in input order. So `argus report` on the output
gives the same numbers as on the input. Malformed records are left out; loading names them.

DuckDB writes the file (`COPY ... TO`). It is written beside the target and moved into place,
so a run that fails leaves no half-written file (SPEC 9: nothing is written on exit 2).

A target folder (`--partition`, or a name without a suffix) gets a Parquet dataset partitioned
hive-style, `date=YYYY-MM-DD/workflow_id=NAME/part-N.parquet`: the date and workflow of each
record's run (its first hop's UTC start date, `unknown` without one), so a run is never split
and `--since/--until/--workflow` can skip whole folders. Every record of a run carries the
run's workflow there (SPEC 2 counts all its hops in it anyway).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import duckdb

from argus_cli.analysis import open_trace
from argus_cli.diagnostics import InputError, UsageError
from argus_cli.importers import HopSpans, SourceFormat
from argus_cli.load.inputs import named_files
from argus_cli.load.loading import TRACE_SUFFIXES
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
# Each run's partition: the workflow and UTC start date of its first hop by position (SPEC 2);
# a run of skipped hops only takes its first hop's workflow. Runs not here (intents or outcomes
# without a hop) go to date=unknown/workflow_id=default.
_RUN_PARTITIONS = """
    SELECT run_id,
           coalesce(max(workflow_id) FILTER (WHERE position = 1), min_by(workflow_id, _order))
               AS wf,
           strftime(max(started_at) FILTER (WHERE position = 1), '%Y-%m-%d') AS day
    FROM hops GROUP BY run_id
"""


@dataclass(frozen=True)
class Converted:
    """What `argus convert` wrote, for its one line on stderr."""

    path: str
    hops: int
    intents: int
    outcomes: int
    partitions: int = 0  # folders of a partitioned dataset; 0 for a file


def output_format(path: str) -> tuple[str, str | None]:
    """The COPY format for a target file, from its suffix; a usage error for any other."""
    for suffix, spec in OUTPUT_FORMATS.items():
        if path.endswith(suffix):
            return spec
    raise UsageError(
        f"-o {path}: the output must end in {', '.join(OUTPUT_FORMATS)}, or name a folder "
        "(no suffix, or --partition)"
    )


def is_dataset(output: str, partition: bool) -> bool:
    """Whether `-o` names a partitioned dataset folder: asked for, or a name with no suffix."""
    if partition:
        if output.endswith(tuple(s for s, (fmt, _) in OUTPUT_FORMATS.items() if fmt == "json")):
            raise UsageError(f"-o {output}: --partition writes a Parquet dataset folder")
        return True
    return os.path.isdir(output) or not Path(output).suffix


def check_folder(output: str, overwrite: bool) -> None:
    """Refuse a target folder that holds anything, unless --overwrite and it holds only traces.

    --overwrite replaces a dataset, never a folder of other files that -o named by mistake.
    """
    target = Path(output)
    if target.exists() and not target.is_dir():
        raise UsageError(f"-o {output}: exists and is not a folder")
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not overwrite:
        raise UsageError(f"-o {output}: folder is not empty (--overwrite replaces it)")
    foreign = next(
        (
            p
            for p in target.rglob("*")
            if p.is_file() and not p.name.endswith(TRACE_SUFFIXES) and p.name[:1] not in "._"
        ),
        None,
    )
    if foreign is not None:
        raise UsageError(f"-o {output}: --overwrite refused, the folder holds {foreign}")


def refuse_own_input(inputs: Sequence[str], output: str, dataset: bool) -> None:
    """Refuse a target that is one of the inputs, or a dataset folder that holds one.

    Compared by resolved path (symlinks, `..`) and by file identity (hard links), before
    anything is read or written: argus never writes over a user's trace.
    """
    target = Path(os.path.realpath(output))
    for path in named_files(inputs):
        source = Path(os.path.realpath(path))
        same = source == target
        if not same and target.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(source, target)
        if same:
            raise UsageError(
                f"-o {output}: is one of the inputs ({path}); argus never writes over it"
            )
        if dataset and source.is_relative_to(target):
            raise UsageError(
                f"-o {output}: the folder holds an input ({path}); write the dataset elsewhere"
            )


def convert(
    inputs: Sequence[str],
    output: str,
    *,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
    strict: bool = False,
    quiet: bool = False,
    stdin: BinaryIO | None = None,
    partition: bool = False,
    overwrite: bool = False,
) -> Converted:
    """Load the inputs (any format) and write their records to `output`: a file or a dataset."""
    dataset = is_dataset(output, partition)
    refuse_own_input(inputs, output, dataset)
    if dataset:  # a bad target is refused before anything is read
        check_folder(output, overwrite)
    else:
        output_format(output)
    trace = open_trace(
        inputs,
        strict=strict,
        keep_unknown=True,
        stdin=stdin,
        quiet=quiet,
        source_format=source_format,
        hop_spans=hop_spans,
    )
    if dataset:
        return write_dataset(trace.con, output, overwrite=overwrite)
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


def write_dataset(
    con: duckdb.DuckDBPyConnection, output: str, *, overwrite: bool = False
) -> Converted:
    """Every record into a Parquet dataset partitioned by its run's date and workflow.

    Written into a hidden sibling folder and moved into place, so a failure leaves the target
    as it was. Each file must keep input order, which positions (ties) and a run's first intent
    depend on. DuckDB's `COPY ... (PARTITION_BY ...)` does not keep it (rows of one partition
    come out reordered, even on one thread; duckdb/duckdb#14349), so the records are sorted into
    a table by partition, then input order, and each partition is its own ordered COPY: a
    filtered scan of a sorted table, which DuckDB's zone maps keep to that partition's rows.
    Folder names are percent-encoded as DuckDB's and Spark's are (the loader decodes them).
    """
    check_folder(output, overwrite)
    target = Path(output)
    temporary = target.with_name(f".{target.name}.argus-{os.getpid()}.tmp")
    try:
        # A table of the load's database: on disk (compressed) when the load works on disk.
        con.execute(f"CREATE OR REPLACE TABLE dataset_records AS {dataset_sql(con)}")
        try:
            parts = con.execute(
                "SELECT DISTINCT date, workflow_id FROM dataset_records ORDER BY ALL"
            ).fetchall()
            for day, workflow in parts:
                folder = temporary / f"date={quote(day, safe='')}"
                folder = folder / f"workflow_id={quote(workflow, safe='')}"
                folder.mkdir(parents=True)
                con.execute(
                    "COPY (SELECT * EXCLUDE (date, workflow_id) FROM dataset_records "
                    f"WHERE date = {_lit(day)} AND workflow_id = {_lit(workflow)}) "
                    f"TO {_lit(str(folder / 'part-0.parquet'))} (FORMAT parquet)"
                )
        finally:
            con.execute("DROP TABLE IF EXISTS dataset_records")
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(temporary, target)
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(temporary, ignore_errors=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"-o {output}: cannot write ({first})") from None
    counts = {kind: _count(con, table) for kind, table in _RELATIONS}
    folders = {p.parent for p in target.rglob("*.parquet")}
    return Converted(output, counts["hop"], counts["intent"], counts["outcome"], len(folders))


def dataset_sql(con: duckdb.DuckDBPyConnection) -> str:
    """records_sql with each record's partition columns `date` and `workflow_id` (its run's).

    A `date` or `workflow_id` the records already hold (read back from a dataset) is replaced.
    """
    union, names = _union_sql(con, rfc3339=False)
    exclude = ", ".join(
        ["_rank", "_input", *(_quote(n) for n in ("date", "workflow_id") if n in names)]
    )
    return (
        f"SELECT r.* EXCLUDE ({exclude}), coalesce(p.day, 'unknown') AS date, "
        f"coalesce(p.wf, 'default') AS workflow_id FROM ({union}) r "
        f"LEFT JOIN ({_RUN_PARTITIONS}) p USING (run_id) "
        "ORDER BY date, workflow_id, r._rank, r._input"
    )


def records_sql(con: duckdb.DuckDBPyConnection, *, rfc3339: bool = False) -> str:
    """One SELECT over hops, intents and outcomes: `kind`, then each relation's record columns.

    Hops come first, then intents, then outcomes, each in input order: the order the loader
    reads them in again, so positions, a run's first intent and its workflow stay the same.
    With `rfc3339`, timestamps become RFC 3339 text (JSON has no timestamp type; Parquet keeps
    its own).
    """
    union, _ = _union_sql(con, rfc3339=rfc3339)
    return f"SELECT * EXCLUDE (_rank, _input) FROM ({union}) ORDER BY _rank, _input"


def _union_sql(con: duckdb.DuckDBPyConnection, *, rfc3339: bool) -> tuple[str, set[str]]:
    """Hops, intents and outcomes as one UNION with `_rank` and `_input` to order them by,
    and the names of the record columns it holds."""
    parts: list[str] = []
    names: set[str] = set()
    for rank, (kind, table) in enumerate(_RELATIONS):
        columns = _record_columns(con, kind, table)
        names.update(name for name, _ in columns)
        select = ", ".join(
            f"strftime({_quote(name)}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {_quote(name)}"
            if rfc3339 and type_ == "TIMESTAMP"
            else _quote(name)
            for name, type_ in columns
        )
        parts.append(
            f"SELECT {_lit(kind)} AS kind, {select}, {rank} AS _rank, _order AS _input FROM {table}"
        )
    return " UNION ALL BY NAME ".join(parts), names


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
