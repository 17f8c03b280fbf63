"""The charts, as Vega-Lite specs built from the report model (no number is computed here that
the report does not hold; positions on the map are layout, not metrics).
"""

from __future__ import annotations

import itertools
from typing import Any

from argus_cli.findings import AGENT_TARGET, CASCADE_LINE
from argus_cli.metrics.graph import Edge
from argus_cli.metrics.trend import Trend
from argus_cli.report import WorkflowReport

RED = "#cf222e"
GREY = "#8c959f"
PERCENT = {"format": "%"}


def _layout(wf: WorkflowReport, edges: list[Edge]) -> dict[str, tuple[float, float]]:
    """Each hop's place on the map: x its stage (SPEC 4), alternative routes of a stage one
    under the other, and hops that ran within a caller in a band below the caller's."""
    callers: dict[str, tuple[int, str]] = {}
    for e in edges:
        if e.kind == "call" and e.source != e.target:
            best = callers.get(e.target)
            if best is None or e.runs > best[0] or (e.runs == best[0] and e.source < best[1]):
                callers[e.target] = (e.runs, e.source)

    def depth(hop: str) -> int:
        seen = {hop}
        level = 0
        while hop in callers and callers[hop][1] not in seen:
            hop = callers[hop][1]
            seen.add(hop)
            level += 1
        return level

    per_stage: dict[int, int] = {}
    routes: dict[str, int] = {}
    for hop in wf.hops:
        routes[hop.hop_id] = per_stage.get(hop.stage, 0)
        per_stage[hop.stage] = routes[hop.hop_id] + 1
    band = max(per_stage.values(), default=1)
    return {
        hop.hop_id: (float(hop.stage), float(depth(hop.hop_id) * band + routes[hop.hop_id]))
        for hop in wf.hops
    }


def _segments(
    edge: Edge, start: tuple[float, float], end: tuple[float, float]
) -> list[dict[str, Any]]:
    """An edge as line segments: straight, or, when it skips over hops in its row, bent over
    them through a point half a row up, so it is not hidden behind them."""
    facts = {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind,
        "runs": edge.runs,
        "damaged_runs": edge.damaged_runs,
    }
    points = [start, end]
    if start[1] == end[1] and abs(end[0] - start[0]) > 1:
        points.insert(1, ((start[0] + end[0]) / 2, start[1] - 0.5))
    return [
        {**facts, "x": a[0], "y": a[1], "x2": b[0], "y2": b[1]}
        for a, b in itertools.pairwise(points)
    ]


