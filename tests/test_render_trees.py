"""The report speaks trees (issue 11, item 5): stages and handled errors in the hop table, the run
drawn as its tree in `argus trace`, findings about handled errors, routes and the worst case.

The models and rows are built here by hand, as the metric engine hands them over, so that each
view is tested on its own; tests/test_cli.py runs the same views end to end.
"""

from __future__ import annotations

import io
from typing import Any

from goldens import ANSI, check_golden

from argus_cli.findings import findings
from argus_cli.render import Format, make_console, render_runs, report_markdown, report_table
from argus_cli.render.runs import error_line, trace_view
from argus_cli.report import Drift, GArvis, HopStats, Report, RootCause, WorkflowReport


def hop(hop_id: str, stage: int, executions: int = 40, errors: int = 0, **extra: Any) -> HopStats:
    rate = errors / executions
    values: dict[str, Any] = {
        "hop_id": hop_id,
        "executions": executions,
        "errors": errors,
        "checked": 0,
        "wrong": 0,
        "error_rate": rate,
        "silent_error_rate": None,
        "pass_rate": 1 - rate,
        "pass_rate_ci": (0.0, 1 - rate),
        "validation_coverage": 0.0,
        "high_stakes_unvalidated": 0,
        "cascade_contribution": 0.0,
        "drift_rate": None,
        "median_position": float(stage),
        "validated": 0,
        "high_stakes": 0,
        "drifted_hops": 0,
        "mean_latency_ms": None,
        "total_cost_usd": None,
        "mean_cost_usd": None,
        "stage": stage,
    }
    values.update(extra)
    return HopStats(**values)


def support_workflow(runs_with_final_confidence: int = 0) -> WorkflowReport:
    """A router (triage) sends each run to billing or tech; billing calls lookup_invoice, which
    fails often and is mostly retried; a responder answers."""
    return WorkflowReport(
        workflow_id="support",
        runs=40,
        failed_runs=3,
        end_to_end_success_rate=37 / 40,
        predicted_end_to_end=0.93,
        cascade_risk_score=0.0,
        confident_share=1.0,
        observed_cascades=0,
        hops=[
            hop("triage", 1),
            hop("billing", 2, executions=22),
            hop("tech", 2, executions=18),
            hop("lookup_invoice", 3, executions=71, errors=50, handled_errors=49),
            hop("responder", 4),
        ],
        root_causes=[RootCause("lookup_invoice", 1, 3.0), RootCause(None, 2, 5.0)],
        drift=Drift(),
        g_arvis_scores=GArvis(reliability=37 / 40),
        runs_with_final_confidence=runs_with_final_confidence,
    )


def report_with(wf: WorkflowReport) -> Report:
    report = Report(
        files=["support.jsonl"],
        records=211,
        bad_records=0,
        runs=wf.runs,
        hop_executions=sum(h.executions for h in wf.hops),
        end_to_end_success_rate=wf.end_to_end_success_rate,
        predicted_end_to_end=wf.predicted_end_to_end,
        weakest_hop=None,
        cascade_risk_score=wf.cascade_risk_score,
        g_arvis_scores=wf.g_arvis_scores,
        workflows=[wf],
    )
    report.findings = findings(report)
    return report


def text_of(renderable: Any) -> str:
    out = io.StringIO()
    make_console(out).print(renderable)
    return out.getvalue()


def test_hop_table_groups_routes_into_stages_and_counts_handled_errors():
    shown = text_of(report_table(report_with(support_workflow())))
    assert not ANSI.search(shown)
    check_golden("report_trees.txt", shown)
    rows = {
        line.split()[1]: line.split()
        for line in shown.splitlines()
        if line[:6].strip()[:1] in "1234" and len(line.split()) > 3
    }
    assert rows["triage"][0] == "1"
    assert (rows["billing"][0], rows["tech"][0]) == ("2a", "2b")  # routes of one stage
    assert rows["lookup_invoice"][0] == "3"
    assert rows["lookup_invoice"][3] == "50" and rows["lookup_invoice"][4] == "(49)"
    assert rows["triage"][3] == "0" and rows["triage"][4] == "100.0%"  # nothing handled
    assert "errors (n): n of them handled by their callers (retried, fallen back from)" in shown
    assert max(len(line.rstrip()) for line in shown.splitlines()) <= 120
    assert "2a, 2b: alternative routes of one stage (each run takes one); predicted" in shown


