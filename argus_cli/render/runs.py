"""`argus runs` (one line per run) and `argus trace` (one run drawn as its tree, SPEC 3.1)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.text import Text
from rich.tree import Tree

from argus_cli.escaping import shown, shown_all
from argus_cli.render.base import Format, render_rows, to_json

# The keys of a run in `argus runs --format json` and the columns of its CSV, in this order when
# there are no rows to take them from (metrics.run_rows makes the rows).
RUN_KEYS = (
    "run_id",
    "workflow_id",
    "failed",
    "origin_hop",
    "origin_position",
    "hops",
    "blast_radius",
    "final_hop",
    "final_confidence",
    "observed_cascade",
    "outcome_failed",
    "handled_errors",
)

# An error message in a tree is one line of at most this many characters; JSON keeps it whole.
ERROR_WIDTH = 100


def render_runs(
    rows: list[dict[str, Any]],
    fmt: Format,
    console: Console,
    counts: tuple[int, int] | None = None,
    selected: int | None = None,
) -> None:
    """The runs: JSON and CSV carry every key as it is; the table and Markdown are for people.

    `counts` (runs, failed) and `selected` (rows before a limit) say in the title what a limit
    left out.
    """
    if fmt is Format.json:
        console.file.write(to_json(rows))
        return
    if fmt is Format.csv:
        keys = list(rows[0]) if rows else list(RUN_KEYS)
        render_rows(keys, [[r[k] for k in keys] for r in rows], fmt, console)
        return
    failed = sum(1 for r in rows if r["failed"])
    # Columns that would repeat one value on every line are left out of the table.
    several_workflows = len({r["workflow_id"] for r in rows}) > 1
    finals: dict[str, set[str]] = {}
    for r in rows:
        finals.setdefault(r["workflow_id"], set()).add(r["final_hop"])
    several_finals = any(len(hops) > 1 for hops in finals.values())
    handled = any(r["handled_errors"] for r in rows)
    mixed = 0 < failed < len(rows)
    columns = ["origin hop", "run", "hops", "blast\nradius"]
    columns += ["handled\nerrors"] if handled else []
    columns += ["final hop"] if several_finals else []
    columns += ["final\nconfidence", "cascade"]
    columns += ["workflow"] if several_workflows else []
    columns += ["status"] if mixed else []
    values = []
    for r in rows:
        row = [
            r["origin_hop"] or ("(outcome wrong)" if r["failed"] else "-"),
            r["run_id"],
            r["hops"],
            r["blast_radius"] if r["failed"] else None,
        ]
        row += [r["handled_errors"]] if handled else []
        row += [r["final_hop"]] if several_finals else []
        row += [r["final_confidence"], "yes" if r["observed_cascade"] else "no"]
        row += [r["workflow_id"]] if several_workflows else []
        row += ["failed" if r["failed"] else "ok"] if mixed else []
        values.append(row)
    runs, failed = counts or (len(rows), failed)
    title = f"{runs} runs, {failed} failed"
    if selected is not None and len(rows) < selected:
        title += f"; the first {len(rows)} of {selected} shown (--limit 0 shows all)"
    render_rows(columns, values, fmt, console, title=title, no_wrap=True)


def error_line(error: str, width: int = ERROR_WIDTH) -> str:
    """An error as one short line: its first line; for a Python traceback, its last line (the
    exception itself, where the first only says "Traceback (most recent call last):")."""
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    traceback = lines[0].startswith("Traceback (most recent call last)")
    line = lines[-1] if traceback else lines[0]
    if len(line) > width:
        return line[: width - 1].rstrip() + "…"
    return line + (" …" if len(lines) > 1 and not traceback else "")


def render_trace(
    summary: dict[str, Any], hops: list[dict[str, Any]], fmt: Format, console: Console
) -> None:
    if fmt is Format.json:
        console.file.write(to_json({"run": summary, "hops": hops}))
        return
    console.print(trace_view(summary, hops))


def trace_view(summary: dict[str, Any], hops: list[dict[str, Any]]) -> Group:
    """The run as its tree: every hop under its caller (SPEC 3.1), in position order.

    A hop hangs under the hop at its `parent_position`; a top-level hop under the run. A skipped
    hop has no position and no parent in the metrics' sense: it hangs under the hop whose span
    it names as parent, when that hop is shown, else under the run.
    Control characters in ids and messages are shown escaped (escaping.py).
    """
    summary = shown_all(summary)
    # The error is cut to one line first (error_line), then escaped in _hop_label.
    hops = [
        shown_all({k: v for k, v in h.items() if k != "error"}) | {"error": h["error"]}
        for h in hops
    ]
    tree = Tree(_run_head(summary, hops))
    by_position: dict[int, Tree] = {}
    by_span: dict[str, Tree] = {}
    for hop in hops:
        if hop["position"] is not None:
            parent = by_position.get(hop["parent_position"], tree)
        else:
            parent = by_span.get(hop["parent_id"] or "", tree)
        node = parent.add(_hop_label(hop))
        if hop["position"] is not None:
            by_position[hop["position"]] = node
            by_span.setdefault(hop["span_id"], node)
    return Group(tree, *_run_notes(summary, hops))


def _run_head(summary: dict[str, Any], hops: list[dict[str, Any]]) -> Text:
    """The run, its workflow and verdict; then, when there is any, what its failure reached and
    how many errors its hops handled; then its intent."""
    head = Text("run ")
    head.append(str(summary["run_id"]), style="bold")
    head.append(f" · {summary['wf']} · ")
    facts: list[tuple[str, str]] = []
    if summary["failed"]:
        head.append("failed", style="bold red")
        if summary["origin_hop"] is not None:
            head.append(f" at {summary['origin_hop']}", style="bold red")
        else:
            head.append(" (its outcome was wrong; no hop flagged it)", style="bold red")
        facts.append((f"blast radius {summary['blast_radius']}", ""))
        if summary["observed_cascade"]:
            facts.append(("observed cascade", "bold red"))
    else:
        head.append("ok", style="green")
    handled = sum(1 for h in hops if h["handled"])
    if handled:
        errors = "error" if handled == 1 else "errors"
        facts.append((f"{handled} {errors} handled by callers", "yellow"))
    for index, (fact, style) in enumerate(facts):
        head.append("\n" if index == 0 else " · ")
        head.append(fact, style=style)
    if summary.get("goal"):
        head.append(f"\nintent: {summary['goal']}")
    return head


def _run_notes(summary: dict[str, Any], hops: list[dict[str, Any]]) -> list[Text]:
    """What the markers mean, under the tree, for the markers it shows."""
    notes = []
    if any(h["in_blast_radius"] for h in hops):
        notes.append(
            "blast radius: hops that reported success after the error was born (its callers, "
            "and the later hops it did not call)"
        )
    if any(h["handled"] for h in hops):
        notes.append("handled: an error its caller caught and went on from; it fails no run")
    if any(h.get("child_errors") for h in hops):
        notes.append("failed child spans: spans under the hop that are not hops (tools), failed")
    return [Text(note, style="dim") for note in notes]


def _hop_label(hop: dict[str, Any]) -> Text:
    text = Text()
    position = hop["position"]
    text.append(f"{position}. " if position is not None else "·  ", style="dim")
    text.append(hop["hop_id"], style="bold red" if hop["is_origin"] else "bold")
    handled = bool(hop["handled"])
    status_style = {"success": "green", "error": "bold red", "skipped": "dim"}[hop["status"]]
    text.append(f"  {hop['status']}", style="yellow" if handled else status_style)
    if hop["error"]:
        error = shown(error_line(hop["error"]))
        text.append(f" ({error})", style="yellow" if handled else "red")
    if handled:
        text.append(" handled by its caller", style="yellow")
    if hop["wrong"]:
        text.append("  WRONG", style="bold red")
    if hop["is_origin"]:
        text.append("  ← origin", style="bold red")
    if hop["in_blast_radius"]:
        text.append("  ← blast radius", style="bold yellow")
    if hop["is_final"]:
        text.append("  ← final answer", style="bold")
    child_errors = hop.get("child_errors")
    if child_errors:
        spans = "span" if child_errors == 1 else "spans"
        text.append(f"  {child_errors} failed child {spans}", style="red")
    details = []
    if hop["confidence"] is not None:
        details.append(f"confidence {hop['confidence']:.2f}")
    details.append("validated" if hop["validated"] else "not validated")
    if hop["high_stakes"]:
        details.append("high-stakes")
    if hop["latency_ms"] is not None:
        details.append(f"{hop['latency_ms']:.0f} ms")
    if hop["drifted"]:
        details.append("DRIFTED from the run's intent")
    elif hop["unanchored"]:
        details.append("no intent checksum")
    text.append("  " + " · ".join(details), style="dim")
    for v in hop["violations"] or []:
        label = ":".join(x for x in (v.get("category"), v.get("rule")) if x)
        if v.get("severity"):
            label += f" ({v['severity']})"
        text.append(f"\n   violation: {label}", style="red")
    return text
