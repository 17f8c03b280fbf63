"""Inputs are read as named: a file name is never a pattern, a pipe is read once, stdin closed
is one line, and `convert` never writes over one of its inputs."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tracebook import TRACE_A, write_jsonl
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.converting import convert
from argus_cli.diagnostics import InputError
from argus_cli.load.inputs import _TEMP_FILES, resolve_inputs
from argus_cli.load.loading import load

# Each file holds one hop of a run named after the file, so a run says which file was read.
GLOB_NAMES = ["s*.jsonl", "sx.jsonl", "q?.jsonl", "qz.jsonl", "[ab].jsonl", "a.jsonl", "b.jsonl"]


def write_named(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_jsonl(folder / name, [{"run_id": name, "hop_id": "h"}])


def runs_read(inputs: list[str]) -> list[str]:
    trace = load(inputs)
    rows = trace.con.execute("SELECT run_id FROM hops ORDER BY run_id").fetchall()
    return [str(run) for (run,) in rows]


def test_names_in_a_folder_are_never_patterns(tmp_path):
    write_named(tmp_path / "traces", GLOB_NAMES)
    assert runs_read([str(tmp_path / "traces")]) == sorted(GLOB_NAMES)  # each file once


@pytest.mark.parametrize("name", ["s*.jsonl", "q?.jsonl", "[ab].jsonl"])
def test_a_file_named_like_a_pattern_is_that_one_file(tmp_path, monkeypatch, name):
    write_named(tmp_path, GLOB_NAMES)
    assert runs_read([str(tmp_path / name)]) == [name]
    monkeypatch.chdir(tmp_path)  # a relative name too
    assert runs_read([name]) == [name]


def test_a_folder_named_like_a_pattern_and_parquet_parts(tmp_path):
    folder = tmp_path / "d*[1]"
    write_named(folder, ["p?.jsonl"])
    converted = folder / "part[0].parquet"
    convert([str(folder / "p?.jsonl")], str(converted), quiet=True)
    # What `d*[1]/p?.jsonl` and `d*[1]/part[0].parquet` match as patterns: other runs.
    decoys = tmp_path / "dx1"
    decoys.mkdir()
    for name in ("p1.jsonl", "p?.jsonl", "p2.jsonl"):
        write_jsonl(decoys / name, [{"run_id": "decoy", "hop_id": "h"}])
    convert([str(decoys / "p1.jsonl")], str(decoys / "part0.parquet"), quiet=True)
    convert([str(decoys / "p1.jsonl")], str(decoys / "part[0].parquet"), quiet=True)
    assert runs_read([str(folder)]) == ["p?.jsonl", "p?.jsonl"]
    assert runs_read([str(converted)]) == ["p?.jsonl"]


def test_a_backslash_and_a_glob_character_in_one_name(tmp_path):
    # DuckDB cannot escape this one: it is read through a temporary symlink.
    write_named(tmp_path, ["b\\[x].jsonl", "bx.jsonl"])
    assert runs_read([str(tmp_path)]) == ["b\\[x].jsonl", "bx.jsonl"]
    assert runs_read([str(tmp_path / "b\\[x].jsonl")]) == ["b\\[x].jsonl"]
    assert _TEMP_FILES == []  # the symlink and its folder are gone after the load


def test_a_glob_the_user_typed_is_still_expanded_once(tmp_path):
    write_named(tmp_path, GLOB_NAMES)
    assert runs_read([str(tmp_path / "s[x*].jsonl")]) == ["s*.jsonl", "sx.jsonl"]


# --------------------------------------------------------------------------------------------
# Pipes and stdin


def test_a_fifo_is_read_once(tmp_path):
    records = write_jsonl(tmp_path / "t.jsonl", TRACE_A)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        # Each open blocks until argus opens the pipe. Later opens get nothing, as a shell's
        # pipe would give (so a reader that opens it again finds it empty, not waits for ever).
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as handle:
            handle.write(records.read_bytes())
        for _ in range(5):
            with fifo.open("wb"):
                pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    piped = load([str(fifo)])
    for _ in range(50):  # lets the writer's remaining opens through
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=0.2)
    assert not writer.is_alive()
    assert piped.files == [str(fifo)]
    expected = load([str(records)]).con.execute("SELECT count(*) FROM hops").fetchone()
    assert piped.con.execute("SELECT count(*) FROM hops").fetchone() == expected
    assert _TEMP_FILES == []


def test_process_substitution_reports_like_the_file(tmp_path):
    records = write_jsonl(tmp_path / "t.jsonl", TRACE_A)
    script = (
        'argus_report() { "$PY" -m argus_cli report --json "$@"; }; '
        'argus_report <(cat "$TRACE") > piped.json && argus_report "$TRACE" > file.json'
    )
    env = {**os.environ, "PY": sys.executable, "TRACE": str(records), "NO_COLOR": "1"}
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    piped, whole = (json.loads((tmp_path / f).read_text()) for f in ("piped.json", "file.json"))
    assert piped["inputs"] != whole["inputs"]  # /dev/fd/N, named as the user gave it
    del piped["inputs"], whole["inputs"]
    assert piped == whole


def test_closed_stdin_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "argus_cli", "report", "-"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        preexec_fn=lambda: os.close(0),  # `argus report - <&-`
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["argus: error: -: stdin is closed, nothing to read"]


def test_stdin_none_is_an_input_error():
    with pytest.raises(InputError, match="stdin is closed"):
        resolve_inputs(["-"], stdin=None) if sys.stdin is None else _closed_stdin()


def _closed_stdin() -> None:
    saved = sys.stdin
    sys.stdin = None  # type: ignore[assignment]
    try:
        resolve_inputs(["-"])
    finally:
        sys.stdin = saved


# --------------------------------------------------------------------------------------------
# convert never writes over an input


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def refused(runner, args: list[str]) -> str:
    result = runner.invoke(app, ["convert", *args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("argus: error: -o "), lines
    return lines[0]


def test_convert_refuses_to_write_over_its_input(tmp_path, runner, monkeypatch):
    trace = write_jsonl(tmp_path / "x.jsonl", [*TRACE_A, "not json"])  # convert drops that line
    before = trace.read_bytes()
    assert "is one of the inputs" in refused(runner, [str(trace), "-o", str(trace)])
    monkeypatch.chdir(tmp_path)
    refused(runner, ["x.jsonl", "-o", "./sub/../x.jsonl"])
    os.symlink(trace, tmp_path / "link.jsonl")
    refused(runner, ["x.jsonl", "-o", "link.jsonl"])  # resolved through the symlink
    os.link(trace, tmp_path / "hard.jsonl")
    refused(runner, ["x.jsonl", "-o", "hard.jsonl"])  # the same file under another name
    refused(runner, [str(tmp_path), "-o", "x.jsonl"])  # found in a folder
    refused(runner, ["x.json[l]", "-o", "x.jsonl"])  # found by a glob
    assert trace.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.jsonl", "link.jsonl", "x.jsonl"]


def test_convert_refuses_a_dataset_folder_that_holds_an_input(tmp_path, runner):
    folder = tmp_path / "ds"
    (folder / "date=2026-04-01").mkdir(parents=True)
    trace = write_jsonl(folder / "date=2026-04-01" / "t.jsonl", TRACE_A)
    before = trace.read_bytes()
    line = refused(runner, [str(folder), "-o", str(folder), "--partition", "--overwrite"])
    assert "holds an input" in line
    refused(runner, [str(trace), "-o", str(tmp_path), "--partition", "--overwrite"])
    assert trace.read_bytes() == before


def test_convert_to_a_new_file_beside_its_input_still_works(tmp_path, runner):
    trace = write_jsonl(tmp_path / "x.jsonl", TRACE_A)
    result = runner.invoke(app, ["convert", str(trace), "-o", str(tmp_path / "y.jsonl")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "y.jsonl").exists()
