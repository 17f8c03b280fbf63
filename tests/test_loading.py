"""Loading every input shape into the same `hops` relation, and refusing what is not a trace."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tracebook import CONSTRAINTS, GOAL, TRACE_A, TRACE_B, K, write_jsonl

from argus_cli.analysis import analyse
from argus_cli.diagnostics import InputError
from argus_cli.load.loading import load
from argus_cli.schema import intent_checksum

DATA = Path(__file__).parent / "data"


def numbers(report) -> dict:
    """The report without its list of input files, for comparing one trace in several shapes."""
    data = report.to_dict()
    del data["inputs"]["files"]
    return data


def write_parquet(path: Path, records: list[dict]) -> Path:
    """Parquet as a pipeline would write it: typed columns, violations as structs, scores a map."""
    rows = []
    for r in records:
        row = dict(r)
        if "violations" in row:
            row["violations"] = [
                {
                    "rule": v.split(":", 1)[-1],
                    "severity": None,
                    "category": v.split(":", 1)[0] if ":" in v else None,
                }
                if isinstance(v, str)
                else v
                for v in row["violations"]
            ]
        if "scores" in row:
            row["scores"] = [(k, float(v)) for k, v in row["scores"].items()]
        if isinstance(row.get("started_at"), int):
            row["started_at"] = "2026-04-01T10:00:00Z"  # one string column
        rows.append(row)
    violation = pa.struct(
        [("rule", pa.string()), ("severity", pa.string()), ("category", pa.string())]
    )
    schema = pa.schema(
        [
            ("kind", pa.string()),
            ("run_id", pa.string()),
            ("hop_id", pa.string()),
            ("workflow_id", pa.string()),
            ("seq", pa.int64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("validated", pa.bool_()),
            ("violations", pa.list_(violation)),
            ("confidence", pa.float64()),
            ("correct", pa.bool_()),
            ("scores", pa.map_(pa.string(), pa.float64())),
            ("cost_usd", pa.float64()),
            ("started_at", pa.string()),
            ("input_hash", pa.string()),
            ("output_hash", pa.string()),
            ("intent_checksum", pa.string()),
            ("goal", pa.string()),
            ("constraints", pa.list_(pa.string())),
            ("source", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path)
    return path


def test_same_numbers_from_jsonl_gzip_parquet_folder_and_stdin(tmp_path):
    records = TRACE_A + TRACE_B
    # started_at as epoch ms cannot share a Parquet string column: use one string form here
    jsonl = write_jsonl(tmp_path / "t.jsonl", records)
    expected = numbers(analyse([str(jsonl)], quiet=True))

    gz = tmp_path / "t.jsonl.gz"
    gz.write_bytes(gzip.compress(jsonl.read_bytes()))
    assert numbers(analyse([str(gz)], quiet=True)) == expected

    folder = tmp_path / "folder" / "date=2026-04-01"
    folder.mkdir(parents=True)
    write_jsonl(folder / "part-1.ndjson", records[:9])
    write_jsonl(folder / "part-2.jsonl", records[9:])
    (folder / "_SUCCESS").write_text("")
    (folder / "README.txt").write_text("not a trace")
    assert numbers(analyse([str(tmp_path / "folder")], quiet=True)) == expected

    stdin = io.BytesIO(jsonl.read_bytes())
    assert numbers(analyse(["-"], stdin=stdin, quiet=True)) == expected

    parquet = write_parquet(tmp_path / "t.parquet", records)
    assert numbers(analyse([str(parquet)], quiet=True)) == expected


def test_glob_and_several_inputs(tmp_path):
    write_jsonl(tmp_path / "2026-04-01.jsonl", TRACE_A)
    write_jsonl(tmp_path / "2026-04-02.jsonl", TRACE_B)
    both = analyse([str(tmp_path / "2026-04-*.jsonl")], quiet=True)
    assert both.runs == 6 and both.files == [str(tmp_path / f"2026-04-0{i}.jsonl") for i in (1, 2)]
    listed = analyse(
        [str(tmp_path / "2026-04-01.jsonl"), str(tmp_path / "2026-04-02.jsonl")], quiet=True
    )
    assert numbers(listed) == numbers(both)


def test_hive_partition_values_become_fields(tmp_path):
    folder = tmp_path / "workflow_id=from-folder"
    folder.mkdir()
    write_jsonl(
        folder / "a.jsonl",
        [{"run_id": "r", "hop_id": "h"}, {"run_id": "s", "hop_id": "h", "workflow_id": "own"}],
    )
    trace = load([str(tmp_path)])
    rows = trace.con.execute("SELECT run_id, workflow_id FROM hops ORDER BY run_id").fetchall()
    assert rows == [("r", "from-folder"), ("s", "own")]  # the record's own value wins


def test_files_with_different_columns_load_together(tmp_path):
    write_jsonl(tmp_path / "one.jsonl", [{"run_id": "r1", "hop_id": "a", "scores": {"safety": 1}}])
    write_jsonl(
        tmp_path / "two.jsonl", [{"run_id": "r2", "hop_id": "a", "cost_usd": 0.5, "tenant": "acme"}]
    )
    trace = load([str(tmp_path / "one.jsonl"), str(tmp_path / "two.jsonl")], keep_unknown=True)
    rows = trace.con.execute(
        "SELECT run_id, scores['safety'], cost_usd, tenant FROM hops ORDER BY run_id"
    ).fetchall()
    assert rows == [("r1", 1.0, None, None), ("r2", None, 0.5, "acme")]


def test_normalisation_defaults_and_shapes(tmp_path):
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {
                "run_id": "r",
                "hop_id": "p",
                "seq": 1,
                "started_at": "2026-04-01T10:00:00Z",
                "ended_at": 1775037601500,
                "violations": [
                    "fmt:missing",
                    "plain",
                    {"rule": "dose", "severity": "high", "category": "safety"},
                ],
            },
            {
                "run_id": "r",
                "hop_id": "q",
                "seq": 2.0,
                "started_at": "2026-04-01T12:00:00+02:00",
                "ended_at": "2026-04-01 10:00:00.250",
                "latency_ms": 7,
            },
        ],
    )
    con = load([str(path)]).con
    p, q = con.execute(
        "SELECT span_id, agent, status, validated, high_stakes, violations, latency_ms, "
        "started_at, workflow_id FROM hops ORDER BY position"
    ).fetchall()
    assert p[:5] == ("r/p/1", "p", "success", False, False)
    assert p[5] == [
        {"rule": "missing", "severity": None, "category": "fmt"},
        {"rule": "plain", "severity": None, "category": None},
        {"rule": "dose", "severity": "high", "category": "safety"},
    ]
    assert p[6] == 1500.0  # ended_at - started_at, from an epoch and a Z string
    assert q[6] == 7.0  # a recorded latency wins over the timestamps
    assert p[7] == q[7]  # Z and +02:00 name the same instant
    assert p[8] == "default"


def test_intent_checksum_computed_when_missing(tmp_path):
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {"kind": "intent", "run_id": "r", "goal": GOAL, "constraints": CONSTRAINTS},
            {"kind": "intent", "run_id": "s", "goal": "g", "intent_checksum": "given"},
            {"run_id": "r", "hop_id": "h"},
        ],
    )
    rows = (
        load([str(path)])
        .con.execute("SELECT run_id, intent_checksum FROM intents ORDER BY run_id")
        .fetchall()
    )
    assert rows == [("r", K), ("s", "given")]
    assert intent_checksum(GOAL, CONSTRAINTS) == K


def test_malformed_records_are_skipped_and_named(tmp_path, capsys):
    lines = [
        {"run_id": "r1", "hop_id": "a"},
        "[1, 2]",
        '{"run_id": "r1", "hop_id": ',
        {"hop_id": "no-run"},
        {"run_id": "r1", "hop_id": "a", "confidence": 1.5},
        {"run_id": "r1", "hop_id": "a", "status": "done"},
        {"run_id": "r1", "hop_id": "a", "validated": "yes"},
        {"run_id": "r1", "hop_id": "a", "kind": "metric"},
        {"run_id": "r1", "hop_id": "a", "started_at": "yesterday"},
        {"run_id": "r1", "hop_id": "a", "scores": {"safety": "high"}},
        {"run_id": "r1", "hop_id": "a", "violations": "none"},
        {"kind": "outcome", "run_id": "r1"},
        "",
        {"run_id": "r2", "hop_id": "a"},
    ]
    path = write_jsonl(tmp_path / "t.jsonl", lines)
    with path.open("a") as handle:
        handle.write('{"run_id": "r3", "hop_')  # a torn last write
    report = analyse([str(path)])
    assert report.runs == 2 and report.bad_records == 12 and report.records == 14
    err = capsys.readouterr().err.splitlines()
    name = str(path)
    assert err[:12] == [
        f"argus: skipped record at {name}:2: not a JSON object",
        f"argus: skipped record at {name}:3: invalid JSON",
        f"argus: skipped record at {name}:4: hop record lacks required field 'run_id'",
        f"argus: skipped record at {name}:5: field 'confidence' must be a number in 0..1",
        f'argus: skipped record at {name}:6: unknown status "done" (expected success, error or '
        "skipped)",
        f"argus: skipped record at {name}:7: field 'validated' must be true or false",
        f'argus: skipped record at {name}:8: unknown kind "metric" (expected hop, intent or '
        "outcome)",
        f"argus: skipped record at {name}:9: field 'started_at' must be an RFC 3339 timestamp "
        "or epoch seconds or milliseconds",
        f"argus: skipped record at {name}:10: field 'scores' must be an object of numbers in "
        "0..1, each key once",
        f"argus: skipped record at {name}:11: field 'violations' must be a list of strings or "
        "{rule, severity, category} objects",
        f"argus: skipped record at {name}:12: outcome record lacks required field 'correct'",
        f"argus: skipped record at {name}:15: invalid JSON",
    ]
    assert err[12] == "argus: skipped 12 malformed record(s) of 14; the rest were analysed"


def test_strict_makes_the_first_bad_record_fatal(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"run_id": "r", "hop_id": "a"}, "oops"])
    with pytest.raises(InputError, match=r"t\.jsonl:2: invalid JSON \(--strict"):
        load([str(path)], strict=True)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: str(d / "missing.jsonl"), "missing.jsonl: no such file or folder"),
        (lambda d: str(d / "*.parquet"), r"\*.parquet: no files match this pattern"),
        (lambda d: str(d), "folder has no trace files"),
        (lambda d: str(shutil.copy(DATA / "not_a_trace.csv", d)), "not a trace"),
        (lambda d: str(shutil.copy(DATA / "array.json", d)), "not a trace"),
        (lambda d: str(shutil.copy(DATA / "binary.jsonl", d)), "not a"),
        (
            lambda d: str(shutil.copy(DATA / "no_required_fields.jsonl", d)),
            "not a trace .*lacks required field 'run_id'",
        ),
        (lambda d: str(shutil.copy(DATA / "broken.parquet", d)), "not a readable trace"),
    ],
)
def test_unusable_inputs_raise_one_clear_error(tmp_path, setup, message):
    with pytest.raises(InputError, match=message):
        load([setup(tmp_path)])


def test_only_intents_is_not_analysable(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"kind": "intent", "run_id": "r", "goal": "g"}])
    with pytest.raises(InputError, match="no hop records"):
        analyse([str(path)], quiet=True)


def test_loading_never_modifies_inputs(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [*TRACE_A, "garbage"])
    before = path.read_bytes(), path.stat().st_mtime_ns
    analyse([str(path)], quiet=True)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_unknown_fields_and_payloads_stay_queryable(tmp_path):
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            {"run_id": "r", "hop_id": "a", "tenant": "acme", "input": {"doc": 1}, "n": 2},
            {"run_id": "r", "hop_id": "b", "tenant": "beta", "n": 2.5},
        ],
    )
    con = load([str(path)], keep_unknown=True).con
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE hops)").fetchall())
    assert (types["tenant"], types["n"], types["input"]) == ("VARCHAR", "DOUBLE", "JSON")
    assert con.execute("SELECT list(tenant ORDER BY hop_id) FROM hops").fetchone() == (
        ["acme", "beta"],
    )
    assert (
        json.loads(con.execute("SELECT record FROM hops WHERE hop_id = 'a'").fetchone()[0])[
            "tenant"
        ]
        == "acme"
    )


def test_sql_checksum_matches_python_on_awkward_text():
    con = duckdb.connect()
    from argus_cli.load.staging import _INTENT_CHECKSUM_SQL

    for goal, constraints in [("", []), ('a"b\\c\n\u0001é😀/', ["x", "ü"]), ("\u2028\x7f", [""])]:
        got = con.execute(
            f"SELECT {_INTENT_CHECKSUM_SQL} FROM (SELECT ? AS goal, ?::VARCHAR[] AS constraints)",
            [goal, constraints],
        ).fetchone()[0]
        assert got == intent_checksum(goal, constraints)


def test_fast_and_line_by_line_paths_agree(tmp_path):
    """Clean JSONL takes the fast typed scan; `keep_unknown` forces the line-by-line path."""
    records = [
        *TRACE_A,
        *TRACE_B,
        {
            "run_id": "r9",
            "hop_id": "x",
            "seq": 3.0,
            "input_tokens": 7,
            "scores": {"safety": 1},
            "metadata": {"k": [1]},
            "started_at": "1775037600000",
            "validated": True,
            "violations": [{"rule": "r", "category": "safety"}, "plain"],
        },
    ]
    path = write_jsonl(tmp_path / "t.jsonl", records)
    fast = load([str(path)]).con
    slow = load([str(path)], keep_unknown=True).con
    for table in ("hops", "intents", "outcomes"):
        rows_fast = fast.execute(f"SELECT * FROM {table} ORDER BY _order").fetchall()
        rows_slow = slow.execute(
            f"SELECT * EXCLUDE (record) FROM {table} ORDER BY _order"
        ).fetchall()
        assert rows_fast == rows_slow, table


def test_parquet_rows_gain_no_bookkeeping_fields(tmp_path):
    parquet = write_parquet(tmp_path / "t.parquet", TRACE_B)
    con = load([str(parquet)], keep_unknown=True).con
    columns = {c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE hops)").fetchall()}
    assert "file_row_number" not in columns
    assert con.execute("SELECT list(_line ORDER BY _line) FROM hops").fetchone() == ([1, 2],)


def test_metric_commands_load_only_the_fields_the_metrics_read(tmp_path, monkeypatch):
    """A regression that loads every field for `argus report` fails here, without timing."""
    from argus_cli import analysis
    from argus_cli.cli import app
    from argus_cli.load.loading import HOP_FACT_NAMES
    from argus_cli.schema import METRIC_FIELDS

    path = write_jsonl(tmp_path / "t.jsonl", TRACE_A)
    for trace in (path, write_parquet(tmp_path / "t.parquet", TRACE_A)):
        con = load([str(trace)], columns="metrics").con
        described = con.execute("SELECT column_name, column_type FROM (DESCRIBE staged)")
        staged = dict(described.fetchall())
        # Only scalar facts are kept: no list, map, struct or JSON of any record is staged.
        assert set(staged) == {"_file_index", "_line", "kind", "_error", *HOP_FACT_NAMES}
        assert all(t.isalpha() for t in staged.values()), staged
        described = con.execute("SELECT column_name FROM (DESCRIBE hops)")
        hop_columns = {c for (c,) in described.fetchall()}
        assert not hop_columns & {"agent", "model", "metadata", "error"}
        # the run tree's ids are only compared: 64-bit digests, not strings
        assert staged["span_id"] == staged["parent_id"] == "UBIGINT"
    # Every SPEC field is checked in both modes (one rule), but strings the metrics never read
    # are only hashed, and payloads are not read at all.
    shapes = {f.name: f.shape for f in METRIC_FIELDS}
    assert set(shapes) >= {"violations", "scores", "run_id", "ended_at", "agent", "metadata"}
    assert shapes["agent"] == shapes["model"] == "digest"
    assert not set(shapes) & {"input", "output"}

    seen: list[str] = []
    real_load = analysis.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("columns", "all"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(analysis, "load", spy)
    from typer.testing import CliRunner

    runner = CliRunner()
    for command in (["report"], ["check"], ["runs"], ["diff", str(path)]):
        assert runner.invoke(app, [*command, str(path), "-q"]).exit_code in (0, 1)
    analysis.analyse([str(path)], quiet=True)
    assert seen and set(seen) == {"metrics"}
    runner.invoke(app, ["trace", str(path), "run1"])
    assert seen[-1] == "all"  # the tree shows span ids, models and errors


def test_parquet_typed_path_agrees_with_the_json_path(tmp_path):
    """Parquet is read by its column types; `keep_unknown` forces the row-as-JSON path."""
    parquet = write_parquet(tmp_path / "t.parquet", [*TRACE_A, *TRACE_B])
    typed = load([str(parquet)]).con
    as_json = load([str(parquet)], keep_unknown=True).con
    for table in ("hops", "intents", "outcomes"):
        columns = ", ".join(d[0] for d in typed.execute(f"SELECT * FROM {table}").description)
        query = f"SELECT {columns} FROM {table} ORDER BY _order"
        assert typed.execute(query).fetchall() == as_json.execute(query).fetchall(), table


def test_bad_parquet_rows_are_named_by_row(tmp_path):
    records = [
        {"run_id": "r", "hop_id": "a", "confidence": 0.5},
        {"run_id": "r", "hop_id": "b", "confidence": 1.5},
        {"run_id": None, "hop_id": "c"},
    ]
    parquet = write_parquet(tmp_path / "t.parquet", records)
    trace = load([str(parquet)])
    assert [(b.line, b.reason) for b in trace.bad] == [
        (2, "field 'confidence' must be a number in 0..1"),
        (3, "hop record lacks required field 'run_id'"),
    ]
    assert trace.con.execute("SELECT hop_id FROM hops").fetchall() == [("a",)]


def test_resource_limits_come_from_the_environment(tmp_path, monkeypatch):
    from argus_cli.diagnostics import UsageError

    path = write_jsonl(tmp_path / "t.jsonl", TRACE_B)
    monkeypatch.setenv("ARGUS_THREADS", "1")
    monkeypatch.setenv("ARGUS_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "spill"))
    monkeypatch.setenv("ARGUS_WORK", "memory")
    con = load([str(path)]).con
    assert con.execute("SELECT current_setting('threads')").fetchone() == (1,)
    assert con.execute("SELECT current_setting('temp_directory')").fetchone() == (
        str(tmp_path / "spill"),
    )
    monkeypatch.setenv("ARGUS_MEMORY_LIMIT", "lots")
    with pytest.raises(UsageError, match="ARGUS_MEMORY_LIMIT='lots' is not usable"):
        load([str(path)])


def test_large_loads_work_in_a_database_file_that_is_removed_after(tmp_path, monkeypatch):
    """Past WORK_ON_DISK_BYTES the tables live in a compressed file, with bounded memory."""
    from argus_cli.load import workdb

    path = write_jsonl(tmp_path / "t.jsonl", [*TRACE_A, *TRACE_B])
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "tmp"))
    monkeypatch.delenv("ARGUS_WORK", raising=False)
    monkeypatch.delenv("ARGUS_MEMORY_LIMIT", raising=False)
    in_memory = load([str(path)], columns="metrics")
    assert in_memory.work_dir is None
    assert in_memory.con.execute("SELECT current_database()").fetchone() == ("memory",)

    monkeypatch.setattr(workdb, "WORK_ON_DISK_BYTES", path.stat().st_size)
    on_disk = load([str(path)], columns="metrics")
    assert on_disk.work_dir is not None
    assert Path(on_disk.work_dir).parent == tmp_path / "tmp"
    con = on_disk.con
    assert con.execute("SELECT current_database()").fetchone() == ("work",)
    tables = dict(con.execute("SELECT table_name, database_name FROM duckdb_tables()").fetchall())
    assert tables["staged"] == "work"
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit is not None and limit[0].startswith("953.6 MiB")  # 1GB, DuckDB's spelling
    assert con.execute("SELECT current_setting('temp_directory')").fetchone() == (
        str(Path(on_disk.work_dir) / "spill"),
    )
    on_disk.close()
    assert not Path(on_disk.work_dir).exists()

    # Parquet and gzip count eight times their size: they hold that much JSON.
    parquet = write_parquet(tmp_path / "t.parquet", [*TRACE_A, *TRACE_B])
    monkeypatch.setattr(workdb, "WORK_ON_DISK_BYTES", parquet.stat().st_size * 8)
    trace = load([str(parquet)], columns="metrics")
    assert trace.work_dir is not None
    trace.close()
    monkeypatch.setattr(workdb, "WORK_ON_DISK_BYTES", parquet.stat().st_size * 8 + 1)
    assert load([str(parquet)], columns="metrics").work_dir is None


def test_work_on_disk_gives_the_same_report_and_can_be_forced(tmp_path, monkeypatch):
    from argus_cli.diagnostics import UsageError

    path = write_jsonl(tmp_path / "t.jsonl", [*TRACE_A, *TRACE_B])
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "tmp"))
    reports = {}
    for mode in ("memory", "disk"):
        monkeypatch.setenv("ARGUS_WORK", mode)
        reports[mode] = analyse([str(path)], quiet=True).to_dict()
        trace = load([str(path)])  # whole records too: `argus query`, `trace`, `convert`
        hops = trace.con.execute("SELECT * FROM hops ORDER BY _order").fetchall()
        reports[mode]["hops"] = hops
        trace.close()
    assert reports["memory"] == reports["disk"]
    assert list((tmp_path / "tmp").iterdir()) == []  # analyse closes what it opened
    monkeypatch.setenv("ARGUS_WORK", "cloud")
    with pytest.raises(UsageError, match="ARGUS_WORK='cloud' is not usable"):
        load([str(path)])


@pytest.mark.parametrize("work", ["memory", "disk"])
def test_one_dirty_file_among_clean_ones_keeps_every_record_in_input_order(
    tmp_path, monkeypatch, work
):
    """Files are staged in one transaction; a fast path that raises (a line that is not JSON)
    aborts it, and every file is staged again one transaction each. A fast path that only finds
    bad records drops that file's rows inside the transaction and reads it line by line."""
    from argus_cli.load import staging

    monkeypatch.setenv("ARGUS_WORK", work)
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "tmp"))
    first = write_jsonl(tmp_path / "1.jsonl", TRACE_A)
    torn = write_jsonl(tmp_path / "2.jsonl", [*TRACE_B, '{"run_id": "x", "hop_'])
    out_of_range = {"run_id": "r9", "hop_id": "h", "confidence": 7}
    typed = write_jsonl(tmp_path / "3.jsonl", [*TRACE_A[:3], out_of_range])
    last = write_jsonl(tmp_path / "4.jsonl", TRACE_A[:1])
    failures = []
    real = staging._stage_files

    def spy(*args, **kwargs):
        try:
            return real(*args, **kwargs)
        except staging._FastPathFailed:
            failures.append(kwargs.get("per_file", args[-1]))
            raise

    monkeypatch.setattr(staging, "_stage_files", spy)
    trace = load([str(p) for p in (first, torn, typed, last)])
    assert failures == [False]  # the all-files transaction failed once, then per file
    assert [(Path(b.file).name, b.line) for b in trace.bad] == [
        ("2.jsonl", len(TRACE_B) + 1),
        ("3.jsonl", 4),
    ]
    rows = trace.con.execute(
        "SELECT _file, _line FROM (SELECT _file, _line, _order FROM hops UNION ALL "
        "SELECT _file, _line, _order FROM intents UNION ALL "
        "SELECT _file, _line, _order FROM outcomes) ORDER BY _order"
    ).fetchall()
    assert [Path(f).name for f, _ in rows] == sorted(Path(f).name for f, _ in rows)
    counts = {Path(f).name: 0 for f, _ in rows}
    for f, _ in rows:
        counts[Path(f).name] += 1
    assert counts == {
        "1.jsonl": len(TRACE_A),
        "2.jsonl": len(TRACE_B),
        "3.jsonl": 3,
        "4.jsonl": 1,
    }
    trace.close()


