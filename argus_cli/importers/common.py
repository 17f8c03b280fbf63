"""SQL that every importer shares: a file as JSON documents, and a span tree as hop records.

An importer supplies two relations, written as CTEs over the `docs` this module reads:

- `nodes`: one row per span (OTLP) or observation (Langfuse), with the columns listed in
  `NODE_COLUMNS`, already in SPEC terms: which nodes are hops, workflows, model calls or checks,
  and each node's own status, usage, cost, model and `argus.*` fields;
- `given_scores` (`trace`, `node`, `name`, `value`): evaluator scores that arrive apart from
  the nodes (Langfuse score rows); a NULL `node` scores the trace as a whole.

`assemble` adds the rules both formats share and that need the tree, each in one place:

- **containers are the run, not hops.** A node is a container when it may be one (`run_span`,
  or `run_root` and it is a root of its trace, no ancestor in the file, with children) and so
  is every node above it: the spans at the top of a trace that only hold the run (an
  OpenInference CHAIN root, the OpenAI Agents SDK's trace span and its task span, GenAI
  `invoke_workflow`). A
  container is never a hop. Its error, its `argus.correct` and its decisive evaluations
  (`evaluations`) are the run's verdict: one SPEC `outcome` record per run that has any,
  `{"kind": "outcome", "run_id", "correct", "source": "otel", "note"}`, `correct` false when
  any of them says so, `note` the first failing one's (an error's first line);
- **every trace is a run**: in a trace where no node is a hop, its first root (by start time)
  becomes the run's only hop, `hop_id` its workflow name else its own name, with its own status
  and `metadata.container = true` (its error is then the hop's, not an outcome as well). Not in
  a file where no trace has a hop: that file is refused, saying which spans are hops, as one
  read with the wrong `--hop-spans` or holding no agent trace at all;
- a hop's `parent_id` and `workflow_id` come from its nearest hop and workflow ancestors (a
  workflow node, or a container that names the workflow: `workflow_name`);
- a hop with a model call anywhere below it gets the sum of the calls whose nearest hop it is,
  not its own figures (an agent's aggregate of its calls), so a model call counts once, for
  the hop it reports to (a nested agent, or a tool hop in between);
- checks are validations of the hop they check, and any check marks it validated: check
  nodes (OpenInference GUARDRAIL and EVALUATOR spans, Langfuse's observation types of the same
  names) below a hop, and the evaluations (GenAI `gen_ai.evaluation.result` events) and
  guardrail tripwires (`tripwire`) of the hop itself or of a node whose nearest hop it is. A
  failed check node adds the violation `{rule: check_rule, category: check_category}`, a
  failing evaluation `{rule: its name, category: "evaluator"}`, a tripwire `{rule: the
  guardrail, category: "safety"}` (the guardrail stopped that hop's output), each once;
- errors are not lost when the spans that raised them are no hops: a hop's
  `metadata.child_errors` counts the failed nodes (not checks, not containers) whose nearest
  hop it is, when there are any (a tool error the agent recovered from, under the default
  `--hop-spans agents`);
- `seq` is the hop's rank by start time within its trace.

Documents: a file whose first non-blank line is a whole JSON object is read line by line (the
Collector's file exporter, JSON Lines exports), anything else as one document (a pretty-printed
object or a JSON array), whose records then all carry the line the document starts on. Lines or
documents that are not JSON pass through unchanged, so the loader names them as bad records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

SourceFormat = Literal["argus", "otlp", "langfuse"]
HopSpans = Literal["agents", "tools", "genai", "all"]

# SPEC 1.1 fields that no foreign format has a field for: they travel as `argus.<field>`
# attributes (OTLP) or metadata keys (Langfuse), and scores as `argus.score.<name>`.
ARGUS_FIELDS = (
    "validated",
    "violations",
    "high_stakes",
    "confidence",
    "correct",
    "input_hash",
    "output_hash",
    "intent_checksum",
)
SCORE_PREFIX = "argus.score."

# A node's evaluation results (GenAI `gen_ai.evaluation.result` events), as a DuckDB type.
EVALUATIONS = "STRUCT(name VARCHAR, passed BOOLEAN, note VARCHAR)[]"

# The `nodes` contract, in column order: each importer builds its SELECT from these names.
NODE_COLUMNS = {
    "_line": "line of the file the node came from",
    "trace": "run_id",
    "id": "span_id",
    "parent": "the parent node's id, or NULL",
    "start_key": "sort key of the start time (NULL sorts last)",
    "started_at": "JSON: RFC 3339 start, or the producer's value for the loader to refuse",
    "ended_at": "JSON: as started_at",
    "latency_ms": "DOUBLE, or NULL for the loader's default",
    "is_hop": "BOOLEAN: this node is a hop under the chosen --hop-spans",
    "is_workflow": "BOOLEAN: names the workflow of the hops below it",
    "is_model": "BOOLEAN: a model call, whose usage rolls up into its hop",
    "is_check": "BOOLEAN: a guardrail or evaluator, whose failure is a violation of its hop",
    "is_agent": "BOOLEAN: an agent (its hop_id names it): a model call below it is its step",
    "call_agent": "VARCHAR: the agent a model call names as the one that made it, or NULL",
    "call_step": "VARCHAR: a model call's step (chat, embeddings, llm): a model call that is a "
    "hop is named <agent>/<step>; NULL keeps its hop_id",
    "run_span": "BOOLEAN: may be a container (the run itself) when every node above it is one",
    "run_root": "BOOLEAN: may be a container when it is a root of its trace",
    "evaluations": f"{EVALUATIONS}: the node's evaluation results; passed NULL when undecided",
    "tripwire": "VARCHAR: the guardrail whose tripwire the node's error reports, or NULL",
    "hop_id": "VARCHAR",
    "workflow_name": "VARCHAR: for workflow nodes",
    "default_workflow": "VARCHAR: workflow_id when no workflow node encloses the hop",
    "failed": "BOOLEAN: status error",
    "error": "VARCHAR: error type or message",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "cost_usd": "DOUBLE",
    "model": "VARCHAR",
    "check_rule": "VARCHAR: a failed check's violation rule",
    "check_category": "VARCHAR: a failed check's violation category",
    "argus": "STRUCT(key VARCHAR, value JSON)[]: the node's argus.* attributes as JSON",
    "metadata": "JSON object",
}

# A cycle in malformed parent links must not recurse forever; no real agent tree is this deep.
MAX_DEPTH = 256


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def nn(expr: str) -> str:
    """A JSON fragment with JSON `null` turned into SQL NULL (`->` keeps it as 'null')."""
    return f"CASE WHEN json_type({expr}) <> 'NULL' THEN {expr} END"


def rfc3339(timestamp: str) -> str:
    """A TIMESTAMP as RFC 3339 with microseconds, the loader's first timestamp shape."""
    return f"strftime({timestamp}, '%Y-%m-%dT%H:%M:%S.%fZ')"


