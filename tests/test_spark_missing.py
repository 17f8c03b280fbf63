"""Without the spark extra, `--engine spark` says how to install it: exit 2, one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from argus_cli.cli import app

SAMPLE = str(Path(__file__).parent.parent / "sample_traces" / "support_desk.jsonl")


@pytest.mark.parametrize("missing", ["pyspark", "sqlglot"])
@pytest.mark.parametrize("command", ["report", "check", "runs"])
def test_engine_spark_without_the_extra_names_it(
    missing: str, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # (import now raises ImportError)
    monkeypatch.setitem(sys.modules, f"{missing}.sql", None)
    result = CliRunner().invoke(app, [command, SAMPLE, "--engine", "spark"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "argus: error: --engine spark needs the spark extra (PySpark, sqlglot): "
        "pip install 'argus-cli[spark]' (and Java 17 or later)\n"
    )


# What PySpark raised for a local[2] run of the 2M-hop dataset with `--driver-memory 520m`: its
# first lines and the cause (the Java stack frames between them left out).
OUT_OF_MEMORY = (Path(__file__).parent / "data" / "spark" / "out_of_memory.txt").read_text()


def test_spark_out_of_memory_says_what_to_give_more_of() -> None:
    from argus_cli.spark.session import error_line

    line = error_line(OUT_OF_MEMORY)
    assert line.startswith(
        "Spark ran out of memory (org.apache.spark.memory.SparkOutOfMemoryError: "
        "[AGGREGATE_OUT_OF_MEMORY] No enough memory for aggregation SQLSTATE: 82001): "
    )
    assert "spark.driver.memory" in line and "--driver-memory" in line
    assert "\n" not in line
    heap = "An error occurred while calling o9.collect.\n: java.lang.OutOfMemoryError: heap\n"
    assert error_line(heap).startswith("Spark ran out of memory (java.lang.OutOfMemoryError: heap)")
    other = "An error occurred while calling o7.load.\n: java.io.FileNotFoundException: gone\n\t"
    assert error_line(other) == "java.io.FileNotFoundException: gone"
    assert error_line("Cannot connect to sc://127.0.0.1:9") == "Cannot connect to sc://127.0.0.1:9"
