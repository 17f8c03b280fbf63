"""Loading on Spark: every input file staged by argus's own rule inside a Spark task.

The validation rule is DuckDB SQL (load/validation.py); rather than a second copy of it in
Spark SQL, each Spark task runs the DuckDB staging itself (`load.staging._stage`, the very
function `argus report` uses) on the files it is given, and hands Spark the narrow, checked
rows (`_HOP_FACTS`, the record's `_error`, its file and line). So a record is valid or
malformed on Spark exactly as it is on DuckDB, for every format argus reads (JSON Lines, gzip,
Parquet, OTLP, Langfuse), with the same reason and line. A file is read whole by one task, and
the files are spread over the tasks; the metrics then run on Spark over all of them.

Strings the metrics only compare (span ids, payload hashes, intent checksums) leave the tasks
as strings and are digested here, on Spark (`xxhash64`, the transpiled `hash`), because the
metric SQL hashes a default span id it builds from positions that only the whole run knows;
the digest of a record's own id and of a default one must be the same function.

Local inputs (files, folders, globs, as `argus report` resolves them) are named to the tasks by
path: they must be readable where the tasks run (this machine in local mode; a shared or mounted
file system on a cluster). An input with a scheme (`s3a://`, `abfss://`, `gs://`, `hdfs://`,
`file://`) is listed and read by Spark itself (its `binaryFile` source: each file's bytes reach
the task that loads it), in path order, `key=value` folders as fields and `date=` folders out of
--since/--until skipped unread, as below a local folder.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argus_cli.diagnostics import ArgusError, InputError, UsageError
from argus_cli.importers import HopSpans, SourceFormat
from argus_cli.load.inputs import (
    TRACE_SUFFIXES,
    Format,
    Source,
    _file_source,
    _pruned,
    _remove_temp_files,
    _with_format,
    folder_values,
    passed_over,
    resolve_inputs,
)
from argus_cli.load.loading import Trace, fact_relations, position_sql
from argus_cli.load.staging import HOP_FACT_NAMES, _stage, judge_staged
from argus_cli.load.validation import _digest
from argus_cli.load.workdb import _work_dir, connect
from argus_cli.schema import METRIC_FIELDS
from argus_cli.spark.connection import SparkConnection
from argus_cli.spark.dialect import to_spark

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

# The metric fields, with the compared-only strings kept as strings (digested on Spark).
SPARK_FIELDS = tuple(
    replace(f, shape="string") if f.shape == "digest" else f for f in METRIC_FIELDS
)
_DIGESTED = tuple(f.name for f in METRIC_FIELDS if f.shape == "digest" and f.name in HOP_FACT_NAMES)

# What a task hands Spark for each staged record: the staged facts (strings for the digests),
# its place (file, row in the file's input order, line) and its error; `_fatal` says a file
# could not be read at all (the message argus gives for it, raised on the driver).
_TYPES = {
    "run_id": "STRING",
    "hop_id": "STRING",
    "workflow_id": "STRING",
    "span_id": "STRING",
    "parent_id": "STRING",
    "seq": "BIGINT",
    "started_at": "TIMESTAMP_NTZ",
    "status": "STRING",
    "validated": "BOOLEAN",
    "high_stakes": "BOOLEAN",
    "confidence": "DOUBLE",
    "correct": "BOOLEAN",
    "cost_usd": "DOUBLE",
    "latency_ms": "DOUBLE",
    "input_hash": "STRING",
    "output_hash": "STRING",
    "intent_checksum": "STRING",
    "score_groundedness": "DOUBLE",
    "score_accuracy": "DOUBLE",
    "score_safety": "DOUBLE",
    "has_violation": "BOOLEAN",
    "safety_violation": "BOOLEAN",
}
STAGED_SCHEMA = ", ".join(
    [
        "_file_index INT",
        "_row BIGINT",
        "_line BIGINT",
        "kind STRING",
        *(f"{name} {_TYPES[name]}" for name in HOP_FACT_NAMES),
        "_error STRING",
        "_fatal STRING",
    ]
)


def _stage_file(index: int, source: Source) -> Iterator[pa.RecordBatch]:
    """One file staged by the DuckDB rule, as Arrow batches of STAGED_SCHEMA's columns."""
    import pyarrow as pa

    work_dir = _work_dir([source])
    con = connect(work_dir)
    try:
        try:
            _stage(con, [source], False, SPARK_FIELDS, None, True)
        except ArgusError as exc:
            yield pa.RecordBatch.from_pylist(
                [{"_file_index": index, "_fatal": str(exc)}], schema=_arrow_schema()
            )
            return
        facts = ", ".join(HOP_FACT_NAMES)
        # A fast-path file has no line numbers of its own: its rows are its lines, in order.
        reader = con.sql(
            f"SELECT CAST({index} AS INTEGER) AS _file_index, "
            "row_number() OVER (ORDER BY rowid) AS _row, "
            "coalesce(_line, rowid + 1) AS _line, kind, "
            f"{facts}, _error, CAST(NULL AS VARCHAR) AS _fatal FROM staged ORDER BY rowid"
        ).to_arrow_reader(65_536)
        schema = _arrow_schema()
        for batch in reader:
            yield batch.cast(schema) if batch.schema != schema else batch
    finally:
        con.close()
        if work_dir is not None:
            shutil.rmtree(work_dir, ignore_errors=True)
        _remove_temp_files()


