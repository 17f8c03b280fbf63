"""Shared helpers: write records to a trace file and analyse it the way the CLI does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tracebook import write_jsonl
from typer.testing import CliRunner

from argus_cli.analysis import analyse
from argus_cli.report import Report, Settings


@pytest.fixture
def report_of(tmp_path: Path):
    """Analyse a list of records as one JSONL file."""

    def run(records: list[dict[str, Any] | str], settings: Settings | None = None) -> Report:
        path = write_jsonl(tmp_path / "trace.jsonl", records)
        return analyse([str(path)], settings, quiet=True)

    return run


@pytest.fixture
def runner(monkeypatch):
    """CliRunner in tests/ (golden output names fixtures by relative path), colour off.

    Test files that need another set-up define their own `runner`, which wins over this one.
    """
    monkeypatch.chdir(Path(__file__).parent)
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()
