"""The CLI through Typer's CliRunner: golden output per format, exit codes, stdout/stderr split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from goldens import ANSI, check_golden
from tracebook import TRACE_A, write_jsonl

from argus_cli.cli import app

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        (["report", "data/awkward.jsonl"], "report.txt"),
        (["report", "data/awkward.jsonl", "--json"], "report.json"),
        (["report", "data/awkward.jsonl", "--format", "markdown"], "report.md"),
        (["runs", "data/awkward.jsonl", "--failed"], "runs_failed.txt"),
        (["trace", "data/awkward.jsonl", "run2"], "trace_run2.txt"),
        (["trace", "data/awkward.jsonl", "run1"], "trace_run1.txt"),
        (
            [
                "query",
                "data/awkward.jsonl",
                "SELECT workflow_id, hop_id, count(*) AS n, avg(cost_usd) AS cost, "
                "any_value(tenant) AS tenant FROM hops GROUP BY ALL ORDER BY ALL",
                "--format",
                "csv",
            ],
            "query.csv",
        ),
    ],
)
def test_golden_output(runner, args, golden):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not ANSI.search(result.stdout)
    check_golden(golden, result.stdout)


def test_json_is_spec_section_7(runner):
    data = json.loads(runner.invoke(app, ["report", "data/awkward.jsonl", "--json"]).stdout)
    assert list(data)[:11] == [
        "schema_version",
        "inputs",
        "runs",
        "hop_executions",
        "end_to_end_success_rate",
        "predicted_end_to_end",
        "weakest_hop",
        "cascade_risk_score",
        "g_arvis_scores",
        "workflows",
        "findings",
    ]
    assert data["inputs"] == {"files": ["data/awkward.jsonl"], "records": 24, "bad_records": 0}
    assert [w["workflow_id"] for w in data["workflows"]] == ["triage-ü", "v", "w"]
    hop = data["workflows"][2]["hops"][2]
    assert hop["hop_id"] == "c" and hop["silent_error_rate"] is None  # null, never 0
    assert list(hop)[:17] == [
        "hop_id",
        "executions",
        "errors",
        "handled_errors",
        "checked",
        "wrong",
        "stage",
        "error_rate",
        "silent_error_rate",
        "pass_rate",
        "pass_rate_ci",
        "validation_coverage",
        "high_stakes_unvalidated",
        "cascade_contribution",
        "drift_rate",
        "median_position",
        "validated",
    ]
    assert data["g_arvis_scores"]["groundedness"] == pytest.approx(0.7)


def test_finding_gives_what_if_advice(runner):
    out = runner.invoke(app, ["report", "data/awkward.jsonl", "--format", "markdown"]).stdout
    assert (
        "a: 50% pass rate, validated on 50% of executions; raising its validation to 100% "
        "would cut cascade risk from 0.14 to 0.00"
    ) in out


def test_workflow_filter(runner):
    data = json.loads(
        runner.invoke(app, ["report", "data/awkward.jsonl", "-w", "v", "--json"]).stdout
    )
    assert data["runs"] == 2 and [w["workflow_id"] for w in data["workflows"]] == ["v"]
    result = runner.invoke(app, ["report", "data/awkward.jsonl", "-w", "nope"])
    assert result.exit_code == 2
    assert "no runs of workflow nope (the inputs hold: triage-ü, v, w)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["report", "data/missing.jsonl"],
            "argus: error: data/missing.jsonl: no such file or folder",
        ),
        (["report", "data/not_a_trace.csv"], "argus: error: data/not_a_trace.csv: not a trace"),
        (
            ["report", "data/awkward.jsonl", "--confident-threshold", "1.5"],
            "argus: error: --confident-threshold must be between 0 and 1, got 1.5",
        ),
        (
            ["trace", "data/awkward.jsonl", "no-such-run"],
            "argus: error: run 'no-such-run' is not in data/awkward.jsonl",
        ),
        (
            ["query", "data/awkward.jsonl", "SELECT nope FROM hops"],
            "argus: error: query failed: Binder Error",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_plain_line(runner, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not ANSI.search(result.stderr)


def test_bad_lines_warn_on_stderr_and_strict_exits_2(runner, tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [*TRACE_A, "{torn"])
    result = runner.invoke(app, ["report", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["inputs"]["bad_records"] == 1  # stdout stays pure JSON
    assert f"skipped record at {path}:{len(TRACE_A) + 1}: invalid JSON" in result.stderr
    quiet = runner.invoke(app, ["report", str(path), "--json", "--quiet"])
    assert quiet.stderr == ""
    strict = runner.invoke(app, ["report", str(path), "--strict"])
    assert strict.exit_code == 2 and strict.stdout == ""
    assert "--strict" in strict.stderr


def test_stdin(runner):
    data = (HERE / "data" / "awkward.jsonl").read_bytes()
    result = runner.invoke(app, ["report", "-", "--json"], input=data)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["inputs"]["files"] == ["<stdin>"]


def test_runs_lists_every_run_and_json(runner):
    rows = json.loads(runner.invoke(app, ["runs", "data/awkward.jsonl", "-f", "json"]).stdout)
    assert len(rows) == 8
    run2 = next(r for r in rows if r["run_id"] == "run2")
    assert (run2["origin_hop"], run2["blast_radius"], run2["observed_cascade"]) == ("a", 2, True)


def test_usage_errors_exit_2(runner):
    assert runner.invoke(app, ["report"]).exit_code == 2
    assert runner.invoke(app, ["report", "x", "--nope"]).exit_code == 2
    assert runner.invoke(app, []).exit_code in (0, 2)


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("argus ")


def test_runs_reads_the_confident_threshold_from_config(runner, tmp_path, monkeypatch):
    # run3's final confidence is 0.5: below the default 0.8, at the configured 0.5 it counts
    (tmp_path / "argus.toml").write_text("confident_threshold = 0.5\n", encoding="utf-8")
    trace = str(HERE / "data" / "awkward.jsonl")
    monkeypatch.chdir(tmp_path)
    rows = json.loads(runner.invoke(app, ["runs", trace, "-f", "json", "-q"]).stdout)
    assert next(r for r in rows if r["run_id"] == "run3")["observed_cascade"] is True
    flag = ["runs", trace, "-f", "json", "-q", "--confident-threshold", "0.8"]
    rows = json.loads(runner.invoke(app, flag).stdout)
    assert next(r for r in rows if r["run_id"] == "run3")["observed_cascade"] is False


def test_runs_shows_the_first_runs_in_a_table_and_all_in_json(tmp_path, runner, monkeypatch):
    """A large trace has millions of runs: a table shows the first RUNS_SHOWN unless --limit."""
    from argus_cli.cli import reading

    records = [
        {"run_id": f"r{i}", "hop_id": "h", "seq": 1, "status": "error" if i < 3 else "success"}
        for i in range(12)
    ]
    path = str(write_jsonl(tmp_path / "t.jsonl", records))
    monkeypatch.setattr(reading, "RUNS_SHOWN", 5)
    shown = runner.invoke(app, ["runs", path])
    assert shown.exit_code == 0
    assert "12 runs, 3 failed; the first 5 of 12 shown (--limit 0 shows all)" in shown.stdout
    assert sum(f"r{i} " in shown.stdout for i in range(12)) == 5
    assert all(f"r{i} " in shown.stdout for i in range(3))  # failed runs come first
    every = runner.invoke(app, ["runs", path, "--limit", "0"])
    assert sum(f"r{i} " in every.stdout for i in range(12)) == 12
    assert "shown" not in every.stdout
    as_json = json.loads(runner.invoke(app, ["runs", path, "-f", "json"]).stdout)
    assert len(as_json) == 12  # exports are whole unless a limit is asked for
    assert len(json.loads(runner.invoke(app, ["runs", path, "-f", "json", "-n", "2"]).stdout)) == 2
    failed = runner.invoke(app, ["runs", path, "--failed", "-n", "2"])
    assert "12 runs, 3 failed; the first 2 of 3 shown" in failed.stdout
    bad = runner.invoke(app, ["runs", path, "--limit", "-1"])
    assert bad.exit_code == 2 and "--limit must be 0 (all) or more, got -1" in bad.stderr
