"""The OTLP importer's LangGraph rules on small hand-written traces, each rule on its own.

The spans are shaped as OpenInference's LangChain instrumentation writes them (checked against
the real thing in test_realsdk_langgraph.py): LangChain's run metadata as one JSON string in the
attribute `metadata`, span kind AGENT for any run whose name contains "agent", CHAIN for graph
nodes and chains, an `exception` event and the repr-plus-traceback status message on failure.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from argus_cli.cli import app

TRACE = "0af7651916cd43dd8448eb211c80319c"
T0 = 1_775_037_600_000_000_000


def _span(
    n: int,
    name: str,
    parent: int | None,
    kind: str | None = "CHAIN",
    metadata: dict[str, Any] | str | None = None,
    error: tuple[str, str] | None = None,
    status_message: str | None = None,
    attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    attrs = [{"key": k, "value": {"stringValue": v}} for k, v in (attributes or {}).items()]
    if kind is not None:
        attrs.append({"key": "openinference.span.kind", "value": {"stringValue": kind}})
    if metadata is not None:
        text = metadata if isinstance(metadata, str) else json.dumps(metadata)
        attrs.append({"key": "metadata", "value": {"stringValue": text}})
    span: dict[str, Any] = {
        "traceId": TRACE,
        "spanId": f"{n:016x}",
        "name": name,
        "startTimeUnixNano": str(T0 + n * 1_000_000),
        "endTimeUnixNano": str(T0 + n * 1_000_000 + 500_000),
        "attributes": attrs,
    }
    if parent is not None:
        span["parentSpanId"] = f"{parent:016x}"
    if error is not None or status_message is not None:
        span["status"] = {"code": 2, "message": status_message or ""}
    if error is not None:
        kind_, message = error
        event_attrs = {"exception.type": kind_, "exception.message": message}
        event_attrs["exception.stacktrace"] = "Traceback (most recent call last):\n  ..."
        span["events"] = [
            {
                "name": "exception",
                "timeUnixNano": span["endTimeUnixNano"],
                "attributes": [
                    {"key": k, "value": {"stringValue": v}} for k, v in event_attrs.items()
                ],
            }
        ]
    return span


def _node(node: str, step: int, ns: str, **extra: Any) -> dict[str, Any]:
    return {
        "langgraph_step": step,
        "langgraph_node": node,
        "langgraph_triggers": ["branch:to:" + node],
        "langgraph_path": ["__pregel_pull", node],
        "langgraph_checkpoint_ns": ns,
        **extra,
    }


def _write(tmp_path: Path, spans: list[dict[str, Any]]) -> Path:
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "desk"}}]
                },
                "scopeSpans": [{"spans": spans}],
            }
        ]
    }
    path = tmp_path / "trace.otlp.json"
    path.write_text(json.dumps(document) + "\n")
    return path


def _records(path: Path, *flags: str) -> list[dict[str, Any]]:
    out = path.parent / "out.jsonl"
    result = CliRunner().invoke(app, ["convert", str(path), "-o", str(out), "-q", *flags])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def _graph() -> list[dict[str, Any]]:
    """A graph named like an agent (so its span is kind AGENT), a plain function node with a
    model call, a subgraph node (its span repeated under the node's) with a node of its own
    that calls a tool, and a chain named like an agent inside a node."""
    research_ns = "research:7c0e"
    search_ns = f"{research_ns}|search:91aa"
    return [
        _span(1, "helpdesk_agent", None, "AGENT", {"ls_integration": "langgraph"}),
        _span(2, "planner", 1, "CHAIN", _node("planner", 1, "planner:1f2e")),
        _span(
            3,
            "ChatOpenAI",
            2,
            "LLM",
            {**_node("planner", 1, "planner:1f2e"), "ls_provider": "openai"},
            attributes={"llm.model_name": "gpt-x"},
        ),
        _span(4, "research", 1, "CHAIN", _node("research", 2, research_ns)),
        _span(5, "research", 4, "CHAIN", _node("research", 2, research_ns, checkpoint_ns=1)),
        _span(6, "search", 5, "CHAIN", _node("search", 1, search_ns)),
        _span(7, "web_search", 6, "TOOL", _node("search", 1, search_ns)),
        _span(8, "format_agent_reply", 6, "AGENT", _node("search", 1, search_ns)),
    ]


def test_graph_nodes_are_the_hops_named_by_their_path(tmp_path: Path) -> None:
    records = _records(_write(tmp_path, _graph()))
    assert [(r["hop_id"], r["span_id"][-1], r["parent_id"]) for r in records] == [
        ("planner", "2", None),
        ("research", "4", None),
        ("research/search", "6", f"{4:016x}"),
    ]
    # none of the graph's span (an AGENT by name), the subgraph's repeat, the model call or
    # the agent-named chain inside a node is a hop; the model call rolls up into its node
    assert records[0]["model"] == "gpt-x"
    # the graph's span names the workflow
    assert {r["workflow_id"] for r in records} == {"helpdesk_agent"}


@pytest.mark.parametrize(
    ("mode", "extra"),
    [("tools", {"web_search"}), ("genai", set()), ("all", set())],
)
def test_a_subgraph_repeat_is_one_hop_in_every_mode(
    tmp_path: Path, mode: str, extra: set[str]
) -> None:
    hops = Counter(r["hop_id"] for r in _records(_write(tmp_path, _graph()), "--hop-spans", mode))
    assert hops["research"] == 1
    assert hops["research/search"] == 1
    assert {"planner", "research", "research/search"} | extra <= set(hops)
    assert "helpdesk_agent" not in hops  # the graph's span is the workflow in every mode
    if mode == "tools":
        assert set(hops) == {"planner", "research", "research/search", "web_search"}


def test_metadata_that_is_not_json_is_no_langgraph_metadata(tmp_path: Path) -> None:
    named = {"agent.name": "triage"}  # an agent root that names its agent is a hop
    spans = [
        _span(1, "triage_agent", None, "AGENT", "{not json", attributes=named),
        _span(2, "billing_agent", 1, "AGENT", '["a list"]'),
        _span(3, "lookup", 2, "TOOL", "42"),
    ]
    records = _records(_write(tmp_path, spans))
    assert [r["hop_id"] for r in records] == ["triage", "billing_agent"]


def test_a_node_whose_namespace_does_not_end_in_it_keeps_its_own_name(tmp_path: Path) -> None:
    spans = [
        _span(1, "LangGraph", None, "CHAIN", {}),
        _span(2, "step_a", 1, "CHAIN", _node("step_a", 1, "other:1")),
        _span(3, "step_b", 1, "CHAIN", _node("step_b", 2, "")),
        _span(4, "step_c", 1, "CHAIN", {"langgraph_node": "step_c", "langgraph_step": 3}),
    ]
    records = _records(_write(tmp_path, spans))
    assert [r["hop_id"] for r in records] == ["step_a", "step_b", "step_c"]
    # a graph compiled without a name is "LangGraph": no workflow name, the service's instead
    assert {r["workflow_id"] for r in records} == {"desk"}


def test_an_error_is_its_first_line_and_the_whole_text_goes_to_metadata(tmp_path: Path) -> None:
    traceback = "ValueError('bad\\nverdict')Traceback (most recent call last):\n  File ..."
    spans = [
        _span(1, "LangGraph", None, "CHAIN", {}),
        # an exception event: its type and the first line of its message
        _span(
            2,
            "a",
            1,
            metadata=_node("a", 1, "a:1"),
            error=("json.decoder.JSONDecodeError", "Expecting value\nline 2"),
            status_message=traceback,
        ),
        # an exception with an empty message: its type
        _span(3, "b", 1, metadata=_node("b", 2, "b:1"), error=("KeyError", "")),
        # no event: the first line of the status message
        _span(4, "c", 1, metadata=_node("c", 3, "c:1"), status_message="  timeout\nafter 30 s"),
        # GenAI's error.type and no event
        _span(
            5,
            "d",
            1,
            metadata=_node("d", 4, "d:1"),
            status_message="",
            attributes={"error.type": "rate_limited"},
        ),
        _span(6, "e", 1, metadata=_node("e", 5, "e:1")),
    ]
    records = {r["hop_id"]: r for r in _records(_write(tmp_path, spans))}
    assert {h: (r["status"], r["error"]) for h, r in records.items()} == {
        "a": ("error", "json.decoder.JSONDecodeError: Expecting value"),
        "b": ("error", "KeyError"),
        "c": ("error", "timeout"),
        "d": ("error", "rate_limited"),
        "e": ("success", None),
    }
    assert records["a"]["metadata"]["error_detail"] == traceback
    assert records["c"]["metadata"]["error_detail"] == "  timeout\nafter 30 s"
    assert "error_detail" not in records["b"]["metadata"]
    assert "error_detail" not in records["e"]["metadata"]


def test_odd_langgraph_metadata_never_breaks_the_import(tmp_path: Path) -> None:
    """Values of the wrong type or shape: a node named by a number is named by its text, an
    empty node name is no node, a namespace that is no path leaves the node its own name, and
    a malformed exception event leaves the error to the status."""
    spans = [
        _span(1, "LangGraph", None, "CHAIN", {}),
        _span(
            2,
            "a",
            1,
            metadata={"langgraph_node": 5, "langgraph_checkpoint_ns": ["x"], "langgraph_step": {}},
        ),
        _span(3, "b", 1, metadata={"langgraph_node": None, "langgraph_checkpoint_ns": None}),
        _span(4, "c", 1, metadata={"langgraph_node": "", "langgraph_checkpoint_ns": "c:1"}),
        _span(5, "d", 1, metadata={"langgraph_node": "d", "langgraph_checkpoint_ns": "||::|"}),
    ]
    spans[4]["status"] = {"code": 2, "message": "boom\nmore"}
    spans[4]["events"] = [{"name": "exception"}, "not an event"]
    records = _records(_write(tmp_path, spans))
    assert [(r["hop_id"], r["status"], r.get("error")) for r in records] == [
        ("5", "success", None),
        ("d", "error", "boom"),
    ]