def workflow_map(wf: WorkflowReport, edges: list[Edge]) -> dict[str, Any]:
    """Hops as nodes in stage order: colour by pass rate, a red ring sized by the failed runs
    born there; edges as wide as the runs along them, the damage of failed runs in red."""
    place = _layout(wf, edges)
    born = {c.hop_id: c.failed_runs for c in wf.root_causes if c.hop_id is not None}
    nodes = [
        {
            "hop": h.hop_id,
            "x": place[h.hop_id][0],
            "y": place[h.hop_id][1],
            "pass_rate": h.pass_rate,
            "ci_low": h.pass_rate_ci[0],
            "ci_high": h.pass_rate_ci[1],
            "executions": h.executions,
            "failed_runs_born": born.get(h.hop_id, 0),
            "stage": h.stage,
        }
        for h in wf.hops
    ]
    lines = [
        segment
        for e in edges
        if e.source != e.target and e.source in place and e.target in place
        for segment in _segments(e, place[e.source], place[e.target])
    ]
    stages = max((h.stage for h in wf.hops), default=1)
    rows = max((y for _, y in place.values()), default=0.0) + 1
    x = {
        "field": "x",
        "type": "quantitative",
        "axis": None,
        "scale": {"domain": [0.5, stages + 0.5]},
    }
    y = {
        "field": "y",
        "type": "quantitative",
        "axis": None,
        "scale": {"domain": [-0.6, rows - 0.4], "reverse": True},
    }
    edge_tip = [
        {"field": "source"},
        {"field": "target"},
        {"field": "kind", "title": "edge"},
        {"field": "runs"},
        {"field": "damaged_runs", "title": "failed runs whose damage went along it"},
    ]
    most = max([1, *(e.runs for e in edges)])
    width = {"type": "quantitative", "scale": {"domain": [0, most], "range": [0.5, 12]}}
    damaged = max([1, *(e.damaged_runs for e in edges)])
    return {
        "width": max(360, 150 * stages),
        "height": max(120, 80 * rows),
        "layer": [
            {
                "data": {"values": lines},
                "mark": {"type": "rule", "color": GREY, "opacity": 0.55, "strokeCap": "round"},
                "encoding": {
                    "x": x,
                    "y": y,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "strokeWidth": {"field": "runs", **width, "legend": {"title": "runs"}},
                    "strokeDash": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": ["next", "call"], "range": [[1, 0], [6, 3]]},
                        "legend": {"title": "edge"},
                    },
                    "tooltip": edge_tip,
                },
            },
            {
                "data": {"values": [e for e in lines if e["damaged_runs"]]},
                "mark": {"type": "rule", "color": RED, "opacity": 0.85, "strokeCap": "round"},
                "encoding": {
                    "x": x,
                    "y": y,
                    "x2": {"field": "x2"},
                    "y2": {"field": "y2"},
                    "strokeWidth": {
                        "field": "damaged_runs",
                        "type": "quantitative",
                        "scale": {"domain": [0, damaged], "range": [1.5, 7]},
                        "legend": {"title": "damaged runs"},
                    },
                    "tooltip": edge_tip,
                },
            },
            {
                "data": {"values": nodes},
                "layer": [
                    {
                        "mark": {
                            "type": "point",
                            "shape": "circle",
                            "filled": False,
                            "color": RED,
                            "strokeWidth": 3,
                        },
                        "encoding": {
                            "x": x,
                            "y": y,
                            "size": {
                                "field": "failed_runs_born",
                                "type": "quantitative",
                                "scale": {"range": [700, 3200], "zero": False},
                                "legend": {"title": "failed runs born here"},
                            },
                            "opacity": {
                                "condition": {"test": "datum.failed_runs_born > 0", "value": 1},
                                "value": 0,
                            },
                        },
                    },
                    {
                        "mark": {"type": "circle", "size": 520, "stroke": "#1f2328"},
                        "encoding": {
                            "x": x,
                            "y": y,
                            "color": {
                                "field": "pass_rate",
                                "type": "quantitative",
                                "scale": {
                                    "scheme": "redyellowgreen",
                                    "domain": [min([0.5, *(h.pass_rate for h in wf.hops)]), 1],
                                },
                                "legend": {"title": "pass rate", "format": "%"},
                            },
                            "tooltip": [
                                {"field": "hop"},
                                {"field": "stage"},
                                {"field": "pass_rate", "format": ".1%", "title": "pass rate"},
                                {"field": "ci_low", "format": ".1%", "title": "95% CI low"},
                                {"field": "ci_high", "format": ".1%", "title": "95% CI high"},
                                {"field": "executions"},
                                {"field": "failed_runs_born", "title": "failed runs born here"},
                            ],
                        },
                    },
                    {
                        "mark": {"type": "text", "dy": 26, "fontSize": 12},
                        "encoding": {"x": x, "y": y, "text": {"field": "hop"}},
                    },
                ],
            },
        ],
        "resolve": {"scale": {"strokeWidth": "independent"}},
        "config": {
            "view": {"stroke": None},
            "legend": {"orient": "bottom", "direction": "horizontal"},
        },
    }