def test_markdown_hop_table_has_the_same_stages_and_handled_errors():
    md = report_markdown(report_with(support_workflow()))
    assert "| stage | hop | execs | errors |" in md
    assert "| 2a | `billing` | 22 | 0 |" in md
    assert "| 2b | `tech` | 18 | 0 |" in md
    assert "| 3 | `lookup_invoice` | 71 | 50 (49) |" in md
    assert "\n2a, 2b: alternative routes of one stage (each run takes one)" in md
    assert "\nerrors (n): n of them handled by their callers (retried, fallen back from)" in md
    assert "worst case: no final hop recorded a confidence" in md


def test_a_chain_has_one_hop_per_stage_and_no_routes_note():
    wf = support_workflow(runs_with_final_confidence=40)
    wf.hops = [h for h in wf.hops if h.hop_id != "tech"]
    for number, h in enumerate(wf.hops, start=1):
        h.stage = number
        h.handled_errors = 0
    shown = text_of(report_table(report_with(wf)))
    assert "alternative routes" not in shown
    assert "worst case" not in shown
    assert " 50 " in shown and "handled" not in shown and "(49)" not in shown


def test_findings_name_handled_errors_routes_and_the_worst_case():
    texts = [f.text for f in report_with(support_workflow()).findings]
    assert (
        "lookup_invoice: 49 errors handled by its callers (retried or fallen back from): they "
        "count in its pass rate but fail no run"
    ) in texts
    assert any(t.startswith("billing, tech: alternative routes of one stage") for t in texts)
    worst = [t for t in texts if t.startswith("no final hop recorded a confidence")]
    assert worst == [
        "no final hop recorded a confidence: every answer counted as confident (the worst "
        "case), so the cascade risk and the observed cascades are upper bounds; record the "
        "confidence of the hop that answers"
    ]
    shown = text_of(report_table(report_with(support_workflow())))
    assert "worst case: no final hop recorded a confidence" in shown  # in the verdict panel too


def test_no_worst_case_when_some_final_hop_recorded_a_confidence():
    texts = [f.text for f in report_with(support_workflow(1)).findings]
    assert not any("no final hop recorded a confidence" in t for t in texts)
    one = support_workflow()
    one.hops[3].handled_errors = 1
    texts = [f.text for f in report_with(one).findings]
    assert any(t.startswith("lookup_invoice: 1 error handled by its callers") for t in texts)


# --- argus trace ------------------------------------------------------------------------------


def trace_hop(position: int | None, hop_id: str, parent: int | None, **extra: Any) -> dict:
    row: dict[str, Any] = {
        "span_id": f"s{position}",
        "parent_id": None if parent is None else f"s{parent}",
        "hop_id": hop_id,
        "agent": hop_id,
        "position": position,
        "seq": position,
        "status": "success",
        "error": None,
        "validated": False,
        "violations": [],
        "high_stakes": False,
        "confidence": None,
        "correct": None,
        "latency_ms": None,
        "cost_usd": None,
        "model": None,
        "intent_checksum": None,
        "wrong": False,
        "failed": False,
        "drifted": False,
        "unanchored": False,
        "_file": "support.jsonl",
        "_line": position or 99,
        "parent_position": parent,
        "handled": False,
        "in_blast_radius": False,
        "is_origin": False,
        "is_final": False,
        "child_errors": None,
    }
    row.update(extra)
    return row


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "agents/billing.py", line 88, in refund\n'
    "    invoice = invoices[invoice_id]\n"
    "KeyError: 'INV-42'"
)


