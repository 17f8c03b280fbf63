"""A DuckDB-shaped connection over a SparkSession, so that the metric engine runs unchanged.

metrics/ talks to a connection: `execute(sql, params)` then `fetchone`, `fetchall`,
`description`. This class gives it that over Spark: each statement is transpiled
(dialect.to_spark), `CREATE OR REPLACE TABLE name AS query` becomes a temporary view of the
query's result, checkpointed locally (computed once, kept by the executors, its plan cut short
so that the next statement does not plan every one before it again).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from argus_cli.spark.dialect import to_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_CREATE = re.compile(
    r"\s*CREATE\s+OR\s+REPLACE\s+(?:TEMP\s+)?TABLE\s+(\w+)\s+AS\s+(.*)", re.S | re.I
)
_PARAM = re.compile(r"\$(\w+)|\?")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _bind(sql: str, params: list[Any] | dict[str, Any] | None) -> str:
    """DuckDB's `?` and `$name` parameters as Spark literals (the values are argus's own)."""
    if not params:
        return sql
    values = iter(params) if isinstance(params, list) else None

    def one(match: re.Match[str]) -> str:
        if match.group(1) is not None and isinstance(params, dict):
            return _literal(params[match.group(1)])
        assert values is not None
        return _literal(next(values))

    return _PARAM.sub(one, sql)


class SparkConnection:
    """`execute` / `fetchone` / `fetchall` / `description`, as metrics/ uses a DuckDB one."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._rows: list[tuple[Any, ...]] = []
        self.description: list[tuple[str, ...]] = []
        self._tables: dict[str, DataFrame] = {}

    def execute(
        self, sql: str, params: list[Any] | dict[str, Any] | None = None
    ) -> SparkConnection:
        sql = _bind(sql, params)
        created = _CREATE.match(sql)
        if created:
            name, query = created.groups()
            frame = self.spark.sql(to_spark(query)).localCheckpoint(eager=True)
            frame.createOrReplaceTempView(name)
            self._tables[name] = frame
            self._rows, self.description = [], []
            return self
        frame = self.spark.sql(to_spark(sql))
        self.description = [(f.name,) for f in frame.schema.fields]
        self._rows = [tuple(row) for row in frame.collect()]
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def close(self) -> None:
        for name, frame in self._tables.items():
            self.spark.catalog.dropTempView(name)
            frame.unpersist()
        self._tables.clear()
