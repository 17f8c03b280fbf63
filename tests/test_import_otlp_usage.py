"""Usage and cost of imported spans are counted once, whatever spans are hops: a property over
random agent trees (agents delegating through tools to agents, model calls anywhere below an
agent, agent spans that carry their own aggregate of their calls, as Pydantic AI writes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_import_otlp import agent, hops, s, span, traces_data, write

MODES = ("agents", "tools", "genai", "all")


def _int(key: str, value: int) -> dict[str, Any]:
    return {"key": key, "value": {"intValue": str(value)}}


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, tuple[int, int, float]]]:
    """Spans of one trace under a root agent, and the truth: per agent span, the tokens and
    cost of the model calls whose nearest enclosing agent it is (tools are no agents)."""
    spans: list[dict[str, Any]] = []
    truth: dict[str, tuple[int, int, float]] = {}
    counter = iter(range(1, 10_000))

    def new_id() -> str:
        return f"{next(counter):016x}"

    def grow(parent: str, owner: str, depth: int) -> None:
        for _ in range(draw(st.integers(min_value=0, max_value=3 if depth < 3 else 0))):
            kind = draw(st.sampled_from(["chat", "chat", "tool", "agent"]))
            span_id = new_id()
            start = len(spans)
            if kind == "chat":
                tokens = draw(st.tuples(st.integers(0, 500), st.integers(0, 50)))
                cost = draw(st.sampled_from([0.5, 0.25, 0.125, 0.0625]))
                key = draw(st.sampled_from(["operation.cost", "llm.cost.total"]))
                attributes = [
                    s("gen_ai.operation.name", "chat"),
                    _int("gen_ai.usage.input_tokens", tokens[0]),
                    _int("gen_ai.usage.output_tokens", tokens[1]),
                    {"key": key, "value": {"doubleValue": cost}},
                ]
                spans.append(span(span_id, attributes, parent=parent, start_ms=start))
                t_in, t_out, c = truth[owner]
                truth[owner] = (t_in + tokens[0], t_out + tokens[1], c + cost)
            elif kind == "tool":
                tool = [s("gen_ai.operation.name", "execute_tool"), s("gen_ai.tool.name", "t")]
                spans.append(span(span_id, tool, parent=parent, start_ms=start))
                grow(span_id, owner, depth + 1)
            else:
                add_agent(span_id, parent, start, depth + 1)

    def add_agent(span_id: str, parent: str, start: int, depth: int) -> None:
        truth[span_id] = (0, 0, 0.0)
        index = len(spans)
        spans.append(span(span_id, agent(f"a{depth}"), parent=parent, start_ms=start))
        grow(span_id, span_id, depth)
        # Pydantic AI's aggregate of the agent's own calls, on some agent spans
        if draw(st.booleans()):
            t_in, t_out, _ = truth[span_id]
            spans[index]["attributes"] += [
                _int("gen_ai.aggregated_usage.input_tokens", t_in),
                _int("gen_ai.aggregated_usage.output_tokens", t_out),
            ]

    add_agent(new_id(), "", 0, 0)
    return spans, truth


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees())
def test_usage_and_cost_are_counted_once_in_every_mode(
    tmp_path_factory: pytest.TempPathFactory,
    tree: tuple[list[dict[str, Any]], dict[str, tuple[int, int, float]]],
) -> None:
    spans, truth = tree
    path: Path = write(tmp_path_factory.mktemp("usage") / "t.jsonl", traces_data(*spans))
    total_in = sum(t[0] for t in truth.values())
    total_out = sum(t[1] for t in truth.values())
    total_cost = sum(t[2] for t in truth.values())
    for mode in MODES:
        rows = hops(path, hop_spans=mode)
        assert sum(r["input_tokens"] or 0 for r in rows) == total_in, mode
        assert sum(r["output_tokens"] or 0 for r in rows) == total_out, mode
        assert sum(r["cost_usd"] or 0.0 for r in rows) == pytest.approx(total_cost), mode
        if mode == "agents":
            # each agent: the calls it made itself, through tools included, never a delegate's
            for row in rows:
                t_in, t_out, cost = truth[row["span_id"]]
                assert (row["input_tokens"] or 0, row["output_tokens"] or 0) == (t_in, t_out)
                assert (row["cost_usd"] or 0.0) == pytest.approx(cost)


def test_an_agents_aggregate_is_not_counted_beside_a_call_under_its_tool(tmp_path: Path) -> None:
    """An agent whose one model call sits under a tool: under --hop-spans tools the call counts
    at the tool hop, so the agent's aggregate of it must not count too (hypothesis found it)."""
    spans = [
        span("0000000000000001", [*agent("a0"), _int("gen_ai.aggregated_usage.output_tokens", 7)]),
        span("0000000000000002", [s("gen_ai.operation.name", "execute_tool"),
                                  s("gen_ai.tool.name", "t")], parent="0000000000000001"),
        span("0000000000000003", [s("gen_ai.operation.name", "chat"),
                                  _int("gen_ai.usage.output_tokens", 7)],
             parent="0000000000000002", start_ms=2),
    ]  # fmt: skip
    path = write(tmp_path / "t.jsonl", traces_data(*spans))
    for mode, expected in (("agents", {"a0": 7}), ("tools", {"a0": None, "t": 7})):
        rows = hops(path, hop_spans=mode)
        assert {r["hop_id"]: r["output_tokens"] for r in rows} == expected, mode
