"""JUnit XML (parsed back), GitHub Actions annotations and the step summary."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_gates_tracegen import report_of, workflow_runs, write
from typer.testing import CliRunner

from argus_cli.ci_outputs import github_annotations, junit_tree
from argus_cli.cli import app
from argus_cli.gates import GateSpec, evaluate

HERE = Path(__file__).parent

# Workflow "ok" holds every gate below; "bad" (10 runs, a validated on 5 and all 5 wrong:
# cascade risk 1.0 * 1.0 * 0.5 = 0.5, end to end 0.5) fails all three.
RECORDS = workflow_runs(40, workflow="ok") + workflow_runs(
    10, workflow="bad", validated={"a": 5}, wrong={"a": 5}, prefix="s"
)
ARGS = ["--min-e2e", "0.9", "--min-runs", "20"]


@pytest.fixture
def trace(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return write(tmp_path / "trace.jsonl", RECORDS)


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["check", *args, "-q"], env=env)


# --------------------------------------------------------------------------------------------
# JUnit


def test_junit_is_valid_xml_with_one_testcase_per_gate_and_workflow(trace, tmp_path):
    target = tmp_path / "reports" / "deep" / "junit.xml"  # folders are created
    result = run(str(trace), *ARGS, "--junit", str(target))
    assert result.exit_code == 1
    raw = target.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(raw)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "3", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "argus check: (inputs)",
        "argus check: bad",
        "argus check: ok",
    ]
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(
            len([c for c in cases if c.find("failure") is not None])
        )
        assert suite.find("properties/property[@name='runs']") is not None
    (clean,) = suites[0].findall("testcase")
    assert (clean.get("name"), clean.get("classname")) == ("max-bad-records", "argus.(inputs)")
    assert clean.find("failure") is None
    bad = {c.get("name"): c for c in suites[1].findall("testcase")}
    assert set(bad) == {"min-runs", "max-cascade-risk", "min-e2e"}
    assert all(c.get("classname") == "argus.bad" for c in bad.values())
    failure = bad["min-e2e"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "observed end-to-end success 50.0% of 10 runs is below the minimum 90.0%"
    )
    assert failure.get("type") == "fail"
    assert "threshold: min 90.0%\nvalue: 50.0%" in (failure.text or "")
    assert bad["min-runs"].find("failure").get("message").endswith("too little data to judge")
    ok = suites[2].findall("testcase")
    assert all(c.find("failure") is None and c.find("system-out") is not None for c in ok)


def test_junit_of_a_passing_check(trace, tmp_path):
    target = tmp_path / "junit.xml"
    assert run(str(trace), "-w", "ok", *ARGS, "--junit", str(target)).exit_code == 0
    root = ET.parse(target).getroot()
    assert (root.get("tests"), root.get("failures")) == ("4", "0")


def test_junit_keeps_unicode_and_drops_what_xml_cannot_hold(tmp_path):
    records = workflow_runs(5, workflow="triage-ü\x01回答", hops=("übersetzer", "b&<c>"))
    report = report_of(write(tmp_path / "t.jsonl", records))
    tree = junit_tree(evaluate(report, GateSpec(min_pass_rate=0.5)))
    path = tmp_path / "junit.xml"
    tree.write(path, encoding="utf-8", xml_declaration=True)
    root = ET.parse(path).getroot()  # parses: the control character is shown escaped
    suite = root.findall("testsuite")[1]  # after the inputs' suite
    assert suite.get("name") == "argus check: triage-ü\\x01回答"
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names == ["max-cascade-risk", "min-pass-rate übersetzer", "min-pass-rate b&<c>"]


def test_junit_unwritable_path_exits_2(trace, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = run(str(trace), "--junit", str(blocker / "junit.xml"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"argus: error: --junit {blocker / 'junit.xml'}: cannot write")


def test_no_junit_is_written_on_bad_input(trace, tmp_path):
    target = tmp_path / "junit.xml"
    result = run(str(tmp_path / "missing.jsonl"), "--junit", str(target))
    assert result.exit_code == 2
    assert not target.exists()


# --------------------------------------------------------------------------------------------
# GitHub Actions


def test_annotations_one_error_per_failed_gate(trace):
    result = run(str(trace), *ARGS, "--github")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert lines == [
        "::error title=argus min-runs (bad)::number of runs 10 is below the minimum 20: too "
        "little data to judge",
        "::error title=argus max-cascade-risk (bad)::cascade risk 0.500 is above the maximum 0.150",
        "::error title=argus min-e2e (bad)::observed end-to-end success 50.0%25 of 10 runs is "
        "below the minimum 90.0%25",
    ]
    # the annotations come first, then the usual table
    assert result.stdout.index("::error") < result.stdout.index("argus check ·")


def test_a_notice_when_everything_held(trace):
    result = run(str(trace), "-w", "ok", "--github")
    assert result.exit_code == 0
    assert result.stdout.startswith("::notice title=argus check::all 2 gates held\n")


def test_annotation_escaping(tmp_path):
    records = workflow_runs(10, workflow="a,b:c", validated={"a": 5}, wrong={"a": 5})
    report = report_of(write(tmp_path / "t.jsonl", records))
    (line,) = github_annotations(evaluate(report, GateSpec()))
    assert line.startswith("::error title=argus max-cascade-risk (a%2Cb%3Ac)::cascade risk")
    assert "\n" not in line


def test_step_summary_is_appended_when_set(trace, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result = run(str(trace), *ARGS, "--github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## argus check: ❌ 3 of 7 gates failed\n")
    assert "| `bad` | `min-e2e` | ≥ 90.0% | 50.0% | ❌ fail |" in text
    assert "### Failed gates" in text


def test_step_summary_untouched_without_github_flag(trace, tmp_path):
    summary = tmp_path / "summary.md"
    run(str(trace), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert not summary.exists()


def test_unwritable_step_summary_is_a_warning_not_a_lost_verdict(trace, tmp_path):
    result = CliRunner().invoke(
        app,
        ["check", str(trace), "-w", "ok", "--github"],
        env={"GITHUB_STEP_SUMMARY": str(tmp_path)},  # a folder: cannot append
    )
    assert result.exit_code == 0
    assert re.search(r"argus: cannot append to \$GITHUB_STEP_SUMMARY", result.stderr)
