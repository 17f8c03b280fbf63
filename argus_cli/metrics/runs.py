"""SPEC 3, the runs: each hop's place in its run tree, and each run judged.

`m_hops` annotates the hops that count with their parent, handled errors and failed children
(the tree is one self-join on run and span per bucket of runs); `m_runs` judges each run:
failed or not, the innermost origin, the blast radius through callers, the final hop and a
confident answer, an observed cascade. The readers at the end serve `argus runs` and
`argus trace` from those tables.
"""

from __future__ import annotations

from typing import Any

import duckdb

# One bucket of runs at a time (all of them unless the trace is large): see _hop_buckets.
# The run tree (SPEC 3.1) is one self-join on (run_id, span) per bucket: a hop's parent is the
# earliest hop of its run, before it, whose span is its parent_id. Span ids are compared as
# hashes: in metrics mode they arrive as digests (hashed again here), with the whole record as
# strings; the default span id (`run_id/hop_id/seq or position`) is hashed the same way in each.
# A trace in which no hop names a parent is all chains: the tree's columns are constants and
# the self-join is skipped (one aggregate tells, before the buckets are built).
TREE_SPAN_KEYS = """coalesce(CASE WHEN span_id IS NOT NULL THEN hash(span_id) END,
                    hash(hash({default_span}))) AS span_key,
           CASE WHEN parent_id IS NOT NULL THEN hash(parent_id) END AS parent_key,
           """
TREE = """links AS (
    -- each hop that names a caller: its parent, the earliest hop before it with that span,
    -- and whether that parent failed (a chain has none: nothing to join)
    SELECT c._order, c.run_id, c.failed AS child_failed,
           min(p.position) AS parent_position, arg_min(p.failed, p.position) AS parent_failed
    FROM counted c JOIN counted p
        ON p.run_id = c.run_id AND p.span_key = c.parent_key AND p.position < c.position
    WHERE c.parent_key IS NOT NULL
    GROUP BY c._order, c.run_id, c.failed
),
failed_children AS (
    SELECT run_id, parent_position AS position, bool_or(child_failed) AS failed_child
    FROM links GROUP BY run_id, parent_position
),
treed AS MATERIALIZED (
    SELECT c.* EXCLUDE (span_key, parent_key), l.parent_position,
           -- SPEC 3.1: an error whose caller did not fail was caught; it fails no run
           c.status = 'error' AND coalesce(NOT l.parent_failed, false) AS handled,
           coalesce(fc.failed_child, false) AS failed_child
    FROM counted c LEFT JOIN links l USING (_order)
    LEFT JOIN failed_children fc ON fc.run_id = c.run_id AND fc.position = c.position
),
"""
CHAINS = """treed AS (
    SELECT *, CAST(NULL AS BIGINT) AS parent_position, false AS handled,
           false AS failed_child
    FROM counted
),
"""

