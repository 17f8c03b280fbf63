"""OTLP JSON traces, as the OpenTelemetry Collector's file exporter writes them, as hop records.

The file holds `TracesData` objects (`resourceSpans` > `scopeSpans` > `spans`), one per line, or
one pretty-printed object; gzip is read as is. Encoding, per the OTLP specification
(opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding") and the proto3 JSON
mapping it refers to:

- `traceId`/`spanId` are hex, in either case; some producers write protobuf's default base64
  instead, told apart by length (trace id: 32 hex or 24 base64 characters; span id: 16 or 12);
- 64-bit integers (`startTimeUnixNano`, `intValue`) may be strings or numbers;
- enums (`status.code`) are integers; names (`STATUS_CODE_ERROR`) are accepted too;
- attribute values are typed `AnyValue`s: stringValue, boolValue, intValue, doubleValue,
  arrayValue, kvlistValue;
- unknown fields are ignored, and spans may come in any order, within and across lines (of one
  file: a trace cut across files loses the links between the parts);
- `instrumentationLibrarySpans`, the name of `scopeSpans` before OTLP 0.15, is read too.

Mapping (a trace is a run, always: none is dropped; a span that appears twice counts once, its
first line wins):

    hop field          from
    -----------------  ------------------------------------------------------------------
    run_id             traceId, as lower-case hex
    (which spans)      --hop-spans agents (default): gen_ai.operation.name = invoke_agent or
                       openinference.span.kind = AGENT; tools: also execute_tool / TOOL spans;
                       genai: every span with either attribute; all: every span. Never a
                       container, nor a GUARDRAIL or EVALUATOR span (it checks a hop).
                       LangGraph (OpenInference's LangChain instrumentation: its `metadata`
                       attribute, a JSON string, carries langgraph_node, langgraph_step,
                       langgraph_checkpoint_ns): the graph's nodes are the agent steps
                       whatever their span kind, so under agents and tools a span with that
                       metadata is a hop only when it is a node's span (the outermost span
                       of its task); the graph's own span (the parent of nodes, with no node
                       of its own) is a workflow span and may be a container; a subgraph's
                       span nested directly under its node's span, with the node's name and
                       task, repeats that node: a hop in no mode, its error not counted again
    (containers)       the spans that hold the run, at the top of its trace: a GenAI
                       invoke_workflow span; an OpenInference CHAIN span that names no agent
                       (no gen_ai.agent.name, no agent.name; not a LangGraph node, whose
                       `metadata` names langgraph_node); a trace root with children that names
                       no agent and is an OpenInference AGENT span or a GenAI invoke_agent
                       span (the OpenAI Agents SDK's trace span, "Agent workflow" or the
                       name given to trace(), as both instrumentations write it) or has no
                       kind at all (an app's own request span). Each only when every span
                       above it is a container too. They are never hops
    (outcome)          one record {kind: outcome, run_id, correct, source: "otel", note} per
                       run whose containers give a verdict: an error status (note: the
                       error's first line), an argus.correct attribute, a gen_ai.evaluation.
                       result event with a deciding label (below); correct is false when any
                       says so
    (no hop)           a trace in which no span is a hop keeps its first root as its only hop:
                       hop_id its workflow name, else its span name; its own status;
                       metadata.container = true. (A file in which no trace has a hop is
                       refused, saying which spans are hops.)
    hop_id             gen_ai.agent.name, then agent.name (OpenInference), then the span name;
                       tool spans: gen_ai.tool.name, then tool.name, then the span name;
                       a model call that is a hop (--hop-spans genai, all): `<agent>/<step>`,
                       the agent its own gen_ai.agent.name or agent.name names (Pydantic AI
                       writes it on chat spans), else the nearest agent hop above it, and the
                       step its gen_ai.operation.name (chat, embeddings, ...) or its
                       OpenInference kind lower-cased (llm, embedding): `billing_agent/chat`;
                       with no agent, the span name;
                       LangGraph nodes: the path of node names in langgraph_checkpoint_ns
                       (`billing_agent/agent`: a subgraph's node named by its callers)
    workflow_id        the nearest enclosing span that names a workflow: an invoke_workflow
                       span's gen_ai.workflow.name (or its gen_ai.agent.name, where later
                       GenAI conventions moved the name), a container's gen_ai.workflow.name,
                       or the name of an agent trace root that is a container (the Agents
                       SDK's workflow name), unless it is the SDK's default "Agent workflow";
                       or a LangGraph graph's span name unless LangGraph's default
                       "LangGraph"; then the resource's service.name. (Another CHAIN root's
                       name, a chain's class name, names no workflow.)
    span_id            spanId
    parent_id          spanId of the nearest enclosing hop
    seq                rank by startTimeUnixNano within the trace
    status, error      error when status.code is 2 (STATUS_CODE_ERROR) or error.type is set;
                       error is the span's first `exception` event (OpenTelemetry's
                       record_exception, which Pydantic AI and most instrumentations use,
                       often with no status message and no error.type) as the last line of
                       Python's traceback, `exception.type: ` and the first line of
                       exception.message (exception.stacktrace is not read); else error.type;
                       else the first line of status.message (never a whole traceback:
                       LangChain writes one there)
    input_tokens,      gen_ai.usage.input_tokens / output_tokens, the older
    output_tokens      gen_ai.usage.prompt_tokens / completion_tokens, OpenInference
                       llm.token_count.prompt / completion, or Pydantic AI's run total
                       gen_ai.aggregated_usage.input_tokens / output_tokens (invoke_agent).
                       A hop that model spans (chat, text_completion, generate_content,
                       embeddings; OpenInference LLM, EMBEDDING) report to, being their
                       nearest enclosing hop, gets the sum over those that are no hops
                       themselves, and its own figures are not read (an agent span's usage
                       adds up its calls: never counted twice); a model span that is a hop
                       keeps its own. A hop with no model span below it keeps its own
    cost_usd           the same way, of a span's cost in USD: llm.cost.total (OpenInference),
                       operation.cost (Pydantic AI, Logfire), gen_ai.usage.cost (OpenLIT),
                       else llm.cost.prompt + llm.cost.completion, else
                       gen_ai.usage.input_cost + gen_ai.usage.output_cost
    model              gen_ai.response.model, gen_ai.request.model, llm.model_name; else the
                       one model its model spans name
    started_at,        startTimeUnixNano, endTimeUnixNano (RFC 3339, microseconds); latency
    ended_at           is their difference in ms
    validated, violations, high_stakes, confidence, correct, input_hash, output_hash,
    intent_checksum    attributes argus.<field>; argus.violations is a string array, or a
                       string holding SPEC's JSON list
    scores             attributes argus.score.<name>
    (checks)           each marks the hop it checks validated, and adds a violation when it
                       fails (once per rule): an OpenInference GUARDRAIL or EVALUATOR span
                       below the hop that failed (status error, or error.type): {rule: span
                       name, category: "safety"} for a GUARDRAIL, "evaluator" for an
                       EVALUATOR; a guardrail_check span (how the OpenTelemetry GenAI
                       instrumentation of the Agents SDK, opentelemetry-instrumentation-
                       openai-agents-v2, writes a guardrail) that failed or has
                       gen_ai.guardrail.triggered = true: {rule: gen_ai.guardrail.name,
                       category: "safety"}; a gen_ai.evaluation.result event on the hop's
                       span or on a span whose nearest hop it is, failing when gen_ai.
                       evaluation.score.label is fail, failed, false, incorrect, wrong, no,
                       unsafe or bad (pass, passed, true, correct, right, yes, safe, good
                       pass; another label, or none, checks without a verdict): {rule:
                       gen_ai.evaluation.name, category: "evaluator"}; a guardrail tripwire
                       in the error of the hop's span (InputGuardrailTripwireTriggered,
                       OutputGuardrailTripwireTriggered, the Agents SDK's "Guardrail
                       tripwire triggered: {'guardrail': NAME}"), which stopped that hop's
                       output: {rule: NAME, else the exception type, category: "safety"}
    metadata           {span_name, service_name}; conversation_id: gen_ai.conversation.id,
                       when the span carries one (Pydantic AI's agent runs do); child_errors:
                       how many spans whose nearest hop this is failed, not counting checks
                       (a tool error the agent recovered from, under the default --hop-spans
                       agents); container: true for a root that is its run's only hop;
                       error_detail: a failed span's whole status.message (LangChain writes
                       the exception and its traceback there)

Sources: OpenTelemetry semantic conventions for GenAI (gen-ai-spans.md, gen-ai-agent-spans.md,
registry gen-ai.md: operation names, `gen_ai.agent.name`, `gen_ai.workflow.name`,
`gen_ai.usage.*`, the deprecated `prompt_tokens`/`completion_tokens`, `error.type`);
OpenInference semantic conventions (spec/semantic_conventions.md: `openinference.span.kind`
values, `agent.name`, `tool.name`, `llm.model_name`, `llm.token_count.*`, `llm.cost.total`);
the GenAI evaluation event (gen-ai-events.md: `gen_ai.evaluation.result`,
`gen_ai.evaluation.name`, `gen_ai.evaluation.score.label`, `gen_ai.evaluation.explanation`);
openinference-instrumentation-openai-agents (_processor.py: the trace's root span is an AGENT
span named after the workflow, always status OK; agent spans carry `agent.name`; span errors
are "message: data" in the status), checked against its spans in tests/test_realsdk_agents.py;
OpenInference's LangChain instrumentation (`metadata` holds the LangChain run's metadata as JSON;
a LangChain run named like "*agent*" gets span kind AGENT); LangGraph's task metadata
(`langgraph_node`, `langgraph_step`, `langgraph_checkpoint_ns`: `node:task` parts joined by `|`);
OpenTelemetry's exception event (`exception.type`, `exception.message`); Pydantic AI's
instrumentation (pydantic_ai/_instrumentation.py, capabilities/instrumentation.py:
`operation.cost` on chat spans, `gen_ai.aggregated_usage.*` and `gen_ai.agent.name` on
invoke_agent spans, `gen_ai.agent.name` on chat and execute_tool spans), checked against its
spans in tests/test_realsdk_pydantic.py; OpenLIT's semantic conventions (`gen_ai.usage.cost`).
"""

