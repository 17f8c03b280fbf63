"""Many files, one scan per kind (issue 13): a folder of small files loads as each file alone.

Files of one kind are read by one DuckDB statement (scans._scans); a file in such a scan must
still be what it is alone: its bad records named by its own line numbers, its rows in input
order, a file that is no trace refused by name. Every comparison here is against the same files
staged one statement each (scans.SCAN_FILES = 1), which is how every file was read before.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tracebook import TRACE_A, TRACE_B, write_jsonl

from argus_cli.cli import app
from argus_cli.load import scans, staging
from argus_cli.load.inputs import Source, resolve_inputs
from argus_cli.load.loading import load

BAD = Path(__file__).parent / "data" / "bad"
OTLP = Path(__file__).parent / "data" / "otlp" / "genai_collector.jsonl"
MODES: list[dict[str, Any]] = [{"columns": "metrics"}, {"columns": "all"}, {"keep_unknown": True}]


def loaded(inputs: list[str], **kwargs: Any) -> dict[str, Any]:
    """Everything a load gives: counts, bad records, and every relation's rows in input order."""
    trace = load(inputs, **kwargs)
    try:
        tables = {
            name: trace.con.execute(f"SELECT * FROM {name} ORDER BY _order").fetchall()
            for name in ("hops", "intents", "outcomes")
        }
        bad = [(b.file, b.line, b.reason) for b in trace.bad]
        return {"records": trace.records, "bad": bad, "files": trace.files, **tables}
    finally:
        trace.close()


def one_statement_each(inputs: list[str], **kwargs: Any) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scans, "SCAN_FILES", 1)
        return loaded(inputs, **kwargs)


def test_the_bad_corpus_in_one_folder_among_clean_files(tmp_path):
    """Every broken file of tests/data/bad (gzip cut short, Latin-1 bytes, torn lines, wrong
    types...) side by side with clean ones: plain and gzip files are two scans, interleaved."""
    folder = tmp_path / "traces"
    folder.mkdir()
    for number, path in enumerate(sorted(BAD.glob("*.jsonl*"))):
        shutil.copy(path, folder / path.name)
        write_jsonl(folder / f"{path.name.split('.')[0]}-{number}.jsonl", TRACE_A[number::5])
    for kwargs in MODES:
        got = loaded([str(folder)], **kwargs)
        assert got == one_statement_each([str(folder)], **kwargs), kwargs
        for expected in BAD.glob("*.expected.json"):
            case = json.loads(expected.read_text())
            named = [[line, why] for f, line, why in got["bad"] if Path(f).name == case["file"]]
            assert named == case["bad"], (kwargs, case["file"])


@pytest.mark.parametrize("work", ["memory", "disk"])
def test_a_mixed_folder_keeps_input_order(tmp_path, monkeypatch, work):
    """JSON Lines, gzip, Parquet and OTLP files interleaved by name: each kind is scanned at
    once, and the rows still come in the order of the files (in a work file on disk too)."""
    monkeypatch.setenv("ARGUS_WORK", work)
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "tmp"))
    folder = tmp_path / "mixed"
    folder.mkdir()
    records = TRACE_A + TRACE_B
    for number in range(8):
        part = records[number::8]
        path = write_jsonl(folder / f"{number}-a.jsonl", part)
        if number % 3 == 1:
            gz = folder / f"{number}-b.jsonl.gz"
            gz.write_bytes(gzip.compress(path.read_bytes()))
        if number % 3 == 2:
            hops = [r for r in part if r.get("kind", "hop") == "hop"]
            table = pa.Table.from_pylist(
                [{"run_id": r["run_id"], "hop_id": r["hop_id"]} for r in hops]
            )
            pq.write_table(table, folder / f"{number}-c.parquet")
            pq.write_table(table, folder / f"{number}-e.parquet")  # (two: one scan)
    shutil.copy(OTLP, folder / "4-d.jsonl")
    for kwargs in MODES:
        assert loaded([str(folder)], **kwargs) == one_statement_each([str(folder)], **kwargs)
    restarts = []
    real = staging._stage_files
    monkeypatch.setattr(
        staging, "_stage_files", lambda *a, **k: restarts.append(k["per_file"]) or real(*a, **k)
    )
    trace = load([str(folder)])
    assert restarts == [False]  # clean files: no scan failed and had to be read again
    place = {name: number for number, name in enumerate(trace.files)}
    rows = trace.con.execute("SELECT _file FROM hops ORDER BY _order").fetchall()
    assert [place[f] for (f,) in rows] == sorted(place[f] for (f,) in rows)
    kinds = {Path(f).name.split("-")[1] for (f,) in rows}  # every kind of file gave hops
    assert kinds == {"a.jsonl", "b.jsonl.gz", "c.parquet", "d.jsonl", "e.parquet"}
    trace.close()


