"""SQL that every importer shares: a file as JSON documents, and a span tree as hop records.

An importer supplies two relations, written as CTEs over the `docs` this module reads:

- `nodes`: one row per span (OTLP) or observation (Langfuse), with the columns listed in
  `NODE_COLUMNS`, already in SPEC terms: which nodes are hops, workflows, model calls or checks,
  and each node's own status, usage, cost, model and `argus.*` fields;
- `given_scores` (`trace`, `node`, `name`, `value`): evaluator scores that arrive apart from
  the nodes (Langfuse score rows); a NULL `node` scores the trace as a whole.

`assemble` adds the rules both formats share and that need the tree, each in one place:

- a hop's `parent_id` and `workflow_id` come from its nearest hop and workflow ancestors;
- a hop with no usage of its own gets the sum of the model calls below it whose nearest hop it
  is, so a model call under a nested agent counts for that agent only, never twice;
- failed checks (OpenInference GUARDRAIL and EVALUATOR spans, Langfuse's observation types of
  the same names) below a hop become violations of that hop, and any check marks it validated;
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
    (
        "near_hop",
        "SELECT a.trace, a.id, arg_min(a.ancestor, a.depth) AS hop FROM anc a "
        "JOIN nodes h ON h.trace = a.trace AND h.id = a.ancestor WHERE h.is_hop "
        "GROUP BY a.trace, a.id",
    ),
    (
        "near_workflow",
        "SELECT a.trace, a.id, struct_extract(arg_min({'name': w.workflow_name}, a.depth), 'name') "
        "AS name FROM anc a JOIN nodes w ON w.trace = a.trace AND w.id = a.ancestor "
        "WHERE w.is_workflow GROUP BY a.trace, a.id",
    ),
    (
        "rollup",
        "SELECT n.trace, n.hop, sum(m.input_tokens) AS input_tokens, "
        "sum(m.output_tokens) AS output_tokens, sum(m.cost_usd) AS cost_usd, "
        "count(DISTINCT m.model) AS models, min(m.model) AS model "
        "FROM near_hop n JOIN nodes m ON m.trace = n.trace AND m.id = n.id "
        "WHERE m.is_model AND NOT m.is_hop GROUP BY n.trace, n.hop",
    ),
    (
        "checks",
        "SELECT n.trace, n.hop, count(*) AS checks, "
        "list(json_object('rule', c.check_rule, 'category', c.check_category) "
        "ORDER BY c.start_key NULLS LAST, c.id) FILTER (WHERE c.failed) AS failures "
        "FROM near_hop n JOIN nodes c ON c.trace = n.trace AND c.id = n.id "
        "WHERE c.is_check AND NOT c.is_hop GROUP BY n.trace, n.hop",
    ),
    (
        "hops",
        "SELECT *, row_number() OVER (PARTITION BY trace "
        "ORDER BY start_key NULLS LAST, _line, id) AS seq FROM nodes WHERE is_hop",
    ),
    ("last_hop", "SELECT trace, arg_max(id, seq) AS id FROM hops GROUP BY trace"),
    (
        "scored",
        "SELECT s.trace, coalesce(CASE WHEN n.is_hop THEN n.id END, nh.hop, l.id) AS hop, "
        "s.name, s.value FROM given_scores s "
        "LEFT JOIN nodes n ON n.trace = s.trace AND n.id = s.node "
        "LEFT JOIN near_hop nh ON nh.trace = s.trace AND nh.id = s.node "
        "LEFT JOIN last_hop l ON l.trace = s.trace",
    ),
    (
        "score_objects",
        "SELECT trace, hop, json_group_object(name, value) AS scores FROM ("
        "SELECT trace, hop, name, avg(value) AS value FROM scored WHERE hop IS NOT NULL "
        "GROUP BY trace, hop, name) GROUP BY trace, hop",
    ),
]

_MATERIALIZED = frozenset({"docs", "nodes", "anc", "near_hop", "hops"})


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
    no_usage = "h.input_tokens IS NULL AND h.output_tokens IS NULL"
    fields = {
        "kind": "'hop'",
        "run_id": "h.trace",
        "hop_id": "h.hop_id",
        "workflow_id": "coalesce(w.name, h.default_workflow)",
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
        "input_tokens": f"CASE WHEN {no_usage} THEN r.input_tokens ELSE h.input_tokens END",
        "output_tokens": f"CASE WHEN {no_usage} THEN r.output_tokens ELSE h.output_tokens END",
        "cost_usd": "coalesce(h.cost_usd, r.cost_usd)",
        "latency_ms": "h.latency_ms",
        "started_at": "h.started_at",
        "ended_at": "h.ended_at",
        "model": "coalesce(h.model, CASE WHEN r.models = 1 THEN r.model END)",
        "input_hash": own["input_hash"],
        "output_hash": own["output_hash"],
        "intent_checksum": own["intent_checksum"],
        "metadata": "h.metadata",
    }
    record = "json_object(" + ", ".join(f"{lit(k)}, {v}" for k, v in fields.items()) + ")"
    return (
        f"SELECT h._line, CAST(json_merge_patch('{{}}', {record}) AS VARCHAR) AS _raw "
        "FROM hops h "
        "LEFT JOIN near_hop p ON p.trace = h.trace AND p.id = h.id "
        "LEFT JOIN near_workflow w ON w.trace = h.trace AND w.id = h.id "
        "LEFT JOIN rollup r ON r.trace = h.trace AND r.hop = h.id "
        "LEFT JOIN checks c ON c.trace = h.trace AND c.hop = h.id "
        "LEFT JOIN score_objects so ON so.trace = h.trace AND so.hop = h.id"
    )


def assemble(ctes: Sequence[tuple[str, str]], document_types: Sequence[str]) -> str:
    """The whole importer query: its CTEs (ending in `nodes` and `given_scores`), the shared
    tree rules, and the records; documents of other JSON types pass through for the loader."""
    parts = [
        f"{name} AS {'MATERIALIZED ' if name in _MATERIALIZED else ''}({sql})"
        for name, sql in [*ctes, *_COMMON_CTES]
    ]
    accepted = ", ".join(lit(t) for t in document_types)
    passed = f"SELECT _line, doc FROM docs WHERE doc_type NOT IN ({accepted})"
    return f"WITH RECURSIVE {', '.join(parts)} {_record_sql()} UNION ALL {passed}"