@pytest.mark.parametrize("work", ["memory", "disk"])
def test_a_file_with_bad_records_is_restaged_line_by_line_in_the_same_transaction(
    tmp_path, monkeypatch, work
):
    from argus_cli.load import staging

    monkeypatch.setenv("ARGUS_WORK", work)
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "tmp"))
    out_of_range = {"run_id": "r9", "hop_id": "h", "confidence": 7}
    paths = [
        write_jsonl(tmp_path / "1.jsonl", TRACE_A),
        write_jsonl(tmp_path / "2.jsonl", [*TRACE_B[:1], out_of_range, *TRACE_B[1:]]),
        write_jsonl(tmp_path / "3.jsonl", TRACE_A[:2]),
    ]
    calls = []
    real = staging._stage_files
    monkeypatch.setattr(
        staging, "_stage_files", lambda *a, **k: calls.append(k["per_file"]) or real(*a, **k)
    )
    trace = load([str(p) for p in paths])
    assert calls == [False]  # one transaction: nothing raised
    assert [(Path(b.file).name, b.line) for b in trace.bad] == [("2.jsonl", 2)]
    rows = trace.con.execute(
        "SELECT _file, _line FROM (SELECT _file, _line, _order FROM hops UNION ALL "
        "SELECT _file, _line, _order FROM intents UNION ALL "
        "SELECT _file, _line, _order FROM outcomes) ORDER BY _order"
    ).fetchall()
    expected = [("1.jsonl", n) for n in range(1, len(TRACE_A) + 1)]
    expected += [("2.jsonl", 1), *(("2.jsonl", n) for n in range(3, len(TRACE_B) + 2))]
    expected += [("3.jsonl", 1), ("3.jsonl", 2)]
    assert [(Path(f).name, line) for f, line in rows] == expected
    trace.close()


