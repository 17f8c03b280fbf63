"""Where records go: JSONL appends shared by threads and processes, and Parquet part folders."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from argus_cli import AgentTracer
from argus_cli.analysis import analyse
from argus_cli.cli import app
from argus_cli.writer.sinks import parquet_schema

T0 = 1_775_030_400.0

WRITER = textwrap.dedent(
    """
    import sys
    from argus_cli import AgentTracer

    path, hops, writer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tracer = AgentTracer("mp", path=path, store_payloads=True)
    pad = "x" * 6000  # lines longer than PIPE_BUF would interleave without the lock
    for i in range(hops):
        if i % 5 == 0:
            tracer.new_run()
        with tracer.hop(f"h{i % 5}") as hop:
            hop.record({"writer": writer, "i": i, "pad": pad if i % 4 == 0 else ""},
                       confidence=0.9, validated=i % 3 == 0, violations=[])
    """
)


def report_json(*inputs: str) -> dict:
    result = CliRunner().invoke(app, ["report", "--json", *inputs])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_eight_processes_append_to_one_file_without_losing_a_line(tmp_path):
    path = tmp_path / "shared.jsonl"
    writers, hops = 8, 2_000
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(hops), f"w{n}"])
        for n in range(writers)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * writers
    raw = path.read_bytes().split(b"\n")
    assert raw[-1] == b""  # the file ends with a complete line
    records = [json.loads(line) for line in raw[:-1]]  # every line parses
    assert len(records) == writers * hops
    per_writer: dict[str, list[int]] = {}
    for r in records:
        per_writer.setdefault(r["output"]["writer"], []).append(r["output"]["i"])
    assert {w: sorted(i) for w, i in per_writer.items()} == {
        f"w{n}": list(range(hops)) for n in range(writers)
    }
    data = report_json(str(path))
    assert data["hop_executions"] == writers * hops
    assert data["inputs"]["bad_records"] == 0
    assert data["runs"] == writers * hops // 5


def test_a_torn_last_line_is_sealed_before_the_next_record(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"kind":"hop","run_id":"r0","hop_id":"dead","conf')  # a killed writer
    tracer = AgentTracer("w", path=path)
    for hop_id in ("a", "b", "c"):
        with tracer.hop(hop_id):
            pass
    text = path.read_text()
    assert text.count("\n") == 4 and text.endswith("\n")
    report = analyse([str(path)], quiet=True)
    assert (report.bad_records, report.hop_executions) == (1, 3)


def test_a_killed_writer_leaves_at_most_a_torn_last_line(tmp_path):
    path = tmp_path / "killed.jsonl"
    code = textwrap.dedent(
        f"""
        from argus_cli import AgentTracer
        tracer = AgentTracer("w", path={str(path)!r}, store_payloads=True)
        big = "y" * 400_000
        while True:
            with tracer.hop("h") as hop:
                hop.record({{"big": big}})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 30
    while (not path.exists() or path.stat().st_size < 4_000_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    lines = path.read_bytes().split(b"\n")
    complete = lines[:-1]
    for line in complete:
        json.loads(line)
    tail_torn = lines[-1] != b""
    # The next writer's record is not glued to whatever the killed one left behind.
    survivor = AgentTracer("w", path=path)
    with survivor.hop("after"):
        pass
    report = analyse([str(path)], quiet=True)
    assert report.bad_records == int(tail_torn)
    assert report.hop_executions == len(complete) + 1


# --------------------------------------------------------------------------------------------
# Parquet


def write_runs(tracer: AgentTracer, runs: int) -> None:
    """Two hops a run; the writer fails every fifth run."""
    for run in range(runs):
        tracer.new_run(f"run-{tracer.workflow_id}-{run}")
        with tracer.hop("parser", model="m") as hop:
            hop.record(
                {"run": run},
                confidence=0.9,
                validated=run % 2 == 0,
                violations=["safety:pii"] if run % 4 == 0 else [],
                scores={"groundedness": 0.8},
                metadata={"prompt": "v2", "attempt": run % 3},
                input_tokens=10,
                cost_usd=0.001,
            )
        try:
            with tracer.hop("writer") as hop:
                hop.record(confidence=0.95, intent_checksum="k")
                if run % 5 == 0:
                    raise TimeoutError
        except TimeoutError:
            pass


def test_parquet_folder_has_one_part_per_writer_with_row_groups(tmp_path):
    folder = tmp_path / "trace.parquet"
    tracer = AgentTracer("w", path=folder, rows_per_group=7)
    write_runs(tracer, 10)
    hidden = [p.name for p in folder.iterdir()]
    assert len(hidden) == 1 and hidden[0].startswith(".part-") and hidden[0].endswith(".inprogress")
    report = tracer.finalize()
    [part] = folder.iterdir()
    assert part.name.startswith(f"part-{os.getpid()}-") and part.suffix == ".parquet"
    meta = pq.ParquetFile(part).metadata
    assert (meta.num_rows, meta.num_row_groups) == (20, 3)  # 7 + 7 + 6
    schema = pq.read_schema(part)
    assert schema.field("violations").type == pa.list_(
        pa.struct([("rule", pa.string()), ("severity", pa.string()), ("category", pa.string())])
    )
    assert schema.field("scores").type == pa.map_(pa.string(), pa.float64())
    assert schema.field("seq").type == pa.int64()
    assert schema.field("started_at").type == pa.string()
    assert schema == parquet_schema()
    assert report.runs == 10 and report.hop_executions == 20 and report.report.bad_records == 0


def test_parquet_and_jsonl_give_the_same_report(tmp_path):
    reports = []
    for name in ("t.jsonl", "t.parquet"):
        now = [T0]

        def clock(now: list[float] = now) -> float:
            now[0] += 0.5
            return now[0]

        tracer = AgentTracer("w", path=tmp_path / name, clock=clock)
        write_runs(tracer, 12)
        reports.append(tracer.finalize().to_dict())
    for data in reports:
        data.pop("inputs")
    assert reports[0] == reports[1]


def test_parquet_rows_are_what_the_jsonl_says(tmp_path):
    folder = tmp_path / "t.parquet"
    tracer = AgentTracer("w", path=folder)
    write_runs(tracer, 1)
    tracer.flush()
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "query",
            str(folder),
            "--format",
            "json",
            "SELECT hop_id, metadata, violations, scores, status, error FROM hops ORDER BY seq",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows[0]["hop_id"] == "parser"
    assert json.loads(rows[0]["metadata"]) == {"prompt": "v2", "attempt": 0}  # types kept
    assert rows[0]["violations"] == [{"rule": "pii", "severity": None, "category": "safety"}]
    assert rows[0]["scores"] == {"groundedness": 0.8}
    assert (rows[1]["status"], rows[1]["error"]) == ("error", "TimeoutError")


def test_records_after_finalize_go_to_a_new_part(tmp_path):
    folder = tmp_path / "t.parquet"
    tracer = AgentTracer("w", path=folder)
    write_runs(tracer, 2)
    assert tracer.finalize().hop_executions == 4
    write_runs(tracer, 1)
    assert tracer.finalize().hop_executions == 6
    assert len(list(folder.glob("part-*.parquet"))) == 2


PARQUET_WRITER = textwrap.dedent(
    """
    import sys
    from argus_cli import AgentTracer

    tracer = AgentTracer("w", path=sys.argv[1], rows_per_group=50)
    for i in range(int(sys.argv[2])):
        if i % 4 == 0:
            tracer.new_run()
        with tracer.hop(f"h{i % 4}") as hop:
            hop.record(confidence=0.9, metadata={"writer": sys.argv[3]})
    # no finalize(): the part is closed at interpreter exit
    """
)


def test_parquet_parts_of_several_processes_load_as_one_trace(tmp_path):
    folder = tmp_path / "t.parquet"
    procs = [
        subprocess.Popen([sys.executable, "-c", PARQUET_WRITER, str(folder), "120", f"w{n}"])
        for n in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * 4
    parts = sorted(folder.iterdir())
    assert len(parts) == 4 and all(p.name.startswith("part-") for p in parts)
    assert len({p.name.split("-")[1] for p in parts}) == 4  # one per process id
    data = report_json(str(folder))
    assert (data["hop_executions"], data["runs"], data["inputs"]["bad_records"]) == (480, 120, 0)


def _fork_child(folder: str) -> None:
    tracer = _FORK_TRACER[0]
    tracer.new_run("child")
    with tracer.hop("child-hop"):
        pass
    tracer.flush()


_FORK_TRACER: list[AgentTracer] = []


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_never_writes_into_the_parents_part(tmp_path):
    folder = tmp_path / "t.parquet"
    tracer = AgentTracer("w", path=folder, run_id="parent")
    _FORK_TRACER[:] = [tracer]
    with tracer.hop("before-fork"):
        pass
    child = multiprocessing.get_context("fork").Process(target=_fork_child, args=(str(folder),))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    with tracer.hop("after-fork"):
        pass
    report = tracer.finalize()
    assert report.report.bad_records == 0
    hops = sorted(pq.read_table(folder).column("hop_id").to_pylist())
    assert hops == ["after-fork", "before-fork", "child-hop"]
    assert len(list(folder.glob("part-*.parquet"))) == 3  # parent's part closed before fork
    assert not list(folder.glob(".*"))


def test_a_part_inherited_mid_write_is_never_finished_by_the_child(tmp_path):
    """The race the before-fork flush leaves: a row group written after it, before the fork."""
    folder = tmp_path / "t.parquet"
    tracer = AgentTracer("w", path=folder, rows_per_group=1)
    with tracer.hop("parent-hop"):
        pass
    [inherited] = folder.iterdir()
    size = inherited.stat().st_size
    tracer._sink._pid = -1  # type: ignore[attr-defined]  # as a forked child would see it
    with tracer.hop("child-hop"):
        pass
    tracer.flush()
    import gc

    gc.collect()
    assert inherited.exists() and inherited.stat().st_size == size  # no footer written into it
    assert pq.read_table(folder).column("hop_id").to_pylist() == ["child-hop"]


def _child_without_flush(folder: str) -> None:
    tracer = AgentTracer("w", path=folder, run_id="worker")
    for _ in range(3):
        with tracer.hop("worker-hop"):
            pass  # no flush(): multiprocessing's exit runs it (a forked child skips atexit)


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_multiprocessing_worker_flushes_its_part_when_it_ends(tmp_path, method):
    folder = tmp_path / "t.parquet"
    child = multiprocessing.get_context(method).Process(
        target=_child_without_flush, args=(str(folder),)
    )
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert pq.read_table(folder).column("hop_id").to_pylist() == ["worker-hop"] * 3


def test_rows_per_group_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="rows_per_group"):
        AgentTracer("w", path=tmp_path / "t.parquet", rows_per_group=0)


def test_threads_share_one_jsonl_sink(tmp_path):
    import threading

    path = tmp_path / "t.jsonl"
    tracer = AgentTracer("w", path=path, store_payloads=True)
    big = "z" * 70_000

    def work() -> None:
        for _ in range(100):
            with tracer.hop("h") as hop:
                hop.record({"big": big})

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for line in path.read_text().splitlines() if json.loads(line)) == 600


def test_nan_never_reaches_the_file(tmp_path):
    path = tmp_path / "t.jsonl"
    tracer = AgentTracer("w", path=path)
    with tracer.hop("h") as hop:
        hop.record(metadata={"ratio": float("nan")})
    assert json.loads(path.read_text())["metadata"] == {"ratio": "nan"}


def test_folder_loads_while_a_writer_has_an_open_part(tmp_path):
    folder = tmp_path / "t.parquet"
    done = AgentTracer("w", path=folder)
    write_runs(done, 2)
    done.flush()
    busy = AgentTracer("w", path=folder)
    write_runs(busy, 3)  # buffered, then an open part: hidden from readers
    busy._sink._write_group()  # type: ignore[attr-defined]
    assert report_json(str(folder))["hop_executions"] == 4
    busy.flush()
    assert report_json(str(folder))["hop_executions"] == 10


def test_parquet_sink_path_is_a_folder_name(tmp_path):
    assert AgentTracer("w", path=tmp_path / "x.parquet").path == Path(tmp_path / "x.parquet")
