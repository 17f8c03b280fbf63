"""argus diff: the z-test arithmetic, and two traces whose difference the test constructs.

Runs go a -> b -> c; a is validated on half its executions, c never.

REGRESSED: hop b's silent-error rate goes from 20 wrong of 400 validated (5%) to 60 of 400
(15%) over 1000 runs each: z = 0.10 / sqrt(0.1 * 0.9 * 2/400) = 4.71, p ~ 2e-6. A real drop;
cascade risk follows it, from 0.05 * 0.6 = 0.03 to 0.15 * 0.6 = 0.09 (untested).

NOISY: 20 of 200 (10%) to 26 of 200 (13%): a 3-point drop, above a 2-point gate, but
z = 0.03 / sqrt(0.115 * 0.885 * 2/200) = 0.94, p = 0.347: inside the noise, shown as such.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from goldens import ANSI, check_golden
from test_gates_tracegen import report_of, workflow_runs, write
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.diffing import diff_reports, pass_rate_test, two_proportion

HERE = Path(__file__).parent
RUNS = 1000


def b_wrong(wrong: int, validated: int, **extra) -> list[dict]:
    return workflow_runs(
        RUNS,
        hops=("a", "b", "c"),
        validated={"a": 500, "b": validated},
        wrong={"b": wrong},
        **extra,
    )


@pytest.fixture
def traces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    write(tmp_path / "base.jsonl", b_wrong(20, 400))
    write(tmp_path / "regressed.jsonl", b_wrong(60, 400, latency_ms=150.0))
    write(tmp_path / "noisy_base.jsonl", b_wrong(20, 200))
    write(tmp_path / "noisy.jsonl", b_wrong(26, 200))
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(app, ["diff", *args, "-q"])


# --------------------------------------------------------------------------------------------
# The arithmetic


def test_two_proportion_z_test_by_hand():
    z, p = two_proportion(20, 400, 60, 400) or (0.0, 0.0)
    assert z == pytest.approx(0.10 / math.sqrt(0.1 * 0.9 * 2 / 400))
    assert z == pytest.approx(4.714, abs=1e-3)
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert p < 1e-5
    z, p = two_proportion(20, 200, 26, 200) or (0.0, 0.0)
    assert z == pytest.approx(0.03 / math.sqrt(0.115 * 0.885 * 2 / 200))
    assert p == pytest.approx(0.347, abs=1e-3)


def test_two_proportion_edge_cases():
    assert two_proportion(0, 0, 1, 10) is None  # nothing to compare
    assert two_proportion(0, 10, 0, 20) == (0.0, 1.0)  # both all-0: no spread, no change
    assert two_proportion(10, 10, 20, 20) == (0.0, 1.0)
    z, p = two_proportion(5, 10, 3, 10) or (0.0, 0.0)
    assert z < 0 and 0 < p < 1  # lower in the candidate: negative z, two-sided p


def test_pass_rate_test_is_the_error_test_when_nothing_is_checked(tmp_path):
    base = report_of(write(tmp_path / "b.jsonl", workflow_runs(200, errors={"a": 10})))
    cand = report_of(write(tmp_path / "c.jsonl", workflow_runs(300, errors={"a": 30})))
    hop_b, hop_c = base.workflows[0].hops[0], cand.workflows[0].hops[0]
    z, p = pass_rate_test(hop_b, hop_c) or (0.0, 0.0)
    z_errors, p_errors = two_proportion(10, 200, 30, 300) or (0.0, 0.0)
    assert (z, p) == (pytest.approx(-z_errors), pytest.approx(p_errors))


def test_pass_rate_test_is_the_silent_error_test_when_nothing_errs(tmp_path):
    base = report_of(write(tmp_path / "b.jsonl", b_wrong(20, 400)))
    cand = report_of(write(tmp_path / "c.jsonl", b_wrong(60, 400)))
    z, p = pass_rate_test(base.workflows[0].hops[1], cand.workflows[0].hops[1]) or (0.0, 0.0)
    z_silent, p_silent = two_proportion(20, 400, 60, 400) or (0.0, 0.0)
    assert (z, p) == (pytest.approx(-z_silent), pytest.approx(p_silent))


def test_pass_rate_is_untested_when_only_one_side_was_checked(tmp_path):
    base = report_of(write(tmp_path / "b.jsonl", workflow_runs(50)))
    cand = report_of(write(tmp_path / "c.jsonl", b_wrong(20, 400)))
    assert pass_rate_test(base.workflows[0].hops[1], cand.workflows[0].hops[1]) is None
    diff = diff_reports(base, cand, max_regression=0.0)
    change = diff.workflows[0].hops[1].changes[0]
    assert (change.metric, change.verdict) == ("pass_rate", "untested")
    assert not change.regression(0.0)


# --------------------------------------------------------------------------------------------
# Constructed traces: a real regression is flagged, noise is not


def _changes(data: dict, hop: str | None) -> dict[str, dict]:
    (wf,) = data["workflows"]
    changes = wf["changes"] if hop is None else next(h for h in wf["hops"] if h["hop_id"] == hop)
    if hop is not None:
        changes = changes["changes"]
    return {c["metric"]: c for c in changes}


def test_a_real_regression_is_flagged_and_fails(traces):
    result = run("base.jsonl", "regressed.jsonl", "--max-regression", "0.02", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    b = _changes(data, "b")
    assert b["pass_rate"]["base"] == 0.95 and b["pass_rate"]["candidate"] == 0.85
    assert b["pass_rate"]["verdict"] == "worse" and b["pass_rate"]["p_value"] < 1e-5
    assert b["silent_error_rate"]["verdict"] == "worse"
    assert b["validation_coverage"]["verdict"] == "unchanged"
    assert b["mean_latency_ms"]["verdict"] == "untested"  # shown, never gated
    assert b["mean_latency_ms"]["relative_change"] == pytest.approx(0.5)
    wf = _changes(data, None)
    assert wf["end_to_end_success_rate"]["verdict"] == "worse"
    assert wf["cascade_risk_score"]["verdict"] == "untested"
    assert wf["cascade_risk_score"]["base"] == pytest.approx(0.03)
    assert wf["cascade_risk_score"]["candidate"] == pytest.approx(0.09)
    assert [(r["hop_id"], r["metric"]) for r in data["regressions"]] == [
        (None, "end_to_end_success_rate"),
        ("b", "pass_rate"),
        ("b", "silent_error_rate"),
    ]
    assert _changes(data, "a")["pass_rate"]["verdict"] == "unchanged"


def test_a_drop_inside_the_noise_is_shown_as_noise_and_passes(traces):
    result = run("noisy_base.jsonl", "noisy.jsonl", "--max-regression", "0.02", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    b = _changes(data, "b")["silent_error_rate"]
    assert b["change"] == pytest.approx(0.03)  # more than the 2-point gate ...
    assert b["verdict"] == "noise"  # ... but not significant
    assert b["p_value"] == pytest.approx(0.347, abs=1e-3)
    assert data["regressions"] == [] and data["passed"] is True
    table = run("noisy_base.jsonl", "noisy.jsonl", "--max-regression", "0.02").stdout
    assert re.search(
        r"b\s+silent errors\s+10\.0%\s+13\.0%\s+\+3\.0 pts\s+0\.347\s+within noise", table
    )
    assert "no significant regression beyond 2.0 pts" in table


def test_the_gate_threshold_is_inclusive(traces):
    # b's pass rate drops by 0.95 - 0.85 = 0.1 (as floats, 0.0999...): the largest drop.
    assert run("base.jsonl", "regressed.jsonl", "--max-regression", "0.1").exit_code == 0
    assert run("base.jsonl", "regressed.jsonl", "--max-regression", "0.101").exit_code == 0
    assert run("base.jsonl", "regressed.jsonl", "--max-regression", "0.099").exit_code == 1


def test_without_a_gate_diff_only_reports(traces):
    result = run("base.jsonl", "regressed.jsonl")
    assert result.exit_code == 0
    assert "3 significant change(s) for the worse (no --max-regression gate)" in result.stdout


def test_an_improvement_is_better_not_a_regression(traces):
    result = run("regressed.jsonl", "base.jsonl", "--max-regression", "0", "--json")
    assert result.exit_code == 0
    assert _changes(json.loads(result.stdout), "b")["pass_rate"]["verdict"] == "better"


def test_alpha_decides_what_is_significant(traces):
    # p ~ 0.35: significant only with a (silly) alpha of 0.5
    result = run("noisy_base.jsonl", "noisy.jsonl", "--max-regression", "0.02", "--alpha", "0.5")
    assert result.exit_code == 1


def test_gate_from_the_config_file(traces):
    (traces / "argus.toml").write_text("[diff]\nmax_regression = 0.02\n", encoding="utf-8")
    assert run("base.jsonl", "regressed.jsonl").exit_code == 1
    assert run("base.jsonl", "regressed.jsonl", "--max-regression", "0.5").exit_code == 0


def test_added_and_removed_hops_and_workflows(traces):
    write(
        traces / "grown.jsonl",
        workflow_runs(
            RUNS, hops=("a", "b", "c", "d"), validated={"a": 500, "b": 400}, wrong={"b": 20}
        )
        + workflow_runs(10, workflow="new", prefix="n"),
    )
    result = run("base.jsonl", "grown.jsonl", "--max-regression", "0.02", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [(w["workflow_id"], w["status"]) for w in data["workflows"]] == [
        ("new", "added"),
        ("w", "both"),
    ]
    hops = {h["hop_id"]: h for h in data["workflows"][1]["hops"]}
    assert hops["d"]["status"] == "added"
    assert hops["d"]["changes"][0]["verdict"] == "n/a"
    table = run("grown.jsonl", "base.jsonl").stdout
    assert re.search(r"d\s+only in the base", table)
    assert re.search(r"\(workflow\)\s+only in the base", table)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-regression", "2"], "--max-regression must be between 0 and 1, got 2.0"),
        (["--alpha", "0"], "--alpha must be between 0 and 1 (exclusive), got 0.0"),
        (["--workflow", "nope"], "no runs of workflow nope"),
    ],
)
def test_usage_errors_exit_2(traces, args, message):
    result = run("base.jsonl", "regressed.jsonl", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"argus: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_side_exits_2(traces):
    result = run("base.jsonl", "missing.jsonl")
    assert result.exit_code == 2 and result.stdout == ""
    assert "missing.jsonl: no such file or folder" in result.stderr


def test_help_documents_the_exit_codes():
    text = " ".join(CliRunner().invoke(app, ["diff", "--help"]).stdout.split())
    assert "Exit codes: 0 no significant regression" in text
    assert "2 usage or input error" in text


# --------------------------------------------------------------------------------------------
# Golden output


@pytest.mark.parametrize(("extra", "golden"), [([], "diff.txt"), (["-f", "markdown"], "diff.md")])
def test_golden(traces, extra, golden):
    (traces / "argus.toml").write_text("", encoding="utf-8")  # isolate from any other config
    result = run("base.jsonl", "regressed.jsonl", "--max-regression", "0.02", *extra)
    assert result.exit_code == 1
    assert not ANSI.search(result.stdout)
    check_golden(golden, result.stdout)