@functools.cache
def _arrow_schema() -> pa.Schema:
    """STAGED_SCHEMA as Arrow, built once per process (a task checks every batch against it)."""
    import pyarrow as pa

    types = {
        "INT": pa.int32(),
        "BIGINT": pa.int64(),
        "STRING": pa.string(),
        "TIMESTAMP_NTZ": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
        "DOUBLE": pa.float64(),
    }
    return pa.schema(
        [
            (name, types[type_])
            for name, type_ in (column.split(" ") for column in STAGED_SCHEMA.split(", "))
        ]
    )


def _stager(sources: Sequence[Source]) -> Any:
    """The function Spark runs over batches of file indices (mapInArrow)."""

    def stage(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column(0).to_pylist():
                yield from _stage_file(index, sources[index])

    return stage


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _uri_key(uri: str) -> str:
    """One spelling of a URI (`file:/x` and `file:///x` are one file, as Hadoop names them)."""
    scheme, _, rest = uri.partition(":")
    return f"file:///{rest.lstrip('/')}" if scheme.lower() == "file" else uri


def _remote_sources(
    spark: SparkSession, uri: str, since: datetime | None, until: datetime | None
) -> list[Source]:
    """The trace files Spark lists at `uri`, as a local folder's are found (`_folder_files`)."""
    listed = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(uri)
        .select("path")
        .collect()
    )
    root = _uri_key(uri).rstrip("/")
    found = []
    for (path,) in listed:
        key = _uri_key(path)
        relative = key[len(root) :].lstrip("/") if key.startswith(root + "/") else ""
        parts = tuple(relative.split("/")) if relative else (key.rsplit("/", 1)[-1],)
        if not parts[-1].endswith(TRACE_SUFFIXES) or any(map(passed_over, parts)):
            continue
        hive = folder_values(parts[:-1])
        if _pruned(dict(hive).get("date"), since, until):
            continue
        name = parts[-1]
        fmt: Format = "parquet" if name.endswith(".parquet") else "jsonl"
        found.append(
            (parts, Source(path, key, fmt, gzip=name.endswith(".gz"), hive=hive, scan=path))
        )
    if not found:
        raise InputError(f"{uri}: no trace files ({', '.join(TRACE_SUFFIXES)}) in range")
    return [source for _, source in sorted(found, key=lambda f: f[0])]


