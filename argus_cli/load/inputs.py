"""Which files a load reads: the inputs resolved to an ordered list of `Source`s.

Files, folders, globs and `-` (stdin, copied to a temporary file: DuckDB reads files, and stdin
can be read once; so is a FIFO or process substitution, `<(cat t.jsonl)`). Only a glob the user
typed is expanded, here; every file found is then handed to DuckDB as a literal path
(`Source.scan`), so a file named `s*.jsonl` is read as that one file and never as a pattern.
Below a folder, `key=value` folders become fields (hive partitions), and with `--since`/`--until`
a `date=` folder out of range is skipped before any of its files is opened.
A file's format is decided by its first bytes, so a misnamed file still loads; OTLP and Langfuse
exports are recognised by `importers.detect_format`.

It is the first step of the pipeline (inputs -> load -> metrics -> report model -> renderers),
apart from loading.py because deciding what to read needs no database: nothing here opens one.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import unquote

from argus_cli.diagnostics import InputError
from argus_cli.importers import _SNIFF_BYTES, HopSpans, SourceFormat, detect_format
from argus_cli.schema import FIELDS

# argus's own records (jsonl, parquet), or a foreign format that an importer maps to them.
Format = Literal["jsonl", "parquet", "otlp", "langfuse"]

TRACE_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".parquet")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
STDIN = "-"


@dataclass(frozen=True)
class Source:
    """One file to read, as the user will see it named in messages."""

    path: str
    display: str
    format: Format
    gzip: bool = False
    hive: tuple[tuple[str, str], ...] = ()
    hop_spans: HopSpans = "agents"  # which spans an importer makes hops
    # The path DuckDB's readers are given: `path` escaped, as they expand glob patterns.
    scan: str = ""
    size: int = -1  # bytes, as found when the file was opened (-1: not known)
    # What the file's first bytes say it holds, found while it was open (None: not decided,
    # or nothing fits, which `_with_format` says when no --from decides instead).
    detected: SourceFormat | None = None

    def __post_init__(self) -> None:
        if not self.scan:
            object.__setattr__(self, "scan", _scan_path(self.path))


# SPEC fields a folder value (`key=value`) can fill: text ones.
_STRING_FIELDS = frozenset(f.name for f in FIELDS if f.shape == "string")


def _hive_fields(source: Source) -> dict[str, str]:
    """The folder values (`key=value`) that fill SPEC fields a record leaves out: only string
    fields (a folder name is text; `seq=3` does not make every record in it malformed)."""
    return {k: v for k, v in source.hive if k in _STRING_FIELDS}


def resolve_inputs(
    inputs: Sequence[str],
    stdin: BinaryIO | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Source]:
    """Expand files, folders, globs and `-` into the ordered list of files to read.

    With `since`/`until`, `date=` partition folders outside the range are skipped unopened.
    """
    if not inputs:
        raise InputError("no input given: name trace files, folders, globs or - for stdin")
    sources: list[Source] = []
    for item in inputs:
        if item == STDIN:
            if stdin is None and sys.stdin is not None:
                stdin = sys.stdin.buffer
            sources.append(_stdin_source(stdin))
        elif os.path.isdir(item):
            found = list(_folder_sources(Path(item), since, until))
            if not found and any(True for _ in _folder_files(Path(item))):
                raise InputError(f"{item}: no date= partition in the --since/--until range")
            if not found:
                raise InputError(f"{item}: folder has no trace files ({', '.join(TRACE_SUFFIXES)})")
            sources.extend(found)
        elif os.path.exists(item) and not os.path.isfile(item):
            sources.append(_spooled_source(item))  # a FIFO, <(...), /dev/stdin: read it once
        elif os.path.exists(item):
            sources.append(_file_source(Path(item), item))
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            if not files:
                raise InputError(f"{item}: no files match this pattern")
            sources.extend(_file_source(Path(m), m) for m in files)
        else:
            raise InputError(f"{item}: no such file or folder")
    return sources


def named_files(inputs: Sequence[str]) -> list[Path]:
    """The files `inputs` name, found as `resolve_inputs` finds them, without opening any.

    For a writer to refuse a target that is one of its inputs (`-` and pipes name no file).
    """
    files: list[Path] = []
    for item in inputs:
        if item == STDIN:
            continue
        if os.path.isdir(item):
            files.extend(path for path, _ in _folder_files(Path(item)))
        elif os.path.isfile(item):
            files.append(Path(item))
        elif not os.path.exists(item) and glob.has_magic(item):
            files.extend(Path(m) for m in glob.glob(item, recursive=True) if os.path.isfile(m))
    return files


def _folder_sources(
    root: Path, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Source]:
    """Trace files below `root`, in path order; `key=value` folders become fields (hive).

    A file in a `date=` folder outside [since, until] is pruned before it is opened.
    """
    for path, hive in _folder_files(root):
        if _pruned(dict(hive).get("date"), since, until):
            continue
        source = _file_source(path, str(path))
        yield replace(source, hive=hive) if hive else source


def _folder_files(root: Path) -> Iterator[tuple[Path, tuple[tuple[str, str], ...]]]:
    """Trace file paths below `root` and their `key=value` folders, without opening a file.

    In path order, part by part (as `sorted(root.rglob("*"))`). Names starting with `.` or `_`
    are passed over (_SUCCESS markers, .crc files, hidden folders), as are symlinked folders.
    Values are percent-decoded: DuckDB and Spark encode `/`, `=`, spaces and the like.
    """
    for parts in sorted(_trace_files(str(root), ())):
        yield root.joinpath(*parts), folder_values(parts[:-1])


def folder_values(folders: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The `key=value` folders of a path (hive partitions), percent-decoded; other names none.

    Shared with the Spark engine's listing of a lake (spark/loading.py), so a folder means the
    same field whoever lists it.
    """
    return tuple(
        (unquote(key), unquote(value))
        for key, _, value in (part.partition("=") for part in folders)
        if value and key
    )


