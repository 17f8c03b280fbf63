"""examples/prior_auth_demo.py runs, is deterministic, and its trace shows the cascade."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from argus_cli.analysis import analyse

DEMO = Path(__file__).parent.parent / "examples" / "prior_auth_demo.py"


def run_demo(out: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(DEMO), "--runs", "50", "--seed", "7", "--out", str(out), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"next: argus report {out}" in done.stderr
    return done.stdout


def stable(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("span_id", "parent_id")} for r in rows]


def test_the_demo_trace_shows_the_cascade(tmp_path):
    summary = run_demo(tmp_path / "demo.jsonl")
    report = analyse([str(tmp_path / "demo.jsonl")], quiet=True)
    assert report.bad_records == 0 and report.runs == 50
    wf = report.workflows[0]
    assert [h.hop_id for h in wf.hops] == [
        "intake-parser",
        "eligibility-checker",
        "clinical-reviewer",
        "policy-validator",
        "approval-writer",
    ]
    assert report.cascade_risk_score > 0.15
    assert wf.observed_cascades > 0
    assert report.predicted_end_to_end < report.end_to_end_success_rate
    assert wf.drift.drifted_hops > 0 and wf.drift.unanchored_hops == 0
    approval = wf.hops[-1]
    assert approval.high_stakes > 0 and approval.high_stakes_unvalidated == 0
    assert summary.startswith("argus · workflow prior-auth-demo · 50 runs")
    # The same seed, the same trace (span ids aside: they are random by design).
    run_demo(tmp_path / "again.jsonl")
    assert stable(tmp_path / "demo.jsonl") == stable(tmp_path / "again.jsonl")


@pytest.mark.parametrize("args", [["--on-violation", "stop"], ["--sample-rate", "1.0"]])
def test_the_demo_options(tmp_path, args):
    out = tmp_path / "demo.parquet"
    run_demo(out, *args)
    report = analyse([str(out)], quiet=True)
    assert report.runs == 50 and report.bad_records == 0
    if "--sample-rate" in args:
        hops = report.workflows[0].hops
        assert all(h.validated == h.executions - h.errors for h in hops)  # errors: no output
        assert report.cascade_risk_score < 0.01