# SPEC 2's position of a hop is its rank in the run by seq, then started_at, then input order.
# In a run whose seq runs 1..n with no gap or repeat (what the writer library and most
# exporters write), that rank is seq itself: one aggregate finds those runs (n distinct values
# in 1..n, held as a bit set, so runs of up to SEQ_BITS hops), and only the other runs are
# ranked by a window, which sorts every hop it is given.
SEQ_BITS = 62
M_HOPS = """
{verb}
WITH facts AS NOT MATERIALIZED (
    SELECT run_id, hop_id, workflow_id, seq, status, validated, high_stakes,
           confidence, correct, cost_usd, latency_ms, _order, started_at, {span_ids}
           -- hashes and checksums are only compared: 8-byte hashes keep m_hops small
           CASE WHEN input_hash IS NOT NULL THEN hash(input_hash) END AS input_hash,
           CASE WHEN output_hash IS NOT NULL THEN hash(output_hash) END AS output_hash,
           CASE WHEN intent_checksum IS NOT NULL THEN hash(intent_checksum) END
               AS intent_checksum,
           score_groundedness, score_accuracy, score_safety,
           -- SPEC 2: checked among the executions that reported success; a check or a label
           -- that found it wrong
           status <> 'error' AND (validated OR correct IS NOT NULL) AS checked,
           status <> 'error' AND (validated OR correct IS NOT NULL)
               AND (has_violation OR coalesce(correct = false, false)) AS wrong,
           safety_violation
    FROM hop_facts WHERE status <> 'skipped' {bucket}
),
seq_runs AS (
    SELECT run_id,
           count(seq) = count(*) AND min(seq) = 1 AND max(seq) = count(*)
           AND count(*) <= {seq_bits}
           AND bit_or(CASE WHEN seq BETWEEN 1 AND {seq_bits}
                           THEN CAST(1 AS BIGINT) << (seq - 1) END)
               -- least(): SQL's AND does not short-circuit, and a shift past 63 is an error
               = (CAST(1 AS BIGINT) << least(count(*), {seq_bits})) - 1 AS by_seq
    FROM facts GROUP BY run_id
),
ranked AS (
    SELECT _order, {position} AS position FROM facts
    WHERE run_id IN (SELECT run_id FROM seq_runs WHERE NOT by_seq)
),
positioned AS (
    SELECT f.*, CASE WHEN s.by_seq THEN f.seq ELSE r.position END AS position
    FROM facts f JOIN seq_runs s USING (run_id) LEFT JOIN ranked r USING (_order)
),
counted AS (
    SELECT * EXCLUDE (seq{span_ids_excluded}), {span_keys}status = 'error' OR wrong AS failed
    FROM positioned
),
{tree}per_run AS (
    SELECT run_id,
           max(CASE WHEN position = 1 THEN workflow_id END) AS wf,
           max(CASE WHEN position = 1 THEN started_at END) AS run_start,
           max(position) FILTER (WHERE parent_position IS NULL) AS final_position,
           -- SPEC 3.2: the innermost failure, earliest first
           min(position) FILTER (WHERE failed AND NOT handled AND NOT failed_child)
               AS origin_position,
           min_by(intent_checksum, position) FILTER (WHERE intent_checksum IS NOT NULL)
               AS first_checksum
    FROM treed GROUP BY run_id
),
run_intent AS (
    SELECT run_id, CASE WHEN min_by(intent_checksum, _order) IS NOT NULL
                        THEN hash(min_by(intent_checksum, _order)) END AS checksum,
           count(DISTINCT intent_checksum) > 1 AS conflicting
    FROM intents WHERE true {bucket} GROUP BY run_id
)
SELECT c.* EXCLUDE (workflow_id, started_at), r.wf, r.final_position,
       r.origin_position,
       coalesce(ri.conflicting, false) AS conflicting_intent,
       c.intent_checksum IS NOT NULL
           AND c.intent_checksum <> coalesce(ri.checksum, r.first_checksum) AS drifted,
       c.intent_checksum IS NULL AND ri.checksum IS NOT NULL AS unanchored
FROM treed c JOIN per_run r USING (run_id) LEFT JOIN run_intent ri USING (run_id)
WHERE true {workflow_filter} {date_filter}
"""

# SPEC 3.2's blast radius of the runs that failed at a hop: the origin's ancestors (the error
# went up through them) and the hops after it that are not its descendants, among those that
# reported success. Ancestors and descendants are walked from the origin, one tree level a step.
BLAST_MEMBERS = """
WITH RECURSIVE
fh AS MATERIALIZED (
    SELECT run_id, position, parent_position, status, origin_position FROM m_hops
    WHERE origin_position IS NOT NULL {where}
),
up(run_id, position) AS (
    SELECT run_id, parent_position FROM fh
    WHERE position = origin_position AND parent_position IS NOT NULL
    UNION ALL
    SELECT h.run_id, h.parent_position FROM up JOIN fh h USING (run_id, position)
    WHERE h.parent_position IS NOT NULL
),
down(run_id, position) AS (
    SELECT run_id, position FROM fh WHERE parent_position = origin_position
    UNION ALL
    SELECT h.run_id, h.position FROM down d JOIN fh h
        ON h.run_id = d.run_id AND h.parent_position = d.position
)
SELECT h.run_id, h.position FROM fh h
LEFT JOIN (SELECT DISTINCT run_id, position FROM up) u USING (run_id, position)
LEFT JOIN (SELECT DISTINCT run_id, position FROM down) d USING (run_id, position)
WHERE h.status = 'success'
  AND (u.run_id IS NOT NULL OR (h.position > h.origin_position AND d.run_id IS NULL))
"""

# SPEC 1.1's default span_id, `run_id/hop_id/seq` (the position when seq is missing), as the
# whole-record load spells it.
DEFAULT_SPAN = (
    "run_id || '/' || hop_id || '/' || coalesce(CAST(seq AS VARCHAR), CAST(position AS VARCHAR))"
)