def entry(entries: str, key: str) -> str:
    """The JSON value of `key` in a list of {key, value} structs, or NULL."""
    return f"list_filter({entries}, lambda e: e.key = {lit(key)})[1].value"


def document_ctes(lines: str) -> list[tuple[str, str]]:
    """`docs` (`_line`, `doc`, `doc_type`): the file's JSON documents, line by line or whole."""
    first_is_object = "CASE WHEN json_valid(_raw) THEN json_type(_raw) = 'OBJECT' ELSE false END"
    return [
        ("lines", lines),
        ("layout", f"SELECT arg_min({first_is_object}, _line) AS per_line FROM lines"),
        (
            "docs",
            "SELECT _line, doc, CASE WHEN json_valid(doc) THEN json_type(doc) ELSE 'INVALID' END "
            "AS doc_type FROM ("
            "SELECT _line, _raw AS doc FROM lines WHERE (SELECT per_line FROM layout) "
            "UNION ALL "
            "SELECT min(_line), string_agg(_raw, chr(10) ORDER BY _line) FROM lines "
            "WHERE NOT (SELECT per_line FROM layout) HAVING count(*) > 0)",
        ),
    ]


def _violations(own: str) -> str:
    """`argus.violations` as SPEC's list: a string holding a JSON array is that array, any other
    string is one `cat:rule` violation (attributes cannot hold a list of objects)."""
    text = f"({own}->>'$')"
    return (
        f"CASE WHEN json_type({own}) = 'VARCHAR' THEN "
        f"CASE WHEN json_valid({text}) THEN "
        f"CASE WHEN json_type({text}) = 'ARRAY' THEN CAST({text} AS JSON) "
        f"ELSE to_json([{text}]) END "
        f"ELSE to_json([{text}]) END "
        f"ELSE {own} END"
    )


