"""The SparkSession argus runs on: local (`local[*]`), a cluster master, or Spark Connect."""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

from argus_cli.diagnostics import UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"

# Settings a report's numbers depend on: UTC (timestamps carry no zone), ANSI off (a division
# by zero is NULL as in DuckDB), and no progress bars or INFO logs on argus's stderr.
_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def _local_cores(master: str) -> int:
    """N of local[N] (local[*] and local: this machine's cores)."""
    inside = master.partition("[")[2].partition("]")[0].partition(",")[0]
    return int(inside) if inside.isdigit() else (os.cpu_count() or 1)


def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """A session on `master`: `local[N]`, `spark://host:port`, `yarn`, or `sc://host:port` for
    Spark Connect. An existing session of this process is reused (tests, notebooks)."""
    try:
        import sqlglot  # noqa: F401  (dialect.py's transpiler: the same extra)
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "--engine spark needs the spark extra (PySpark, sqlglot): "
            "pip install 'argus-cli[spark]' (and Java 17 or later)"
        ) from None
    # Spark's workers run this interpreter's argus (the staging runs in them).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("argus")
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = builder.master(master)
        # A local run shuffles among its own cores: a partition each, not 200.
        if master.startswith("local"):
            builder = builder.config("spark.sql.shuffle.partitions", str(_local_cores(master)))
            builder = builder.config("spark.ui.enabled", "false")
    for key, value in _CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    for key, value in _CONF.items():
        if not key.startswith("spark.ui"):
            spark.conf.set(key, value)
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("OFF")
    return spark


# What Py4J says of a Java exception: a first line naming only the JVM call ("An error occurred
# while calling o133.localCheckpoint."), then ": " and the Java exception, then its trace.
_JAVA_CALL = "An error occurred while calling"
_OUT_OF_MEMORY = re.compile(r"[\w.]*(?:OutOfMemoryError|OUT_OF_MEMORY)[^\n]*")


def error_line(text: str) -> str:
    """The one stderr line for what Spark raised: the Java exception, not the JVM call it came
    through, and for memory what to give more of (in local mode the driver does all the work,
    with PySpark's default 1 GB heap)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "Spark failed without a message"
    oom = _OUT_OF_MEMORY.search(text)
    if oom is not None:
        return (
            f"Spark ran out of memory ({oom.group(0).strip()}): give it more, "
            "spark.driver.memory in local mode (e.g. PYSPARK_SUBMIT_ARGS='--driver-memory 4g "
            "pyspark-shell'), spark.executor.memory on a cluster"
        )
    head = lines[0]
    if head.startswith(_JAVA_CALL) and len(lines) > 1:
        head = lines[1].removeprefix(":").strip()
    return head
