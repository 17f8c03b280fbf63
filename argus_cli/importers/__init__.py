"""Foreign trace formats, turned into SPEC hop records on the loader's one path.

An importer is a function from the SQL of a file's numbered text lines, `(_line, _raw)`, to SQL
of `(_line, _raw)` rows whose `_raw` is one SPEC record as JSON text. The loader then checks and
types those records exactly as it does argus's own, so an imported trace gets the same defaults,
the same bad-record messages (naming the line a span came from) and the same metrics. No Python
touches a span: the mapping is DuckDB SQL over the JSON.

`detect_format` decides a file's format from its first bytes and first non-blank line (gzip
included), so `argus report export.jsonl` needs no flag; `--from` skips it. A file that matches
none of the formats is refused, naming the formats that were tried.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

from argus_cli.diagnostics import InputError
from argus_cli.importers import langfuse, otlp
from argus_cli.importers.common import HopSpans, SourceFormat
from argus_cli.schema import FIELD_NAMES

__all__ = [
    "FORMATS_TRIED",
    "HopSpans",
    "HopSpansChoice",
    "InputFormat",
    "SourceFormat",
    "chosen",
    "detect_format",
    "import_sql",
    "no_hops_message",
]


class InputFormat(str, Enum):
    """The values of `--from`."""

    argus = "argus"
    otlp = "otlp"
    langfuse = "langfuse"


class HopSpansChoice(str, Enum):
    """The values of `--hop-spans`: which spans become hops, each level adding to the one before."""

    agents = "agents"
    tools = "tools"
    genai = "genai"
    all = "all"


FORMATS_TRIED = (
    "argus records (JSON Lines or Parquet)",
    "OTLP JSON (TracesData, one per line or one pretty-printed)",
    "Langfuse observations (JSON array or JSON Lines)",
)

IMPORTERS: dict[str, Callable[[str, HopSpans], str]] = {
    "otlp": otlp.records_sql,
    "langfuse": langfuse.records_sql,
}

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
# Enough to hold the first line of any sane export, small enough to sniff a huge file quickly.
_SNIFF_BYTES = 1 << 20
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def chosen(
    source_format: InputFormat | None, hop_spans: HopSpansChoice
) -> tuple[SourceFormat | None, HopSpans]:
    """The command line's choices in the loader's terms."""
    return (source_format.value if source_format is not None else None), hop_spans.value


def import_sql(fmt: str, lines: str, hop_spans: HopSpans) -> str:
    """SQL of `(_line, _raw)` SPEC records from the SQL of a file's `(_line, _raw)` text lines."""
    return IMPORTERS[fmt](lines, hop_spans)


_FORMAT_NAMES = {"argus": "an argus", "otlp": "an OTLP JSON", "langfuse": "a Langfuse"}


def no_hops_message(fmt: str, hop_spans: HopSpans, path: Path | None = None) -> str:
    """Why an imported file gave no record, and what to try: said instead of an empty report.

    With the file's path, a file that is empty, or not of the format it was read as (`--from`
    names another), says so: no `--hop-spans` would help it."""
    if path is not None:
        wrong = _not_of_format(fmt, path)
        if wrong is not None:
            return wrong
    what = {
        "otlp": otlp.HOP_SPANS_HELP[hop_spans],
        "langfuse": langfuse.HOP_SPANS_HELP[hop_spans],
    }[fmt]
    return (
        f"no hop records in this {fmt} file: no span in it is a hop under --hop-spans "
        f"{hop_spans} ({what}); choose others with --hop-spans tools, genai or all"
    )


