"""What every view shares: the formats, the console, JSON, Markdown tables and lists of records.

Numbers are rounded in the views for people and never in JSON. Output goes to stdout only:
diagnostics have their own channel (diagnostics.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from argus_cli.escaping import shown


class Format(str, Enum):
    """Output formats; one option chooses among them."""

    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


def make_console(file: Any = None) -> Console:
    """A stdout console: colour only on a terminal; a wide fixed width when piped, for stability."""
    out = file if file is not None else sys.stdout
    terminal = hasattr(out, "isatty") and out.isatty()
    # No markup or emoji codes: table cells hold trace content, where "[/]" or ":x:" is data.
    return Console(
        file=out,
        markup=False,
        emoji=False,
        width=None if terminal else 120,
        highlight=False,
        soft_wrap=False,
        color_system="auto" if terminal else None,
        force_terminal=terminal,
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def to_json(data: Any) -> str:
    return json.dumps(_json_safe(data), indent=2, ensure_ascii=False, default=str) + "\n"


def render_any(
    fmt: Format,
    console: Console,
    as_dict: Callable[[], Any],
    as_markdown: Callable[[], str],
    as_table: Callable[[], Any],
) -> None:
    """One result in the format asked for: its JSON form, Markdown, or a Rich renderable."""
    if fmt is Format.json:
        console.file.write(to_json(as_dict()))
    elif fmt is Format.markdown:
        console.file.write(as_markdown())
    else:
        console.print(as_table())


def code_span(text: str) -> str:
    """`text` as Markdown inline code that nothing in it can close: the fence is one backtick longer
    than the longest run of backticks inside, padded when the text starts or ends with one
    (CommonMark 6.1). A hop id like ``a`b`` would otherwise end the span and leak Markdown."""
    if not text:
        return "` `"
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    edge = text[:1] + text[-1:]
    pad = " " if "`" in edge or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN = re.compile(r"([\\`*_\[\]|~]|<(?=[A-Za-z/!?]))")


def md_text(text: str) -> str:
    """A sentence for Markdown prose with the characters that start emphasis, code, links, HTML
    tags or table cells backslash-escaped: findings and reasons quote ids from the trace. (`<` is
    escaped only before what would make it a tag; argus's sentences never start a line with `>`.)"""
    return _MARKDOWN.sub(r"\\\1", text)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    def cell(text: str) -> str:
        return shown(text).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(one_line(h)) for h in headers) + " |"]
    lines.append("|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|")
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_rows(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: Format,
    console: Console,
    title: str | None = None,
    no_wrap: bool = False,
) -> None:
    """Any list of records in any format: JSON objects, CSV, Markdown or a Rich table.

    A column name may break over lines in a table ("blast\nradius"); everywhere else it is one
    line (a CSV header cell with a line break in it trips up every spreadsheet). In a table and
    in Markdown, control characters in names and values are shown escaped (escaping.py); JSON
    and CSV keep them raw, quoted by their writers.
    """
    if fmt is Format.json:
        console.file.write(to_json([dict(zip(columns, r, strict=True)) for r in rows]))
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([one_line(name) for name in columns])
        writer.writerows([[plain(v) for v in r] for r in rows])
        console.file.write(buffer.getvalue())
    elif fmt is Format.markdown:
        console.file.write(md_table(list(columns), [[plain(v) for v in r] for r in rows], set()))
    else:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAVY)
        for name in columns:
            parts = [shown(part) for part in name.split("\n")]
            width = max(len(part) for part in parts)
            table.add_column("\n".join(parts), overflow="fold", min_width=width, no_wrap=no_wrap)
        for row in rows:
            table.add_row(*[shown(plain(v)) if v is not None else "n/a" for v in row])
        console.print(table)


def one_line(name: str) -> str:
    """A column name on one line: its line breaks as spaces."""
    return " ".join(name.split("\n"))


def plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _float_text(value: float) -> str:
    """Six significant digits, without an exponent for everyday magnitudes."""
    if value == 0:
        return "0"
    if not math.isfinite(value) or not 1e-4 <= abs(value) < 1e15:
        return f"{value:.6g}"
    text = f"{value:.{max(0, 5 - math.floor(math.log10(abs(value))))}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
