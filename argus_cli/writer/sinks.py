"""Where the writer library's records go: an append-only JSON Lines file or a Parquet folder.

JSON Lines (`JsonlSink`) is the default because it can be appended to by many writers at once and
survives a killed process. Each record becomes one complete line, written with a single
`os.write` on a file descriptor opened with `O_APPEND`, while holding an exclusive `fcntl.flock`:

- `O_APPEND` makes the kernel move to the end of the file and write in one step, so two writers
  never pick the same offset and overwrite each other's lines.
- POSIX does not promise that a write to a regular file is atomic against other writers, and a
  write can be short (a fatal signal, a full disk, NFS). The lock serialises writers, so lines
  never interleave, whatever their size; PIPE_BUF-sized atomicity applies to pipes, not files.
- `flock` belongs to the open file description, which threads share, so a `threading.Lock`
  serialises the threads of one process; a forked child reopens the file to get its own lock.
- Before writing, a writer that finds the file not ending in a newline (a writer was killed
  mid-line) starts its line with one: the torn line stays a single bad record, which the loader
  skips and names, and no complete record is glued to it.

Parquet cannot be appended to, so `ParquetSink` gives each writer its own part file in a folder
(`part-{pid}-{uuid}.parquet`), writes a row group every `rows_per_group` records, and closes the
part on `flush()` (the tracer's `finalize()`), at interpreter exit (multiprocessing children
included) and before `os.fork`, so no child inherits an open part. Until it is closed a part
lives under a hidden `.inprogress` name, which the loader skips, so a reader of the folder never
meets a half-written file; a process killed with SIGKILL loses its open part (use JSON Lines when
every record must survive that). Records after a `flush()` go to a new part.

A part that cannot be written (a full or read-only disk) is never lost quietly: the records
buffered and the part's `.inprogress` file are dropped, and a `SinkError` names how many records
were lost. A `write` or `flush` that fails raises it; a flush at a fork raises it at the sink's
next call; at interpreter exit it is one line on stderr and the process exits 1 (as an uncaught
exception would) instead of 0. Exit handlers cannot set the exit status, so the exit handler
flushes stdout and stderr and ends the process with `os._exit(1)`: unless it is already ending
with an uncaught exception (status 1 already), and skipping the exit handlers registered
before this module was imported.
"""

from __future__ import annotations

import atexit

# pyarrow's pandas shim imports concurrent.futures.thread the first time a table is built; at
# interpreter exit (the Parquet sink's last flush, below) that import registers a thread hook
# too late and raises "can't register atexit after shutdown", losing the records. Importing it
# now registers the hook while that is still allowed (only seen with pandas installed).
import concurrent.futures.thread  # noqa: F401
import contextlib
import fcntl
import functools
import json
import os
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from argus_cli.schema import FIELDS, PAYLOAD_FIELDS, Shape


class Sink(Protocol):
    """What a tracer writes records to."""

    @property
    def path(self) -> Path: ...

    def write(self, record: Mapping[str, Any]) -> None: ...

    def flush(self) -> None:
        """Make every record written so far readable by `argus report`."""

    def close(self) -> None: ...


