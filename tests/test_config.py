"""Configuration: where the file is found, flag over file over default, and bad files (exit 2)."""

from __future__ import annotations

import json
import re

import pytest
from test_gates_tracegen import workflow_runs, write
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.config import (
    Config,
    diff_thresholds,
    find_config,
    gate_spec,
    load_config,
    settings_from,
)
from argus_cli.diagnostics import UsageError
from argus_cli.findings import CASCADE_LINE
from argus_cli.gates import GateSpec
from argus_cli.report import G_ARVIS_DIMENSIONS, Settings

ANSI = re.compile(r"\x1b\[")

# 40 runs of a -> b; a: silent 0.2 at coverage 0.5, b never validated -> cascade risk
# 1.0 * 0.2 * (1 - 0.5) * (1 - 0) = 0.1 (all confident).
# With a confident threshold above the final confidence 0.9, no run is confident: risk 0.
TRACE = workflow_runs(40, validated={"a": 20}, wrong={"a": 4}, confidence=0.9)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with a trace, as the current folder; nothing above it is read."""
    root = tmp_path / "project"
    write(root / "traces" / "t.jsonl", TRACE)
    monkeypatch.chdir(root)
    monkeypatch.setenv("NO_COLOR", "1")
    return root


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def check_json(*args: str) -> dict:
    result = run("check", "traces", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def report_json(*args: str) -> dict:
    result = run("report", "traces", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --------------------------------------------------------------------------------------------
# Finding the file


def test_found_from_the_current_folder_upwards(project):
    (project / "argus.toml").write_text("[check]\nmin_e2e = 0.5\n", encoding="utf-8")
    deep = project / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == project / "argus.toml"
    assert load_config(start=deep).check.min_e2e == 0.5


def test_argus_toml_comes_before_pyproject_in_the_same_folder(project):
    (project / "pyproject.toml").write_text("[tool.argus]\nmin_runs = 1\n", encoding="utf-8")
    assert find_config(project) == project / "pyproject.toml"
    (project / "argus.toml").write_text("", encoding="utf-8")
    assert find_config(project) == project / "argus.toml"


def test_pyproject_without_tool_argus_is_passed_over(project):
    (project / "argus.toml").write_text("[check]\nmin_runs = 3\n", encoding="utf-8")
    inner = project / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert find_config(inner) == project / "argus.toml"


def test_pyproject_tool_argus(project):
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.argus]\nconfident_threshold = 0.95\n\n"
        "[tool.argus.check]\nmin_e2e = 0.99\n",
        encoding="utf-8",
    )
    data = check_json("-q")
    assert [g["gate"] for g in data["gates"]] == ["max-bad-records", "max-cascade-risk", "min-e2e"]
    assert data["gates"][1]["value"] == 0.0  # confident threshold 0.95 > 0.9: no run confident
    assert data["gates"][2]["threshold"] == 0.99


def test_no_file_anywhere_is_the_defaults(project):
    assert load_config(start=project) == Config()
    assert settings_from(Config()) == Settings()
    assert gate_spec(Config()) == GateSpec(max_cascade_risk=CASCADE_LINE)
    assert diff_thresholds(Config()) == (None, 0.05)


def test_the_file_used_is_named_on_stderr(project):
    (project / "argus.toml").write_text("", encoding="utf-8")
    result = run("check", "traces")
    assert result.stderr == f"argus: settings from {project / 'argus.toml'}\n"
    assert run("check", "traces", "-q").stderr == ""


def test_explicit_config_wins_over_the_found_one(project, tmp_path):
    (project / "argus.toml").write_text("[check]\nmin_e2e = 0.99\n", encoding="utf-8")
    other = tmp_path / "ci.toml"
    other.write_text("[check]\nmin_e2e = 0.5\n", encoding="utf-8")
    data = check_json("--config", str(other), "-q")
    assert data["thresholds"]["min_e2e"] == 0.5


# --------------------------------------------------------------------------------------------
# Flag over file over default


@pytest.mark.parametrize(
    ("file", "flags", "expected"),
    [
        ("", [], CASCADE_LINE),  # default
        ("[check]\nmax_cascade_risk = 0.05\n", [], 0.05),  # file over default
        ("[check]\nmax_cascade_risk = 0.05\n", ["--max-cascade-risk", "0.3"], 0.3),  # flag
        ("", ["--max-cascade-risk", "0.3"], 0.3),
    ],
)
def test_precedence_of_a_gate(project, file, flags, expected):
    (project / "argus.toml").write_text(file, encoding="utf-8")
    data = check_json("-q", *flags)
    gate = data["gates"][1]
    assert (gate["gate"], gate["threshold"]) == ("max-cascade-risk", expected)
    # risk 0.1: fails only the 0.05 threshold
    assert data["passed"] is (expected > 0.1)


def test_precedence_per_hop_and_per_dimension(project):
    (project / "argus.toml").write_text(
        "[check]\n"
        'min_pass_rate = { "*" = 0.9, a = 0.7, b = 0.99 }\n'
        "min_g_arvis = { g_arvis = 0.5, safety = 0.9 }\n",
        encoding="utf-8",
    )
    data = check_json("-q", "--min-pass-rate", "b=0.95", "--min-g-arvis", "0.4")
    assert data["thresholds"]["min_pass_rate"] == 0.9
    assert data["thresholds"]["min_pass_rate_by_hop"] == {"a": 0.7, "b": 0.95}  # flag won for b
    assert data["thresholds"]["min_g_arvis"] == {"g_arvis": 0.4, "safety": 0.9}


def test_high_stakes_flag_turns_a_file_setting_off(project):
    (project / "argus.toml").write_text(
        "[check]\nrequire_high_stakes_validation = true\nmin_runs = 100\n", encoding="utf-8"
    )
    assert check_json("-q")["thresholds"]["require_high_stakes_validation"] is True
    data = check_json("-q", "--no-require-high-stakes-validation", "--min-runs", "0")
    assert data["thresholds"]["require_high_stakes_validation"] is False
    assert data["thresholds"]["min_runs"] is None  # 0 turns the gate off


@pytest.mark.parametrize(
    ("file", "flags", "expected"),
    [
        ("", [], (0.8, 1.0)),
        ("confident_threshold = 0.95\ncost_budget_usd = 0.5\n", [], (0.95, 0.5)),
        (
            "confident_threshold = 0.95\ncost_budget_usd = 0.5\n",
            ["--confident-threshold", "0.7", "--cost-budget", "2"],
            (0.7, 2.0),
        ),
    ],
)
def test_report_honours_the_settings_with_the_same_precedence(project, file, flags, expected):
    (project / "argus.toml").write_text(file, encoding="utf-8")
    data = report_json("-q", *flags)
    settings = data["settings"]
    assert (settings["confident_threshold"], settings["cost_budget_usd"]) == expected
    assert data["cascade_risk_score"] == (0.0 if expected[0] > 0.9 else pytest.approx(0.1))
    # inference cost: 0.02 USD per run, 36 of 40 runs succeed
    cost_per_success = 40 * 0.02 / 36
    assert data["g_arvis_scores"]["inference_cost"] == pytest.approx(
        1 - cost_per_success / expected[1]
    )


def test_report_honours_g_arvis_weights_and_workflows(project):
    write(project / "traces" / "other.jsonl", workflow_runs(5, workflow="other", prefix="o"))
    baseline = report_json("-q")
    (project / "argus.toml").write_text(
        'workflows = ["w"]\n\n[g_arvis_weights]\nreliability = 0\naccuracy = 3\n',
        encoding="utf-8",
    )
    data = report_json("-q")
    assert [w["workflow_id"] for w in data["workflows"]] == ["w"]
    assert data["settings"]["g_arvis_weights"]["accuracy"] == 3.0
    assert data["settings"]["g_arvis_weights"]["safety"] == 1.0  # not named: keeps 1
    g = data["g_arvis_scores"]
    # groundedness and variance are n/a (no weight); reliability weighs 0
    assert g["g_arvis"] == pytest.approx(
        (3 * g["accuracy"] + g["inference_cost"] + g["safety"]) / 5
    )
    assert baseline["g_arvis_scores"]["g_arvis"] != g["g_arvis"]
    assert len(baseline["workflows"]) == 2
    flagged = report_json("-q", "--workflow", "other")  # the flag wins over the file
    assert [w["workflow_id"] for w in flagged["workflows"]] == ["other"]


def test_diff_thresholds_precedence():
    config = Config(max_regression=0.05, alpha=0.01)
    assert diff_thresholds(config) == (0.05, 0.01)
    assert diff_thresholds(config, max_regression=0.02, alpha=0.1) == (0.02, 0.1)
    with pytest.raises(UsageError, match="--alpha must be between 0 and 1"):
        diff_thresholds(config, alpha=1.0)


# --------------------------------------------------------------------------------------------
# Bad files: exit 2, naming the file and the key, nothing on stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("min_e2e = 0.9\n", "min_e2e is not a known key"),
        ("[check]\nmin_e2 = 0.9\n", "check.min_e2 is not a known key (known: max_cascade_risk"),
        ("[diff]\nmax_regresion = 0.1\n", "diff.max_regresion is not a known key"),
        ("[g_arvis_weights]\nspeed = 1\n", "g_arvis_weights.speed is not a known key"),
        ("[check]\nmin_g_arvis = { speed = 0.5 }\n", "check.min_g_arvis.speed is not a known"),
        ("[check]\nmin_e2e = 1.2\n", "check.min_e2e must be between 0 and 1, got 1.2"),
        ("[check]\nmin_e2e = 'high'\n", "check.min_e2e must be a number, got 'high'"),
        ("[check]\nmax_cascade_risk = true\n", "check.max_cascade_risk must be a number, got true"),
        ("[check]\nmin_pass_rate = { a = 2 }\n", "check.min_pass_rate.a must be between 0 and 1"),
        ("[check]\nmin_runs = 1.5\n", "check.min_runs must be a whole number"),
        ("[check]\nmin_runs = -3\n", "check.min_runs must be a whole number, 0 or more, got -3"),
        (
            "[check]\nrequire_high_stakes_validation = 'yes'\n",
            "check.require_high_stakes_validation must be true or false",
        ),
        ("check = 3\n", "check must be a table, got 3"),
        ("confident_threshold = -0.1\n", "confident_threshold must be between 0 and 1"),
        ("cost_budget_usd = 0\n", "cost_budget_usd must be above 0, got 0"),
        ("cost_budget_usd = nan\n", "cost_budget_usd must be a finite number"),
        ("workflows = 'w'\n", "workflows must be a list of workflow names"),
        ("[g_arvis_weights]\nsafety = -1\n", "g_arvis_weights.safety must be 0 or more"),
        (
            "[g_arvis_weights]\n" + "".join(f"{d} = 0\n" for d in G_ARVIS_DIMENSIONS),
            "g_arvis_weights must give at least one dimension a weight above 0",
        ),
        ("[diff]\nalpha = 0\n", "diff.alpha must be between 0 and 1 (exclusive)"),
        ("[check\nmin_e2e = 0.9\n", "invalid TOML"),
    ],
)
@pytest.mark.parametrize("command", ["check", "report"])
def test_bad_config_exits_2_naming_the_key(project, content, message, command):
    (project / "argus.toml").write_text(content, encoding="utf-8")
    result = run(command, "traces")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"argus: error: {project / 'argus.toml'}: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not ANSI.search(result.stderr)


def test_bad_pyproject_key_is_named_with_its_table(project):
    (project / "pyproject.toml").write_text("[tool.argus.check]\nmin_e2e = 7\n", encoding="utf-8")
    result = run("check", "traces")
    assert result.exit_code == 2
    assert f"{project / 'pyproject.toml'}: tool.argus.check.min_e2e must be between" in (
        result.stderr
    )


def test_explicit_config_errors(project, tmp_path):
    missing = run("check", "traces", "--config", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    plain = tmp_path / "pyproject.toml"
    plain.write_text("[project]\nname = 'x'\n", encoding="utf-8")
    result = run("check", "traces", "--config", str(plain))
    assert result.exit_code == 2 and "has no [tool.argus] table" in result.stderr


def test_a_broken_unrelated_pyproject_is_not_an_error(project):
    (project / "pyproject.toml").write_text("this is [not toml", encoding="utf-8")
    assert find_config(project) != project / "pyproject.toml"
    assert run("check", "traces").exit_code == 0


def test_a_broken_pyproject_with_argus_settings_is_an_error(project):
    (project / "pyproject.toml").write_text("[tool.argus.check\nmin_e2e = 0.9\n", encoding="utf-8")
    result = run("check", "traces")
    assert result.exit_code == 2
    assert f"{project / 'pyproject.toml'}: invalid TOML" in result.stderr


def test_bad_config_writes_no_junit(project):
    (project / "argus.toml").write_text("[check]\nnope = 1\n", encoding="utf-8")
    result = run("check", "traces", "--junit", "out/junit.xml")
    assert result.exit_code == 2
    assert not (project / "out").exists()