def test_an_unusable_work_folder_is_one_clear_line(tmp_path, monkeypatch, runner):
    from argus_cli.cli import app

    path = write_jsonl(tmp_path / "t.jsonl", TRACE_A)
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("ARGUS_WORK", "disk")
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "a-file" / "tmp"))
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "cannot make a work folder" in result.stderr and "a-file" in result.stderr


def test_work_folders_of_killed_runs_are_swept_and_live_ones_kept(tmp_path, monkeypatch):
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    tmp = tmp_path / "tmp"
    abandoned = tmp / f"argus-work-{dead_pid}-abc123"
    (abandoned / "spill").mkdir(parents=True)
    (abandoned / "work.duckdb").write_bytes(b"x" * 1024)
    live = tmp / f"argus-work-{os.getppid()}-def456"  # the test runner's parent: alive
    live.mkdir()
    other = tmp / "argus-work-notes"  # not a work folder's name: left alone
    other.mkdir()
    monkeypatch.setenv("ARGUS_WORK", "disk")
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp))
    path = write_jsonl(tmp_path / "t.jsonl", TRACE_A)
    trace = load([str(path)], columns="metrics")
    assert trace.work_dir is not None
    assert Path(trace.work_dir).name.startswith(f"argus-work-{os.getpid()}-")
    assert not abandoned.exists()
    assert live.exists() and other.exists()
    trace.close()
