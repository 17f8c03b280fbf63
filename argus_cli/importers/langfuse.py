"""Langfuse observation exports as hop records.

Reads what Langfuse's UI batch export and blob-storage export write: observations as a JSON
array or as JSON Lines, with the public API's camelCase names (`traceId`, `startTime`,
`usageDetails`) or the blob export's snake_case ones (`trace_id`, `start_time`,
`usage_details`; timestamps as `YYYY-MM-DD HH:MM:SS.ffffff`, UTC). An API page
(`{"data": [...], "meta": ...}`) is read as its `data`. Score rows (the blob export's `scores/`
file, or the API's scores) and trace rows (the legacy `traces/` file) may be concatenated into
the same file: a score is attached to its observation's hop, a trace row names its run's
workflow. An observation that appears more than once (an incremental export) counts once, as
its last version.

Mapping (a trace is a run):

    hop field          from
    -----------------  ------------------------------------------------------------------
    run_id             traceId / trace_id
    (which             --hop-spans agents (default): AGENT observations; a trace without any
    observations)      has as hops its SPAN and GENERATION observations under the trace root
                       (the children of its single root observation, else its top-level
                       ones). tools: also TOOL; genai: also GENERATION, EMBEDDING, CHAIN,
                       RETRIEVER; all: every type but EVENT, GUARDRAIL and EVALUATOR
    (no hop)           a trace in which no observation is a hop keeps its first root
                       observation as its only hop (metadata.container = true), unless no
                       trace of the file has a hop: that file is refused, saying which
                       observations are hops
    hop_id             name (else the type, lower-cased)
    workflow_id        the trace's name: traceName / trace_name (enriched export), or the
                       name of its trace row
    span_id            id
    parent_id          id of the nearest enclosing hop
    seq                rank by startTime within the trace
    status, error      error when level is ERROR; error is statusMessage
    input_tokens,      usageDetails.input / output (or the prompt_tokens / completion_tokens,
    output_tokens      input_tokens / output_tokens keys); else the deprecated usage.input /
                       output when not 0. A hop with none gets the sum over the GENERATION
                       and EMBEDDING observations whose nearest enclosing hop it is
    cost_usd           costDetails.total, else calculatedTotalCost / totalCost / total_cost
                       when not 0; else that sum over its generations
    model              model (or provided_model_name); else the one model its generations name
    started_at,        startTime, endTime; latency is their difference
    ended_at
    validated, violations, high_stakes, confidence, correct, input_hash, output_hash,
    intent_checksum    metadata keys argus.<field> (Langfuse has no field for them)
    scores             metadata keys argus.score.<name>, and score rows (NUMERIC and BOOLEAN
                       scores in 0..1, the range SPEC scores have) on the hop's observation or
                       one below it; a trace-level score goes to the run's last hop, whose
                       output is the trace's. Several of one name are averaged
    (checks)           a GUARDRAIL or EVALUATOR observation below a hop marks it validated;
                       one with level ERROR adds the violation {rule: its name, category:
                       "safety"} for a GUARDRAIL, "evaluator" for an EVALUATOR
    metadata           {observation_type, trace_name}

Sources: Langfuse API reference (Observation: `type`, `level` DEBUG/DEFAULT/WARNING/ERROR,
`statusMessage`, `parentObservationId`, `usageDetails`, `costDetails`, deprecated `usage`;
Score: `observationId`, `dataType` NUMERIC/CATEGORICAL/BOOLEAN), the observation types doc
(span, generation, event, agent, tool, chain, retriever, evaluator, embedding, guardrail), and
the blob storage export field reference (snake_case names, timestamp format).
"""

from __future__ import annotations

from argus_cli.importers.common import (
    EVALUATIONS,
    NODE_COLUMNS,
    HopSpans,
    assemble,
    document_ctes,
    lit,
    nn,
    rfc3339,
)

HOP_SPANS_HELP: dict[HopSpans, str] = {
    "agents": "AGENT observations, else SPAN and GENERATION observations under the trace root",
    "tools": "AGENT and TOOL observations",
    "genai": "AGENT, TOOL, GENERATION, EMBEDDING, CHAIN and RETRIEVER observations",
    "all": "every observation but EVENT, GUARDRAIL and EVALUATOR",
}

_SELECTED: dict[HopSpans, str] = {
    "agents": "{type} = 'AGENT'",
    "tools": "{type} IN ('AGENT', 'TOOL')",
    "genai": "{type} IN ('AGENT', 'TOOL', 'GENERATION', 'EMBEDDING', 'CHAIN', 'RETRIEVER')",
    "all": "{type} NOT IN ('EVENT', 'GUARDRAIL', 'EVALUATOR')",
}


