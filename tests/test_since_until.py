"""`--since/--until` everywhere: the settings file's since/until, diff, trace and query.

RUNS is hand-built so that each range's runs are worked out here. Workflow w, hops a -> b; a
run's date is its first hop's (SPEC position 1) start, in UTC:

    e1  a 2026-03-30T12:00Z                         ok
    e2  a 2026-03-31T23:30-02:00 = 2026-04-01T01:30Z  b error        (the local date is 03-31)
    e3  s skipped 2026-03-01 (seq 0), a 2026-04-02T09:00Z, b; intent  (s is not position 1)
    e4  a no started_at, b 2026-04-02T10:00Z                          (out of any range)
    e5  a 2026-04-03T00:00Z, b; outcome wrong                         failed

    --since 2026-04-01                -> e2 e3 e5
    --until 2026-03-31                -> e1
    --since 2026-04-01 --until 04-02  -> e2 e3
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tracebook import hop, write_jsonl
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.config import Config, date_range, load_config, settings_from
from argus_cli.converting import convert
from argus_cli.diagnostics import UsageError

ALL = ["e1", "e2", "e3", "e4", "e5"]

RUNS: list[dict[str, Any]] = [
    hop("e1", "a", 1, started_at="2026-03-30T12:00:00Z"),
    hop("e1", "b", 2),
    hop("e2", "a", 1, started_at="2026-03-31T23:30:00-02:00"),
    hop("e2", "b", 2, status="error"),
    {"kind": "intent", "run_id": "e3", "goal": "g", "constraints": []},
    hop("e3", "s", 0, status="skipped", started_at="2026-03-01T00:00:00Z"),
    hop("e3", "a", 1, started_at="2026-04-02T09:00:00Z"),
    hop("e3", "b", 2),
    hop("e4", "a", 1),
    hop("e4", "b", 2, started_at="2026-04-02T10:00:00Z"),
    hop("e5", "a", 1, started_at="2026-04-03T00:00:00Z"),
    hop("e5", "b", 2),
    {"kind": "outcome", "run_id": "e5", "correct": False},
]


@pytest.fixture
def project(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding runs.jsonl, as the current folder: no settings file above it is read."""
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "runs.jsonl", RUNS)
    return tmp_path


def cli(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args))


def run_ids(runner: CliRunner, *args: str) -> list[str]:
    result = cli(runner, "runs", "runs.jsonl", *args, "-f", "json", "-q")
    assert result.exit_code == 0, result.output
    return sorted(r["run_id"] for r in json.loads(result.stdout))


def query_rows(runner: CliRunner, source: str, sql: str, *args: str) -> list[dict[str, Any]]:
    result = cli(runner, "query", source, sql, "-f", "json", "-q", *args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    line: str = result.stderr
    return line


# --------------------------------------------------------------------------------------------
# The settings file: since and until, flag over file


@pytest.mark.parametrize(
    ("file", "flags", "expected"),
    [
        ("", [], ALL),
        ('since = "2026-04-01"\n', [], ["e2", "e3", "e5"]),
        ("since = 2026-04-01\n", [], ["e2", "e3", "e5"]),  # a TOML date, unquoted
        ('until = "2026-03-31"\n', [], ["e1"]),
        ('since = "2026-04-01"\nuntil = "2026-04-02"\n', [], ["e2", "e3"]),
        ("since = 2026-04-01T01:30:00Z\nuntil = 2026-04-02T09:00:00\n", [], ["e2", "e3"]),
        ('since = "2026-04-01"\n', ["--since", "2026-03-01"], ["e1", "e2", "e3", "e5"]),
        ('since = "2026-04-01"\n', ["--until", "2026-04-02"], ["e2", "e3"]),  # file + flag
        ('until = "2026-03-31"\n', ["--until", "2026-04-02T09:00:00Z"], ["e1", "e2", "e3"]),
    ],
)
def test_config_since_until_are_honoured_and_flags_win(
    runner: CliRunner, project: Path, file: str, flags: list[str], expected: list[str]
) -> None:
    (project / "argus.toml").write_text(file, encoding="utf-8")
    assert run_ids(runner, *flags) == expected
    report = cli(runner, "report", "runs.jsonl", "--json", "-q", *flags)
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["runs"] == len(expected)


def test_pyproject_since_and_check_honour_the_file(runner: CliRunner, project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.argus]\nuntil = "2026-04-01T23:59:59Z"\n', encoding="utf-8"
    )
    assert run_ids(runner) == ["e1", "e2"]
    # e1 ok, e2 failed: 0.5 holds, 0.6 does not.
    result = cli(runner, "check", "runs.jsonl", "--min-e2e", "0.5", "--json", "-q")
    assert result.exit_code == 0, result.output
    gates = {g["gate"]: g for g in json.loads(result.stdout)["gates"]}
    assert gates["min-e2e"]["value"] == 0.5
    assert cli(runner, "check", "runs.jsonl", "--min-e2e", "0.6", "-q").exit_code == 1
    # The flag wins: e3 (ok) joins, 2 of 3 hold 0.6.
    result = cli(runner, "check", "runs.jsonl", "--min-e2e", "0.6", "--until", "2026-04-02", "-q")
    assert result.exit_code == 0, result.output