def passed_over(name: str) -> bool:
    """A file or folder name a folder's listing skips: `_SUCCESS` markers, `.crc` files, hidden
    folders. Shared with the Spark engine's listing of a lake (spark/loading.py)."""
    return name.startswith((".", "_"))


def _trace_files(folder: str, parts: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """The trace files below `folder`, as path parts below the root: one `scandir` a folder,
    and no `stat` a file (a directory entry knows its type), for folders of 100,000 files."""
    try:
        with os.scandir(folder) as entries:
            found = list(entries)
    except OSError:
        return  # (as rglob does: a folder that cannot be listed holds nothing)
    for entry in found:
        if passed_over(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _trace_files(entry.path, (*parts, entry.name))
            elif entry.name.endswith(TRACE_SUFFIXES) and entry.is_file():
                yield (*parts, entry.name)
        except OSError:
            continue


def _pruned(folder_date: str | None, since: datetime | None, until: datetime | None) -> bool:
    """Whether a `date=` folder can hold no run in range, so its files need not be read.

    `argus convert --partition` files a whole run under its first hop's UTC date, `unknown`
    without one (such runs are out of any range); a value that is neither is not pruned.
    """
    if folder_date is None or (since is None and until is None):
        return False
    if folder_date == "unknown":
        return True
    try:
        day = date.fromisoformat(folder_date)
    except ValueError:
        return False
    return (since is not None and day < since.date()) or (until is not None and day > until.date())


def _file_source(path: Path, display: str) -> Source:
    """Decide a file's format by its first bytes, so a misnamed file still loads.

    The file is opened once: its size and what an importer would make of it are found from
    the same read (`_with_format` later takes that, or what --from says).
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            # (a read of the size it needs: `read(1 MiB)` allocates all of it for a 1 KB file)
            head = handle.read(min(size, _SNIFF_BYTES) if size > 0 else _SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{display}: cannot read ({exc.strerror or exc})") from None
    detected: SourceFormat | None = None
    with contextlib.suppress(InputError):  # said again, and only then, if no --from decides
        detected = detect_format(path, display, head)
    if head.startswith(PARQUET_MAGIC):
        return Source(str(path), display, "parquet", size=size, detected=detected)
    gzipped = head.startswith(GZIP_MAGIC)
    return Source(str(path), display, "jsonl", gzip=gzipped, size=size, detected=detected)


def _stdin_source(stream: BinaryIO | None) -> Source:
    """Copy stdin to a private temporary file: DuckDB reads files, and stdin can be read once."""
    if stream is None:  # `argus report - <&-`: Python sets sys.stdin to None
        raise InputError("-: stdin is closed, nothing to read")
    return _spool(stream, "<stdin>", "-")


def _spooled_source(item: str) -> Source:
    """A named input that is not a regular file (a FIFO, `<(...)`): copied once, then read."""
    try:
        with open(item, "rb") as stream:
            return _spool(stream, item, item)
    except OSError as exc:
        raise InputError(f"{item}: cannot read ({exc.strerror or exc})") from None


def _spool(stream: BinaryIO, display: str, name: str) -> Source:
    handle = tempfile.NamedTemporaryFile(prefix="argus-stdin-", delete=False)  # noqa: SIM115
    _TEMP_FILES.append(handle.name)
    try:
        with handle:
            shutil.copyfileobj(stream, handle)
    except OSError as exc:  # EBADF, EISDIR, EIO: the stream cannot be read
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    except ValueError:  # a closed file object
        raise InputError(f"{name}: cannot read (closed)") from None
    return _file_source(Path(handle.name), display)


# The characters DuckDB's file readers expand as a pattern in a path.
_GLOB_CHARS = re.compile(r"([*?\[])")


def _scan_path(path: str) -> str:
    """`path` as DuckDB's read_json/read_csv/read_parquet read it as one literal file.

    Those readers expand `*`, `?`, `[...]` and `**` in any path they are given (there is no
    option to turn that off), so a name holding one is bracket-escaped: `[*]`, `[?]`, `[[]`,
    which matches only that character, and the file, not its pattern, is read. The path is made
    absolute first, so no file name is taken for a URL or `~`. DuckDB cannot match a backslash
    in a name with glob characters (its matcher treats it as a separator), so such a file is
    read through a temporary symlink with a plain name instead.
    """
    absolute = os.path.abspath(path)
    if not _GLOB_CHARS.search(absolute):
        return absolute
    if "\\" in absolute:
        try:
            folder = tempfile.mkdtemp(prefix="argus-link-")
            _TEMP_FILES.append(folder)
            link = os.path.join(folder, "trace")
            os.symlink(absolute, link)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        _TEMP_FILES.append(link)
        return link
    return _GLOB_CHARS.sub(r"[\1]", absolute)


def _unescaped(scan: str) -> str:
    """The real path of a file `_scan_path` gave: what DuckDB names it by when it is read."""
    return re.sub(r"\[([*?\[])\]", r"\1", scan)


_TEMP_FILES: list[str] = []


def _remove_temp_files() -> None:
    """Spooled copies of stdin and FIFOs, and symlinks (and their folders), newest first."""
    while _TEMP_FILES:
        name = _TEMP_FILES.pop()
        with contextlib.suppress(OSError):
            if os.path.isdir(name) and not os.path.islink(name):
                os.rmdir(name)
            else:
                os.unlink(name)


def _with_format(source: Source, forced: SourceFormat | None, hop_spans: HopSpans) -> Source:
    """The file's format: argus records keep the reader their first bytes chose."""
    found = forced or source.detected or detect_format(Path(source.path), source.display)
    return source if found == "argus" else replace(source, format=found, hop_spans=hop_spans)


def _size(source: Source) -> int:
    if source.size >= 0:
        return source.size
    with contextlib.suppress(OSError):
        return os.path.getsize(source.path)
    return 0