def _get(*names: str) -> str:
    """A field under any of its names (camelCase API, snake_case blob export), as JSON."""
    return "coalesce(" + ", ".join(nn(f"o->{lit(n)}") for n in names) + ")"


def _text(*names: str) -> str:
    return "coalesce(" + ", ".join(f"nullif(o->>{lit(n)}, '')" for n in names) + ")"


def _object(expr: str) -> str:
    """An object field, also when an export wrote it as a JSON string (CSV-minded exports)."""
    return (
        f"CASE json_type({expr}) WHEN 'OBJECT' THEN {expr} "
        f"WHEN 'VARCHAR' THEN try(CAST({expr}->>'$' AS JSON)) END"
    )


def _legacy(expr: str, cast: str) -> str:
    """A deprecated usage or cost field: the API reports 0 there for every span, so 0 is none."""
    return f"nullif(TRY_CAST({expr} AS {cast}), 0)"


def _timestamp(start: str) -> tuple[str, str]:
    """(sort key, JSON for the record): RFC 3339 when it parses, else as written."""
    value = _get(start, _snake(start))
    parsed = f"CAST(TRY_CAST({value}->>'$' AS TIMESTAMPTZ) AS TIMESTAMP)"
    return parsed, f"coalesce(to_json({rfc3339(parsed)}), {value})"


def _tokens(key: str, *aliases: str) -> str:
    """Tokens from usageDetails under its key or an OpenAI-style alias, else legacy `usage`."""
    names = ", ".join(f"p.usage->>{lit(k)}" for k in (key, *aliases))
    return (
        f"coalesce(TRY_CAST(coalesce({names}) AS BIGINT), "
        f"{_legacy(f'p.legacy->>{lit(key)}', 'BIGINT')})"
    )


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def records_sql(lines: str, hop_spans: HopSpans) -> str:
    """SPEC hop records from the `(_line, _raw)` text lines of one Langfuse export."""
    items = (
        "CASE WHEN doc_type = 'ARRAY' THEN json_extract(doc, '$[*]') "
        "WHEN json_type(doc->'data') = 'ARRAY' AND (doc->'type') IS NULL "
        "THEN json_extract(doc, '$.data[*]') ELSE [CAST(doc AS JSON)] END"
    )
    start_key, started_at = _timestamp("startTime")
    _, ended_at = _timestamp("endTime")
    usage = _object(_get("usageDetails", "usage_details"))
    legacy = _object(_get("usage"))
    cost = _object(_get("costDetails", "cost_details"))
    metadata = _object(_get("metadata"))
    fields = {
        "trace": _text("traceId", "trace_id"),
        "id": _text("id"),
        "parent": _text("parentObservationId", "parent_observation_id"),
        "type": "upper(o->>'type')",
        "name": _text("name"),
        "level": "upper(o->>'level')",
        "status_message": _text("statusMessage", "status_message"),
        "start_key": start_key,
        "started_at": started_at,
        "ended_at": ended_at,
        "usage": usage,
        "legacy": legacy,
        "cost": cost,
        "legacy_cost": _text("calculatedTotalCost", "totalCost", "total_cost"),
        "model": _text("model", "provided_model_name", "providedModelName"),
        "trace_name": _text("traceName", "trace_name"),
        "metadata": metadata,
        "score_type": "upper(" + _text("dataType", "data_type") + ")",
        "score_node": _text("observationId", "observation_id"),
        "value": "TRY_CAST(o->>'value' AS DOUBLE)",
        "is_trace_row": "(o->'type') IS NULL AND (o->'timestamp') IS NOT NULL",
    }
    selected = _SELECTED[hop_spans]
    ctes = [
        *document_ctes(lines),
        (
            "items",
            "SELECT _line, unnest(l) AS o, unnest(range(len(l))) AS item FROM ("
            f"SELECT _line, {items} AS l FROM docs WHERE doc_type IN ('OBJECT', 'ARRAY'))",
        ),
        (
            "fields",
            "SELECT _line, item, "
            + ", ".join(f"{v} AS {k}" for k, v in fields.items())
            + " FROM items WHERE json_type(o) = 'OBJECT'",
        ),
        (
            "obs",
            "SELECT * FROM fields WHERE type IS NOT NULL AND trace IS NOT NULL AND id IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY trace, id ORDER BY _line DESC, item DESC) = 1",
        ),
        (
            "trace_names",
            "SELECT id AS trace, any_value(name) AS name FROM fields "
            "WHERE type IS NULL AND trace IS NULL AND is_trace_row AND name IS NOT NULL "
            "GROUP BY id",
        ),
        (
            "placed",
            "SELECT o.*, (o.parent IS NULL OR p.id IS NULL) AS top FROM obs o "
            "LEFT JOIN obs p ON p.trace = o.trace AND p.id = o.parent",
        ),
        (
            "traces",
            "SELECT trace, count(*) FILTER (WHERE top) AS tops, "
            "any_value(id) FILTER (WHERE top) AS root, any_value(trace_name) AS trace_name, "
            f"coalesce(bool_or({selected.format(type='type')}), false) AS selects "
            "FROM placed GROUP BY trace",
        ),
        (
            "root_children",
            "SELECT p.trace, count(*) AS n FROM placed p JOIN traces t ON t.trace = p.trace "
            "WHERE t.tops = 1 AND NOT p.top AND p.parent = t.root "
            "AND p.type IN ('SPAN', 'GENERATION') GROUP BY p.trace",
        ),
        ("nodes", _nodes_sql(selected)),
        (
            "given_scores",
            "SELECT trace, score_node AS node, name, value FROM fields "
            "WHERE type IS NULL AND trace IS NOT NULL AND name IS NOT NULL "
            "AND coalesce(score_type, 'NUMERIC') IN ('NUMERIC', 'BOOLEAN') "
            "AND value BETWEEN 0 AND 1",
        ),
    ]
    return assemble(ctes, ["OBJECT", "ARRAY"])