def json_object_sql(pairs: str) -> str:
    """A JSON object from a list of `"key":value` texts (DuckDB has no map-to-object for JSON)."""
    return f"CAST('{{' || array_to_string({pairs}, ',') || '}}' AS JSON)"


def _json_bool(value: str) -> str:
    """A JSON true or false as BOOLEAN; anything else NULL."""
    return f"CASE WHEN json_type({value}) = 'BOOLEAN' THEN CAST({value} AS VARCHAR) = 'true' END"


def _own_scores(entries: str) -> str:
    """A JSON object of the `argus.score.<name>` entries, or NULL when there are none."""
    scored = f"list_filter({entries}, lambda e: starts_with(e.key, {lit(SCORE_PREFIX)}))"
    pairs = (
        f"list_transform({scored}, lambda e: CAST(to_json(substr(e.key, {len(SCORE_PREFIX) + 1}))"
        f" AS VARCHAR) || ':' || coalesce(CAST(e.value AS VARCHAR), 'null'))"
    )
    return f"CASE WHEN len({scored}) > 0 THEN {json_object_sql(pairs)} END"


_COMMON_CTES: list[tuple[str, str]] = [
    ("edges", "SELECT trace, id, parent FROM nodes WHERE parent IS NOT NULL"),
    (
        "anc",
        "SELECT trace, id, parent AS ancestor, 1 AS depth FROM edges "
        "UNION ALL "
        "SELECT a.trace, a.id, e.parent, a.depth + 1 FROM anc a "
        "JOIN edges e ON e.trace = a.trace AND e.id = a.ancestor "
        f"WHERE a.depth < {MAX_DEPTH}",
    ),
    # ancestors that are in the file (a trace cut across files loses the links between parts)
    (
        "anc_in",
        "SELECT a.trace, a.id, a.ancestor, a.depth FROM anc a "
        "JOIN nodes p ON p.trace = a.trace AND p.id = a.ancestor",
    ),
    (
        "roots",
        "SELECT n.trace, n.id FROM nodes n ANTI JOIN anc_in a ON a.trace = n.trace AND a.id = n.id",
    ),
    # a root may hold the run only when it holds something
    (
        "run_like",
        "SELECT n.trace, n.id FROM nodes n LEFT JOIN roots r ON r.trace = n.trace AND r.id = n.id "
        "LEFT JOIN (SELECT DISTINCT trace, parent FROM edges) c "
        "ON c.trace = n.trace AND c.parent = n.id "
        "WHERE n.run_span OR (n.run_root AND r.id IS NOT NULL AND c.parent IS NOT NULL)",
    ),
    (
        "containers",
        "SELECT l.trace, l.id FROM run_like l ANTI JOIN ("
        "SELECT a.trace, a.id FROM anc_in a "
        "ANTI JOIN run_like p ON p.trace = a.trace AND p.id = a.ancestor"
        ") x ON x.trace = l.trace AND x.id = l.id",
    ),
    (
        "classed",
        "SELECT n.*, c.id IS NOT NULL AS is_container, "
        "n.is_hop AND c.id IS NULL AS qualifies FROM nodes n "
        "LEFT JOIN containers c ON c.trace = n.trace AND c.id = n.id",
    ),
    (
        "hopless",
        "SELECT r.trace, arg_min(r.id, {'start': n.start_key, 'line': n._line, 'id': n.id}) "
        "AS root FROM roots r JOIN nodes n ON n.trace = r.trace AND n.id = r.id "
        "WHERE r.trace NOT IN (SELECT trace FROM classed WHERE qualifies) "
        "AND EXISTS (SELECT 1 FROM classed WHERE qualifies) GROUP BY r.trace",
    ),
    (
        "tnodes",
        "SELECT n.* EXCLUDE (qualifies) REPLACE ("
        "coalesce(n.id = h.root, n.qualifies) AS is_hop, "
        "CASE WHEN n.id = h.root THEN coalesce(n.workflow_name, n.hop_id) ELSE n.hop_id END "
        "AS hop_id, "
        "CASE WHEN n.id = h.root THEN json_merge_patch(n.metadata, '{\"container\": true}') "
        "ELSE n.metadata END AS metadata) "
        "FROM classed n LEFT JOIN hopless h ON h.trace = n.trace",
    ),
    (
        "near_hop",
        "SELECT a.trace, a.id, arg_min(a.ancestor, a.depth) AS hop FROM anc a "
        "JOIN tnodes h ON h.trace = a.trace AND h.id = a.ancestor WHERE h.is_hop "
        "GROUP BY a.trace, a.id",
    ),
    (
        "near_workflow",
        "SELECT a.trace, a.id, struct_extract(arg_min({'name': w.workflow_name}, a.depth), 'name') "
        "AS name FROM anc a JOIN tnodes w ON w.trace = a.trace AND w.id = a.ancestor "
        "WHERE (w.is_workflow OR w.is_container) AND w.workflow_name IS NOT NULL "
        "GROUP BY a.trace, a.id",
    ),
    # the hop a node's checks and errors belong to: itself when a hop, else its nearest hop
    (
        "owner",
        "SELECT n.trace, n.id, CASE WHEN n.is_hop THEN n.id ELSE nh.hop END AS hop "
        "FROM tnodes n LEFT JOIN near_hop nh ON nh.trace = n.trace AND nh.id = n.id",
    ),
    # the model calls whose nearest hop a hop is: the sums of those that are no hops themselves
    # (a model call that is a hop keeps its own usage)
    (
        "rollup",
        "SELECT n.trace, n.hop, "
        "sum(m.input_tokens) FILTER (WHERE NOT m.is_hop) AS input_tokens, "
        "sum(m.output_tokens) FILTER (WHERE NOT m.is_hop) AS output_tokens, "
        "sum(m.cost_usd) FILTER (WHERE NOT m.is_hop) AS cost_usd, "
        "count(DISTINCT m.model) FILTER (WHERE NOT m.is_hop) AS models, "
        "min(m.model) FILTER (WHERE NOT m.is_hop) AS model "
        "FROM near_hop n JOIN tnodes m ON m.trace = n.trace AND m.id = n.id "
        "WHERE m.is_model GROUP BY n.trace, n.hop",
    ),
    # the spans with a model call anywhere below them: their own usage figures aggregate calls
    # that are counted where those calls report (a tool hop between agent and call included)
    (
        "calls_below",
        "SELECT DISTINCT a.trace, a.ancestor AS id FROM anc a "
        "JOIN tnodes m ON m.trace = a.trace AND m.id = a.id WHERE m.is_model",
    ),
    # the nearest agent hop above each model call that is a hop: the agent that made the call
    (
        "near_agent",
        "SELECT a.trace, a.id, struct_extract(arg_min({'name': g.hop_id}, a.depth), 'name') "
        "AS agent FROM anc a "
        "JOIN tnodes m ON m.trace = a.trace AND m.id = a.id AND m.is_model AND m.is_hop "
        "JOIN tnodes g ON g.trace = a.trace AND g.id = a.ancestor WHERE g.is_agent AND g.is_hop "
        "GROUP BY a.trace, a.id",
    ),
    (
        "check_facts",
        "SELECT n.trace, n.hop, c.start_key, c.id, c.failed, c.check_rule AS rule, "
        "c.check_category AS category "
        "FROM near_hop n JOIN tnodes c ON c.trace = n.trace AND c.id = n.id "
        "WHERE c.is_check AND NOT c.is_hop "
        "UNION ALL "
        "SELECT o.trace, o.hop, e.start_key, e.id, coalesce(NOT e.ev.passed, false), "
        "e.ev.name, 'evaluator' FROM ("
        "SELECT trace, id, start_key, unnest(evaluations) AS ev FROM tnodes "
        "WHERE NOT (is_container AND NOT is_hop)) e "
        "JOIN owner o ON o.trace = e.trace AND o.id = e.id WHERE o.hop IS NOT NULL "
        "UNION ALL "
        "SELECT o.trace, o.hop, t.start_key, t.id, true, t.tripwire, 'safety' FROM tnodes t "
        "JOIN owner o ON o.trace = t.trace AND o.id = t.id "
        "WHERE t.tripwire IS NOT NULL AND o.hop IS NOT NULL",
    ),
    (
        "checks",
        "SELECT trace, hop, count(*) AS checks, "
        "list(json_object('rule', rule, 'category', category) ORDER BY first_key NULLS LAST, "
        "first_id) FILTER (WHERE failed) AS failures FROM ("
        "SELECT trace, hop, rule, category, failed, min(start_key) AS first_key, "
        "min(id) AS first_id, count(*) AS n FROM check_facts "
        "GROUP BY trace, hop, rule, category, failed) GROUP BY trace, hop",
    ),
    (
        "child_errors",
        "SELECT n.trace, n.hop, count(*) AS errors "
        "FROM near_hop n JOIN tnodes s ON s.trace = n.trace AND s.id = n.id "
        "WHERE s.failed AND NOT s.is_hop AND NOT s.is_check AND NOT s.is_container "
        "GROUP BY n.trace, n.hop",
    ),
    (
        "hops",
        "SELECT *, row_number() OVER (PARTITION BY trace "
        "ORDER BY start_key NULLS LAST, _line, id) AS seq FROM tnodes WHERE is_hop",
    ),
    ("last_hop", "SELECT trace, arg_max(id, seq) AS id FROM hops GROUP BY trace"),
    (
        "scored",
        "SELECT s.trace, coalesce(CASE WHEN n.is_hop THEN n.id END, nh.hop, l.id) AS hop, "
        "s.name, s.value FROM given_scores s "
        "LEFT JOIN tnodes n ON n.trace = s.trace AND n.id = s.node "
        "LEFT JOIN near_hop nh ON nh.trace = s.trace AND nh.id = s.node "
        "LEFT JOIN last_hop l ON l.trace = s.trace",
    ),
    (
        "score_objects",
        "SELECT trace, hop, json_group_object(name, value) AS scores FROM ("
        "SELECT trace, hop, name, avg(value) AS value FROM scored WHERE hop IS NOT NULL "
        "GROUP BY trace, hop, name) GROUP BY trace, hop",
    ),
    # the run's verdicts from its containers (a container that is the run's only hop carries
    # its own error and labels as that hop)
    (
        "verdicts",
        "SELECT trace, _line, start_key, id, false AS correct, "
        "coalesce(split_part(nullif(trim(error), ''), chr(10), 1), 'error') AS note "
        "FROM tnodes WHERE is_container AND NOT is_hop AND failed "
        "UNION ALL "
        f"SELECT trace, _line, start_key, id, {_json_bool(entry('argus', 'argus.correct'))}, "
        "'argus.correct = false on ' || coalesce(workflow_name, hop_id) "
        "FROM tnodes WHERE is_container AND NOT is_hop "
        f"AND {_json_bool(entry('argus', 'argus.correct'))} IS NOT NULL "
        "UNION ALL "
        "SELECT trace, _line, start_key, id, ev.passed, "
        "ev.name || ': ' || coalesce(ev.note, 'failed') FROM ("
        "SELECT trace, _line, start_key, id, unnest(evaluations) AS ev FROM tnodes "
        "WHERE is_container AND NOT is_hop) WHERE ev.passed IS NOT NULL",
    ),
    (
        "outcomes",
        "SELECT trace, min(_line) AS _line, bool_and(correct) AS correct, "
        "arg_min(note, {'start': start_key, 'id': id}) FILTER (WHERE NOT correct) AS note "
        "FROM verdicts GROUP BY trace",
    ),
]

