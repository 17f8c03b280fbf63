"""`argus reliability` through CliRunner: golden tables, JSON, every option, every usage error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from goldens import ANSI, check_golden
from tracebook import TRACE_A, write_jsonl
from typer.testing import CliRunner

from argus_cli.cli import app

HERE = Path(__file__).parent


def ok(runner, *args: str) -> str:
    result = runner.invoke(app, ["reliability", *args])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def as_json(runner, *args: str) -> dict:
    return json.loads(ok(runner, *args, "--json"))


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        ("--agents 5 --p 0.97", "reliability_article.txt"),
        ("--p 0.99 --p 0.90 --p 0.95 --target 0.95", "reliability_unequal.txt"),
        ("--agents 5 --target 0.95", "reliability_target.txt"),
        (
            "--from data/awkward.jsonl -w triage-ü --set übersetzer=0.99 --target 0.9",
            "reliability_from.txt",
        ),
        ("--samples", "reliability_samples.txt"),
    ],
)
def test_golden_output(runner, args, golden):
    out = ok(runner, *args.split())
    assert not ANSI.search(out)
    check_golden(golden, out)


def _row(table: str, label: str) -> list[str]:
    words = label.split()
    line = next(x for x in table.splitlines() if x.split()[: len(words)] == words)
    return line.split()


def test_the_articles_table(runner):
    out = ok(runner, "--agents", "5", "--p", "0.97")
    assert out.startswith("5 agents at 0.97 each: end to end 0.8587\n")
    assert _row(out, "▸ 5") == ["▸", "5", "0.4437", "0.5905", "0.8587", "0.9510", "✓"]
    assert _row(out, "longest")[1:] == ["0", "0", "1", "5"]  # only 0.99 chains 5 above 0.95
    assert "(✓ at or above 0.95)" in out


def test_json_is_exact(runner):
    data = as_json(runner, "--agents", "5", "--p", "0.97")
    assert data == {"agents": 5, "p": [0.97] * 5, "end_to_end": 0.8587340257}
    for p, value in [("0.85", 0.4437053125), ("0.90", 0.59049), ("0.99", 0.9509900499)]:
        assert as_json(runner, "--agents", "5", "--p", p)["end_to_end"] == value


def test_unequal_agents(runner):
    out = ok(runner, "--p", "0.99", "--p", "0.90", "-p", "0.95")
    assert out.startswith("3 agents at 0.99 × 0.90 × 0.95: end to end 0.8465\n")
    assert "agent 2 (0.90), agent 3 (0.95)" in out  # below the article's 0.97 rule
    data = as_json(runner, "--p", "0.99", "--p", "0.90", "--p", "0.95")
    assert data == {"agents": 3, "p": [0.99, 0.9, 0.95], "end_to_end": 0.84645}
    same = as_json(runner, "--agents", "3", "--p", "0.99", "--p", "0.90", "--p", "0.95")
    assert same == data


def test_target(runner):
    out = ok(runner, "--agents", "5", "--target", "0.95")
    assert out.startswith("To reach 0.95 end to end over 5 agents, each needs 0.98979")
    data = as_json(runner, "--agents", "5", "--target", "0.95")
    assert list(data) == ["agents", "p", "end_to_end", "target", "required_per_agent"]
    assert data["target"] == 0.95 and data["required_per_agent"] == pytest.approx(0.95**0.2)
    assert data["end_to_end"] is None and data["p"] == []


def test_target_with_a_chain(runner):
    out = ok(runner, "--agents", "5", "--p", "0.99", "--target", "0.95")
    assert "this chain reaches it" in out
    out = ok(runner, "--p", "0.99", "--p", "0.90", "--p", "0.95", "--target", "0.95")
    assert "Agent 2 (0.90) alone cannot get there: even at 1.0, the other agents give 0.9405" in out
    data = as_json(runner, "--p", "0.99", "--p", "0.90", "--p", "0.95", "--target", "0.8")
    assert data["weakest"]["name"] == "agent 2"
    assert data["weakest"]["required"] == pytest.approx(0.8 / 0.9405)


def test_a_long_chain_shows_the_lengths_around_it(runner):
    out = ok(runner, "--agents", "12", "--p", "0.85")
    lengths = [line.split()[0] for line in out.splitlines() if re.match(r"\s+(▸ )?\d+\s", line)]
    assert lengths == [str(k) for k in range(7, 12)] + ["▸"] + [str(k) for k in range(13, 17)]
    assert "This chain fails more often than it succeeds." in out


def test_from_trace(runner, tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", TRACE_A)
    data = as_json(runner, "--from", str(path))
    assert data["agents"] == 3 and data["p"] == [0.5, 0.75, 1.0]
    assert data["end_to_end"] == 0.375 and data["end_to_end_ci"][0] == 0.0
    assert data["workflow_id"] == "w" and data["files"] == [str(path)] and data["runs"] == 4
    assert data["what_if"] is None and data["improve_to"] == 0.99
    assert data["best_improvement"]["hop_id"] == "a"
    assert [h["hop_id"] for h in data["hops"]] == ["a", "b", "c"]
    report = json.loads(CliRunner().invoke(app, ["report", str(path), "--json"]).stdout)
    assert data["end_to_end"] == pytest.approx(report["predicted_end_to_end"])
    out = ok(runner, "--from", str(path))
    assert "Pays most  raising a from 0.5000 to 0.99: 0.7425 end to end (+0.3675)" in out


def test_from_trace_set_improve_to_and_target(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "t.jsonl", TRACE_A))
    data = as_json(
        runner, "--from", path, "--set", "a=0.99", "--improve-to", "0.95", "--target", "0.9"
    )
    assert data["what_if"]["set"] == {"a": 0.99}
    assert data["what_if"]["end_to_end"] == pytest.approx(0.7425)
    assert data["best_improvement"]["hop_id"] == "b" and data["improve_to"] == 0.95
    assert data["target"] == 0.9 and data["weakest"]["name"] == "b"
    out = ok(runner, "--from", path, "--set", "a=0.99")
    assert "What if    a = 0.99: 0.7425 end to end" in out
    assert "already there" in out


def test_from_trace_picks_a_workflow(runner):
    data = as_json(runner, "--from", "data/awkward.jsonl", "--workflow", "v")
    assert data["workflow_id"] == "v" and data["agents"] == 1
    assert data["end_to_end_ci"] == data["hops"][0]["pass_rate_ci"]  # one hop: its own interval
    assert as_json(runner, "--from", "data/awkward.jsonl", "-w", "w")["workflow_id"] == "w"


def test_from_accepts_several_inputs(runner, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", TRACE_A[: len(TRACE_A) // 2])
    second = write_jsonl(tmp_path / "b.jsonl", TRACE_A[len(TRACE_A) // 2 :])
    data = as_json(runner, "--from", str(first), "--from", str(second))
    assert data["files"] == [str(first), str(second)] and data["runs"] == 4


def test_from_bad_records_strict_and_quiet(runner, tmp_path):
    path = str(write_jsonl(tmp_path / "t.jsonl", [*TRACE_A, "{torn"]))
    result = runner.invoke(app, ["reliability", "--from", path, "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["runs"] == 4
    assert "skipped record at" in result.stderr
    quiet = runner.invoke(app, ["reliability", "--from", path, "--json", "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    strict = runner.invoke(app, ["reliability", "--from", path, "--strict"])
    assert strict.exit_code == 2 and strict.stdout == ""


def test_samples(runner):
    out = ok(runner, "--samples")
    assert out.startswith("To tell a pass rate of 0.97 from 0.99, a hop needs 753 validated")
    data = as_json(runner, "--samples")
    assert data["compare"] == [0.97, 0.99] and data["validated_executions"] == 753
    assert data["z"] == 1.96 and data["executions_at_sample_rate"] == 5020
    lower, higher = data["intervals"]
    assert lower[1] < higher[0]
    assert as_json(runner, "--compare", "0.9", "0.95")["validated_executions"] == 427
    assert as_json(runner, "--samples", "--compare", "0.95", "0.9")["compare"] == [0.9, 0.95]


def test_format_option(runner):
    assert json.loads(ok(runner, "--p", "0.9", "--format", "json")) == json.loads(
        ok(runner, "--p", "0.9", "--json")
    )
    assert ok(runner, "--p", "0.9", "-f", "table").startswith("1 agent at 0.90: end to end")


def test_listed_in_help(runner):
    result = runner.invoke(app, ["--help"])
    assert "reliability" in result.stdout
    result = runner.invoke(app, ["reliability", "--help"])
    assert result.exit_code == 0
    for option in ("--agents", "--p", "--target", "--from", "--set", "--samples", "--compare"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say what to compute"),
        (["--agents", "5"], "--agents needs --p"),
        (["--agents", "2.5", "--p", "0.9"], "--agents must be a whole number from 1 to 10000"),
        (["--agents", "0", "--p", "0.9"], "--agents must be a whole number"),
        (["--agents", "-3", "--p", "0.9"], "--agents must be a whole number"),
        (["--agents", "five", "--target", "0.9"], "--agents must be a whole number"),
        (["--agents", "20000", "--p", "0.9"], "--agents must be a whole number from 1 to 10000"),
        (["--p", "1.5"], "--p must be between 0 and 1, got 1.5"),
        (["--p", "-0.1"], "--p must be between 0 and 1, got -0.1"),
        (["--p", "0.9", "--p", "nan"], "--p must be between 0 and 1, got nan"),
        (["--p", "abc"], "--p must be a number between 0 and 1, got 'abc'"),
        (["--agents", "5", "--target", "1.2"], "--target must be between 0 and 1, got 1.2"),
        (["--target", "0.95"], "--target needs --agents N, --p P or --from TRACE"),
        (["--agents", "3", "--p", "0.9", "--p", "0.8"], "--agents 3 with 2 --p values"),
        (["--p", "0.9", "--set", "a=0.9"], "--set needs --from TRACE"),
        (["--p", "0.9", "--workflow", "w"], "--workflow needs --from TRACE"),
        (["--p", "0.9", "--improve-to", "0.99"], "--improve-to needs --from TRACE"),
        (["--p", "0.9", "--strict"], "--strict needs --from TRACE"),
        (["--p", "0.9", "--quiet"], "--quiet needs --from TRACE"),
        (["--from", "data/awkward.jsonl", "--p", "0.9"], "--from takes the pass rates from the"),
        (
            ["--from", "data/awkward.jsonl", "--agents", "3"],
            "--from takes the pass rates from the trace; drop --agents",
        ),
        (["--samples", "--p", "0.9"], "--samples plans a sample size on its own; drop --p"),
        (["--compare", "0.9", "0.99", "--agents", "5"], "--samples plans a sample size on its"),
        (
            ["--samples", "--from", "x", "-w", "w"],
            "--samples plans a sample size on its own; drop --from, --workflow",
        ),
        (["--compare", "0.9", "0.9"], "--compare needs two different rates, got 0.9 twice"),
        (["--compare", "0.9", "1.9"], "--compare must be between 0 and 1, got 1.9"),
        (["--compare", "0.5", "0.5000000000001"], "0.5 and 0.5000000000001 are too close to"),
        (["--from", "data/awkward.jsonl"], "the trace holds 3 workflows (triage-ü, v, w)"),
        (["--from", "data/awkward.jsonl", "-w", "nope"], "no runs of workflow nope"),
        (["--from", "data/missing.jsonl"], "data/missing.jsonl: no such file or folder"),
        (["--from", "data/awkward.jsonl", "-w", "w", "--set", "zz=0.9"], "--set zz: no such hop"),
        (["--from", "data/awkward.jsonl", "-w", "w", "--set", "a"], "--set takes HOP=P, got 'a'"),
        (
            ["--from", "data/awkward.jsonl", "-w", "w", "--set", "a=2"],
            "--set a must be between 0 and 1, got 2",
        ),
        (
            ["--from", "data/awkward.jsonl", "-w", "w", "--set", "a=0.9", "--set", "a=0.8"],
            "--set a is given twice",
        ),
        (
            ["--from", "data/awkward.jsonl", "-w", "w", "--improve-to", "1.2"],
            "--improve-to must be between 0 and 1, got 1.2",
        ),
        (
            ["--from", "data/awkward.jsonl", "-w", "w", "--target", "-1"],
            "--target must be between 0 and 1, got -1",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_plain_line(runner, args, message):
    result = runner.invoke(app, ["reliability", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("argus: error: " + message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not ANSI.search(result.stderr)