from __future__ import annotations

from argus_cli.importers.common import (
    NODE_COLUMNS,
    HopSpans,
    assemble,
    document_ctes,
    entry,
    json_object_sql,
    lit,
    rfc3339,
)

HOP_SPANS_HELP: dict[HopSpans, str] = {
    "agents": "agent spans: gen_ai.operation.name = invoke_agent or "
    "openinference.span.kind = AGENT, and LangGraph's nodes",
    "tools": "agent spans and tool spans (execute_tool, TOOL)",
    "genai": "spans with gen_ai.operation.name or openinference.span.kind",
    "all": "every span",
}

_ATTRIBUTES = '\'[{"key":"VARCHAR","value":"JSON"}]\''
# LangGraph's name for a compiled graph that was given none: it names no workflow.
_UNNAMED_GRAPH = "LangGraph"
_EVENTS = '\'[{"name":"VARCHAR","attributes":[{"key":"VARCHAR","value":"JSON"}]}]\''
# The Agents SDK's default name for a run's trace: it names no workflow.
_UNNAMED_WORKFLOW = "Agent workflow"
# gen_ai.evaluation.score.label values that decide a verdict (lower-cased).
_FAIL_LABELS = ("fail", "failed", "false", "incorrect", "wrong", "no", "unsafe", "bad")
_PASS_LABELS = ("pass", "passed", "true", "correct", "right", "yes", "safe", "good")
_TRIPWIRE = "(Input|Output)GuardrailTripwireTriggered|[Gg]uardrail tripwire triggered"
_MODEL_OPERATIONS = ("chat", "text_completion", "generate_content", "embeddings")
# Token counts, first found wins: GenAI, its deprecated names, OpenInference, and Pydantic AI's
# run total on invoke_agent spans (counted only when no model call below reports its own).
_INPUT_TOKENS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "gen_ai.aggregated_usage.input_tokens",
)
_OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "gen_ai.aggregated_usage.output_tokens",
)
# A call's cost in USD, first found wins: OpenInference's total, Pydantic AI / Logfire's
# `operation.cost`, OpenLIT's `gen_ai.usage.cost` (also what Langfuse reads from OTel); else
# the sum of the parts: OpenInference's prompt and completion costs, or the input and output
# costs of `gen_ai.usage.input_cost` / `output_cost` (any-agent).
_COST_TOTALS = ("llm.cost.total", "operation.cost", "gen_ai.usage.cost")
_COST_PARTS = (
    ("llm.cost.prompt", "llm.cost.completion"),
    ("gen_ai.usage.input_cost", "gen_ai.usage.output_cost"),
)


