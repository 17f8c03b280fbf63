"""The work database a load runs in: a DuckDB connection, in memory or in a work folder.

Small inputs are loaded into an in-memory database; past WORK_ON_DISK_BYTES, into a database
file in a private temporary folder, so that memory stays bounded whatever the input size.
ARGUS_WORK, ARGUS_MEMORY_LIMIT, ARGUS_THREADS and ARGUS_TEMP_DIRECTORY are read here and
nowhere else. Work folders are removed when their trace is closed, at exit if it never is, and
by the next large load if a killed process left one.

A module of its own because where the work happens and with how much memory is one decision,
apart from what is read (inputs.py) and how (staging.py).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from argus_cli.diagnostics import InputError, UsageError
from argus_cli.load.inputs import Source, _size
from argus_cli.load.validation import _lit

# Inputs of about this many bytes of JSON or more are worked on in a database file (see
# connect): some 1.3 million hops. Below it, working in memory is faster and peaks under 1 GB.
WORK_ON_DISK_BYTES = 1024 * 1024 * 1024
# Parquet and gzip hold about an eighth of the bytes of the same records as JSON Lines.
PACKED_RATIO = 8
# The memory DuckDB may use when it works in a database file and the user has not said.
DEFAULT_DISK_MEMORY_LIMIT = "1GB"


def _work_dir(sources: Sequence[Source]) -> str | None:
    """A private folder for the database file of a large load, or None to work in memory.

    ARGUS_WORK=disk or ARGUS_WORK=memory decides instead of the input size.
    """
    choice = os.environ.get("ARGUS_WORK", "").strip().lower()
    if choice not in ("", "disk", "memory"):
        raise UsageError(f"ARGUS_WORK={choice!r} is not usable: expected disk or memory")
    if choice == "memory":
        return None
    if choice == "" and sum(_json_bytes(s) for s in sources) < WORK_ON_DISK_BYTES:
        return None
    parent = os.environ.get("ARGUS_TEMP_DIRECTORY") or tempfile.gettempdir()
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_abandoned_work_dirs(parent)
        work_dir = tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-", dir=parent)
    except OSError as exc:
        raise InputError(f"{parent}: cannot make a work folder ({exc.strerror or exc})") from None
    _WORK_DIRS.append(work_dir)
    return work_dir


_WORK_PREFIX = "argus-work-"


def _remove_abandoned_work_dirs(parent: str) -> None:
    """Work folders of argus processes that are gone (killed before their exit handler ran).

    A folder is named after its process id; one whose process still runs (or that this user
    may not signal) is left alone. Folders can be gigabytes: a killed run must not leave them.
    """
    for entry in Path(parent).glob(f"{_WORK_PREFIX}*-*"):
        pid = entry.name[len(_WORK_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not entry.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue  # alive under another user, or not ours to judge


def _json_bytes(source: Source) -> int:
    packed = source.gzip or source.format == "parquet"
    return _size(source) * (PACKED_RATIO if packed else 1)


_WORK_DIRS: list[str] = []


@atexit.register
def _remove_work_dirs() -> None:
    """Whatever a load left behind goes at exit, even when nobody closed its Trace."""
    while _WORK_DIRS:
        shutil.rmtree(_WORK_DIRS.pop(), ignore_errors=True)


def connect(work_dir: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB set up for argus: UTC, and the resource limits the user asked for.

    In memory by default. With `work_dir`, tables live in a database file there instead: DuckDB
    writes a large table's rows compressed as they come (some 40 bytes a hop) and keeps in
    memory only what a query is using, so memory stays bounded (DEFAULT_DISK_MEMORY_LIMIT)
    whatever the input size; temporary tables and views stay in memory either way.
    ARGUS_THREADS and ARGUS_MEMORY_LIMIT (e.g. "2GB") cap DuckDB; past the memory limit it
    spills to ARGUS_TEMP_DIRECTORY (default: a folder in the system temp dir, never the
    current folder). Insertion order stays preserved: the loader's input order relies on it.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    spill = os.environ.get("ARGUS_TEMP_DIRECTORY") or os.path.join(
        tempfile.gettempdir(), f"argus-spill-{os.getpid()}"
    )
    limit = os.environ.get("ARGUS_MEMORY_LIMIT")
    if work_dir is not None:
        con.execute(f"ATTACH {_lit(os.path.join(work_dir, 'work.duckdb'))} AS work")
        con.execute("USE work")
        spill = os.path.join(work_dir, "spill")
        limit = limit or DEFAULT_DISK_MEMORY_LIMIT
    settings = {
        "threads": os.environ.get("ARGUS_THREADS"),
        "memory_limit": limit,
        "temp_directory": spill,
    }
    for name, value in settings.items():
        if not value:
            continue
        try:
            con.execute(f"SET {name} = ?", [int(value) if name == "threads" else value])
        except (duckdb.Error, ValueError) as exc:
            variable = "ARGUS_" + name.upper()
            raise UsageError(f"{variable}={value!r} is not usable: {_first_line(exc)}") from None
    return con


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