def test_rows_come_in_file_order_then_line_order(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    for number in range(30):
        write_jsonl(
            folder / f"part-{number:02d}.jsonl",
            [
                {"run_id": f"r{number % 4}", "hop_id": f"h{k}", "seq": k}
                for k in range(number % 5 + 1)
            ],
        )
    trace = load([str(folder)])
    rows = trace.con.execute("SELECT _file, _line, hop_id FROM hops ORDER BY _order").fetchall()
    assert [(Path(f).name, line) for f, line, _ in rows] == [
        (f"part-{number:02d}.jsonl", k + 1) for number in range(30) for k in range(number % 5 + 1)
    ]
    assert [hop for _, _, hop in rows] == [f"h{k}" for n in range(30) for k in range(n % 5 + 1)]
    trace.close()


@pytest.mark.parametrize(
    "fault",
    [
        b'{"run_id": "x", "hop_id": "h", "agent": "caf\xe9"}\n',  # not UTF-8: DuckDB refuses
        b'{"run_id": "x", "hop_\n',  # not JSON: the fast scan raises
        b'{"run_id": "x", "hop_id": "h", "confidence": 7}\n',  # a typed fault: no error raised
    ],
    ids=["latin1", "torn", "out-of-range"],
)
def test_one_faulty_file_among_many_is_found_by_name_and_line(tmp_path, fault):
    folder = tmp_path / "t"
    folder.mkdir()
    for number in range(40):
        path = write_jsonl(folder / f"part-{number:02d}.jsonl", TRACE_A[number % 4 :: 4])
    path = folder / "part-17.jsonl"
    path.write_bytes(path.read_bytes() + b"\n" + fault)
    lines = path.read_bytes().count(b"\n")
    got = loaded([str(folder)])
    assert [(Path(f).name, line) for f, line, _ in got["bad"]] == [("part-17.jsonl", lines)]
    assert got == one_statement_each([str(folder)])


def test_a_file_that_is_no_trace_is_refused_by_name(tmp_path, runner):
    folder = tmp_path / "t"
    folder.mkdir()
    for number in range(20):
        write_jsonl(folder / f"part-{number:02d}.jsonl", TRACE_A[number % 4 :: 4])
    (folder / "part-07.jsonl").write_text("this is not json\nnor this\n")
    result = runner.invoke(app, ["report", str(folder), "--json"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"argus: error: {folder / 'part-07.jsonl'}: not a trace")
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_scans_group_by_kind_within_their_caps(tmp_path, monkeypatch):
    def src(name: str, fmt: str = "jsonl", size: int = 10, **kw: Any) -> Source:
        return Source(str(tmp_path / name), name, fmt, size=size, **kw)  # type: ignore[arg-type]

    hive = (("workflow_id", "w"),)
    sources = [
        src("a"),
        src("b.parquet", "parquet"),
        src("c"),
        src("d.gz", gzip=True),
        src("e", hive=hive),
        src("f"),
        src("g.gz", gzip=True),
        src("h", "otlp"),
        src("i", hive=hive),
    ]
    assert [scan.indices for scan in scans._scans(sources)] == [
        (0, 2, 5),
        (1,),
        (3, 6),
        (4, 8),
        (7,),
    ]
    monkeypatch.setattr(scans, "SCAN_FILES", 2)
    assert [s.indices for s in scans._scans(sources)][:2] == [(0, 2), (1,)]
    monkeypatch.setattr(scans, "SCAN_FILES", 10_000)
    monkeypatch.setattr(scans, "SCAN_BYTES", 25)  # (a gzip file counts 8x: what it unpacks to)
    assert [s.indices for s in scans._scans(sources)][:4] == [(0, 2), (1,), (3,), (4, 8)]
    parquet = [
        src("p1.parquet", "parquet"),
        src("p2.parquet", "parquet"),
        src("p3.parquet", "parquet"),
    ]
    same_types = {0: "run_id VARCHAR", 1: "run_id BIGINT", 2: "run_id VARCHAR"}
    monkeypatch.setattr(scans, "SCAN_BYTES", 1000)
    assert [s.indices for s in scans._scans(parquet, same_types)] == [(0, 2), (1,)]
    assert [s.indices for s in scans._scans(parquet)] == [(0,), (1,), (2,)]  # types unknown


def test_a_big_folder_is_a_few_scans(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    for number in range(1500):
        write_jsonl(folder / f"{number:05d}.jsonl", [{"run_id": f"r{number}", "hop_id": "h"}])
    sources = resolve_inputs([str(folder)])
    assert [len(scan.sources) for scan in scans._scans(sources)] == [1500]
    trace = load([str(folder)])
    assert trace.records == 1500 and trace.bad == []
    trace.close()


# Lines a small file may hold: clean records of each kind, and each way a record can be bad.
CLEAN = [
    json.dumps(r)
    for r in (
        {"run_id": "r1", "hop_id": "a", "seq": 1, "confidence": 0.5},
        {"run_id": "r1", "hop_id": "b", "seq": 2, "status": "error"},
        {"run_id": "r2", "hop_id": "a", "started_at": "2026-04-01T10:00:00Z"},
        {"run_id": "r2", "hop_id": "a"},
        {"kind": "intent", "run_id": "r1", "goal": "g"},
        {"kind": "outcome", "run_id": "r2", "correct": False},
    )
]
DIRTY = [
    '{"run_id": "r3", "hop_id": "a", "confidence": 7}',
    '{"run_id": "r3", "hop_',
    "[1, 2]",
    '{"run_id": "r1", "hop_id": "a", "hop_id": "c"}',
    '{"kind": "nope", "run_id": "r1"}',
    "",
    "   ",
]


@st.composite
def small_files(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    files = []
    for number in range(draw(st.integers(1, 12))):
        dirty = draw(st.booleans())
        pool = CLEAN + DIRTY if dirty else CLEAN  # (blank lines only where the file is dirty:
        lines = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=5))  # a clean file's
        if dirty:  # lines are numbered by record, as they always were)
            lines.append(DIRTY[draw(st.integers(0, 4))])
        data = ("\n".join(lines) + "\n").encode()
        if draw(st.booleans()):
            files.append((f"{number:02d}.jsonl.gz", gzip.compress(data)))
        else:
            files.append((f"{number:02d}.jsonl", data))
    return files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_files(), st.sampled_from(MODES))
@example(  # a key twice after a blank line: read line by line in a folder too, line 3 not 2
    [
        ("00.jsonl.gz", gzip.compress(f"{CLEAN[0]}\n".encode())),
        ("01.jsonl.gz", gzip.compress(f"\n{CLEAN[0]}\n{DIRTY[3]}\n".encode())),
    ],
    MODES[0],
)
@example(  # a folder's records sorted by file alone came shuffled within a file (04: b before a)
    [
        *((f"{n:02d}.jsonl", f"{CLEAN[0]}\n".encode() * k) for n, k in enumerate((1, 1, 4, 5))),
        ("04.jsonl", f"{CLEAN[0]}\n{CLEAN[1]}\n".encode()),
        ("05.jsonl.gz", gzip.compress(f"{CLEAN[0]}\n".encode())),
        *(
            (f"{n:02d}.jsonl", f"{CLEAN[0]}\n".encode() * k)
            for n, k in ((6, 1), (7, 2), (8, 3), (9, 5))
        ),
    ],
    MODES[1],
)
def test_any_small_files_load_as_each_file_alone(files, kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, data in files:
            (folder / name).write_bytes(data)
        try:
            alone: Any = one_statement_each([tmp], **kwargs)
        except Exception as exc:  # (every file unusable: refused alike)
            alone = repr(exc)
        try:
            together: Any = loaded([tmp], **kwargs)
        except Exception as exc:
            together = repr(exc)
        assert together == alone


def test_parquet_files_of_one_schema_are_one_scan_and_keep_their_faults(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    values = [[0.5, 0.25], [float("nan"), 0.5], [7.0, None], [0.75, 1.0]]
    for number, confidences in enumerate(values):
        rows = [
            {"run_id": f"r{number}", "hop_id": f"h{k}", "seq": k + 1, "confidence": c}
            for k, c in enumerate(confidences)
        ]
        pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{number}.parquet")
    sources = resolve_inputs([str(folder)])
    trace = load([str(folder)])
    schemas = scans._parquet_schemas(trace.con, sources)
    assert [s.indices for s in scans._scans(sources, schemas)] == [(0, 1, 2, 3)]
    assert [(Path(b.file).name, b.line, b.reason) for b in trace.bad] == [
        ("part-1.parquet", 1, "field 'confidence' must be a number in 0..1"),
        ("part-2.parquet", 1, "field 'confidence' must be a number in 0..1"),
    ]
    trace.close()
    for kwargs in MODES:
        assert loaded([str(folder)], **kwargs) == one_statement_each([str(folder)], **kwargs)