def _id(field: str, base64_len: int) -> str:
    """An id as lower-case hex: base64 (protobuf's default JSON) is told apart by its length;
    any other length is kept as written, lower-cased."""
    text = f"(span->>{lit(field)})"
    return (
        f"coalesce(CASE WHEN length({text}) = {base64_len} "
        f"THEN lower(hex(try(from_base64({text})))) END, lower(nullif({text}, '')))"
    )


def _scalar(v: str) -> str:
    """A scalar AnyValue as JSON; a value of the wrong shape stays as written, for the loader to
    refuse by name (a "NaN" double stays a string)."""
    double = f"TRY_CAST({v}->>'doubleValue' AS DOUBLE)"
    return (
        f"CASE WHEN ({v}->'stringValue') IS NOT NULL THEN {v}->'stringValue' "
        f"WHEN ({v}->'boolValue') IS NOT NULL THEN {v}->'boolValue' "
        f"WHEN ({v}->'intValue') IS NOT NULL "
        f"THEN coalesce(to_json(TRY_CAST({v}->>'intValue' AS BIGINT)), {v}->'intValue') "
        f"WHEN ({v}->'doubleValue') IS NOT NULL "
        f"THEN CASE WHEN isfinite({double}) THEN to_json({double}) ELSE {v}->'doubleValue' END "
        f"END"
    )


