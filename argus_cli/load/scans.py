"""Which files one DuckDB statement reads together: the inputs grouped into scans.

Planning the typed staging SQL costs milliseconds a statement, which a statement a file paid
for each of 100,000 small files (issue 13). Files of one kind are read as one list instead: a
scan. Grouping needs only the files' kinds, sizes and (for Parquet) column types; staging.py
reads each scan and decides which way it goes. Apart from staging.py because what is read
together is one decision, and how each scan is read another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from argus_cli.load.inputs import Source, _unescaped
from argus_cli.load.validation import _lit
from argus_cli.load.workdb import _json_bytes

# Files of one kind are read by one statement, up to this many bytes and files: planning the
# typed SQL costs some milliseconds a statement, which a statement per file paid for every small
# file. The byte cap keeps what a file with a bad record sends the line-by-line way (its whole
# scan) small; the file cap, memory (DuckDB holds some 8 KB a file until its scan ends).
SCAN_BYTES = 64 * 1024 * 1024
SCAN_FILES = 10_000


@dataclass(frozen=True)
class _Scan:
    """Files read by one statement: of one format, compression and folder values (`hive`).

    `indices` are the files' places in the input; one file is read as it always was.
    """

    sources: tuple[Source, ...]
    indices: tuple[int, ...]

    @property
    def first(self) -> Source:
        return self.sources[0]

    @property
    def many(self) -> bool:
        return len(self.sources) > 1

    def paths_sql(self) -> str:
        """The files as a DuckDB reader's argument: escaped, so that none is a pattern."""
        if not self.many:
            return _lit(self.first.scan)
        return "[" + ", ".join(_lit(s.scan) for s in self.sources) + "]"

    def index_sql(self) -> str:
        """Each row's `_file_index`, from the reader's `file_index` (its place in the list)."""
        start = self.indices[0]
        if not self.many:
            return str(start)
        if self.indices == tuple(range(start, start + len(self.indices))):
            return f"CAST({start} + file_index AS INTEGER)"
        listed = ", ".join(map(str, self.indices))
        return f"[{listed}][CAST(file_index AS BIGINT) + 1]"

    def where_sql(self) -> str:
        """The scan's rows in `staged`."""
        start, end = self.indices[0], self.indices[-1]
        if self.indices == tuple(range(start, end + 1)):
            return f"_file_index BETWEEN {start} AND {end}"
        return f"_file_index IN ({', '.join(map(str, self.indices))})"

    def halves(self) -> tuple[_Scan, _Scan]:
        half = len(self.sources) // 2
        return (
            _Scan(self.sources[:half], self.indices[:half]),
            _Scan(self.sources[half:], self.indices[half:]),
        )


def _scans(sources: Sequence[Source], schemas: dict[int, str] | None = None) -> list[_Scan]:
    """The files grouped into scans, in order of each scan's first file.

    JSON Lines files group by compression and folder values (a scan types them with one
    SQL); Parquet files by folder values and `schemas` (their column types, which a scan
    must not unify: a number is not a string); OTLP and Langfuse files, and a Parquet file of
    unknown schema, are scans of their own (an importer's joins, a file's own types).
    The caps count the bytes of JSON a file holds (a packed file, some PACKED_RATIO times its
    size), as that is what a scan sorts.
    """
    schemas = schemas or {}
    open_: dict[tuple[object, ...], tuple[list[int], int]] = {}
    groups: list[list[int]] = []
    for index, source in enumerate(sources):
        if source.format == "jsonl":
            key: tuple[object, ...] = (source.gzip, source.hive)
        elif source.format == "parquet" and index in schemas:
            key = ("parquet", schemas[index], source.hive)
        else:
            groups.append([index])
            continue
        size = _json_bytes(source)
        members, total = open_.get(key, ([], 0))
        if not members or total + size > SCAN_BYTES or len(members) >= SCAN_FILES:
            members, total = [], 0
            groups.append(members)
        members.append(index)
        open_[key] = (members, total + size)
    groups.sort(key=lambda group: group[0])
    return [_Scan(tuple(sources[i] for i in g), tuple(g)) for g in groups]


def _parquet_schemas(con: duckdb.DuckDBPyConnection, sources: Sequence[Source]) -> dict[int, str]:
    """Each Parquet file's column names and types, from one read of every footer.

    Empty when there are not two Parquet files to group, or when one cannot be read: each is
    then read alone, and a broken one is named as it always was.
    """
    parquet = {i: s for i, s in enumerate(sources) if s.format == "parquet"}
    if len(parquet) < 2:
        return {}
    # parquet_schema names each file by its real path: the name below its escaped pattern.
    real = {_unescaped(s.scan): i for i, s in parquet.items()}
    paths = "[" + ", ".join(_lit(s.scan) for s in parquet.values()) + "]"
    try:
        rows = con.execute(
            "SELECT file_name, string_agg(name || ' ' || coalesce(duckdb_type, '') || ' ' || "
            "coalesce(repetition_type, ''), ', ' ORDER BY column_id) "
            f"FROM parquet_schema({paths}) GROUP BY file_name"
        ).fetchall()
    except duckdb.Error:
        return {}
    return {real[name]: schema for name, schema in rows if name in real}
