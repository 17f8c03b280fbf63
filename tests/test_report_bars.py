"""The terminal report's inline bars: pass rate and cascade share in the hop table, drawn when
the terminal is wide enough for the whole table with them and can show block characters."""

from __future__ import annotations

import io
from pathlib import Path

from goldens import check_golden
from rich.console import Console

from argus_cli.analysis import analyse
from argus_cli.render.report import BAR_WIDTH, inline_bar, report_table

SUPPORT = str(Path(__file__).parent.parent / "sample_traces" / "support_desk.jsonl")


class _Ascii(io.StringIO):
    """A terminal whose encoding is ASCII: Rich reads the file's encoding to know."""

    encoding = "ascii"


def _render(path: str, width: int, encoding: str = "utf-8") -> str:
    out = io.StringIO() if encoding == "utf-8" else _Ascii()
    console = Console(
        file=out, width=width, color_system=None, markup=False, emoji=False, highlight=False
    )
    assert console.options.ascii_only == (encoding != "utf-8")
    report = analyse([path], quiet=True)
    report.files = [Path(f).name for f in report.files]
    console.print(report_table(report))
    return out.getvalue()


def test_wide_terminal_draws_the_bars():
    shown = _render(SUPPORT, 140)
    check_golden("report_bars.txt", shown)
    router = next(line for line in shown.splitlines() if " router " in line and " 298 " in line)
    # 78.8% of five cells is 31.5 eighths: four full blocks; 0.086 of the 0.15 line: 23 eighths
    assert "78.8% [64.9–86.2] ████░" in router
    assert "0.086 ██▉░░" in router


def test_narrow_or_ascii_terminal_keeps_the_plain_table():
    narrow = _render(SUPPORT, 120)
    assert "█" not in narrow and "░" not in narrow
    ascii_only = _render(SUPPORT, 200, encoding="ascii")
    assert "█" not in ascii_only and "░" not in ascii_only
    assert " router " in ascii_only


def test_bar_fills_in_eighths():
    assert inline_bar("x", 0.0, "").plain == "x " + "░" * BAR_WIDTH
    assert inline_bar("x", 1.0, "").plain == "x " + "█" * BAR_WIDTH
    assert inline_bar("x", 1 / (8 * BAR_WIDTH), "").plain == "x ▏" + "░" * (BAR_WIDTH - 1)
    assert inline_bar("x", 2.5, "").plain == "x " + "█" * BAR_WIDTH  # past the line: full
