"""Control characters from traces and file names are shown escaped wherever people or CI runners
read them (tables, trees, Markdown, stderr, JUnit, GitHub annotations); JSON and CSV keep them.

A hostile trace: run ids, workflow and hop ids and error messages holding terminal escape codes,
CR/LF, BEL, a C1 CSI and Rich markup, in a file whose name holds an escape code and a newline.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from enum import Enum
from pathlib import Path

import pytest
from goldens import check_golden
from tracebook import write_jsonl
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.diagnostics import warn
from argus_cli.escaping import shown, shown_all

ESC = "\x1b[31mRED\x1b[0m"
RUN = f"run{ESC}\n::error::injected[/]"  # "[/]" crashed Rich's markup parser
WORKFLOW = f"wf{ESC}\r\n::warning file=x::wf"
PLAN = f"plan{ESC}[bold]x"
ACT = "act\x07\x9b2J\u202e"
ERROR = f"boom {ESC}\n::error::inj"
FILE = "t\x1b[32mG\nx.jsonl"
# Any control character but the newline that ends a line of output.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def hostile_records() -> list[dict[str, object] | str]:
    records: list[dict[str, object] | str] = []
    for r in range(4):
        run = f"{r}{RUN}"
        records += [
            {"kind": "intent", "run_id": run, "goal": f"goal {ESC}\nsecond line"},
            {"kind": "hop", "run_id": run, "workflow_id": WORKFLOW, "hop_id": PLAN,
             "span_id": "a", "seq": 1, "status": "success", "confidence": 0.9},
            {"kind": "hop", "run_id": run, "workflow_id": WORKFLOW, "hop_id": ACT,
             "span_id": "b", "parent_id": "a", "seq": 2,
             "status": "error" if r % 2 else "success", "error": ERROR if r % 2 else None,
             "confidence": 0.8},
            {"kind": "outcome", "run_id": run, "correct": r % 2 == 0},
        ]  # fmt: skip
    return [*records, "{torn line"]


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    write_jsonl(tmp_path / FILE, hostile_records())
    return tmp_path


def argus(*args: str):
    return CliRunner().invoke(app, list(args))


def no_raw_controls(text: str) -> None:
    assert not RAW.search(text), repr(RAW.search(text))


def test_shown_escapes_every_control_and_nothing_else():
    assert shown("a\x1b[2Jb\nc\rd\te\x00f\x7fg\x9bh") == "a\\x1b[2Jb\\nc\\rd\\te\\x00f\\x7fg\\x9bh"
    assert shown("rtl\u202eoff\u2028line") == "rtl\\u202eoff\\u2028line"
    plain = "triage-ü 回答 C:\\traces\\a.jsonl [bold] 100% ::x"
    assert shown(plain) == plain


class Mark(str, Enum):
    ok = "ok\n"


@dataclasses.dataclass(frozen=True)
class Hop:
    hop_id: str
    mark: Mark
    rate: float


@dataclasses.dataclass
class Model:
    hops: list[Hop]
    best: Hop
    by_id: dict[str, tuple[str, int]]


def test_shown_all_copies_a_model_with_every_string_escaped():
    hop = Hop("a\nb", Mark.ok, 0.5)
    model = Model([hop], hop, {"k\x1b": ("v\r", 1)})
    safe = shown_all(model)
    assert safe.hops[0].hop_id == "a\\nb" and safe.hops[0].rate == 0.5
    assert safe.hops[0].mark is Mark.ok  # argus's own enums are kept
    assert safe.best is safe.hops[0]  # shared objects stay shared (`hop is plan.best`)
    assert safe.by_id == {"k\\x1b": ("v\\r", 1)}
    assert model.hops[0].hop_id == "a\nb"  # the original is untouched


def test_a_diagnostic_is_one_line(capsys):
    warn(f"skipped record at {FILE}:3: bad\n::error::x")
    err = capsys.readouterr().err
    assert err == "argus: skipped record at t\\x1b[32mG\\nx.jsonl:3: bad\\n::error::x\n"


def test_stderr_names_the_file_escaped(hostile):
    result = argus("report", ".")
    assert result.exit_code == 0, result.stderr
    no_raw_controls(result.stderr)
    assert result.stderr.splitlines()[0] == (
        "argus: skipped record at t\\x1b[32mG\\nx.jsonl:17: invalid JSON"
    )
    assert all(line.startswith("argus: ") for line in result.stderr.splitlines())


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_report_for_people_is_escaped(hostile, fmt):
    result = argus("report", ".", "-q", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    no_raw_controls(result.stdout)
    assert shown(WORKFLOW) in result.stdout
    assert shown(ACT) in result.stdout
    assert not any(line.startswith("::") for line in result.stdout.splitlines())


def test_json_keeps_the_raw_values(hostile):
    report = json.loads(argus("report", ".", "-q", "--json").stdout)
    assert report["workflows"][0]["workflow_id"] == WORKFLOW
    assert report["inputs"]["files"] == [FILE]
    runs = json.loads(argus("runs", ".", "-q", "--json").stdout)
    assert {r["run_id"] for r in runs} == {f"{r}{RUN}" for r in range(4)}
    rows = json.loads(argus("query", ".", "SELECT error FROM hops WHERE error IS NOT NULL",
                            "-q", "--json").stdout)  # fmt: skip
    assert rows == [{"error": ERROR}, {"error": ERROR}]


def test_csv_keeps_the_raw_values_quoted(hostile):
    result = argus("query", ".", "SELECT run_id FROM hops ORDER BY ALL LIMIT 1", "-q", "-f", "csv")
    assert list(csv.reader(io.StringIO(result.stdout))) == [["run_id"], [f"0{RUN}"]]


def test_runs_table_golden(hostile):
    """The runs table: ids escaped, Rich markup shown as it is (no crash on "[/]")."""
    result = argus("runs", ".", "-q")
    assert result.exit_code == 0, result.stderr
    no_raw_controls(result.stdout)
    check_golden("escapes_runs.txt", result.stdout)


def test_trace_tree_golden(hostile):
    result = argus("trace", ".", f"1{RUN}", "-q")
    assert result.exit_code == 0, result.stderr
    no_raw_controls(result.stdout)
    assert "(boom \\x1b[31mRED\\x1b[0m …)" in result.stdout  # first line, then escaped
    check_golden("escapes_trace.txt", result.stdout)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_query_for_people_is_escaped(hostile, fmt):
    sql = 'SELECT run_id, hop_id AS "hop\x1b[2J", error FROM hops ORDER BY ALL'
    result = argus("query", ".", sql, "-q", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    no_raw_controls(result.stdout)
    assert shown(ERROR) in result.stdout and "hop\\x1b[2J" in result.stdout


def test_a_refused_query_names_no_raw_control(hostile):
    result = argus("query", ".", f"SELECT * FROM read_text('{FILE}')", "-q")
    assert result.exit_code == 2
    no_raw_controls(result.stderr)
    assert len(result.stderr.splitlines()) == 1


def test_check_outputs_are_escaped(hostile, monkeypatch):
    summary = hostile / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = argus(
        "check",
        ".",
        "-q",
        "--min-e2e",
        "0.9",
        "--max-bad-records",
        "1",
        "--github",
        "--junit",
        "j.xml",
    )  # the hostile trace's one malformed line is allowed: the gate under test is min-e2e
    assert result.exit_code == 1
    no_raw_controls(result.stdout)
    commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(commands) == 1  # the one failed gate; no command injected by an id
    assert commands[0].startswith("::error title=argus min-e2e (wf\\x1b[31mRED\\x1b[0m\\r\\n")
    no_raw_controls(summary.read_text(encoding="utf-8"))
    assert shown(WORKFLOW) in summary.read_text(encoding="utf-8")

    text = (hostile / "j.xml").read_text(encoding="utf-8")
    no_raw_controls(text)
    root = ET.fromstring(text.encode())
    suite = root.findall("testsuite")[1]  # after the inputs' suite
    assert suite.get("name") == f"argus check: {shown(WORKFLOW)}"
    files = suite.find("properties/property[@name='files']")
    assert files is not None and files.get("value") == shown(FILE)
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.splitlines()[1:] == ["threshold: min 90.0%", "value: 50.0%"]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_diff_for_people_is_escaped(hostile, fmt):
    (hostile / "base").mkdir()
    write_jsonl(hostile / "base" / "b.jsonl", hostile_records())
    result = argus("diff", "base", FILE, "-q", "-f", fmt)
    assert result.exit_code in (0, 1), result.stderr
    no_raw_controls(result.stdout)
    assert shown(WORKFLOW) in result.stdout and shown(ACT) in result.stdout


def test_reliability_plan_is_escaped(hostile):
    result = argus("reliability", "--from", ".", "-q")
    assert result.exit_code == 0, result.stderr
    no_raw_controls(result.stdout)
    assert f"workflow {shown(WORKFLOW)}: 2 hops, 4 runs from {shown(FILE)}" in result.stdout
    assert f"raising {shown(ACT)} from 0.5000" in result.stdout


@pytest.mark.parametrize("text", ["plain", "a`b", "`x`", "``", "a``b`c", " sp ", "", "|pipe|"])
def test_code_span_holds_any_text(text):
    """CommonMark reads back exactly the text: no backtick in an id closes the span early."""
    from markdown_it import MarkdownIt

    from argus_cli.render.base import code_span

    html = MarkdownIt("commonmark").renderInline(code_span(text))
    assert html.startswith("<code>") and html.endswith("</code>"), html
    inner = html[len("<code>") : -len("</code>")]
    assert inner.replace("&amp;", "&") == (text if text.strip() else text or " ")


TICKED = "hop`**bold**`[x](http://e.invalid)"


def test_markdown_outputs_keep_backticks_inside_code(tmp_path, monkeypatch):
    """A hop and workflow id with backticks, emphasis and a link stay code in every Markdown view:
    report, check (table and failed gates) and diff, parsed as GitHub renders tables."""
    from markdown_it import MarkdownIt

    monkeypatch.chdir(tmp_path)
    records: list[dict[str, object] | str] = [
        {"run_id": f"r{i}", "workflow_id": f"wf`{TICKED}", "hop_id": TICKED, "seq": 1,
         "status": "error" if i % 2 else "success"}
        for i in range(4)
    ]  # fmt: skip
    write_jsonl(tmp_path / "t.jsonl", records)
    parser = MarkdownIt("commonmark").enable("table")
    for args in (
        ["report", "t.jsonl", "-f", "markdown"],
        ["check", "t.jsonl", "-f", "markdown", "--min-e2e", "0.9"],
        ["diff", "t.jsonl", "t.jsonl", "-f", "markdown"],
    ):
        result = argus(*args, "-q")
        assert result.exit_code in (0, 1), result.stderr
        html = parser.render(result.stdout)
        assert "<a " not in html and "<strong>bold" not in html, args
        codes = re.findall("<code>(.*?)</code>", html)
        assert f"wf`{TICKED}" in codes, (args, codes)
        if args[0] != "check":  # check's gates here are per workflow: no hop is named
            assert TICKED in codes, (args, codes)


@pytest.mark.parametrize(
    "args",
    [["report", "--x\x1b[2Jy"], ["rep\x1bort"], ["report", "t.jsonl", "--format", "j\x1b[31ms"]],
)
def test_usage_errors_show_arguments_escaped(args):
    """Typer's usage errors quote the argument given; Rich prints its controls escaped, exit 2."""
    result = argus(*args)
    assert result.exit_code == 2
    no_raw_controls(result.output)
    assert "\\x1b" in result.output