M_RUNS = """
CREATE OR REPLACE TABLE m_runs AS
WITH per_run AS (
    SELECT run_id, wf, count(*) AS hops, max(final_position) AS final_position,
           max(origin_position) AS origin_position,
           bool_or(conflicting_intent) AS conflicting_intent,
           max(CASE WHEN position = origin_position THEN hop_id END) AS origin_hop,
           max(CASE WHEN position = final_position THEN hop_id END) AS final_hop,
           max(CASE WHEN position = final_position THEN confidence END) AS final_confidence,
           bool_or(position = final_position AND status = 'error') AS final_errored,
           count(*) FILTER (WHERE status = 'success') AS successes,
           count(*) FILTER (WHERE handled) AS handled_errors
    FROM m_hops GROUP BY run_id, wf
),
blast AS (
    SELECT run_id, count(*) AS members FROM ({blast_members}) GROUP BY run_id
),
outcome AS (
    SELECT run_id, bool_or(NOT correct) AS outcome_failed FROM outcomes GROUP BY run_id
),
judged AS (
    SELECT p.* EXCLUDE (successes),
           coalesce(o.outcome_failed, false) AS outcome_failed,
           p.origin_position IS NOT NULL OR coalesce(o.outcome_failed, false) AS failed,
           NOT p.final_errored AND (p.final_confidence IS NULL
                                    OR p.final_confidence >= {confident_threshold}) AS confident,
           CASE WHEN p.origin_position IS NOT NULL THEN coalesce(b.members, 0)
                WHEN coalesce(o.outcome_failed, false) THEN p.successes END AS blast_radius
    FROM per_run p LEFT JOIN outcome o USING (run_id) LEFT JOIN blast b USING (run_id)
)
SELECT *, failed AND origin_position IS NOT NULL AND origin_position <> final_position
          AND blast_radius > 0 AND confident AS observed_cascade
FROM judged
"""

ROOT_CAUSES = """
SELECT wf, origin_hop, count(*) AS failed_runs, avg(blast_radius) AS mean_blast_radius,
       count(*) FILTER (WHERE observed_cascade) AS observed_cascades
FROM m_runs WHERE failed GROUP BY wf, origin_hop
ORDER BY wf, failed_runs DESC, origin_hop NULLS FIRST
"""


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_rows(
    con: duckdb.DuckDBPyConnection, failed_only: bool, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per run for `argus runs`: failed first, earliest origin and widest blast first.

    `limit` keeps the first rows of that order (in SQL: a large trace has millions of runs).
    """
    where = "WHERE failed" if failed_only else ""
    top = f" LIMIT {int(limit)}" if limit is not None else ""
    return rows(
        con,
        "SELECT run_id, wf AS workflow_id, failed, origin_hop, origin_position, hops, "
        "blast_radius, final_hop, final_confidence, observed_cascade, outcome_failed, "
        "handled_errors "
        f"FROM m_runs {where} "
        f"ORDER BY failed DESC, wf, origin_position NULLS LAST, blast_radius DESC, run_id{top}",
    )


def run_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Runs, and failed runs, of the selection."""
    (runs, failed) = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE failed) FROM m_runs"
    ).fetchone() or (0, 0)
    return int(runs), int(failed)


def run_hops(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """Every hop record of one run, skipped ones too, with the tree flags of those that count:
    its resolved parent, handled, origin, final, and whether it is in the blast radius."""
    blast = BLAST_MEMBERS.format(where="AND run_id = $run")
    return rows(
        con,
        "SELECT h.span_id, h.parent_id, h.hop_id, h.agent, h.position, h.seq, h.status, h.error, "
        "h.validated, h.violations, h.high_stakes, h.confidence, h.correct, h.latency_ms, "
        "h.cost_usd, h.model, h.intent_checksum, h.metadata, "
        # how many of its child spans that are not hops failed, as an importer records it
        "try_cast(json_extract_string(h.metadata, '$.child_errors') AS BIGINT) AS child_errors, "
        "m.wrong, m.failed, m.drifted, "
        "m.unanchored, m.parent_position, m.handled, "
        "coalesce(h.position = m.origin_position, false) AS is_origin, "
        "coalesce(h.position = m.final_position, false) AS is_final, "
        # an outcome-only failure's blast radius: every hop that reported success (SPEC 3.2)
        "b.position IS NOT NULL OR (r.origin_position IS NULL AND r.failed "
        "AND m._order IS NOT NULL AND h.status = 'success') AS in_blast_radius, h._file, h._line "
        "FROM hops h LEFT JOIN m_hops m ON m._order = h._order "
        "LEFT JOIN m_runs r ON r.run_id = h.run_id "
        f"LEFT JOIN ({blast}) b ON b.run_id = h.run_id AND b.position = h.position "
        "WHERE h.run_id = $run ORDER BY h.position NULLS LAST, h._order",
        {"run": run_id},
    )


def run_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any] | None:
    found = rows(
        con,
        "SELECT r.*, i.goal, i.intent_checksum FROM m_runs r LEFT JOIN ("
        "SELECT run_id, min_by(goal, _order) AS goal, min_by(intent_checksum, _order) "
        "AS intent_checksum FROM intents GROUP BY run_id) i USING (run_id) "
        "WHERE r.run_id = ?",
        [run_id],
    )
    return found[0] if found else None
