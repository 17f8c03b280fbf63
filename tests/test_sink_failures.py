"""A Parquet sink that cannot write says so: never a silent exit 0 with every record lost."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from argus_cli.writer.sinks import ParquetSink, SinkError, flush_pending
from argus_cli.writer.tracing import AgentTracer


class FullDisk(pq.ParquetWriter):  # type: ignore[misc]
    """A writer on a full disk: every row group fails with ENOSPC."""

    def write_table(self, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_disk(monkeypatch):
    monkeypatch.setattr(pq, "ParquetWriter", FullDisk)


def record(run: str) -> dict[str, object]:
    return {"kind": "hop", "run_id": run, "hop_id": "a", "workflow_id": "w"}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_failed_row_group_raises_at_the_write_and_leaves_no_part(tmp_path, full_disk):
    sink = ParquetSink(tmp_path / "t.parquet", rows_per_group=2)
    sink.write(record("r1"))  # buffered
    with pytest.raises(SinkError) as raised:
        sink.write(record("r2"))  # the row group is written, and fails
    assert raised.value.errno == errno.ENOSPC
    assert str(raised.value) == (
        f"{tmp_path / 't.parquet'}: 2 record(s) could not be written "
        "(No space left on device); they are lost"
    )
    assert leftovers(tmp_path / "t.parquet") == []  # no .inprogress file
    sink.flush()  # nothing is left to write, and the failure was seen: no second error


def test_a_failed_flush_at_a_fork_raises_at_the_next_call(tmp_path, monkeypatch, full_disk):
    sink = ParquetSink(tmp_path / "t.parquet")
    sink.write(record("r1"))
    flush_pending()  # what os.fork runs first: it must not raise there
    assert leftovers(tmp_path / "t.parquet") == []
    with pytest.raises(SinkError, match="1 record"):
        sink.write(record("r2"))
    sink.write(record("r3"))  # the failure was raised once; the sink goes on
    monkeypatch.undo()  # the disk has room again
    sink.flush()
    [part] = sink.parts
    assert pq.read_table(part).column("run_id").to_pylist() == ["r3"]


def test_a_failed_flush_raises_from_finalize(tmp_path, full_disk):
    tracer = AgentTracer("w", path=tmp_path / "t.parquet")
    with tracer.hop("a"):
        pass
    with pytest.raises(SinkError, match="could not be written"):
        tracer.finalize()
    assert leftovers(tmp_path / "t.parquet") == []


SCRIPT = """
import errno, os, sys
import pyarrow.parquet as pq
from argus_cli.writer.tracing import AgentTracer

class FullDisk(pq.ParquetWriter):
    def write_table(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

pq.ParquetWriter = FullDisk
tracer = AgentTracer("w", path=sys.argv[1])
for _ in range(3):
    with tracer.hop("a"):
        pass
print("recorded")
{end}
"""


def run_script(tmp_path: Path, end: str = "") -> subprocess.CompletedProcess[str]:
    script = tmp_path / "writer.py"
    script.write_text(SCRIPT.format(end=textwrap.dedent(end)))
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path / "t.parquet")],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_failed_flush_at_exit_is_one_line_and_exit_1(tmp_path):
    done = run_script(tmp_path)
    assert done.stdout == "recorded\n"  # stdout is flushed before the process ends
    assert done.stderr.splitlines() == [
        f"argus: {tmp_path / 't.parquet'}: 3 record(s) could not be written "
        "(No space left on device); they are lost"
    ]
    assert done.returncode == 1
    assert leftovers(tmp_path / "t.parquet") == []


def test_an_uncaught_exception_keeps_its_traceback_and_status(tmp_path):
    done = run_script(tmp_path, "raise RuntimeError('boom')")
    assert done.returncode == 1
    assert "RuntimeError: boom" in done.stderr and "3 record(s) could not be written" in done.stderr
    assert "Exception ignored" not in done.stderr


def test_a_multiprocessing_worker_that_cannot_write_exits_1(tmp_path):
    done = run_script(
        tmp_path,
        """
        import multiprocessing

        def work(folder):
            tracer = AgentTracer("w", path=folder)
            with tracer.hop("a"):
                pass

        if __name__ == "__main__":
            worker = multiprocessing.get_context("fork").Process(target=work, args=(sys.argv[1],))
            worker.start()
            worker.join()
            print("worker", worker.exitcode)
        """,
    )
    assert done.stdout.splitlines() == ["recorded", "worker 1"]
    assert done.stderr.count("could not be written") == 2  # the worker's part, then the parent's


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder")
def test_a_read_only_folder_fails_the_write(tmp_path):
    folder = tmp_path / "t.parquet"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        sink = ParquetSink(folder, rows_per_group=1)
        with pytest.raises(SinkError, match="1 record"):
            sink.write(record("r1"))
    finally:
        folder.chmod(0o700)
    assert leftovers(folder) == []