def _kvlist(v: str) -> str:
    entries = f"try(json_transform({v}->'kvlistValue'->'values', {_ATTRIBUTES}))"
    pair = (
        f"CAST(to_json(kv.key) AS VARCHAR) || ':' || "
        f"coalesce(CAST({_scalar('kv.value')} AS VARCHAR), 'null')"
    )
    return json_object_sql(f"list_transform({entries}, lambda kv: {pair})")


def _anyvalue(v: str) -> str:
    """An AnyValue as JSON: scalars, and arrays of scalars or kvlists, kvlists of scalars."""
    item = (
        f"coalesce(CAST(CASE WHEN (x->'kvlistValue') IS NOT NULL THEN {_kvlist('x')} "
        f"ELSE {_scalar('x')} END AS VARCHAR), 'null')"
    )
    array = (
        f"CAST('[' || array_to_string(list_transform(json_extract({v}, "
        f"'$.arrayValue.values[*]'), lambda x: {item}), ',') || ']' AS JSON)"
    )
    return (
        f"CASE WHEN ({v}->'arrayValue') IS NOT NULL THEN {array} "
        f"WHEN ({v}->'kvlistValue') IS NOT NULL THEN {_kvlist(v)} ELSE {_scalar(v)} END"
    )


def _attr(key: str) -> str:
    return entry("attrs", key)


def _string(key: str) -> str:
    return f"nullif(({_attr(key)})->>'stringValue', '')"


def _int(key: str) -> str:
    value = _attr(key)
    return (
        f"coalesce(TRY_CAST(({value})->>'intValue' AS BIGINT), "
        f"TRY_CAST(({value})->>'doubleValue' AS BIGINT))"
    )