def encode_line(record: Mapping[str, Any]) -> bytes:
    """One record as one JSON line; NaN and infinity are refused (they are not JSON)."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("utf-8")


class JsonlSink:
    """Appends records to one JSON Lines file, safely across threads and processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._closer: weakref.finalize[Any, Any] | None = None
        self._pid = os.getpid()

    @property
    def path(self) -> Path:
        return self._path

    def write(self, record: Mapping[str, Any]) -> None:
        line = encode_line(record)
        if self._pid != os.getpid():
            self._after_fork()
        with self._lock:
            fd = self._fd if self._fd is not None else self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                _write_all(fd, b"\n" + line if torn else line)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def flush(self) -> None:
        """Nothing to do: every record is a complete line in the file once `write` returns."""

    def close(self) -> None:
        with self._lock:
            if self._closer is not None:
                self._closer()
            self._closer = None
            self._fd = None

    def _open(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # O_RDWR rather than O_WRONLY: the torn-line check reads the file's last byte.
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = self._fd = os.open(self._path, flags, 0o644)
        self._closer = weakref.finalize(self, _close_fd, fd)  # closes it for a dropped tracer
        return fd

    def _after_fork(self) -> None:
        """A forked child shares the parent's open file, and so its lock: reopen on next write."""
        self._lock = threading.Lock()  # the parent's may have been held by another thread
        if self._closer is not None:
            self._closer()  # closes the child's descriptor only
        self._closer = None
        self._fd = None
        self._pid = os.getpid()


def _close_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """One `os.write` in practice; a short write is finished while the lock is still held."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --------------------------------------------------------------------------------------------
# Parquet

# Columns beyond the SPEC fields: the payloads and the shared store's goal id on intent records.
EXTRA_COLUMNS = ("goal_id",)


def _arrow_type(shape: Shape) -> Any:
    import pyarrow as pa

    violation = pa.struct(
        [("rule", pa.string()), ("severity", pa.string()), ("category", pa.string())]
    )
    types: dict[Shape, Any] = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "unit": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.string(),  # RFC 3339, as in the JSON Lines records
        "violations": pa.list_(violation),
        "scores": pa.map_(pa.string(), pa.float64()),
        "strings": pa.list_(pa.string()),
        "object": _json_type(),
    }
    return types[shape]


@functools.cache
def _has_json_type() -> bool:
    import pyarrow as pa

    return hasattr(pa, "json_")  # pyarrow >= 19


def _json_type() -> Any:
    """Parquet's JSON logical type: DuckDB reads it back as JSON, so objects stay objects.

    Older pyarrow lacks it: objects are then a string map (values as JSON text).
    """
    import pyarrow as pa

    return pa.json_() if _has_json_type() else pa.map_(pa.string(), pa.string())


@functools.cache
def parquet_schema() -> Any:
    """The explicit schema of a part file: every SPEC field with its type, from schema.FIELDS."""
    import pyarrow as pa

    columns = [(f.name, _arrow_type(f.shape)) for f in FIELDS]
    columns += [(name, _json_type()) for name in sorted(PAYLOAD_FIELDS)]
    columns += [(name, pa.string()) for name in EXTRA_COLUMNS]
    return pa.schema(columns)


_SHAPES: dict[str, Shape] = {f.name: f.shape for f in FIELDS}


def _json_text(value: Any) -> Any:
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if _has_json_type():
        return text
    if isinstance(value, Mapping):
        return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in value.items()]
    return [("value", text)]


def _parquet_row(record: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in record.items():
        shape = _SHAPES.get(key)
        if key in PAYLOAD_FIELDS or shape == "object":
            row[key] = _json_text(value)
        elif shape == "violations":
            row[key] = None if value is None else [_violation(v) for v in value]
        elif shape == "scores":
            row[key] = None if value is None else list(value.items())
        elif shape is not None or key in EXTRA_COLUMNS:
            row[key] = value
        else:
            raise ValueError(f"field {key!r} has no column in the Parquet schema")
    return row


def _violation(item: str | Mapping[str, Any]) -> dict[str, Any]:
    """`cat:rule` becomes category and rule, as the loader reads it from JSON Lines."""
    if isinstance(item, str):
        category, sep, rule = item.partition(":")
        if not sep:
            return {"rule": item, "severity": None, "category": None}
        return {"rule": rule, "severity": None, "category": category}
    return {
        "rule": item.get("rule"),
        "severity": item.get("severity"),
        "category": item.get("category"),
    }


class SinkError(OSError):
    """Records a sink could not write: they are lost, and the part file holding them removed."""

    def __str__(self) -> str:
        return str(self.strerror)


class ParquetSink:
    """One writer's part files in a Parquet folder; see the module docstring for the lifecycle."""

    def __init__(self, folder: str | os.PathLike[str], rows_per_group: int = 10_000) -> None:
        if rows_per_group < 1:
            raise ValueError(f"rows_per_group must be at least 1, got {rows_per_group}")
        self._path = Path(folder)
        self.rows_per_group = rows_per_group
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._rows: list[dict[str, Any]] = []
        self._writer: Any = None
        self._file: BinaryIO | None = None  # the open part, written through our own descriptor
        self._part: str | None = None  # the open part's final name
        self._part_rows = 0  # rows already written into the open part
        self._failed: SinkError | None = None  # a flush at a fork failed: raised at next call
        self.parts: list[Path] = []  # closed part files written by this sink, in order

    @property
    def path(self) -> Path:
        return self._path

    def write(self, record: Mapping[str, Any]) -> None:
        row = _parquet_row(record)
        if self._pid != os.getpid():
            self._after_fork()
        _ensure_exit_flush()
        with self._lock:
            self._raise_failed()
            self._rows.append(row)
            _PENDING.add(self)
            if len(self._rows) >= self.rows_per_group:
                self._guarded(self._write_group)

    def flush(self) -> None:
        """Write the buffered rows and close the part, so the folder reads as a whole trace."""
        if self._pid != os.getpid():
            self._after_fork()
        with self._lock:
            self._raise_failed()
            self._guarded(self._close_part)
            _PENDING.discard(self)

    def _close_part(self) -> None:
        self._write_group()
        if self._writer is not None and self._file is not None and self._part is not None:
            self._writer.close()
            self._file.close()
            final = self._path / self._part
            os.replace(self._inprogress(self._part), final)
            self.parts.append(final)
            self._writer = self._file = self._part = None
            self._part_rows = 0

    def _guarded(self, step: Callable[[], None]) -> None:
        """Run a step that writes; if it fails, drop the part and raise a SinkError (lock held).

        A row group half written leaves the part unreadable, so the records of the whole part
        and the buffered ones are lost: the `.inprogress` file goes, and the error counts them.
        """
        try:
            step()
        except Exception as exc:
            lost = self._part_rows + len(self._rows)
            self._drop_part()
            reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or repr(exc)
            error = SinkError(
                exc.errno if isinstance(exc, OSError) else None,
                f"{self._path}: {lost} record(s) could not be written ({reason}); they are lost",
            )
            raise error from exc

    def _drop_part(self) -> None:
        part, handle, writer = self._part, self._file, self._writer
        self._rows = []
        self._writer = self._file = self._part = None
        self._part_rows = 0
        _PENDING.discard(self)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
            writer.is_open = False  # else pyarrow's __del__ tries the footer again
        if handle is not None:
            with contextlib.suppress(Exception):  # its buffered bytes cannot be written either
                handle.close()
        if part is not None:
            with contextlib.suppress(OSError):
                self._inprogress(part).unlink()

    def _raise_failed(self) -> None:
        if self._failed is not None:
            error, self._failed = self._failed, None
            raise error

    def close(self) -> None:
        self.flush()

    def _inprogress(self, part: str) -> Path:
        return self._path / f".{part}.inprogress"

    def _write_group(self) -> None:
        """One row group from the buffered rows (called with the lock held)."""
        if not self._rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = parquet_schema()
        table = pa.Table.from_pylist(self._rows, schema=schema)
        if self._writer is None:
            self._path.mkdir(parents=True, exist_ok=True)
            self._part = f"part-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"
            self._file = open(self._inprogress(self._part), "wb")  # noqa: SIM115 - closed in flush
            self._writer = pq.ParquetWriter(self._file, schema, compression="zstd")
        self._writer.write_table(table)
        self._part_rows += len(self._rows)
        self._rows.clear()

    def _after_fork(self) -> None:
        """The child starts its own part; the parent's rows and open file stay the parent's."""
        if self._file is not None:
            # Only if a thread wrote between the before-fork flush and the fork. The writer
            # would write a footer when destroyed, and the descriptor shares the parent's file
            # offset: point it at /dev/null, and keep both alive so nothing else reuses it.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._file.fileno())
            os.close(devnull)
            _INHERITED.append((self._writer, self._file))
        self._lock = threading.Lock()
        self._rows = []
        self._writer = self._file = self._part = None
        self._pid = os.getpid()
        _PENDING.discard(self)


# Sinks holding rows or an open part; strong references, so no record is lost to the GC.
_PENDING: set[ParquetSink] = set()
_INHERITED: list[Any] = []


def flush_pending() -> None:
    """Close every open part before a fork, so no child inherits one.

    A part that cannot be written is kept as the sink's error, raised at its next call.
    """
    for sink in list(_PENDING):
        if sink._pid == os.getpid():
            try:
                sink.flush()
            except SinkError as error:
                sink._failed = error
                _PENDING.add(sink)  # so that exit reports it if no later call does


def _flush_at_exit() -> None:
    """Close every open part as the process ends; a part that cannot be written fails it.

    One line on stderr per sink, its `.inprogress` file removed, and exit status 1 rather
    than 0 (see the module docstring for why `os._exit`).
    """
    failed = False
    for sink in list(_PENDING):
        if sink._pid != os.getpid():
            continue
        try:
            sink.flush()
        except SinkError as error:
            sys.stderr.write(f"argus: {error.strerror}\n")
            failed = True
    if failed and getattr(sys, "last_value", None) is None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        os._exit(1)


_EXIT_FLUSH_PID = 0


def _ensure_exit_flush() -> None:
    """Also flush when a multiprocessing child ends: a forked one exits through `os._exit`,
    which skips atexit but runs multiprocessing's own finalizers (registered per process)."""
    global _EXIT_FLUSH_PID
    if os.getpid() == _EXIT_FLUSH_PID:
        return
    _EXIT_FLUSH_PID = os.getpid()
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.Finalize(None, _flush_at_exit, exitpriority=10)


atexit.register(_flush_at_exit)
os.register_at_fork(before=flush_pending)
