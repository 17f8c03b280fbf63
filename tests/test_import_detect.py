"""Format detection from a file's first bytes and first non-blank line, `--from` to force one,
and the commands that take it."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from goldens import ANSI
from tracebook import TRACE_A, write_jsonl
from typer.testing import CliRunner

from argus_cli.analysis import analyse
from argus_cli.cli import app
from argus_cli.diagnostics import InputError
from argus_cli.importers import detect_format
from argus_cli.load.loading import load

DATA = Path(__file__).parent / "data"
OTLP = DATA / "otlp" / "genai_collector.jsonl"
PRETTY = DATA / "otlp" / "openinference_pretty.json"
LANGFUSE_ARRAY = DATA / "langfuse" / "observations.json"
LANGFUSE_LINES = DATA / "langfuse" / "blob_export.jsonl"


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def gz(tmp_path: Path, source: Path) -> Path:
    target = tmp_path / (source.name + ".gz")
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (OTLP, "otlp"),
        (PRETTY, "otlp"),
        (LANGFUSE_ARRAY, "langfuse"),
        (LANGFUSE_LINES, "langfuse"),
        (DATA / "awkward.jsonl", "argus"),
        (DATA / "no_required_fields.jsonl", "argus"),  # argus's loader says what is missing
        (DATA / "broken.parquet", "argus"),
    ],
)
def test_detects_each_format(path, expected):
    assert detect_format(path) == expected


def test_detects_through_gzip_blank_lines_and_a_bom(tmp_path):
    assert detect_format(gz(tmp_path, OTLP)) == "otlp"
    assert detect_format(gz(tmp_path, PRETTY)) == "otlp"
    assert detect_format(gz(tmp_path, LANGFUSE_ARRAY)) == "langfuse"
    padded = tmp_path / "padded.jsonl"
    padded.write_bytes(b"\xef\xbb\xbf\n   \n" + OTLP.read_bytes())
    assert detect_format(padded) == "otlp"


def test_a_score_row_first_is_still_langfuse(tmp_path):
    score = {"id": "s", "traceId": "t", "name": "accuracy", "value": 1, "dataType": "NUMERIC"}
    path = tmp_path / "scores-first.jsonl"
    path.write_text(json.dumps(score) + "\n" + LANGFUSE_LINES.read_text(), encoding="utf-8")
    assert detect_format(path) == "langfuse"


def test_a_torn_first_argus_record_stays_argus(tmp_path):
    path = tmp_path / "torn.jsonl"
    path.write_text('{"run_id": "r", "hop_\n{"run_id": "r", "hop_id": "a"}\n', encoding="utf-8")
    assert detect_format(path) == "argus"
    assert len(load([str(path)]).bad) == 1  # as before: the torn line is a bad record


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("name,value\nfoo,1\n", "line 1 is not JSON"),
        ('{"foo": 1}\n', "line 1 is a JSON object with none of their fields"),
        ('\n\n{"resourceLogs": []}\n', "line 3 is a JSON object"),
        ("[1, 2, 3]\n", "line 1 is a JSON list"),
        ('[\n  {"run_id": "r", "hop_id": "a"}\n]\n', "line 1 opens a JSON array of none"),
    ],
)
def test_no_format_says_which_were_tried(tmp_path, content, reason):
    path = tmp_path / "mystery.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load([str(path)])
    message = str(caught.value)
    assert message.startswith(f"{path}: not a trace: matches none of the formats argus reads")
    for tried in ("argus records", "OTLP JSON", "Langfuse observations"):
        assert tried in message
    assert reason in message


def test_cli_exits_2_naming_the_formats(runner, tmp_path):
    path = shutil.copy(DATA / "not_a_trace.csv", tmp_path / "x.csv")
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "tried argus records" in result.stderr and "OTLP JSON" in result.stderr
    assert not ANSI.search(result.stderr)


def test_from_forces_the_format(tmp_path):
    # An OTLP file read as argus records: every line lacks run_id, so it is no trace at all.
    with pytest.raises(InputError, match="lacks required field 'run_id'"):
        load([str(OTLP)], source_format="argus")
    # Langfuse read as OTLP: no resourceSpans, so no hop; it says the file is not OTLP (no
    # --hop-spans would help), and what it reads as.
    with pytest.raises(
        InputError,
        match="not an OTLP JSON file: it reads as a Langfuse one "
        r"\(leave --from out to detect it, or say --from langfuse\)$",
    ):
        load([str(LANGFUSE_LINES)], source_format="otlp")
    # A file detection would refuse is read when forced, and said to be of no format.
    odd = tmp_path / "odd.json"
    odd.write_text('{"foo": 1}\n', encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"odd\.json: not a Langfuse file: it matches none of the formats argus reads$",
    ):
        load([str(odd)], source_format="langfuse")


def test_argus_files_load_as_before_with_or_without_from(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", TRACE_A)
    auto = load([str(path)]).con.execute("SELECT count(*) FROM hops").fetchone()
    forced = load([str(path)], source_format="argus").con.execute("SELECT count(*) FROM hops")
    assert auto == forced.fetchone() == (13,)


@pytest.mark.parametrize(
    "args",
    [
        ["report", str(OTLP), "--json"],
        ["report", str(OTLP), "--from", "otlp", "--json"],
        ["runs", str(OTLP), "--from", "otlp", "--format", "json"],
        ["trace", str(OTLP), "0af7651916cd43dd8448eb211c80319c", "--from", "otlp"],
        ["query", str(OTLP), "SELECT count(*) AS n FROM hops", "--from", "otlp", "-f", "csv"],
        ["report", str(LANGFUSE_ARRAY), "--from", "langfuse", "--hop-spans", "tools"],
    ],
)
def test_commands_take_from_and_hop_spans(runner, args):
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output  # 1: a gate, never a usage error
    assert result.stdout


def test_query_sees_every_hop_span_choice(runner):
    counts = {}
    for choice in ("agents", "tools", "genai", "all"):
        result = runner.invoke(
            app,
            [
                "query",
                str(OTLP),
                "SELECT count(*) AS n FROM hops",
                "--hop-spans",
                choice,
                "-f",
                "csv",
            ],
        )
        assert result.exit_code == 0, result.output
        counts[choice] = int(result.stdout.split()[-1])
    assert counts == {"agents": 5, "tools": 6, "genai": 10, "all": 10}


def test_unknown_from_is_a_usage_error(runner):
    result = runner.invoke(app, ["report", str(OTLP), "--from", "jaeger"])
    assert result.exit_code == 2


def test_stdin_is_detected_too():
    stdin = io.BytesIO(gzip.compress(OTLP.read_bytes()))
    report = analyse(["-"], stdin=stdin, quiet=True)
    assert (report.runs, report.hop_executions) == (2, 5)
