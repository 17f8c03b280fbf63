"""argus check: every gate at, just above and just below its threshold; exit codes; outputs.

The trace `TRACE` (40 runs of a -> b) is built so every figure is a known fraction:

    a: validated 20, wrong 4  -> silent 0.2, coverage 0.5, pass rate 0.8
    b: validated 10, errors 2 -> pass rate 0.95, coverage 0.25; 10 high-stakes, all validated;
       3 of its 40 executions drifted -> drift rate 3/80 = 0.0375
    failed runs: 4 (a wrong) + 2 (b error) -> end to end 34/40 = 0.85, predicted 0.8 * 0.95
    cascade risk = 0.95 * 0.2 * (1 - 0.5) * (1 - 0.25) = 0.07125: 38 of 40 runs answered
       confidently (SPEC v2: the 2 whose final hop b errored gave no answer)
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from goldens import ANSI, check_golden
from test_gates_tracegen import report_of, workflow_runs, write
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.gates import COMPOSITE, FAIL, NO_DATA, PASS, GateSpec, evaluate, show_pair
from argus_cli.report import Report, WorkflowReport

HERE = Path(__file__).parent

TRACE = workflow_runs(
    40,
    hops=("a", "b"),
    validated={"a": 20, "b": 10},
    wrong={"a": 4},
    errors={"b": 2},
    high_stakes={"b": (10, 0)},
    drifted={"b": 3},
    scores={"groundedness": 0.8, "safety": 0.9},
)
STEP = 0.001  # "just above" and "just below"


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("gates") / "trace.jsonl", TRACE)


@pytest.fixture(scope="module")
def report(trace_path) -> Report:
    return report_of(trace_path)


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no argus.toml above a fresh temporary folder
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return CliRunner()


def test_the_trace_is_what_the_docstring_says(report):
    (wf,) = report.workflows
    a, b = wf.hops
    assert (a.silent_error_rate, a.validation_coverage, a.pass_rate) == (0.2, 0.5, 0.8)
    assert (b.error_rate, b.validation_coverage, b.pass_rate) == (0.05, 0.25, 0.95)
    assert (b.high_stakes, b.high_stakes_unvalidated) == (10, 0)
    assert wf.end_to_end_success_rate == 0.85
    assert wf.predicted_end_to_end == pytest.approx(0.76)
    assert wf.cascade_risk_score == pytest.approx(0.95 * 0.075)
    assert wf.drift.drift_rate == pytest.approx(3 / 80)


# --------------------------------------------------------------------------------------------
# Pure: the gate logic over a report whose value is set exactly


def _hop(wf: WorkflowReport, hop_id: str):
    return next(h for h in wf.hops if h.hop_id == hop_id)


Setter = Callable[[WorkflowReport, float], None]

# gate, subject, spec for a threshold T, how to set the judged value, "max" or "min"
GATES: list[tuple[str, str | None, Callable[[float], GateSpec], Setter, str]] = [
    (
        "max-cascade-risk",
        None,
        lambda t: GateSpec(max_cascade_risk=t),
        lambda wf, v: setattr(wf, "cascade_risk_score", v),
        "max",
    ),
    (
        "min-e2e",
        None,
        lambda t: GateSpec(max_cascade_risk=None, min_e2e=t),
        lambda wf, v: setattr(wf, "end_to_end_success_rate", v),
        "min",
    ),
    (
        "min-predicted-e2e",
        None,
        lambda t: GateSpec(max_cascade_risk=None, min_predicted_e2e=t),
        lambda wf, v: setattr(wf, "predicted_end_to_end", v),
        "min",
    ),
    (
        "min-pass-rate",
        "a",
        lambda t: GateSpec(max_cascade_risk=None, min_pass_rate=t),
        lambda wf, v: setattr(_hop(wf, "a"), "pass_rate", v),
        "min",
    ),
    (
        "min-pass-rate",
        "b",
        lambda t: GateSpec(max_cascade_risk=None, min_pass_rate_by_hop=(("b", t),)),
        lambda wf, v: setattr(_hop(wf, "b"), "pass_rate", v),
        "min",
    ),
    (
        "min-g-arvis",
        COMPOSITE,
        lambda t: GateSpec(max_cascade_risk=None, min_g_arvis=((COMPOSITE, t),)),
        lambda wf, v: setattr(wf.g_arvis_scores, "g_arvis", v),
        "min",
    ),
    (
        "min-g-arvis",
        "safety",
        lambda t: GateSpec(max_cascade_risk=None, min_g_arvis=(("safety", t),)),
        lambda wf, v: setattr(wf.g_arvis_scores, "safety", v),
        "min",
    ),
    (
        "max-drift-rate",
        None,
        lambda t: GateSpec(max_cascade_risk=None, max_drift_rate=t),
        lambda wf, v: setattr(wf.drift, "drift_rate", v),
        "max",
    ),
]


def _judged(report: Report, spec: GateSpec, setter: Setter, value: float, gate: str, subject):
    changed = copy.deepcopy(report)
    setter(changed.workflows[0], value)
    results = [g for g in evaluate(changed, spec).gates if (g.gate, g.subject) == (gate, subject)]
    assert len(results) == 1
    return results[0]


@pytest.mark.parametrize(("gate", "subject", "spec", "setter", "bound"), GATES)
@pytest.mark.parametrize("threshold", [0.15, 0.5, 0.95])
def test_gate_at_just_above_and_just_below_its_threshold(
    report, gate, subject, spec, setter, bound, threshold
):
    at = _judged(report, spec(threshold), setter, threshold, gate, subject)
    above = _judged(report, spec(threshold), setter, threshold + STEP, gate, subject)
    below = _judged(report, spec(threshold), setter, threshold - STEP, gate, subject)
    assert at.verdict == PASS  # thresholds are inclusive, max and min alike
    if bound == "max":
        assert (above.verdict, below.verdict) == (FAIL, PASS)
        assert "above the maximum" in above.reason
    else:
        assert (above.verdict, below.verdict) == (PASS, FAIL)
        assert "below the minimum" in below.reason
    assert at.threshold == threshold and at.value == threshold


def test_cascade_line_itself_passes_as_the_spec_says(report):
    """SPEC 4: *above* 0.15 is the problem; exactly 0.15 (and float noise on it) passes."""
    for value in (0.15, 0.15 + 1e-12, 0.1 + 0.05):
        assert _judged(report, GateSpec(), GATES[0][3], value, "max-cascade-risk", None).passed
    assert not _judged(
        report, GateSpec(), GATES[0][3], 0.15 + 1e-6, "max-cascade-risk", None
    ).passed


@pytest.mark.parametrize(("runs", "verdict"), [(100, PASS), (101, PASS), (99, FAIL)])
def test_min_runs_at_above_and_below(report, runs, verdict):
    spec = GateSpec(max_cascade_risk=None, min_runs=100)
    result = _judged(
        report, spec, lambda wf, v: setattr(wf, "runs", int(v)), runs, "min-runs", None
    )
    assert result.verdict == verdict
    if verdict == FAIL:
        assert result.reason.endswith("too little data to judge")


@pytest.mark.parametrize(("unvalidated", "verdict"), [(0, PASS), (1, FAIL), (2, FAIL)])
def test_high_stakes_validation_at_and_above_zero(report, unvalidated, verdict):
    spec = GateSpec(max_cascade_risk=None, require_high_stakes_validation=True)
    result = _judged(
        report,
        spec,
        lambda wf, v: setattr(_hop(wf, "b"), "high_stakes_unvalidated", int(v)),
        unvalidated,
        "require-high-stakes-validation",
        None,
    )
    assert result.verdict == verdict
    if unvalidated:
        assert f"{unvalidated} of 10 high-stakes executions were not validated (b " in result.reason


def test_a_gate_without_data_fails_as_no_data(report):
    spec = GateSpec(
        max_cascade_risk=None,
        min_g_arvis=(("variance", 0.5),),
        max_drift_rate=0.1,
        max_bad_records=None,
    )
    changed = copy.deepcopy(report)
    changed.workflows[0].drift.drift_rate = None
    result = evaluate(changed, spec)
    assert [g.verdict for g in result.gates] == [NO_DATA, NO_DATA]  # no hashes, no checksums
    assert not result.passed
    assert "variance is n/a" in result.gates[0].reason


def test_named_hop_floor_replaces_the_every_hop_floor(report):
    spec = GateSpec(
        max_cascade_risk=None,
        min_pass_rate=0.9,
        min_pass_rate_by_hop=(("a", 0.8),),
        max_bad_records=None,
    )
    gates = evaluate(report, spec).gates
    assert [(g.subject, g.threshold, g.verdict) for g in gates] == [
        ("a", 0.8, PASS),
        ("b", 0.9, PASS),
    ]


def test_a_named_hop_no_workflow_has_is_a_note_not_a_gate(report):
    result = evaluate(report, GateSpec(min_pass_rate_by_hop=(("nope", 0.5),)))
    assert [g.gate for g in result.gates] == ["max-bad-records", "max-cascade-risk"]
    assert "hop 'nope' applies to nothing" in result.notes[0]


def test_each_gate_is_judged_per_workflow(tmp_path):
    records = workflow_runs(10, workflow="x") + workflow_runs(
        10, workflow="y", validated={"a": 10}, wrong={"a": 5}, prefix="s"
    )
    report = report_of(write(tmp_path / "t.jsonl", records))
    result = evaluate(report, GateSpec(min_e2e=0.9))
    assert [(g.workflow_id, g.gate, g.verdict) for g in result.gates] == [
        (None, "max-bad-records", PASS),
        ("x", "max-cascade-risk", PASS),
        ("x", "min-e2e", PASS),
        ("y", "max-cascade-risk", PASS),
        ("y", "min-e2e", FAIL),
    ]


def test_shown_numbers_never_look_equal_when_they_differ():
    assert show_pair(0.9497, 0.95, "rate") == ("94.97%", "95.00%")
    assert show_pair(0.15000001, 0.15, "score") == ("0.15000001", "0.15000000")
    assert show_pair(0.95, 0.95, "rate") == ("95.0%", "95.0%")
    assert show_pair(None, 0.95, "rate") == ("n/a", "95.0%")
    assert show_pair(3, 0, "count") == ("3", "0")


# --------------------------------------------------------------------------------------------
# Through the CLI: the same thresholds as flags, against the report's own values


def _value(report: Report, gate: str) -> float:
    wf = report.workflows[0]
    return {
        "--max-cascade-risk": wf.cascade_risk_score,
        "--min-e2e": wf.end_to_end_success_rate,
        "--min-predicted-e2e": wf.predicted_end_to_end,
        "--min-pass-rate": min(h.pass_rate for h in wf.hops),
        "--min-g-arvis": wf.g_arvis_scores.g_arvis,
        "--max-drift-rate": wf.drift.drift_rate,
    }[gate]


@pytest.mark.parametrize(
    ("flag", "bound"),
    [
        ("--max-cascade-risk", "max"),
        ("--min-e2e", "min"),
        ("--min-predicted-e2e", "min"),
        ("--min-pass-rate", "min"),
        ("--min-g-arvis", "min"),
        ("--max-drift-rate", "max"),
    ],
)
def test_cli_gate_at_just_above_and_just_below(runner, trace_path, report, flag, bound):
    value = _value(report, flag)
    codes = []
    for threshold in (value, value - STEP, value + STEP):  # value at, above, below threshold
        result = runner.invoke(app, ["check", str(trace_path), flag, repr(threshold)])
        assert result.stderr == ""
        codes.append(result.exit_code)
    assert codes == ([0, 1, 0] if bound == "max" else [0, 0, 1])


@pytest.mark.parametrize(("flag", "dimension"), [("--min-g-arvis", "safety")])
def test_cli_dimension_gate(runner, trace_path, flag, dimension):
    for threshold, code in ((0.9, 0), (0.9 + STEP, 1), (0.9 - STEP, 0)):
        result = runner.invoke(app, ["check", str(trace_path), flag, f"{dimension}={threshold}"])
        assert result.exit_code == code, result.output


def test_cli_per_hop_pass_rate(runner, trace_path):
    args = ["check", str(trace_path), "--min-pass-rate", "0.9"]
    assert runner.invoke(app, args).exit_code == 1  # a is at 0.8
    assert runner.invoke(app, [*args, "--min-pass-rate", "a=0.8"]).exit_code == 0
    assert runner.invoke(app, [*args, "--min-pass-rate", "a=0.801"]).exit_code == 1


def test_cli_min_runs(runner, trace_path):
    codes = [
        runner.invoke(app, ["check", str(trace_path), "--min-runs", n]).exit_code
        for n in ("40", "41", "39")
    ]
    assert codes == [0, 1, 0]


def test_cli_high_stakes(runner, trace_path, tmp_path):
    args = ["check", "--require-high-stakes-validation"]
    assert runner.invoke(app, [*args, str(trace_path)]).exit_code == 0
    missed = write(
        tmp_path / "missed.jsonl",
        workflow_runs(40, validated={"b": 10}, high_stakes={"b": (10, 1)}),
    )
    result = runner.invoke(app, [*args, str(missed)])
    assert result.exit_code == 1
    assert "1 of 10 high-stakes executions were not validated (b 1)" in result.stdout


def test_cascade_risk_gate_is_on_by_default(runner, tmp_path):
    risky = write(tmp_path / "risky.jsonl", workflow_runs(40, validated={"a": 20}, wrong={"a": 8}))
    result = runner.invoke(app, ["check", str(risky)])  # risk 1 * 0.4 * 0.5 * 1 = 0.2
    assert result.exit_code == 1
    assert "cascade risk 0.200 is above the maximum 0.150" in result.stdout
    assert runner.invoke(app, ["check", str(risky), "--max-cascade-risk", "0.2"]).exit_code == 0


# --------------------------------------------------------------------------------------------
# Exit codes and output channels


def test_exit_0_when_every_gate_holds(runner, trace_path):
    result = runner.invoke(
        app,
        ["check", str(trace_path), "--min-e2e", "0.85", "--min-runs", "40", "--json"],
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["passed"] is True
    assert data["summary"] == {"gates": 4, "passed": 4, "failed": 0}
    assert [g["gate"] for g in data["gates"]] == [
        "max-bad-records",
        "min-runs",
        "max-cascade-risk",
        "min-e2e",
    ]
    assert data["gates"][3]["value"] == 0.85  # unrounded, as in argus report --json


def test_exit_1_json_names_the_failure(runner, trace_path):
    result = runner.invoke(app, ["check", str(trace_path), "--min-e2e", "0.9", "-f", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    failed = [g for g in data["gates"] if not g["passed"]]
    assert [(g["gate"], g["verdict"], g["threshold"], g["value"]) for g in failed] == [
        ("min-e2e", "fail", 0.9, 0.85)
    ]
    assert failed[0]["reason"] == (
        "observed end-to-end success 85.0% of 40 runs is below the minimum 90.0%"
    )


def test_no_data_is_exit_1(runner, trace_path):
    result = runner.invoke(app, ["check", str(trace_path), "--min-g-arvis", "variance=0.1"])
    assert result.exit_code == 1
    assert "no data" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-e2e", "1.5"], "--min-e2e must be between 0 and 1, got 1.5"),
        (["--max-cascade-risk", "-0.1"], "--max-cascade-risk must be between 0 and 1"),
        (["--min-pass-rate", "a=high"], "--min-pass-rate a=high: expected P or NAME=P"),
        (["--min-pass-rate", "=0.5"], "--min-pass-rate =0.5: the name before '=' is empty"),
        (["--min-g-arvis", "speed=0.5"], "--min-g-arvis speed=0.5: 'speed' is not one of"),
        (["--min-runs", "-1"], "--min-runs must be 0 or more, got -1"),
        (["--json", "--github"], "--github writes annotations to stdout"),
        (["--confident-threshold", "2"], "--confident-threshold must be between 0 and 1"),
    ],
)
def test_usage_errors_exit_2_with_one_plain_line(runner, trace_path, args, message):
    result = runner.invoke(app, ["check", str(trace_path), *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"argus: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not ANSI.search(result.stderr)


def test_unusable_input_exits_2(runner, tmp_path):
    result = runner.invoke(app, ["check", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "no such file or folder" in result.stderr
    assert runner.invoke(app, ["check"]).exit_code == 2


def test_help_documents_the_exit_codes(runner):
    text = runner.invoke(app, ["check", "--help"]).stdout
    assert "0 every gate held; 1 a gate failed" in " ".join(text.split())
    assert "2 usage or input error" in " ".join(text.split())


def test_table_lists_gates_and_failure_reasons(runner, trace_path):
    result = runner.invoke(app, ["check", str(trace_path), "--min-pass-rate", "0.9"])
    assert result.exit_code == 1
    assert not ANSI.search(result.stdout)
    assert "1 of 4 gates failed" in result.stdout
    assert re.search(r"w\s+min-pass-rate a\s+≥ 90.0%\s+80.0%\s+✗ fail", result.stdout)
    assert re.search(r"w\s+min-pass-rate b\s+≥ 90.0%\s+95.0%\s+✓ pass", result.stdout)
    assert "✗ w min-pass-rate: a: pass rate 80.0% (95% CI" in result.stdout


# --------------------------------------------------------------------------------------------
# Golden output on the shared awkward fixture (three workflows, unicode, nulls)

GOLDEN_ARGS = [
    "check",
    "data/awkward.jsonl",
    "--min-e2e",
    "0.5",
    "--min-pass-rate",
    "0.7",
    "--min-pass-rate",
    "solo=0.5",
    "--min-g-arvis",
    "0.6",
    "--min-g-arvis",
    "groundedness=0.8",
    "--max-drift-rate",
    "0.25",
    "--require-high-stakes-validation",
    "--min-runs",
    "2",
]


@pytest.mark.parametrize(
    ("extra", "golden"),
    [([], "check.txt"), (["--format", "markdown"], "check.md"), (["--json"], "check.json")],
)
def test_golden(monkeypatch, tmp_path, extra, golden):
    empty = tmp_path / "argus.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.chdir(HERE)
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, [*GOLDEN_ARGS, *extra, "--config", str(empty), "-q"])
    assert result.exit_code == 1, result.output
    check_golden(golden, result.stdout)