def _double(key: str) -> str:
    value = _attr(key)
    number = (
        f"coalesce(TRY_CAST(({value})->>'doubleValue' AS DOUBLE), "
        f"TRY_CAST(({value})->>'intValue' AS DOUBLE))"
    )
    return f"CASE WHEN isfinite({number}) THEN {number} END"


def _cost() -> str:
    parts = [
        f"CASE WHEN {_double(a)} IS NOT NULL OR {_double(b)} IS NOT NULL "
        f"THEN coalesce({_double(a)}, 0) + coalesce({_double(b)}, 0) END"
        for a, b in _COST_PARTS
    ]
    return f"coalesce({', '.join([*(_double(k) for k in _COST_TOTALS), *parts])})"


def _is_hop(hop_spans: HopSpans) -> str:
    # In a LangGraph trace the graph's nodes are the agent steps, whatever span kind
    # OpenInference gave them (it calls a span AGENT when its name contains "agent"); the spans
    # inside a node (its model calls, chains, a subgraph's own span) and the graph's span are not.
    agent = "(is_graph_node OR (is_agent AND lg_node IS NULL AND NOT is_graph))"
    return {
        "agents": agent,
        "tools": f"{agent} OR is_tool",
        "genai": "(op IS NOT NULL OR oi_kind IS NOT NULL) AND NOT is_check AND NOT is_workflow "
        "AND NOT is_graph AND NOT is_repeat",
        "all": "NOT is_check AND NOT is_workflow AND NOT is_graph AND NOT is_repeat",
    }[hop_spans]


def _event_string(attributes: str, key: str) -> str:
    return f"nullif(({entry(attributes, key)})->>'stringValue', '')"


def _exception(key: str) -> str:
    """An attribute of the span's first `exception` event (OpenTelemetry's record_exception)."""
    return f"nullif(({entry('exception', key)})->>'stringValue', '')"


def _evaluations() -> str:
    """The span's `gen_ai.evaluation.result` events: name, verdict (from the label), note."""
    label = f"lower({_event_string('ev.attributes', 'gen_ai.evaluation.score.label')})"
    fail = ", ".join(lit(v) for v in _FAIL_LABELS)
    ok = ", ".join(lit(v) for v in _PASS_LABELS)
    verdict = f"CASE WHEN {label} IN ({fail}) THEN false WHEN {label} IN ({ok}) THEN true END"
    name = f"coalesce({_event_string('ev.attributes', 'gen_ai.evaluation.name')}, 'evaluation')"
    note = _event_string("ev.attributes", "gen_ai.evaluation.explanation")
    return (
        "list_transform(list_filter(coalesce(events, []), "
        "lambda ev: ev.name = 'gen_ai.evaluation.result'), "
        f"lambda ev: {{'name': {name}, 'passed': {verdict}, 'note': {note}}})"
    )


def _tripwire() -> str:
    """The guardrail whose tripwire the span's error reports (the OpenAI Agents SDK's
    `... Guardrail tripwire triggered: {'guardrail': 'NAME'}`, or the exception's type)."""
    text = (
        "concat_ws(' ', error_type, status_message, "
        f"{_exception('exception.type')}, {_exception('exception.message')})"
    )
    rule = lit(r"""['"]guardrail['"]\s*:\s*['"]([^'"]+)""")
    named = f"nullif(regexp_extract({text}, {rule}, 1), '')"
    typed = f"nullif(regexp_extract({text}, '(Input|Output)GuardrailTripwireTriggered', 0), '')"
    return (
        f"CASE WHEN regexp_matches({text}, {lit(_TRIPWIRE)}) "
        f"THEN coalesce({named}, {typed}, 'guardrail_tripwire') END"
    )


def _timestamp(ns: str) -> str:
    return f"to_json({rfc3339(f'make_timestamp({ns} // 1000)')})"


