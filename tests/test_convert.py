"""`argus convert`: convert once, analyse many times, and get the same numbers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from importbook import sample_runs, write_langfuse, write_otlp
from tracebook import TRACE_A, TRACE_B, write_jsonl
from typer.testing import CliRunner

from argus_cli.analysis import analyse
from argus_cli.cli import app
from argus_cli.converting import convert
from argus_cli.diagnostics import UsageError
from argus_cli.load.loading import load
from argus_cli.schema import FIELD_NAMES

DATA = Path(__file__).parent / "data"


def numbers(*paths: Path) -> dict:
    data = analyse([str(p) for p in paths], quiet=True).to_dict()
    del data["inputs"]
    return data


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
def test_otlp_converted_reports_the_same(tmp_path, suffix):
    source = write_otlp(tmp_path / "otlp.jsonl", sample_runs())
    target = tmp_path / f"hops{suffix}"
    done = convert([str(source)], str(target), quiet=True)
    assert (done.hops, done.intents, done.outcomes) == (13, 0, 0)
    assert numbers(target) == numbers(source)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_argus_records_round_trip_with_intents_outcomes_and_unknown_fields(tmp_path, suffix):
    records = [*TRACE_A, *TRACE_B, {"run_id": "x", "hop_id": "h", "tenant": "acme"}]
    source = write_jsonl(tmp_path / "trace.jsonl", [*records, "not json"])
    target = tmp_path / f"out{suffix}"
    done = convert([str(source)], str(target), quiet=True)
    assert (done.hops, done.intents, done.outcomes) == (16, 3, 2)  # the bad line is left out
    assert numbers(target) == numbers(source)
    kept = load([str(target)], keep_unknown=True).con.execute(
        "SELECT tenant FROM hops WHERE run_id = 'x'"
    )
    assert kept.fetchall() == [("acme",)]
    twice = tmp_path / f"twice{suffix}"
    convert([str(target)], str(twice), quiet=True)
    assert numbers(twice) == numbers(source)


def test_jsonl_output_is_spec_records(tmp_path):
    target = tmp_path / "out.jsonl"
    convert([str(DATA / "otlp" / "genai_collector.jsonl")], str(target), quiet=True)
    first = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) <= FIELD_NAMES  # SPEC names only (an OTLP import has no unknown fields)
    assert first["kind"] == "hop" and first["run_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert first["started_at"] == "2026-04-01T10:00:01.000000Z"  # RFC 3339
    assert first["span_id"] == "00f067aa0ba902b7" and first["workflow_id"] == "support"


def test_parquet_output_has_typed_columns(tmp_path):
    target = tmp_path / "out.parquet"
    convert([str(DATA / "langfuse" / "blob_export.jsonl")], str(target), quiet=True)
    table = pq.read_table(target)
    assert table.num_rows == 3
    types = {f.name: str(f.type) for f in table.schema}
    assert types["input_tokens"] == "int64" and types["started_at"].startswith("timestamp")
    assert types["validated"] == "bool"


def test_gzip_output_is_gzip(tmp_path):
    target = tmp_path / "out.jsonl.gz"
    convert([str(DATA / "otlp" / "openinference_pretty.json")], str(target), quiet=True)
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    assert [json.loads(line)["hop_id"] for line in lines] == ["planner", "writer"]


def test_langfuse_converted_reports_the_same(tmp_path):
    source = write_langfuse(tmp_path / "lf.json", sample_runs(), as_array=True)
    target = tmp_path / "hops.parquet"
    convert([str(source)], str(target), source_format="langfuse", quiet=True)
    assert numbers(target) == numbers(source)


def test_a_bad_target_is_refused_before_reading(tmp_path):
    with pytest.raises(UsageError, match=r"must end in \.jsonl"):
        convert([str(tmp_path / "missing.jsonl")], str(tmp_path / "out.csv"))


def test_cli_convert(runner, tmp_path):
    source = DATA / "otlp" / "genai_collector.jsonl"
    target = tmp_path / "hops.parquet"
    result = runner.invoke(app, ["convert", str(source), "-o", str(target), "--from", "otlp"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # stdout carries data only; the summary goes to stderr
    assert result.stderr == (f"argus: wrote 5 hop, 0 intent and 0 outcome records to {target}\n")
    assert numbers(target) == numbers(source)


def test_cli_convert_failures_write_nothing(runner, tmp_path):
    target = tmp_path / "out.jsonl"
    bad_suffix = runner.invoke(app, ["convert", str(DATA / "awkward.jsonl"), "-o", "out.txt"])
    assert bad_suffix.exit_code == 2 and "must end in" in bad_suffix.stderr
    unusable = runner.invoke(app, ["convert", str(DATA / "not_a_trace.csv"), "-o", str(target)])
    assert unusable.exit_code == 2 and "tried argus records" in unusable.stderr
    missing_output = runner.invoke(app, ["convert", str(DATA / "awkward.jsonl")])
    assert missing_output.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_converting_over_an_input_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [*TRACE_A, "not json"])
    before = path.read_bytes()
    with pytest.raises(UsageError, match="is one of the inputs"):
        convert([str(path)], str(path), quiet=True)
    assert path.read_bytes() == before  # not even its malformed line dropped
    assert [p.name for p in tmp_path.iterdir()] == ["t.jsonl"]  # no temporary file left