def pass_rates(wf: WorkflowReport) -> dict[str, Any]:
    """Each hop's pass rate and its 95% interval: a sampled estimate is a long bar."""
    values = [
        {
            "hop": h.hop_id,
            "pass_rate": h.pass_rate,
            "ci_low": h.pass_rate_ci[0],
            "ci_high": h.pass_rate_ci[1],
            "checked": h.checked,
            "executions": h.executions,
        }
        for h in wf.hops
    ]
    y = {"field": "hop", "type": "nominal", "sort": [h.hop_id for h in wf.hops], "title": None}
    x = {
        "field": "pass_rate",
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {**PERCENT, "title": "pass rate, 95% interval"},
    }
    tip = [
        {"field": "hop"},
        {"field": "pass_rate", "format": ".1%", "title": "pass rate"},
        {"field": "ci_low", "format": ".1%", "title": "95% CI low"},
        {"field": "ci_high", "format": ".1%", "title": "95% CI high"},
        {"field": "checked", "title": "checked executions"},
        {"field": "executions"},
    ]
    return {
        "width": 520,
        "height": {"step": 26},
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "rule", "strokeWidth": 6, "opacity": 0.35, "color": "#0969da"},
                "encoding": {"y": y, "x": {**x, "field": "ci_low"}, "x2": {"field": "ci_high"}},
            },
            {
                "mark": {"type": "point", "filled": True, "size": 70, "color": "#0969da"},
                "encoding": {"y": y, "x": x, "tooltip": tip},
            },
            {
                "data": {"values": [{"target": AGENT_TARGET}]},
                "mark": {"type": "rule", "color": GREY, "strokeDash": [4, 3]},
                "encoding": {"x": {"field": "target", "type": "quantitative"}},
            },
        ],
    }


def coverage(wf: WorkflowReport) -> dict[str, Any]:
    """Validation coverage against silent-error rate per hop, sized by cascade contribution,
    with the what-if the findings recommend as an arrow to the proposed coverage."""
    stats = {h.hop_id: h for h in wf.hops}
    points = [
        {
            "hop": h.hop_id,
            "validation_coverage": h.validation_coverage,
            "silent_error_rate": h.silent_error_rate,
            "cascade_contribution": h.cascade_contribution,
        }
        for h in wf.hops
        if h.silent_error_rate is not None
    ]
    arrows = []
    if wf.what_if:
        best = wf.what_if[0]
        s = stats[best.hop_id].silent_error_rate if best.hop_id in stats else None
        if s is not None:
            arrows.append(
                {
                    "hop": best.hop_id,
                    "validation_coverage": best.coverage,
                    "proposed": best.proposed_coverage,
                    "silent_error_rate": s,
                    "label": f"what-if: cascade risk {best.cascade_risk_score:.2f} → "
                    f"{best.proposed_cascade_risk_score:.2f}",
                }
            )
    x = {
        "field": "validation_coverage",
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {**PERCENT, "title": "validation coverage"},
    }
    y = {
        "field": "silent_error_rate",
        "type": "quantitative",
        "axis": {**PERCENT, "title": "silent-error rate"},
    }
    return {
        "width": 520,
        "height": 300,
        "layer": [
            {
                "data": {"values": arrows},
                "mark": {
                    "type": "rule",
                    "color": "#0969da",
                    "strokeWidth": 2,
                    "strokeDash": [5, 3],
                },
                "encoding": {"x": x, "y": y, "x2": {"field": "proposed"}},
            },
            {
                "data": {"values": arrows},
                "mark": {
                    "type": "point",
                    "shape": "triangle-right",
                    "filled": True,
                    "color": "#0969da",
                    "size": 90,
                },
                "encoding": {"x": {**x, "field": "proposed"}, "y": y},
            },
            {
                "data": {"values": arrows},
                "mark": {"type": "text", "dy": -12, "align": "left", "color": "#0969da"},
                "encoding": {"x": x, "y": y, "text": {"field": "label"}},
            },
            {
                "data": {"values": points},
                "mark": {"type": "circle", "opacity": 0.8, "color": RED},
                "encoding": {
                    "x": x,
                    "y": y,
                    "size": {
                        "field": "cascade_contribution",
                        "type": "quantitative",
                        "scale": {"range": [40, 900]},
                        "legend": {"title": "cascade contribution"},
                    },
                    "tooltip": [
                        {"field": "hop"},
                        {"field": "validation_coverage", "format": ".1%", "title": "validated"},
                        {"field": "silent_error_rate", "format": ".1%", "title": "silent errors"},
                        {"field": "cascade_contribution", "format": ".3f"},
                    ],
                },
            },
            {
                "data": {"values": points},
                "mark": {"type": "text", "dy": 14, "fontSize": 11},
                "encoding": {"x": x, "y": y, "text": {"field": "hop"}},
            },
        ],
    }