def records_sql(lines: str, hop_spans: HopSpans) -> str:
    """SPEC hop records from the `(_line, _raw)` text lines of one OTLP JSON file."""
    service = (
        "(list_filter(try(json_transform(rs->'resource'->'attributes', "
        f"{_ATTRIBUTES})), lambda a: a.key = 'service.name')[1].value)->>'stringValue'"
    )
    ctes = [
        *document_ctes(lines),
        (
            "resource_spans",
            "SELECT _line, unnest(json_extract(doc, '$.resourceSpans[*]')) AS rs "
            "FROM docs WHERE doc_type = 'OBJECT'",
        ),
        (
            "scope_spans",
            f"SELECT _line, {service} AS service, "
            "unnest(list_concat(json_extract(rs, '$.scopeSpans[*]'), "
            "json_extract(rs, '$.instrumentationLibrarySpans[*]'))) AS ss FROM resource_spans",
        ),
        (
            "raw_spans",
            "SELECT _line, service, unnest(json_extract(ss, '$.spans[*]')) AS span "
            "FROM scope_spans",
        ),
        (
            "spans",
            "SELECT * FROM ("
            f"SELECT _line, service, {_id('traceId', 24)} AS trace, "
            f"{_id('spanId', 12)} AS id, {_id('parentSpanId', 12)} AS parent, "
            "span->>'name' AS name, "
            "nullif(TRY_CAST(span->>'startTimeUnixNano' AS BIGINT), 0) AS start_ns, "
            "nullif(TRY_CAST(span->>'endTimeUnixNano' AS BIGINT), 0) AS end_ns, "
            "span->'status'->>'code' AS status_code, "
            "span->'status'->>'message' AS status_message, "
            f"try(json_transform(span->'attributes', {_ATTRIBUTES})) AS attrs, "
            f"try(json_transform(span->'events', {_EVENTS})) AS events FROM raw_spans) "
            "WHERE trace IS NOT NULL AND id IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY trace, id ORDER BY _line) = 1",
        ),
        (
            "classified",
            f"SELECT *, {_string('gen_ai.operation.name')} AS op, "
            f"upper({_string('openinference.span.kind')}) AS oi_kind, "
            "coalesce(op = 'invoke_agent' OR oi_kind = 'AGENT', false) AS is_agent, "
            "coalesce(op = 'execute_tool' OR oi_kind = 'TOOL', false) AS is_tool, "
            "coalesce(op = 'invoke_workflow', false) AS is_workflow, "
            f"coalesce(op IN ({', '.join(lit(o) for o in _MODEL_OPERATIONS)}) "
            "OR oi_kind IN ('LLM', 'EMBEDDING'), false) AS is_model, "
            "coalesce(oi_kind IN ('GUARDRAIL', 'EVALUATOR') OR op = 'guardrail_check', false) "
            "AS is_check, "
            "coalesce(oi_kind = 'GUARDRAIL' OR op = 'guardrail_check', false) AS is_guardrail, "
            f"coalesce(TRY_CAST(({_attr('gen_ai.guardrail.triggered')})->>'boolValue' AS BOOLEAN), "
            "false) AS tripped, "
            f"{_string('gen_ai.agent.name')} IS NULL AND {_string('agent.name')} IS NULL "
            "AS anonymous, "
            f"coalesce(contains({_string('metadata')}, 'langgraph_node'), false) AS graph_node, "
            f"{_string('error.type')} AS error_type, "
            "list_filter(coalesce(events, []), lambda ev: ev.name = 'exception')[1].attributes "
            f"AS exception, {_langchain_metadata()} AS lc_metadata FROM spans",
        ),
        ("langgraph", _langgraph_sql()),
        ("nodes", _nodes_sql(hop_spans)),
        (
            "given_scores",
            "SELECT CAST(NULL AS VARCHAR) AS trace, CAST(NULL AS VARCHAR) AS node, "
            "CAST(NULL AS VARCHAR) AS name, CAST(NULL AS DOUBLE) AS value WHERE false",
        ),
    ]
    return assemble(ctes, ["OBJECT"])


