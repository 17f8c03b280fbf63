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