def _not_of_format(fmt: str, path: Path) -> str | None:
    """What is wrong with reading this file as `fmt`, when it is empty or of another format;
    None when it is of that format (or cannot be read again, e.g. a spooled stdin)."""
    try:
        head = _head(path, str(path))
    except InputError:
        return None
    _, line = _first_line(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
    if line is None and not head.startswith(_PARQUET_MAGIC):
        return "empty: no records in it"
    try:
        found = detect_format(path)
    except InputError:
        return f"not {_FORMAT_NAMES[fmt]} file: it matches none of the formats argus reads"
    if found == fmt:
        return None
    return (
        f"not {_FORMAT_NAMES[fmt]} file: it reads as {_FORMAT_NAMES[found]} one "
        f"(leave --from out to detect it, or say --from {found})"
    )


def detect_format(
    path: Path, display: str | None = None, head: bytes | None = None
) -> SourceFormat:
    """The file's format from its first non-blank line (or first bytes); InputError if none fits.

    Sniffing stays lenient towards argus's own JSON Lines: a first line that is a torn or
    malformed record still loads as argus records, so the loader names the bad line as before.
    `head` is the file's first _SNIFF_BYTES when the caller has read them already (a folder of
    100,000 small files is then opened once a file, not twice).
    """
    name = display or str(path)
    head = _head(path, name) if head is None or head.startswith(_GZIP_MAGIC) else head
    if head.startswith(_PARQUET_MAGIC):
        return "argus"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    number, line = _first_line(text)
    if line is None:
        return "argus"  # an empty file: the loader says what it says of any empty trace
    if not line.startswith(("{", "[")):
        # A `#` comment or a stray line first: look past it to the first line that opens JSON
        # (the loader then names the bad line; it does not decide the file's format).
        later = _first_json_line(text)
        if later is not None:
            number, line, text = later
    try:
        value: Any = json.loads(line)
    except ValueError:
        return _sniff_keys(text, line, number, name)
    found = _classify(value)
    if found is None:
        kind = "JSON object" if isinstance(value, dict) else f"JSON {type(value).__name__}"
        _no_format(name, f"line {number} is a {kind} with none of their fields")
    return found


def _head(path: Path, name: str) -> bytes:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if head.startswith(_GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as handle:
                return handle.read(_SNIFF_BYTES)
        except (OSError, EOFError):
            return b"{"  # a broken gzip stream: let the loader report it as argus does today
    return head


def _first_line(text: str) -> tuple[int, str | None]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number, line.strip()
    return 0, None


def _first_json_line(text: str) -> tuple[int, str, str] | None:
    """The first line that opens a JSON object or array: its number, itself, the text from it."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.strip().startswith(("{", "[")):
            return index + 1, line.strip(), "".join(lines[index:])
    return None


def _classify(value: Any) -> SourceFormat | None:
    if isinstance(value, list):
        first = next((v for v in value if isinstance(v, dict)), None)
        return "langfuse" if first is not None and _is_langfuse(first) else None
    if not isinstance(value, dict):
        return None
    if "resourceSpans" in value:
        return "otlp"
    if _is_langfuse(value):
        return "langfuse"
    if FIELD_NAMES & value.keys():
        return "argus"
    return None


def _is_langfuse(record: dict[str, Any]) -> bool:
    """An observation, a score, or an API page (`{"data": [...]}`) of them."""
    keys = record.keys()
    traced = bool({"traceId", "trace_id"} & keys)
    observation = "type" in keys and bool({"startTime", "start_time"} & keys)
    score = "name" in keys and bool({"dataType", "data_type"} & keys)
    data = record.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return _is_langfuse(data[0])
    return traced and (observation or score)


def _sniff_keys(text: str, line: str, number: int, name: str) -> SourceFormat:
    """A first line that is not whole JSON: a pretty-printed document, or a torn record."""
    if not line.startswith(("{", "[")):
        _no_format(name, f"line {number} is not JSON")
    keys = set(_KEY.findall(text[:65536]))
    first = _KEY.search(text)
    if line.startswith("{") and first is not None and first.group(1) == "resourceSpans":
        return "otlp"
    if _is_langfuse(dict.fromkeys(keys)):
        return "langfuse"
    if line.startswith("{"):
        return "argus"
    _no_format(name, f"line {number} opens a JSON array of none of them")


def _no_format(name: str, reason: str) -> NoReturn:
    raise InputError(
        f"{name}: not a trace: matches none of the formats argus reads "
        f"(tried {'; '.join(FORMATS_TRIED)}): {reason}"
    )