def test_settings_from_takes_since_until_from_the_file() -> None:
    config = Config(since="2026-04-01", until="2026-04-02T10:00:00+02:00")
    settings = settings_from(config)
    assert (settings.since, settings.until) == date_range("2026-04-01", "2026-04-02T08:00:00Z")
    assert settings.until is not None and settings.until.hour == 8
    assert settings_from(config, until="2026-04-05").until == date_range(None, "2026-04-05")[1]
    assert date_range(None, None, config) == (settings.since, settings.until)
    assert date_range(None, None) == (None, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("since = 'yesterday'\n", "since must be a date YYYY-MM-DD or an RFC 3339 time, got"),
        ("until = 20260401\n", "until must be a date YYYY-MM-DD or an RFC 3339 time, got 20260401"),
        ("until = 10:00:00\n", "until must be a date YYYY-MM-DD or an RFC 3339 time, got"),
        ("since = '2026-02-30'\n", "since must be a date YYYY-MM-DD or an RFC 3339 time"),
        (
            "since = '2026-04-02'\nuntil = '2026-04-01'\n",
            "until must not be before since, got '2026-04-01' (since '2026-04-02')",
        ),
    ],
)
@pytest.mark.parametrize("command", ["report", "runs", "check", "diff"])
def test_bad_config_date_exits_2_naming_the_key(
    runner: CliRunner, project: Path, content: str, message: str, command: str
) -> None:
    (project / "argus.toml").write_text(content, encoding="utf-8")
    inputs = ["runs.jsonl", "runs.jsonl"] if command == "diff" else ["runs.jsonl"]
    error = one_line_error(cli(runner, command, *inputs))
    assert error.startswith(f"argus: error: {project / 'argus.toml'}: {message}")


def test_bad_pyproject_date_is_named_with_its_table(runner: CliRunner, project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.argus]\nsince = 'soon'\n", encoding="utf-8")
    error = one_line_error(cli(runner, "report", "runs.jsonl"))
    assert f"{project / 'pyproject.toml'}: tool.argus.since must be a date" in error
    with pytest.raises(UsageError, match=r"tool\.argus\.since must be a date"):
        load_config(project / "pyproject.toml")


def test_file_and_flag_bounds_that_cross_exit_2(runner: CliRunner, project: Path) -> None:
    (project / "argus.toml").write_text("since = '2026-04-02'\n", encoding="utf-8")
    error = one_line_error(cli(runner, "runs", "runs.jsonl", "--until", "2026-04-01", "-q"))
    assert error == (
        f"argus: error: since = '2026-04-02' in {project / 'argus.toml'} is after "
        "--until 2026-04-01\n"
    )


# --------------------------------------------------------------------------------------------
# argus diff: both sides filtered


def dated_runs(prefix: str, day: str, n: int, failing: int) -> list[dict[str, Any]]:
    """n runs of a -> b started on `day`; b errs in the first `failing`."""
    records: list[dict[str, Any]] = []
    for i in range(n):
        run = f"{prefix}{i}"
        records.append(hop(run, "a", 1, started_at=f"{day}T10:00:00Z"))
        records.append(hop(run, "b", 2, status="error" if i < failing else "success"))
    return records


@pytest.fixture
def sides(project: Path) -> Path:
    """base: March all ok, April half failed; candidate: the other way round. Both 15 of 20."""
    write_jsonl(
        project / "base.jsonl",
        dated_runs("m", "2026-03-15", 10, 0) + dated_runs("a", "2026-04-15", 10, 5),
    )
    write_jsonl(
        project / "candidate.jsonl",
        dated_runs("m", "2026-03-15", 10, 5) + dated_runs("a", "2026-04-15", 10, 0),
    )
    return project