_MATERIALIZED = frozenset({"docs", "nodes", "anc", "tnodes", "near_hop", "owner", "hops"})


def _record_sql() -> str:
    """One SPEC hop record per hop node, nulls dropped so the record reads like a written one."""
    own = {f: entry("h.argus", f"argus.{f}") for f in ARGUS_FIELDS}
    violations = _violations(own["violations"])
    failures = "coalesce(c.failures, [])"
    merged_violations = (
        f"CASE WHEN len({failures}) = 0 THEN {violations} "
        f"WHEN {violations} IS NULL THEN to_json({failures}) "
        f"WHEN json_type({violations}) = 'ARRAY' "
        f"THEN to_json(list_concat(json_transform({violations}, '[\"JSON\"]'), {failures})) "
        f"ELSE {violations} END"
    )
    scores = _own_scores("h.argus")
    merged_scores = (
        f"CASE WHEN so.scores IS NULL THEN {scores} WHEN {scores} IS NULL THEN so.scores "
        f"WHEN json_type({scores}) = 'OBJECT' THEN json_merge_patch({scores}, so.scores) "
        f"ELSE {scores} END"
    )
    # a hop's own usage and cost count only when no model call lies below it: an agent span's
    # figures (gen_ai.usage.*, Pydantic AI's gen_ai.aggregated_usage.*) add up its model calls,
    # which count at the hop they report to (itself, or a tool hop in between); a call that
    # reports to a hop is below it, so calls_below holds every hop rollup does
    calls = "cb.id IS NOT NULL"
    caller = "coalesce(h.call_agent, na.agent)"
    fields = {
        "kind": "'hop'",
        "run_id": "h.trace",
        "hop_id": f"CASE WHEN h.is_model AND h.call_step IS NOT NULL AND {caller} IS NOT NULL "
        f"THEN {caller} || '/' || h.call_step ELSE h.hop_id END",
        "workflow_id": "coalesce(w.name, CASE WHEN h.is_workflow OR h.is_container "
        "THEN h.workflow_name END, h.default_workflow)",
        "span_id": "h.id",
        "parent_id": "p.hop",
        "seq": "h.seq",
        "status": "CASE WHEN h.failed THEN 'error' ELSE 'success' END",
        "error": "CASE WHEN h.failed THEN coalesce(nullif(h.error, ''), 'error') END",
        "validated": f"coalesce({own['validated']}, "
        "CASE WHEN coalesce(c.checks, 0) > 0 THEN to_json(true) END)",
        "violations": merged_violations,
        "high_stakes": own["high_stakes"],
        "confidence": own["confidence"],
        "correct": own["correct"],
        "scores": merged_scores,
        "input_tokens": f"CASE WHEN {calls} THEN r.input_tokens ELSE h.input_tokens END",
        "output_tokens": f"CASE WHEN {calls} THEN r.output_tokens ELSE h.output_tokens END",
        "cost_usd": f"CASE WHEN {calls} THEN r.cost_usd ELSE h.cost_usd END",
        "latency_ms": "h.latency_ms",
        "started_at": "h.started_at",
        "ended_at": "h.ended_at",
        "model": "coalesce(h.model, CASE WHEN r.models = 1 THEN r.model END)",
        "input_hash": own["input_hash"],
        "output_hash": own["output_hash"],
        "intent_checksum": own["intent_checksum"],
        "metadata": "CASE WHEN ce.errors > 0 THEN "
        "json_merge_patch(coalesce(h.metadata, '{}'), json_object('child_errors', ce.errors)) "
        "ELSE h.metadata END",
    }
    record = "json_object(" + ", ".join(f"{lit(k)}, {v}" for k, v in fields.items()) + ")"
    return (
        f"SELECT h._line, CAST(json_merge_patch('{{}}', {record}) AS VARCHAR) AS _raw "
        "FROM hops h "
        "LEFT JOIN near_hop p ON p.trace = h.trace AND p.id = h.id "
        "LEFT JOIN near_workflow w ON w.trace = h.trace AND w.id = h.id "
        "LEFT JOIN rollup r ON r.trace = h.trace AND r.hop = h.id "
        "LEFT JOIN calls_below cb ON cb.trace = h.trace AND cb.id = h.id "
        "LEFT JOIN near_agent na ON na.trace = h.trace AND na.id = h.id "
        "LEFT JOIN checks c ON c.trace = h.trace AND c.hop = h.id "
        "LEFT JOIN score_objects so ON so.trace = h.trace AND so.hop = h.id "
        "LEFT JOIN child_errors ce ON ce.trace = h.trace AND ce.hop = h.id"
    )


def _outcome_sql() -> str:
    """One SPEC outcome record per run whose containers gave a verdict."""
    record = (
        "json_object('kind', 'outcome', 'run_id', trace, 'correct', correct, "
        "'source', 'otel', 'note', CASE WHEN NOT correct THEN note END)"
    )
    return (
        f"SELECT _line, CAST(json_merge_patch('{{}}', {record}) AS VARCHAR) AS _raw FROM outcomes"
    )


def assemble(ctes: Sequence[tuple[str, str]], document_types: Sequence[str]) -> str:
    """The whole importer query: its CTEs (ending in `nodes` and `given_scores`), the shared
    tree rules, and the records (hops, then the runs' outcomes); documents of other JSON types
    pass through for the loader."""
    parts = [
        f"{name} AS {'MATERIALIZED ' if name in _MATERIALIZED else ''}({sql})"
        for name, sql in [*ctes, *_COMMON_CTES]
    ]
    accepted = ", ".join(lit(t) for t in document_types)
    passed = f"SELECT _line, doc FROM docs WHERE doc_type NOT IN ({accepted})"
    return (
        f"WITH RECURSIVE {', '.join(parts)} {_record_sql()} UNION ALL {_outcome_sql()} "
        f"UNION ALL {passed}"
    )