def _exception_line() -> str:
    """The span's `exception` event (OpenTelemetry's record_exception) as its first line,
    `type: message` as Python prints it, or NULL when the span recorded none."""
    kind = _exception("exception.type")
    message = f"({entry('exception', 'exception.message')})->>'stringValue'"
    line = f"nullif(trim(split_part(trim({message}), chr(10), 1)), '')"
    return (
        f"CASE WHEN {kind} IS NOT NULL AND {line} IS NOT NULL THEN {kind} || ': ' || {line} "
        f"ELSE coalesce({kind}, {line}) END"
    )


def _langchain_metadata() -> str:
    """OpenInference's LangChain instrumentation writes the run's metadata (LangGraph's
    `langgraph_node`, `langgraph_step`, `langgraph_checkpoint_ns`, ...) as one JSON string in the
    attribute `metadata`."""
    value = f"TRY_CAST({_string('metadata')} AS JSON)"
    return f"CASE WHEN json_type({value}) = 'OBJECT' THEN {value} END"


def _langgraph_sql() -> str:
    """LangGraph's nodes among the spans, from the metadata LangGraph gives every run inside a
    node task: a node's span is the outermost span of its task (its parent belongs to another
    task, or to none: the graph's span), so the spans inside it, which inherit the same metadata,
    are not nodes. A subgraph added as a node runs as a span of its own nested directly under
    the node's span, with the node's name and metadata: a repeat of the node, not a step.

    A node's hop id is its path of node names from the checkpoint namespace
    (`billing_agent:<task>|agent:<task>` is `billing_agent/agent`): a subgraph's nodes are told
    apart by the node that called them (the ReAct `agent` of two specialists), and the name stays
    the same in every run and file. LangGraph reserves `|` and `:` in node names."""
    node = "nullif(c.lc_metadata->>'langgraph_node', '')"
    step = "(c.lc_metadata->>'langgraph_step')"
    ns = "(c.lc_metadata->>'langgraph_checkpoint_ns')"
    parent_node = "nullif(p.lc_metadata->>'langgraph_node', '')"
    same_task = (
        f"({parent_node} = {node} "
        f"AND (p.lc_metadata->>'langgraph_step') IS NOT DISTINCT FROM {step} "
        f"AND (p.lc_metadata->>'langgraph_checkpoint_ns') IS NOT DISTINCT FROM {ns})"
    )
    path = (
        f"array_to_string(list_transform(string_split({ns}, '|'), "
        "lambda part: split_part(part, ':', 1)), '/')"
    )
    is_node = f"({node} IS NOT NULL AND NOT coalesce({same_task}, false))"
    return (
        f"SELECT c.*, {node} AS lg_node, {is_node} AS is_graph_node, "
        f"coalesce({node} IS NOT NULL AND {same_task} AND c.name = p.name, false) AS is_repeat, "
        f"CASE WHEN {is_node} THEN CASE WHEN ({ns}) IS NOT NULL "
        f"AND (ends_with({path}, '/' || {node}) OR {path} = {node}) THEN {path} "
        f"ELSE {node} END END AS lg_hop_id, "
        f"({node} IS NULL AND g.parent IS NOT NULL) AS is_graph "
        "FROM classified c LEFT JOIN classified p ON p.trace = c.trace AND p.id = c.parent "
        "LEFT JOIN (SELECT DISTINCT trace, parent FROM classified "
        "WHERE nullif(lc_metadata->>'langgraph_node', '') IS NOT NULL) g "
        "ON g.trace = c.trace AND g.parent = c.id"
    )