def e2e(runner: CliRunner, *args: str) -> tuple[float, float, str, int]:
    result = cli(runner, "diff", "base.jsonl", "candidate.jsonl", "--json", "-q", *args)
    assert result.exit_code in (0, 1), result.output
    (workflow,) = json.loads(result.stdout)["workflows"]
    change = next(c for c in workflow["changes"] if c["metric"] == "end_to_end_success_rate")
    return change["base"], change["candidate"], change["verdict"], result.exit_code


def test_diff_with_since_until_filters_both_traces(runner: CliRunner, sides: Path) -> None:
    gate = ("--max-regression", "0.1")
    assert e2e(runner, *gate) == (0.75, 0.75, "unchanged", 0)
    assert e2e(runner, "--since", "2026-04-01", *gate) == (0.5, 1.0, "better", 0)
    # 10 against 10, 1.0 to 0.5: z = 0.5 / sqrt(0.75 * 0.25 * 0.2) = 2.58, p = 0.0098
    assert e2e(runner, "--until", "2026-03-31", *gate) == (1.0, 0.5, "worse", 1)
    (sides / "argus.toml").write_text("until = '2026-03-31'\n", encoding="utf-8")
    assert e2e(runner, *gate) == (1.0, 0.5, "worse", 1)
    assert e2e(runner, "--until", "2026-12-31", *gate) == (0.75, 0.75, "unchanged", 0)


def test_diff_side_with_no_run_in_range_exits_2(runner: CliRunner, sides: Path) -> None:
    write_jsonl(sides / "march.jsonl", dated_runs("m", "2026-03-15", 10, 0))
    result = cli(runner, "diff", "base.jsonl", "march.jsonl", "--since", "2026-04-01", "-q")
    assert "no runs with a first hop started since 2026-04-01" in one_line_error(result)


def test_diff_prunes_partitions_of_a_dataset(runner: CliRunner, sides: Path) -> None:
    convert(["base.jsonl"], "base_ds", partition=True, quiet=True)
    corrupt = sides / "base_ds" / "date=2026-03-15" / "workflow_id=w" / "part-9.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    assert cli(runner, "diff", "base_ds", "candidate.jsonl", "-q").exit_code == 2  # read
    args = ("base_ds", "candidate.jsonl", "--since", "2026-04-01", "--json", "-q")
    result = cli(runner, "diff", *args)
    assert result.exit_code == 0, result.output
    (workflow,) = json.loads(result.stdout)["workflows"]
    change = next(c for c in workflow["changes"] if c["metric"] == "end_to_end_success_rate")
    assert (change["base"], change["candidate"]) == (0.5, 1.0)


# --------------------------------------------------------------------------------------------
# argus trace: the run must be in range