def trend(workflow_id: str, days: Trend) -> dict[str, Any]:
    """End to end, predicted and cascade risk by day (top), and each hop's pass rate (below)."""
    headline = []
    hops = []
    for day in days.days:
        wf = next((w for w in day.report.workflows if w.workflow_id == workflow_id), None)
        if wf is None:
            continue
        stamp = day.day.isoformat()
        headline += [
            {"day": stamp, "series": "end to end (observed)", "value": wf.end_to_end_success_rate},
            {"day": stamp, "series": "end to end (predicted)", "value": wf.predicted_end_to_end},
            {"day": stamp, "series": "cascade risk", "value": wf.cascade_risk_score},
        ]
        hops += [{"day": stamp, "hop": h.hop_id, "pass_rate": h.pass_rate} for h in wf.hops]
    day_axis = {"field": "day", "type": "temporal", "timeUnit": "utcyearmonthdate", "title": None}
    return {
        "vconcat": [
            {
                "width": 560,
                "height": 180,
                "layer": [
                    {
                        "data": {"values": headline},
                        "mark": {"type": "line", "point": True},
                        "encoding": {
                            "x": day_axis,
                            "y": {
                                "field": "value",
                                "type": "quantitative",
                                "axis": PERCENT,
                                "title": None,
                            },
                            "color": {"field": "series", "type": "nominal", "title": None},
                            "tooltip": [
                                {"field": "day"},
                                {"field": "series"},
                                {"field": "value", "format": ".3f"},
                            ],
                        },
                    },
                    {
                        "data": {"values": [{"line": CASCADE_LINE}]},
                        "mark": {"type": "rule", "color": RED, "strokeDash": [4, 3]},
                        "encoding": {"y": {"field": "line", "type": "quantitative"}},
                    },
                ],
            },
            {
                "width": 560,
                "height": 180,
                "data": {"values": hops},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": day_axis,
                    "y": {
                        "field": "pass_rate",
                        "type": "quantitative",
                        "axis": PERCENT,
                        "title": "pass rate per hop",
                    },
                    "color": {"field": "hop", "type": "nominal"},
                    "tooltip": [
                        {"field": "day"},
                        {"field": "hop"},
                        {"field": "pass_rate", "format": ".1%"},
                    ],
                },
            },
        ],
        "resolve": {"scale": {"color": "independent"}},
    }


def pass_rates_compared(
    base: WorkflowReport | None, candidate: WorkflowReport | None
) -> dict[str, Any]:
    """Each hop's pass rate and interval on both sides of a diff, one above the other."""
    values = []
    order: list[str] = []
    for side, wf in (("base", base), ("candidate", candidate)):
        for h in wf.hops if wf else []:
            if h.hop_id not in order:
                order.append(h.hop_id)
            values.append(
                {
                    "hop": h.hop_id,
                    "side": side,
                    "pass_rate": h.pass_rate,
                    "ci_low": h.pass_rate_ci[0],
                    "ci_high": h.pass_rate_ci[1],
                }
            )
    y = {"field": "hop", "type": "nominal", "sort": order, "title": None}
    x = {
        "field": "pass_rate",
        "type": "quantitative",
        "scale": {"domain": [0, 1]},
        "axis": {**PERCENT, "title": "pass rate, 95% interval"},
    }
    color = {
        "field": "side",
        "type": "nominal",
        "scale": {"domain": ["base", "candidate"], "range": [GREY, "#0969da"]},
        "title": None,
    }
    offset = {"field": "side", "type": "nominal", "sort": ["base", "candidate"]}
    return {
        "width": 520,
        "height": {"step": 34},
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "rule", "strokeWidth": 5, "opacity": 0.4},
                "encoding": {
                    "y": y,
                    "yOffset": offset,
                    "x": {**x, "field": "ci_low"},
                    "x2": {"field": "ci_high"},
                    "color": color,
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 60},
                "encoding": {
                    "y": y,
                    "yOffset": offset,
                    "x": x,
                    "color": color,
                    "tooltip": [
                        {"field": "hop"},
                        {"field": "side"},
                        {"field": "pass_rate", "format": ".1%"},
                        {"field": "ci_low", "format": ".1%"},
                        {"field": "ci_high", "format": ".1%"},
                    ],
                },
            },
        ],
    }