def _bytes_stager(
    sources: Sequence[Source],
    forced: SourceFormat | None,
    hop_spans: HopSpans,
) -> Any:
    """The function Spark runs over batches of (path, content) of files it read (mapInArrow):
    each file's bytes to a private file, its format found from them as for a local file."""
    index_of = {_uri_key(s.path): i for i, s in enumerate(sources)}

    def stage(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        for batch in batches:
            for path, content in zip(
                batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
            ):
                index = index_of[_uri_key(path)]
                source = sources[index]
                suffix = next(x for x in TRACE_SUFFIXES if source.display.endswith(x))
                handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
                try:
                    with handle:
                        handle.write(content)
                    try:
                        local = _file_source(Path(handle.name), source.display)
                        local = _with_format(replace(local, hive=source.hive), forced, hop_spans)
                    except ArgusError as exc:
                        fatal = [{"_file_index": index, "_fatal": str(exc)}]
                        yield pa.RecordBatch.from_pylist(fatal, schema=_arrow_schema())
                        continue
                    yield from _stage_file(index, local)
                finally:
                    os.unlink(handle.name)

    return stage


def load_spark(
    spark: SparkSession,
    inputs: Sequence[str],
    *,
    strict: bool = False,
    source_format: SourceFormat | None = None,
    hop_spans: HopSpans = "agents",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Trace:
    """The inputs staged on Spark, checked as `load()` checks them, and the metric relations
    (`hop_facts`, `intents`, `outcomes`, `hops`) as Spark views behind a SparkConnection."""
    if "-" in inputs:
        raise UsageError("--engine spark reads files, not stdin (-)")
    sources: list[Source] = []
    remote: set[int] = set()
    for item in inputs:
        if _SCHEME.match(item):
            found = _remote_sources(spark, item, since, until)
            remote.update(range(len(sources), len(sources) + len(found)))
            sources.extend(found)
            continue
        try:
            local = resolve_inputs([item], None, since, until)
            local = [_with_format(s, source_format, hop_spans) for s in local]
        finally:
            _remove_temp_files()
        sources.extend(replace(s, path=os.path.abspath(s.path), scan="") for s in local)
    parallelism = spark.sparkContext.defaultParallelism
    staged = None
    named = [i for i in range(len(sources)) if i not in remote]
    if named:
        indices = spark.createDataFrame([(i,) for i in named], "_file_index INT")
        staged = indices.repartition(max(1, min(len(named), parallelism))).mapInArrow(
            _stager(sources), STAGED_SCHEMA
        )
    if remote:
        read = (
            spark.read.format("binaryFile")
            .load([_hadoop_literal(sources[i].path) for i in sorted(remote)])
            .select("path", "content")
            .repartition(max(1, min(len(remote), parallelism)))
            .mapInArrow(_bytes_stager(sources, source_format, hop_spans), STAGED_SCHEMA)
        )
        staged = read if staged is None else staged.unionByName(read)
    assert staged is not None  # (resolve_inputs refuses no input at all)
    staged = staged.localCheckpoint(eager=True)
    fatal = staged.filter("_fatal IS NOT NULL").orderBy("_file_index").limit(1).collect()
    if fatal:
        raise InputError(fatal[0]["_fatal"])
    per_file = [
        (int(r[0]), int(r[1]), int(r[2]))
        for r in staged.groupBy("_file_index")
        .agg({"*": "count", "_error": "count"})
        .select("_file_index", "count(1)", "count(_error)")
        .orderBy("_file_index")
        .collect()
    ]
    bad_rows = [
        (int(r[0]), int(r[1]), str(r[2]))
        for r in staged.filter("_error IS NOT NULL")
        .select("_file_index", "_line", "_error")
        .orderBy("_file_index", "_line")
        .collect()
    ]
    records, bad = judge_staged(sources, per_file, bad_rows, strict)
    _relations(spark, staged)
    return Trace(
        con=SparkConnection(spark),  # type: ignore[arg-type]
        files=[s.display for s in sources],
        records=records,
        bad=bad,
    )


def _hadoop_literal(path: str) -> str:
    """A listed file's path as Spark reads it literally: Hadoop expands glob characters."""
    return re.sub(r"([*?\[\]{}\\])", r"\\\1", path)


def _relations(spark: SparkSession, staged: Any) -> None:
    """The relations metrics/ reads, as load/loading.py's fact views are on DuckDB."""
    staged.createOrReplaceTempView("staged")
    # Input order (files in the order given, then the file's own order) as one number.
    order = "(CAST(_file_index AS BIGINT) * 4294967296 + _row)"
    facts = ", ".join(
        f"{to_spark(_digest(name))} AS {name}" if name in _DIGESTED else name
        for name in HOP_FACT_NAMES
    )
    checksum = to_spark(_digest("intent_checksum"))
    for name, sql in fact_relations(order, facts, checksum).items():
        spark.sql(sql).createOrReplaceTempView(name)
    # `hops`, for the odd question by position (the workflows a --workflow could have named)
    positions = (
        f"SELECT h.*, p.position FROM hop_facts h LEFT JOIN (SELECT _order, "
        f"{position_sql('_order')} AS position FROM hop_facts WHERE status <> 'skipped') p "
        "USING (_order)"
    )
    spark.sql(to_spark(positions)).createOrReplaceTempView("hops")