def _nodes_sql(hop_spans: HopSpans) -> str:
    argus = (
        "list_transform(list_filter(attrs, lambda a: starts_with(a.key, 'argus.')), "
        f"lambda a: {{'key': a.key, 'value': {_anyvalue('a.value')}}})"
    )
    failed = (
        "coalesce(status_code IN ('2', 'STATUS_CODE_ERROR'), false) OR error_type IS NOT NULL "
        "OR (is_check AND tripped)"
    )
    columns = {
        "_line": "_line",
        "trace": "trace",
        "id": "id",
        "parent": "parent",
        "start_key": "start_ns",
        "started_at": _timestamp("start_ns"),
        "ended_at": _timestamp("end_ns"),
        "latency_ms": "CASE WHEN end_ns >= start_ns THEN (end_ns - start_ns) / 1e6 END",
        "is_hop": f"coalesce({_is_hop(hop_spans)}, false)",
        "is_workflow": "is_workflow OR is_graph",
        "is_model": "is_model",
        "is_check": "is_check",
        "is_agent": "is_graph_node OR (is_agent AND lg_node IS NULL AND NOT is_graph)",
        "call_agent": f"coalesce({_string('gen_ai.agent.name')}, {_string('agent.name')})",
        "call_step": "CASE WHEN is_model THEN coalesce(op, lower(oi_kind)) END",
        "run_span": "coalesce(is_workflow OR is_graph "
        "OR (anonymous AND oi_kind = 'CHAIN' AND NOT graph_node), false)",
        "run_root": "coalesce(anonymous AND "
        "(oi_kind = 'AGENT' OR op = 'invoke_agent' OR (oi_kind IS NULL AND op IS NULL)), false)",
        "evaluations": _evaluations(),
        "tripwire": _tripwire(),
        "hop_id": "CASE WHEN is_graph_node THEN lg_hop_id WHEN is_agent THEN coalesce("
        f"{_string('gen_ai.agent.name')}, {_string('agent.name')}, name) "
        f"WHEN is_tool THEN coalesce({_string('gen_ai.tool.name')}, {_string('tool.name')}, "
        "name) ELSE name END",
        "workflow_name": f"coalesce({_string('gen_ai.workflow.name')}, "
        f"CASE WHEN is_workflow THEN {_string('gen_ai.agent.name')} END, "
        f"CASE WHEN (oi_kind = 'AGENT' OR op = 'invoke_agent') AND anonymous "
        f"AND name <> {lit(_UNNAMED_WORKFLOW)} "
        "THEN name END, "
        f"CASE WHEN is_graph AND name <> {lit(_UNNAMED_GRAPH)} THEN name END)",
        "default_workflow": "service",
        # a subgraph's span that repeats its node's span shares its error: counted once, on
        # the node (not again in the node's metadata.child_errors)
        "failed": f"({failed}) AND NOT is_repeat",
        "error": f"coalesce({_exception_line()}, error_type, "
        "nullif(trim(split_part(trim(status_message), chr(10), 1)), ''))",
        "input_tokens": f"coalesce({', '.join(_int(k) for k in _INPUT_TOKENS)})",
        "output_tokens": f"coalesce({', '.join(_int(k) for k in _OUTPUT_TOKENS)})",
        "cost_usd": _cost(),
        "model": f"coalesce({_string('gen_ai.response.model')}, "
        f"{_string('gen_ai.request.model')}, {_string('llm.model_name')})",
        "check_rule": f"coalesce({_string('gen_ai.guardrail.name')}, name)",
        "check_category": "CASE WHEN is_guardrail THEN 'safety' ELSE 'evaluator' END",
        "argus": argus,
        # gen_ai.conversation.id (a JSON null in a merge patch adds nothing): which runs are
        # turns of one conversation, for `argus query`
        "metadata": "json_merge_patch(json_object('span_name', name, 'service_name', service), "
        f"json_object('conversation_id', {_string('gen_ai.conversation.id')}), "
        "CASE WHEN (" + failed + ") AND nullif(status_message, '') IS NOT NULL "
        "THEN json_object('error_detail', status_message) ELSE '{}' END)",
    }
    assert list(columns) == list(NODE_COLUMNS), "the nodes contract of importers.common"
    return "SELECT " + ", ".join(f"{v} AS {k}" for k, v in columns.items()) + " FROM langgraph"