def test_trace_of_a_run_in_range(runner: CliRunner, project: Path) -> None:
    result = cli(runner, "trace", "runs.jsonl", "e3", "--since", "2026-04-02", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["run"]["run_id"] == "e3"
    assert [h["hop_id"] for h in data["hops"]] == ["a", "b", "s"]  # the skipped hop too


@pytest.mark.parametrize(
    ("run", "args", "message"),
    [
        (
            "e1",
            ("--since", "2026-04-01"),
            "run 'e1' is outside the --since/--until range: its first hop started "
            "2026-03-30T12:00:00 (UTC)",
        ),
        (
            "e2",
            ("--until", "2026-03-31"),
            "run 'e2' is outside the --since/--until range: its first hop started "
            "2026-04-01T01:30:00 (UTC)",
        ),
        (
            "e4",
            ("--since", "2026-01-01"),
            "run 'e4' is outside the --since/--until range: its first hop has no started_at",
        ),
        (
            "nope",
            ("--since", "2026-01-01"),
            "run 'nope' is not in runs.jsonl within the --since/--until range",
        ),
        ("e1", ("--since", "2026-04-02", "--until", "2026-04-01"), "--since 2026-04-02 is after"),
        ("e1", ("--until", "tomorrow"), "--until 'tomorrow': expected a date YYYY-MM-DD"),
    ],
)
def test_trace_of_a_run_out_of_range_exits_2_with_one_line(
    runner: CliRunner, project: Path, run: str, args: tuple[str, ...], message: str
) -> None:
    error = one_line_error(cli(runner, "trace", "runs.jsonl", run, *args))
    assert error.startswith(f"argus: error: {message}")


def test_trace_ignores_the_settings_file(runner: CliRunner, project: Path) -> None:
    (project / "argus.toml").write_text("since = '2026-04-01'\n", encoding="utf-8")
    assert cli(runner, "trace", "runs.jsonl", "e1").exit_code == 0


def test_trace_in_a_dataset_pruned_by_the_range(runner: CliRunner, project: Path) -> None:
    convert(["runs.jsonl"], "ds", partition=True, quiet=True)
    ok = cli(runner, "trace", "ds", "e5", "--since", "2026-04-03", "-q")
    assert ok.exit_code == 0, ok.output
    error = one_line_error(cli(runner, "trace", "ds", "e1", "--since", "2026-04-03", "-q"))
    assert error.startswith("argus: error: run 'e1' is not in ")
    assert error.endswith(" within the --since/--until range\n")


# --------------------------------------------------------------------------------------------
# argus query: hops, intents and outcomes of the runs in range only


def test_query_returns_only_the_rows_of_runs_in_range(runner: CliRunner, project: Path) -> None:
    hops_sql = "SELECT run_id, hop_id, position FROM hops ORDER BY run_id, position NULLS LAST"
    every = query_rows(runner, "runs.jsonl", hops_sql)
    assert sorted({r["run_id"] for r in every}) == ALL
    ranged = query_rows(runner, "runs.jsonl", hops_sql, "--since", "2026-04-01")
    assert [(r["run_id"], r["hop_id"], r["position"]) for r in ranged] == [
        ("e2", "a", 1),
        ("e2", "b", 2),
        ("e3", "a", 1),
        ("e3", "b", 2),
        ("e3", "s", None),  # skipped: kept with its run, though it started in March
        ("e5", "a", 1),
        ("e5", "b", 2),
    ]
    window = ("--since", "2026-04-01", "--until", "2026-04-02")
    assert query_rows(runner, "runs.jsonl", "SELECT run_id FROM intents", *window) == [
        {"run_id": "e3"}
    ]
    assert query_rows(runner, "runs.jsonl", "SELECT run_id FROM outcomes", *window) == []
    assert query_rows(
        runner, "runs.jsonl", "SELECT run_id FROM outcomes", "--since", "2026-04-03"
    ) == [{"run_id": "e5"}]
    counts = query_rows(
        runner,
        "runs.jsonl",
        "SELECT count(DISTINCT run_id) AS runs FROM hop_facts",
        "--until",
        "2026-03-31",
    )
    assert counts == [{"runs": 1}]  # e1; the metric view reads the filtered hops too


def test_query_with_no_run_in_range_is_empty_and_says_so(runner: CliRunner, project: Path) -> None:
    sql = "SELECT run_id FROM hops"
    result = cli(runner, "query", "runs.jsonl", sql, "-f", "json", "--since", "2027-01-01")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert result.stderr == (
        "argus: no runs with a first hop started in the --since/--until range\n"
    )
    assert query_rows(runner, "runs.jsonl", sql, "--since", "2027-01-01") == []  # -q: silent


def test_query_prunes_partitions_and_agrees_with_the_file(runner: CliRunner, project: Path) -> None:
    convert(["runs.jsonl"], "ds", partition=True, quiet=True)
    corrupt = project / "ds" / "date=2026-03-30" / "workflow_id=w" / "part-9.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    sql = "SELECT run_id, hop_id FROM hops ORDER BY ALL"
    assert cli(runner, "query", "ds", sql).exit_code == 2  # the corrupt part is read
    window = ("--since", "2026-04-01", "--until", "2026-04-02")
    from_dataset = query_rows(runner, "ds", sql, *window)
    assert from_dataset == query_rows(runner, "runs.jsonl", sql, *window)
    assert sorted({r["run_id"] for r in from_dataset}) == ["e2", "e3"]


def test_query_bad_dates_are_usage_errors(runner: CliRunner, project: Path) -> None:
    error = one_line_error(
        cli(
            runner, "query", "runs.jsonl", "SELECT 1", "--since", "2026-04-02", "--until", "2026-04"
        )
    )
    assert error.startswith("argus: error: --until '2026-04': expected a date YYYY-MM-DD")