def _nodes_sql(selected: str) -> str:
    fallback = "p.type IN ('SPAN', 'GENERATION')"
    is_hop = (
        f"CASE WHEN t.selects THEN coalesce({selected.format(type='p.type')}, false) "
        f"WHEN t.tops = 1 AND coalesce(rc.n, 0) > 0 "
        f"THEN {fallback} AND NOT p.top AND p.parent = t.root "
        f"ELSE {fallback} AND p.top END"
    )
    legacy_cost = "p.legacy->>'totalCost'"
    argus = (
        "list_filter(map_entries(try(json_transform(p.metadata, '\"MAP(VARCHAR, JSON)\"'))), "
        "lambda e: starts_with(e.key, 'argus.'))"
    )
    columns = {
        "_line": "p._line",
        "trace": "p.trace",
        "id": "p.id",
        "parent": "p.parent",
        "start_key": "p.start_key",
        "started_at": "p.started_at",
        "ended_at": "p.ended_at",
        "latency_ms": "CAST(NULL AS DOUBLE)",
        "is_hop": f"coalesce({is_hop}, false)",
        "is_workflow": "false",
        "is_model": "p.type IN ('GENERATION', 'EMBEDDING')",
        "is_check": "p.type IN ('GUARDRAIL', 'EVALUATOR')",
        "is_agent": "p.type = 'AGENT'",
        # a generation's name is its author's: kept as its hop_id
        "call_agent": "CAST(NULL AS VARCHAR)",
        "call_step": "CAST(NULL AS VARCHAR)",
        "run_span": "false",
        "run_root": "false",
        "evaluations": f"CAST(NULL AS {EVALUATIONS})",
        "tripwire": "CAST(NULL AS VARCHAR)",
        "hop_id": "coalesce(p.name, lower(p.type))",
        "workflow_name": "CAST(NULL AS VARCHAR)",
        "default_workflow": "coalesce(t.trace_name, tn.name)",
        "failed": "coalesce(p.level = 'ERROR', false)",
        "error": "p.status_message",
        "input_tokens": _tokens("input", "prompt_tokens", "input_tokens"),
        "output_tokens": _tokens("output", "completion_tokens", "output_tokens"),
        "cost_usd": "coalesce(TRY_CAST(p.cost->>'total' AS DOUBLE), "
        f"{_legacy('p.legacy_cost', 'DOUBLE')}, {_legacy(legacy_cost, 'DOUBLE')})",
        "model": "p.model",
        "check_rule": "coalesce(p.name, lower(p.type))",
        "check_category": "CASE WHEN p.type = 'GUARDRAIL' THEN 'safety' ELSE 'evaluator' END",
        "argus": argus,
        "metadata": "json_object('observation_type', p.type, 'trace_name', "
        "coalesce(t.trace_name, tn.name))",
    }
    assert list(columns) == list(NODE_COLUMNS), "the nodes contract of importers.common"
    return (
        "SELECT "
        + ", ".join(f"{v} AS {k}" for k, v in columns.items())
        + " FROM placed p JOIN traces t ON t.trace = p.trace "
        "LEFT JOIN root_children rc ON rc.trace = p.trace "
        "LEFT JOIN trace_names tn ON tn.trace = p.trace"
    )
