"""`argus runs` (one line per run) and `argus trace` (one run as its tree)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from argus_cli.render.base import Format, render_rows, to_json


def render_runs(
    rows: list[dict[str, Any]],
    fmt: Format,
    console: Console,
    counts: tuple[int, int] | None = None,
    selected: int | None = None,
) -> None:
    """The runs table; `counts` (runs, failed) and `selected` (rows before a limit) say what a
    limit left out, in the title."""
    if fmt is Format.json:
        console.file.write(to_json(rows))
        return
    failed = sum(1 for r in rows if r["failed"])
    # Columns that would repeat one value on every line are left out of the table.
    several_workflows = len({r["workflow_id"] for r in rows}) > 1
    mixed = 0 < failed < len(rows)
    columns = ["origin hop", "run", "hops", "blast\nradius", "final\nconfidence", "cascade"]
    columns += ["workflow"] if several_workflows else []
    columns += ["status"] if mixed else []
    values = []
    for r in rows:
        row = [
            r["origin_hop"] or ("(outcome wrong)" if r["failed"] else "-"),
            r["run_id"],
            r["hops"],
            r["blast_radius"] if r["failed"] else None,
            r["final_confidence"],
            "yes" if r["observed_cascade"] else "no",
        ]
        row += [r["workflow_id"]] if several_workflows else []
        row += ["failed" if r["failed"] else "ok"] if mixed else []
        values.append(row)
    runs, failed = counts or (len(rows), failed)
    title = f"{runs} runs, {failed} failed"
    if selected is not None and len(rows) < selected:
        title += f"; the first {len(rows)} of {selected} shown (--limit 0 shows all)"
    render_rows(columns, values, fmt, console, title=title, no_wrap=True)


def render_trace(
    summary: dict[str, Any], hops: list[dict[str, Any]], fmt: Format, console: Console
) -> None:
    if fmt is Format.json:
        console.file.write(to_json({"run": summary, "hops": hops}))
        return
    state = "[bold red]failed[/]" if summary["failed"] else "[green]ok[/]"
    head = f"run [bold]{summary['run_id']}[/] · {summary['wf']} · {state}"
    if summary.get("goal"):
        head += f"\nintent: {summary['goal']}"
    tree = Tree(head)
    nodes: dict[str, Tree] = {}
    for hop in hops:
        parent = nodes.get(hop["parent_id"] or "", tree)
        nodes[hop["span_id"]] = parent.add(_hop_label(hop, summary))
    console.print(tree)


def _hop_label(hop: dict[str, Any], summary: dict[str, Any]) -> Text:
    text = Text()
    position = hop["position"]
    text.append(f"{position}. " if position is not None else "·  ", style="dim")
    text.append(hop["hop_id"], style="bold")
    status_style = {"success": "green", "error": "bold red", "skipped": "dim"}[hop["status"]]
    text.append(f"  {hop['status']}", style=status_style)
    if hop["error"]:
        text.append(f" ({hop['error']})", style="red")
    if hop["wrong"]:
        text.append("  WRONG", style="bold red")
    if summary["failed"] and position == summary["origin_position"]:
        text.append("  ← origin", style="bold red")
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
