"""argus check fails closed (issue 12): what the trace leaves out is never a pass.

- a malformed record that was skipped fails `max-bad-records` (default 0) over all the inputs;
- inputs that yield no run, and a workflow named by --workflow or the settings file that has no
  valid run, fail `min-runs` (exit 1 with the gate, not exit 2 and not a silent pass);
- a workflow none of whose runs succeeded does not pass `max-cascade-risk` (its risk is 0);
- each of these is a row in the table, Markdown and JSON, a JUnit testcase and a GitHub
  annotation. `argus report` still skips and names malformed records (exit 0).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_gates_tracegen import report_of, workflow_runs, write
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.gates import FAIL, PASS, GateSpec, evaluate

# 10 runs of a -> b, all succeed, cascade risk 0: every default gate holds.
GOOD = workflow_runs(10)
TORN = '{"run_id": "torn", "hop_id": "a", '


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no argus.toml above a fresh temporary folder
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, ["check", *args])


def gates_of(*args: str) -> dict[tuple[str | None, str], dict]:
    result = run(*args, "--json", "-q")
    assert result.exit_code in (0, 1), result.output
    return {(g["workflow_id"], g["gate"]): g for g in json.loads(result.stdout)["gates"]}


def with_bad_lines(path: Path, records: list[dict], bad: list[tuple[int, str]]) -> Path:
    """Write `records` as JSON Lines with each `(index, text)` inserted as a raw line."""
    lines = [json.dumps(r) for r in records]
    for index, text in sorted(bad, reverse=True):
        lines.insert(index, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def junit(args: list[str], target: Path) -> ET.Element:
    result = run(*args, "--junit", str(target), "-q")
    assert result.exit_code == 1, result.output
    return ET.parse(target).getroot()


# --------------------------------------------------------------------------------------------
# A malformed record


def test_one_torn_line_fails_the_gate_that_held_without_it(folder):
    clean = write(folder / "clean.jsonl", GOOD)
    torn = with_bad_lines(folder / "torn.jsonl", GOOD, [(5, TORN)])
    assert run(str(clean), "--min-e2e", "0.95").exit_code == 0
    result = run(torn.name, "--min-e2e", "0.95")
    assert result.exit_code == 1
    assert "argus: skipped record at torn.jsonl:6: invalid JSON" in result.stderr
    assert "1 of 3 gates failed" in result.stdout
    lines = result.stdout.splitlines()
    assert any(
        line.split()[:6] == ["(inputs)", "max-bad-records", "≤", "0", "1", "✗"] for line in lines
    )
    assert (
        "✗ (inputs) max-bad-records: 1 malformed record(s) of 21 skipped, above the maximum 0: "
        "raise --max-bad-records (max_bad_records in [check]) to allow them; the first: "
        "torn.jsonl:6: invalid JSON"
    ) in " ".join(result.stdout.split())


def test_a_wrongly_typed_record_fails_it_too(folder):
    bad = [(2, json.dumps({"run_id": "x", "hop_id": "a", "workflow_id": "w", "seq": "one"}))]
    trace = with_bad_lines(folder / "typed.jsonl", GOOD, bad)
    gate = gates_of(trace.name)[(None, "max-bad-records")]
    assert (gate["value"], gate["threshold"], gate["verdict"]) == (1, 0, FAIL)
    assert "the first: typed.jsonl:3: " in gate["reason"]


def test_clean_inputs_hold_it_and_say_so(folder):
    trace = write(folder / "t.jsonl", GOOD)
    result = run(str(trace), "--json", "-q")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [(g["workflow_id"], g["gate"], g["verdict"]) for g in data["gates"]] == [
        (None, "max-bad-records", PASS),
        ("w", "max-cascade-risk", PASS),
    ]
    assert data["gates"][0]["reason"] == "none of the 20 records was malformed"
    assert data["thresholds"]["max_bad_records"] == 0


def test_max_bad_records_allows_n_and_no_more(folder):
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(1, TORN), (7, "[1, 2]")])
    assert run(str(trace), "-q").exit_code == 1
    assert run(str(trace), "--max-bad-records", "1", "-q").exit_code == 1
    result = run(str(trace), "--max-bad-records", "2", "-q")
    assert result.exit_code == 0
    assert "≤ 2" in result.stdout
    gate = gates_of(str(trace), "--max-bad-records", "5")[(None, "max-bad-records")]
    assert gate["reason"] == "2 malformed record(s) of 22 skipped, within the maximum 5"


def test_the_settings_file_allows_them_and_the_flag_wins(folder):
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(1, TORN), (7, TORN)])
    (folder / "argus.toml").write_text("[check]\nmax_bad_records = 2\n", encoding="utf-8")
    assert run(str(trace), "-q").exit_code == 0
    assert run(str(trace), "--max-bad-records", "0", "-q").exit_code == 1
    (folder / "argus.toml").unlink()
    (folder / "pyproject.toml").write_text(
        "[tool.argus.check]\nmax_bad_records = 1\n", encoding="utf-8"
    )
    assert run(str(trace), "-q").exit_code == 1


def test_strict_still_exits_2_on_the_first_whatever_is_allowed(folder):
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(3, TORN)])
    for extra in ([], ["--max-bad-records", "10"]):
        result = run(str(trace), "--strict", *extra)
        assert result.exit_code == 2
        assert result.stdout == ""
        assert "t.jsonl:4: invalid JSON (--strict: malformed records are fatal)" in result.stderr


def test_report_still_skips_and_names_them(folder):
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(3, TORN)])
    result = CliRunner().invoke(app, ["report", trace.name])
    assert result.exit_code == 0
    assert "argus: skipped record at t.jsonl:4: invalid JSON" in result.stderr


def test_junit_and_github_name_the_bad_record(folder):
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(3, TORN)])
    root = junit([trace.name], folder / "junit.xml")
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    suite = root.find("testsuite[@name='argus check: (inputs)']")
    assert suite is not None and suite.get("failures") == "1"
    (case,) = suite.findall("testcase")
    assert (case.get("name"), case.get("classname")) == ("max-bad-records", "argus.(inputs)")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "fail"
    assert failure.get("message", "").endswith("the first: t.jsonl:4: invalid JSON")
    result = run(str(trace), "--github", "-q")
    assert result.exit_code == 1
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert line.startswith(
        "::error title=argus max-bad-records (inputs)::1 malformed record(s) of 21 skipped"
    )


def test_markdown_row(folder):
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(3, TORN)])
    result = run(str(trace), "--format", "markdown", "-q")
    assert result.exit_code == 1
    assert "| `(inputs)` | `max-bad-records` | ≤ 0 | 1 | ❌ fail |" in result.stdout
    assert "- `(inputs)` `max-bad-records`: 1 malformed record(s)" in result.stdout


# --------------------------------------------------------------------------------------------
# No run: the inputs yield none, or a named workflow has none


def test_inputs_with_no_run_fail_min_runs_with_exit_1(folder):
    skipped = folder / "skipped.jsonl"
    skipped.write_text(
        json.dumps({"run_id": "r", "hop_id": "a", "workflow_id": "w", "status": "skipped"}) + "\n",
        encoding="utf-8",
    )
    result = run(str(skipped), "-q")
    assert result.exit_code == 1
    assert "1 of 2 gates failed" in result.stdout
    assert (
        "✗ (inputs) min-runs: no run to judge: no hop records to analyse (only skipped hops, "
        "intents or outcomes)"
    ) in " ".join(result.stdout.split())
    gate = gates_of(str(skipped))[(None, "min-runs")]
    assert (gate["value"], gate["threshold"], gate["verdict"]) == (0, 1, FAIL)
    root = junit([str(skipped)], folder / "junit.xml")
    suite = root.find("testsuite[@name='argus check: (inputs)']")
    assert suite is not None
    assert [c.get("name") for c in suite.findall("testcase")] == ["max-bad-records", "min-runs"]
    assert suite.find("properties/property[@name='runs']").get("value") == "0"
    github = run(str(skipped), "--github", "-q").stdout
    assert "::error title=argus min-runs (inputs)::no run to judge: no hop records" in github


def test_every_record_malformed_but_an_intent_fails_both_gates(folder):
    trace = folder / "t.jsonl"
    trace.write_text(
        json.dumps({"kind": "intent", "run_id": "r", "goal": "g"})
        + "\n"
        + json.dumps({"run_id": "r", "hop_id": "a", "seq": "x"})
        + "\n",
        encoding="utf-8",
    )
    gates = gates_of(str(trace))
    assert [(k, g["verdict"]) for k, g in gates.items()] == [
        ((None, "max-bad-records"), FAIL),
        ((None, "min-runs"), FAIL),
    ]


def test_no_run_in_the_date_range_fails_min_runs(folder):
    trace = write(folder / "t.jsonl", GOOD)
    result = run(str(trace), "--since", "2030-01-01", "-q")
    assert result.exit_code == 1
    assert "(inputs) min-runs: no run to judge: no runs with a first hop started" in result.stdout


def test_a_named_workflow_without_a_run_fails_its_own_gate(folder):
    trace = write(folder / "t.jsonl", GOOD + workflow_runs(5, workflow="v", prefix="s"))
    result = run(str(trace), "-w", "w", "-w", "nope", "-q")
    assert result.exit_code == 1
    assert (
        "✗ nope min-runs: no valid run of workflow nope to judge (the inputs hold runs of: v, w)"
        in (result.stdout)
    )
    gates = gates_of(str(trace), "-w", "w", "-w", "nope")
    assert [(k, g["verdict"]) for k, g in gates.items()] == [
        ((None, "max-bad-records"), PASS),
        (("w", "max-cascade-risk"), PASS),
        (("nope", "min-runs"), FAIL),
    ]
    assert gates[("nope", "min-runs")]["value"] == 0
    # With a --min-runs floor, it is that floor that is missed.
    assert (
        gates_of(str(trace), "-w", "nope", "--min-runs", "5")[("nope", "min-runs")]["threshold"]
        == 5
    )
    root = junit([str(trace), "-w", "w", "-w", "nope"], folder / "junit.xml")
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["argus check: (inputs)", "argus check: w", "argus check: nope"]
    suite = root.findall("testsuite")[2]
    assert suite.find("properties/property[@name='runs']").get("value") == "0"
    assert suite.find("testcase/failure") is not None
    github = run(str(trace), "-w", "nope", "--github", "-q").stdout
    assert "::error title=argus min-runs (nope)::no valid run of workflow nope to judge" in github


def test_a_workflow_named_in_the_settings_file_too(folder):
    trace = write(folder / "t.jsonl", GOOD)
    (folder / "argus.toml").write_text('workflows = ["w", "gone"]\n', encoding="utf-8")
    result = run(str(trace), "-q")
    assert result.exit_code == 1
    assert "gone min-runs: no valid run of workflow gone to judge" in result.stdout


def test_a_named_workflow_whose_records_are_all_malformed(folder):
    bad = json.dumps({"run_id": "x", "hop_id": "a", "workflow_id": "v", "seq": "one"})
    trace = with_bad_lines(folder / "t.jsonl", GOOD, [(0, bad)])
    gates = gates_of(str(trace), "-w", "w", "-w", "v", "--max-bad-records", "1")
    assert gates[(None, "max-bad-records")]["verdict"] == PASS  # allowed ...
    assert gates[("v", "min-runs")]["verdict"] == FAIL  # ... but v still has no run


def test_unreadable_input_still_exits_2(folder):
    result = run(str(folder / "missing.jsonl"), "--junit", str(folder / "j.xml"))
    assert result.exit_code == 2 and result.stdout == ""
    assert not (folder / "j.xml").exists()
    (folder / "empty.jsonl").write_text("", encoding="utf-8")
    assert run(str(folder / "empty.jsonl")).exit_code == 2


# --------------------------------------------------------------------------------------------
# Every run failed


def test_an_all_failing_trace_does_not_pass_the_default_gates(folder):
    trace = write(folder / "t.jsonl", workflow_runs(10, errors={"b": 10}))
    report = CliRunner().invoke(app, ["report", str(trace), "--json"])
    assert json.loads(report.stdout)["cascade_risk_score"] == 0  # the risk alone would pass
    result = run(str(trace), "-q")
    assert result.exit_code == 1
    assert (
        "✗ w max-cascade-risk: cascade risk 0.000 is within the maximum 0.150, but none of the 10 "
        "runs succeeded: a low risk of silent cascades is no pass when every run fails"
    ) in " ".join(result.stdout.split())
    gate = gates_of(str(trace))[("w", "max-cascade-risk")]
    assert (gate["value"], gate["passed"], gate["verdict"]) == (0, False, FAIL)
    assert run(str(trace), "--max-cascade-risk", "1", "-q").exit_code == 1


def test_one_successful_run_is_judged_as_usual(folder):
    trace = write(folder / "t.jsonl", workflow_runs(10, errors={"b": 9}))
    assert run(str(trace), "-q").exit_code == 0


def test_the_rule_is_per_workflow(tmp_path):
    records = workflow_runs(10, workflow="ok") + workflow_runs(
        5, workflow="down", errors={"a": 5}, prefix="s"
    )
    result = evaluate(report_of(write(tmp_path / "t.jsonl", records)), GateSpec())
    assert [(g.workflow_id, g.gate, g.verdict) for g in result.gates] == [
        (None, "max-bad-records", PASS),
        ("down", "max-cascade-risk", FAIL),
        ("ok", "max-cascade-risk", PASS),
    ]


def test_max_bad_records_none_leaves_the_gate_off(tmp_path):
    report = report_of(write(tmp_path / "t.jsonl", GOOD))
    result = evaluate(report, GateSpec(max_bad_records=None))
    assert [g.gate for g in result.gates] == ["max-cascade-risk"]


# --------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "check.max_bad_records must be a whole number, 0 or more, got -1"),
        ("1.5", "check.max_bad_records must be a whole number, 0 or more, got 1.5"),
        ("true", "check.max_bad_records must be a whole number, 0 or more, got true"),
        ("'3'", "check.max_bad_records must be a whole number, 0 or more, got '3'"),
    ],
)
def test_a_bad_max_bad_records_exits_2_naming_the_key(folder, value, message):
    trace = write(folder / "t.jsonl", GOOD)
    (folder / "argus.toml").write_text(f"[check]\nmax_bad_records = {value}\n", encoding="utf-8")
    result = run(str(trace))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"argus: error: {folder / 'argus.toml'}: {message}")


def test_a_negative_flag_exits_2(folder):
    trace = write(folder / "t.jsonl", GOOD)
    result = run(str(trace), "--max-bad-records", "-1")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("argus: error: --max-bad-records must be 0 or more, got -1")