def support_run() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Billing's policy check gave a wrong answer (the origin) under billing, which triage
    called; one invoice lookup timed out and was retried (handled); the responder answered."""
    summary = {
        "run_id": "r7",
        "wf": "support",
        "failed": True,
        "origin_hop": "policy_check",
        "origin_position": 6,
        "blast_radius": 3,
        "observed_cascade": True,
        "final_hop": "responder",
        "final_position": 7,
        "goal": "Refund invoice INV-42",
    }
    hops = [
        trace_hop(1, "triage", None, in_blast_radius=True, latency_ms=120.0),
        trace_hop(2, "billing", 1, in_blast_radius=True, child_errors=1),
        trace_hop(
            3,
            "lookup_invoice",
            2,
            status="error",
            error="TimeoutError: upstream answered 504\nafter 30 s",
            failed=True,
            handled=True,
        ),
        trace_hop(
            4, "lookup_invoice", 2, status="error", error=TRACEBACK, failed=True, handled=True
        ),
        trace_hop(5, "lookup_invoice", 2),
        trace_hop(
            6,
            "policy_check",
            2,
            validated=True,
            wrong=True,
            failed=True,
            is_origin=True,
            violations=[{"rule": "refund_limit", "severity": "high", "category": "policy"}],
        ),
        trace_hop(7, "responder", None, in_blast_radius=True, is_final=True, confidence=0.92),
        trace_hop(None, "guardrail", None, parent_id="s2", status="skipped", span_id="g"),
    ]
    return summary, hops


def test_trace_draws_the_run_as_its_tree():
    summary, hops = support_run()
    shown = text_of(trace_view(summary, hops))
    assert not ANSI.search(shown)
    check_golden("trace_tree.txt", shown)
    lines = shown.splitlines()
    assert lines[:3] == [
        "run r7 · support · failed at policy_check",
        "blast radius 3 · observed cascade · 2 errors handled by callers",
        "intent: Refund invoice INV-42",
    ]
    indent = {
        line.split(". ")[1].split()[0]: len(line) - len(line.lstrip("│├└─ "))
        for line in lines
        if ". " in line and line.lstrip("│├└─ ")[:1].isdigit()
    }
    assert indent["triage"] == indent["responder"] < indent["billing"] < indent["policy_check"]
    origin = next(line for line in lines if ". policy_check" in line)
    assert "WRONG  ← origin" in origin
    assert all(
        "← blast radius" in next(x for x in lines if f" {name} " in x)
        for name in ("triage", "billing", "responder")
    )
    assert "← final answer" in next(x for x in lines if " responder " in x)
    assert "error (TimeoutError: upstream answered 504 …) handled by its caller" in shown
    assert "error (KeyError: 'INV-42') handled by its caller" in shown  # a traceback's last line
    assert "Traceback" not in shown and "line 88" not in shown
    assert "1 failed child span" in next(x for x in lines if " billing " in x)
    guardrail = lines.index(next(x for x in lines if "guardrail" in x))
    assert lines[guardrail].startswith("│       └── ·  guardrail  skipped")  # under billing


def test_an_ok_run_and_an_outcome_only_failure_head():
    summary, hops = support_run()
    ok = {
        **summary,
        "failed": False,
        "origin_hop": None,
        "blast_radius": None,
        "observed_cascade": False,
    }
    plain_hops = [
        {**h, "handled": False, "in_blast_radius": False, "is_origin": False} for h in hops
    ]
    assert text_of(trace_view(ok, plain_hops)).startswith(
        "run r7 · support · ok\nintent: Refund invoice INV-42\n"
    )
    outcome = {**summary, "origin_hop": None, "observed_cascade": False}
    assert text_of(trace_view(outcome, plain_hops)).startswith(
        "run r7 · support · failed (its outcome was wrong; no hop flagged it)\nblast radius 3\n"
    )


def test_error_line():
    assert error_line("ValueError: bad") == "ValueError: bad"
    assert error_line("first\nsecond") == "first …"
    assert error_line(TRACEBACK) == "KeyError: 'INV-42'"
    assert error_line("x" * 300) == "x" * 99 + "…"
    assert error_line("  \n") == ""


# --- argus runs -------------------------------------------------------------------------------


def run_row(run_id: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run_id,
        "workflow_id": "support",
        "failed": False,
        "origin_hop": None,
        "origin_position": None,
        "hops": 5,
        "blast_radius": None,
        "final_hop": "responder",
        "final_confidence": 0.9,
        "observed_cascade": False,
        "outcome_failed": False,
        "handled_errors": 0,
    }
    row.update(extra)
    return row


def test_runs_table_shows_handled_errors_and_the_final_hop_when_they_vary():
    rows = [
        run_row(
            "r1",
            failed=True,
            origin_hop="policy_check",
            origin_position=6,
            blast_radius=3,
            handled_errors=2,
        ),
        run_row("r2", final_hop="tech_answer"),
    ]
    out = io.StringIO()
    render_runs(rows, Format.table, make_console(out))
    header = out.getvalue().splitlines()[2:4]
    assert "handled" in header[0] and "errors" in header[1]
    assert "final hop" in header[1]
    same = io.StringIO()
    render_runs([run_row("r1"), run_row("r2")], Format.table, make_console(same))
    assert "handled" not in same.getvalue() and "final hop" not in same.getvalue()


def test_runs_csv_carries_every_key_with_one_line_headers():
    out = io.StringIO()
    render_runs([run_row("r1", handled_errors=2)], Format.csv, make_console(out))
    header, first = out.getvalue().splitlines()
    assert header.split(",") == list(run_row("x"))
    assert first.startswith("r1,support,False,,,5,,responder,0.9,False,False,2")
    empty = io.StringIO()
    render_runs([], Format.csv, make_console(empty))
    assert empty.getvalue().strip().split(",") == list(run_row("x"))
