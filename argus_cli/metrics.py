"""Every metric of SPEC sections 2 to 5, as SQL over `hop_facts`, `intents` and `outcomes`.

This module is the one place a metric is defined. It stays portable SQL (window functions,
GROUPING SETS, `product`, `min_by`, no Python UDFs) so that the same statements can later run on
Spark; the few DuckDB-only spellings are in the first step (`m_hops`), which only annotates rows.

The steps, each a table built from the ones before (in the load's database: memory or a work file):

1. `m_hops`: the hops that count (not skipped, of the selected workflows), with their run's
   workflow, whether each is wrong / checked / failed, its place in the run tree (SPEC 3.1:
   its parent's position, handled or not, a failed child or not) and its drift flags; past
   BUCKET_HOPS hops, built one hash bucket of runs at a time.
2. `m_runs`: one row per run: failed or not, the innermost origin hop, the blast radius
   through callers, the final hop and whether it answered confidently, observed cascade.
3. `m_hop_stats`: per (workflow, hop): SPEC 2 statistics, Wilson interval, canonical rank.
4. `m_stages`, `m_predicted`, `m_cascade`: SPEC 4's stages (alternative routes share one),
   the predicted end to end over them, and the cascade risk per workflow and per what-if
   scenario (one hop validated more).
5. `m_variance`, `m_scope`, `m_hop_g_arvis`: SPEC 5, per workflow, overall and per hop.
Sums and means of floats go through `exact`, so no figure depends on row order. Then
`compute_report` reads them into the report model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from argus_cli.diagnostics import InputError
from argus_cli.loading import position_sql
from argus_cli.report import (
    G_ARVIS_DIMENSIONS,
    Drift,
    GArvis,
    HopStats,
    Report,
    RootCause,
    Settings,
    WeakestHop,
    WhatIf,
    WorkflowReport,
)

Z = 1.96  # the Wilson interval's z for 95%

# One bucket of runs at a time (all of them unless the trace is large): see _hop_buckets.
# The run tree (SPEC 3.1) is one self-join on (run_id, span) per bucket: a hop's parent is the
# earliest hop of its run, before it, whose span is its parent_id. Span ids are compared as
# hashes: in metrics mode they arrive as digests (hashed again here), with the whole record as
# strings; the default span id (`run_id/hop_id/seq or position`) is hashed the same way in each.
_M_HOPS = """
{verb}
WITH ranked AS (
    SELECT *, {position} AS position FROM hop_facts WHERE status <> 'skipped' {bucket}
),
counted AS MATERIALIZED (
    SELECT run_id, hop_id, workflow_id, position, status, validated, high_stakes,
           confidence, correct, cost_usd, latency_ms, _order, started_at,
           coalesce(CASE WHEN span_id IS NOT NULL THEN hash(span_id) END,
                    hash(hash({default_span}))) AS span_key,
           CASE WHEN parent_id IS NOT NULL THEN hash(parent_id) END AS parent_key,
           -- hashes and checksums are only compared: 8-byte hashes of them keep m_hops small
           CASE WHEN input_hash IS NOT NULL THEN hash(input_hash) END AS input_hash,
           CASE WHEN output_hash IS NOT NULL THEN hash(output_hash) END AS output_hash,
           CASE WHEN intent_checksum IS NOT NULL THEN hash(intent_checksum) END
               AS intent_checksum,
           score_groundedness, score_accuracy, score_safety,
           -- SPEC 2: checked and wrong among the executions that reported success
           status <> 'error' AND (validated OR correct IS NOT NULL) AS checked,
           status <> 'error' AND (validated OR correct IS NOT NULL)
               AND (has_violation OR coalesce(correct = false, false)) AS wrong,
           safety_violation
    FROM ranked
),
parents AS (
    SELECT c._order, min(p.position) AS parent_position
    FROM counted c JOIN counted p
        ON p.run_id = c.run_id AND p.span_key = c.parent_key AND p.position < c.position
    GROUP BY c._order
),
flagged AS MATERIALIZED (
    SELECT c.*, p.parent_position, c.status = 'error' OR c.wrong AS failed
    FROM counted c LEFT JOIN parents p USING (_order)
),
family AS (
    -- per hop: whether its parent failed, whether any child failed
    SELECT c._order, bool_or(p.failed) AS parent_failed, NULL AS child_failed
    FROM flagged c JOIN flagged p ON p.run_id = c.run_id AND p.position = c.parent_position
    GROUP BY c._order
    UNION ALL
    SELECT p._order, NULL, bool_or(c.failed)
    FROM flagged c JOIN flagged p ON p.run_id = c.run_id AND p.position = c.parent_position
    GROUP BY p._order
),
treed AS MATERIALIZED (
    SELECT f.*,
           -- SPEC 3.1: an error whose caller did not fail was caught; it fails no run
           f.status = 'error' AND coalesce(NOT fam.parent_failed, false) AS handled,
           coalesce(fam.child_failed, false) AS failed_child
    FROM flagged f LEFT JOIN (
        SELECT _order, bool_or(parent_failed) AS parent_failed,
               bool_or(child_failed) AS child_failed
        FROM family GROUP BY _order) fam USING (_order)
),
per_run AS (
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
SELECT c.* EXCLUDE (workflow_id, started_at, span_key, parent_key), r.wf, r.final_position,
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
_BLAST_MEMBERS = """
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
_DEFAULT_SPAN = (
    "run_id || '/' || hop_id || '/' || coalesce(CAST(seq AS VARCHAR), CAST(position AS VARCHAR))"
)

_M_RUNS = """
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

_M_HOP_STATS = """
CREATE OR REPLACE TABLE m_hop_stats AS
WITH agg AS (
    SELECT wf, hop_id,
           count(*) AS executions,
           count(*) FILTER (WHERE status = 'error') AS errors,
           count(*) FILTER (WHERE handled) AS handled_errors,
           count(*) FILTER (WHERE checked) AS checked,
           count(*) FILTER (WHERE wrong) AS wrong,
           count(*) FILTER (WHERE validated) AS validated,
           count(*) FILTER (WHERE high_stakes) AS high_stakes,
           count(*) FILTER (WHERE high_stakes AND NOT validated) AS high_stakes_unvalidated,
           count(*) FILTER (WHERE drifted) AS drifted,
           count(intent_checksum) AS with_checksum,
           median(position) AS median_position,
           {mean_latency} AS mean_latency_ms,
           {total_cost} AS total_cost_usd,
           {mean_cost} AS mean_cost_usd
    FROM m_hops GROUP BY wf, hop_id
),
rates AS (
    SELECT *,
           CAST(errors AS DOUBLE) / executions AS error_rate,
           CASE WHEN checked > 0 THEN CAST(wrong AS DOUBLE) / checked END AS silent_error_rate,
           CAST(validated AS DOUBLE) / executions AS validation_coverage,
           CASE WHEN with_checksum > 0 THEN CAST(drifted AS DOUBLE) / with_checksum END
               AS drift_rate
    FROM agg
),
wilson AS (
    SELECT *,
           CASE WHEN checked > 0 THEN
               (silent_error_rate + {z2} / (2.0 * checked)) / (1 + {z2} / checked) END AS w_mid,
           CASE WHEN checked > 0 THEN
               {z} * sqrt(silent_error_rate * (1 - silent_error_rate) / checked
                          + {z2} / (4.0 * checked * checked)) / (1 + {z2} / checked) END
               AS w_half
    FROM rates
)
SELECT wf, hop_id, executions, errors, handled_errors, checked, wrong, validated, high_stakes,
       high_stakes_unvalidated, drifted, median_position, mean_latency_ms, total_cost_usd,
       mean_cost_usd,
       error_rate, silent_error_rate, validation_coverage, drift_rate,
       (1 - error_rate) * (1 - coalesce(silent_error_rate, 0)) AS pass_rate,
       -- SPEC 3.2: a hop's chance not to fail its run (handled errors fail none)
       (1 - CAST(errors - handled_errors AS DOUBLE) / executions)
           * (1 - coalesce(silent_error_rate, 0)) AS run_pass_rate,
       CASE WHEN checked > 0 THEN (1 - error_rate) * (1 - least(1.0, w_mid + w_half))
            ELSE 0.0 END AS pass_rate_lo,
       CASE WHEN checked > 0 THEN (1 - error_rate) * (1 - greatest(0.0, w_mid - w_half))
            ELSE 1 - error_rate END AS pass_rate_hi,
       row_number() OVER (PARTITION BY wf ORDER BY median_position, hop_id) AS rank,
       count(*) OVER (PARTITION BY wf) AS n_hops
FROM wilson
"""

# SPEC 4's stages: walk each workflow's hops in canonical order; a hop joins the current stage
# when it shares the stage's first median position and never ran in a run beside any hop
# already in it (alternative routes), else it starts the next stage. Only hops that tie on
# median position can share a stage, so only their runs are compared; the walk is one step per
# hop of a workflow.
_M_STAGES = """
CREATE OR REPLACE TABLE m_stages AS
WITH RECURSIVE
tied AS (
    SELECT wf, hop_id, median_position FROM m_hop_stats
    QUALIFY count(*) OVER (PARTITION BY wf, median_position) > 1
),
tied_runs AS MATERIALIZED (
    SELECT DISTINCT m.run_id, m.wf, m.hop_id, t.median_position
    FROM m_hops m JOIN tied t USING (wf, hop_id)
),
partners AS (
    SELECT a.wf, a.hop_id, list(DISTINCT b.hop_id) AS others
    FROM tied_runs a JOIN tied_runs b
        ON b.run_id = a.run_id AND b.wf = a.wf AND b.median_position = a.median_position
           AND b.hop_id <> a.hop_id
    GROUP BY a.wf, a.hop_id
),
ordered AS (
    SELECT s.wf, s.hop_id, s.rank, s.median_position,
           coalesce(p.others, CAST([] AS VARCHAR[])) AS others
    FROM m_hop_stats s LEFT JOIN partners p USING (wf, hop_id)
),
walk(wf, hop_id, rank, stage, first_median, members) AS (
    SELECT wf, hop_id, rank, 1, median_position, [hop_id] FROM ordered WHERE rank = 1
    UNION ALL
    SELECT wf, hop_id, rank, CASE WHEN joins THEN stage ELSE stage + 1 END,
           CASE WHEN joins THEN first_median ELSE median_position END,
           CASE WHEN joins THEN list_append(members, hop_id) ELSE [hop_id] END
    FROM (
        SELECT w.wf, o.hop_id, o.rank, w.stage, w.first_median, w.members, o.median_position,
               o.median_position = w.first_median AND NOT list_has_any(w.members, o.others)
                   AS joins
        FROM walk w JOIN ordered o ON o.wf = w.wf AND o.rank = w.rank + 1
    )
)
SELECT wf, hop_id, stage, max(stage) OVER (PARTITION BY wf) AS n_stages FROM walk
"""


def _weighted(value: str) -> str:
    """A stage's mean of a hop value weighted by executions (SPEC 3.2, 4); a stage of one hop
    takes the hop's value as is, so that a chain's figures are v1's to the last digit."""
    return (
        f"CASE WHEN count(*) = 1 THEN max({value}) "
        f"ELSE sum({value} * executions ORDER BY hop_id) / sum(executions) END"
    )


# SPEC 3.2's predicted end to end: the product over stages of their run pass rates.
_M_PREDICTED = f"""
CREATE OR REPLACE TABLE m_predicted AS
SELECT wf, product(run_pass_rate ORDER BY stage) AS predicted FROM (
    SELECT wf, stage, {_weighted("run_pass_rate")} AS run_pass_rate
    FROM m_hop_stats JOIN m_stages USING (wf, hop_id) GROUP BY wf, stage)
GROUP BY wf
"""

# SPEC 4 over every scenario at once: 'actual' (scenario NULL), and one per hop with that
# hop's coverage raised. Rows per (scenario, hop): the hop's coverage and contribution, and
# the scenario's risk.
_M_CASCADE = f"""
CREATE OR REPLACE TABLE m_cascade AS
WITH hs AS (
    SELECT s.wf, s.hop_id, s.executions, s.silent_error_rate, s.validation_coverage,
           st.stage, st.n_stages
    FROM m_hop_stats s JOIN m_stages st USING (wf, hop_id)
),
scenarios AS (
    SELECT x.wf, x.hop_id AS scenario, h.hop_id, h.stage, h.n_stages, h.executions,
           coalesce(h.silent_error_rate, 0) AS s,
           CASE WHEN h.hop_id = x.hop_id
                THEN CASE WHEN h.validation_coverage < {{advice}} THEN {{advice}} ELSE 1.0 END
                ELSE h.validation_coverage END AS v
    FROM hs x JOIN hs h USING (wf)
    UNION ALL
    SELECT wf, NULL AS scenario, hop_id, stage, n_stages, executions,
           coalesce(silent_error_rate, 0) AS s, validation_coverage AS v
    FROM hs
),
stages AS (
    SELECT wf, scenario, stage, max(n_stages) AS n_stages,
           {_weighted("s")} AS s, {_weighted("v")} AS v
    FROM scenarios GROUP BY wf, scenario, stage
),
escapes AS (
    SELECT *, product(1 - v) OVER (
        PARTITION BY wf, scenario ORDER BY stage
        ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS escape
    FROM stages
),
kept AS (
    SELECT wf, scenario,
           product(CASE WHEN stage < n_stages THEN 1 - s * escape ELSE 1.0 END ORDER BY stage)
               AS kept
    FROM escapes GROUP BY wf, scenario
),
confident AS (
    SELECT wf, avg(CASE WHEN confident THEN 1.0 ELSE 0.0 END) AS confident_share
    FROM m_runs GROUP BY wf
)
SELECT c.wf, c.scenario, c.hop_id, c.stage, c.v,
       CASE WHEN c.stage < c.n_stages THEN c.s * e.escape ELSE 0.0 END AS contribution,
       k.confident_share, k.confident_share * (1 - p.kept) AS cascade_risk_score
FROM scenarios c
JOIN escapes e ON e.wf = c.wf AND e.scenario IS NOT DISTINCT FROM c.scenario
    AND e.stage = c.stage
JOIN kept p ON p.wf = c.wf AND p.scenario IS NOT DISTINCT FROM c.scenario
JOIN confident k ON k.wf = c.wf
"""

# SPEC 5 variance: share of the most common output per repeated input, averaged over inputs.
_M_VARIANCE = """
CREATE OR REPLACE TABLE m_variance AS
WITH outputs AS (
    SELECT wf, hop_id, input_hash, output_hash, count(*) AS n
    FROM m_hops WHERE input_hash IS NOT NULL AND output_hash IS NOT NULL
    GROUP BY wf, hop_id, input_hash, output_hash
)
SELECT wf, hop_id, input_hash, CAST(max(n) AS DOUBLE) / sum(n) AS consistency
FROM outputs GROUP BY wf, hop_id, input_hash HAVING sum(n) >= 2
"""


def exact(aggregate: str, value: str) -> str:
    """`sum` or `avg` of a DOUBLE that does not depend on the order rows arrive in.

    Parallel scans and windows hand rows to an aggregate in a different order from one run to
    the next, and float addition is not associative: the same trace would give a different last
    digit each time. Summed as DECIMAL(38, 18) the total is exact (each value is kept to 1e-18,
    beyond a double's precision for anything above 0.01); a value of 1e12 or more, outside any
    cost, latency or score, makes that aggregate fall back to float addition. 20 integer digits
    leave room for 10^8 rows of values below 10^12.
    """
    fits = f"abs({value}) < 1e12"
    decimal = f"CASE WHEN {fits} THEN CAST({value} AS DECIMAL(38, 18)) END"
    return (
        f"CASE WHEN bool_and({fits}) IS NOT false "
        f"THEN CAST({aggregate}({decimal}) AS DOUBLE) ELSE {aggregate}({value}) END"
    )


# A hop's value for the per-hop G-ARVIS dimensions (SPEC 5), averaged over some grouping.
_HOP_DIMENSIONS = f"""
       {exact("avg", "score_groundedness")} AS groundedness,
       {exact("avg", "coalesce(score_accuracy, CASE WHEN checked THEN CASE WHEN wrong THEN 0.0 ELSE 1.0 END END)")} AS accuracy,
       {exact("avg", "coalesce(score_safety, CASE WHEN validated THEN CASE WHEN safety_violation THEN 0.0 ELSE 1.0 END END)")} AS safety
"""  # noqa: E501


def _composite_sql(dimensions: tuple[str, ...], settings: Settings) -> str:
    """Weighted mean of the dimensions that have a value: a NULL one carries no weight."""
    weights = [(d, float(settings.weight(d))) for d in dimensions if settings.weight(d) > 0]
    if not weights:
        return "CAST(NULL AS DOUBLE)"
    top = " + ".join(f"coalesce({w} * {d}, 0)" for d, w in weights)
    bottom = " + ".join(f"CASE WHEN {d} IS NULL THEN 0 ELSE {w} END" for d, w in weights)
    return f"({top}) / nullif({bottom}, 0)"


# One row per workflow and one (scope NULL) over all: the run-level and G-ARVIS figures.
_M_SCOPE = """
CREATE OR REPLACE TABLE m_scope AS
WITH r AS (
    SELECT CASE WHEN grouping(wf) = 1 THEN NULL ELSE wf END AS scope, count(*) AS runs,
           count(*) FILTER (WHERE failed) AS failed_runs,
           CAST(count(*) FILTER (WHERE NOT failed) AS DOUBLE) / count(*) AS e2e,
           count(*) FILTER (WHERE observed_cascade) AS observed_cascades,
           count(*) FILTER (WHERE conflicting_intent) AS conflicting_intents,
           count(final_confidence) AS runs_with_final_confidence,
           avg(CASE WHEN confident THEN 1.0 ELSE 0.0 END) AS confident_share
    FROM m_runs GROUP BY GROUPING SETS ((wf), ())
),
h AS (
    SELECT CASE WHEN grouping(wf) = 1 THEN NULL ELSE wf END AS scope,
           count(*) AS hop_executions, {hop_dimensions},
           {total_cost} AS total_cost, count(cost_usd) AS with_cost,
           count(*) FILTER (WHERE drifted) AS drifted_hops,
           count(*) FILTER (WHERE unanchored) AS unanchored_hops,
           count(intent_checksum) AS with_checksum
    FROM m_hops GROUP BY GROUPING SETS ((wf), ())
),
v AS (
    SELECT CASE WHEN grouping(wf) = 1 THEN NULL ELSE wf END AS scope,
           {variance} AS variance
    FROM m_variance GROUP BY GROUPING SETS ((wf), ())
),
p AS (
    SELECT wf AS scope, predicted FROM m_predicted
),
k AS (
    SELECT wf AS scope, max(cascade_risk_score) AS cascade_risk_score
    FROM m_cascade WHERE scenario IS NULL GROUP BY wf
),
dims AS (
    SELECT r.*, h.* EXCLUDE (scope), v.variance, p.predicted, k.cascade_risk_score,
           e2e AS reliability,
           CASE WHEN with_cost = 0 THEN NULL
                WHEN runs = failed_runs THEN 0.0
                ELSE greatest(0.0, 1 - (total_cost / (runs - failed_runs)) / {budget})
           END AS inference_cost,
           CASE WHEN with_checksum > 0 THEN CAST(drifted_hops AS DOUBLE) / with_checksum END
               AS drift_rate
    FROM r JOIN h ON r.scope IS NOT DISTINCT FROM h.scope
    LEFT JOIN v ON r.scope IS NOT DISTINCT FROM v.scope
    LEFT JOIN p ON r.scope IS NOT DISTINCT FROM p.scope
    LEFT JOIN k ON r.scope IS NOT DISTINCT FROM k.scope
)
SELECT *, {composite} AS g_arvis FROM dims
"""

_M_HOP_G_ARVIS = """
CREATE OR REPLACE TABLE m_hop_g_arvis AS
WITH d AS (
    SELECT wf, hop_id, {hop_dimensions} FROM m_hops GROUP BY wf, hop_id
),
dims AS (
    SELECT d.*, v.variance
    FROM d LEFT JOIN (SELECT wf, hop_id, {variance} AS variance
                      FROM m_variance GROUP BY wf, hop_id) v USING (wf, hop_id)
)
SELECT *, {composite} AS g_arvis FROM dims
"""

_ROOT_CAUSES = """
SELECT wf, origin_hop, count(*) AS failed_runs, avg(blast_radius) AS mean_blast_radius
FROM m_runs WHERE failed GROUP BY wf, origin_hop
ORDER BY wf, failed_runs DESC, origin_hop NULLS FIRST
"""


# m_hops ranks the hops of each run and joins each hop to its run: both hold a bucket's hops in
# memory at once. Past this many hops, runs are split by a hash of run_id into buckets of about
# this size, one statement each, so a large trace stays within the memory limit instead of
# spilling (a bucket of 2 million hops fits well in 1 GB).
BUCKET_HOPS = 2_000_000


def _hop_buckets(con: duckdb.DuckDBPyConnection) -> int:
    (hops,) = con.execute("SELECT count(*) FROM hop_facts").fetchone() or (0,)
    return max(1, -(-int(hops) // BUCKET_HOPS))


def started_in_range(start: str, since: datetime | None, until: datetime | None) -> str:
    """`AND` conditions that a run's start (a run's first hop's `started_at`) is in range.

    A run's date is its first hop's start: a run without one is out of any range. Empty
    without bounds.
    """
    return "".join(
        f"AND {start} {op} TIMESTAMP '{moment.isoformat(sep=' ')}' "
        for op, moment in ((">=", since), ("<=", until))
        if moment is not None
    )


def prepare(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Build the metric tables; raise InputError when nothing is left to analyse."""
    workflow_filter = ""
    if settings.workflows:
        names = ", ".join("'" + w.replace("'", "''") + "'" for w in settings.workflows)
        workflow_filter = f"AND r.wf IN ({names})"
    date_filter = started_in_range("r.run_start", settings.since, settings.until)
    buckets = _hop_buckets(con)
    for bucket in range(buckets):
        con.execute(
            _M_HOPS.format(
                verb="CREATE OR REPLACE TABLE m_hops AS" if bucket == 0 else "INSERT INTO m_hops",
                position=position_sql("_order"),
                default_span=_DEFAULT_SPAN,
                bucket=f"AND hash(run_id) % {buckets} = {bucket}" if buckets > 1 else "",
                workflow_filter=workflow_filter,
                date_filter=date_filter,
            )
        )
    (count,) = con.execute("SELECT count(*) FROM m_hops").fetchone() or (0,)
    if not count and date_filter:
        bounds = " and ".join(
            f"{name} {moment.isoformat()}"
            for name, moment in (("since", settings.since), ("until", settings.until))
            if moment is not None
        )
        scope = f" of workflow {', '.join(settings.workflows)}" if settings.workflows else ""
        raise InputError(
            f"no runs{scope} with a first hop started {bounds} (runs without started_at "
            "are left out when --since or --until is given)"
        )
    if not count:
        if settings.workflows:
            known = con.execute(
                "SELECT DISTINCT workflow_id FROM hops WHERE position = 1 ORDER BY 1"
            ).fetchall()
            raise InputError(
                f"no runs of workflow {', '.join(settings.workflows)} "
                f"(the inputs hold: {', '.join(k for (k,) in known) or 'none'})"
            )
        raise InputError("no hop records to analyse (only skipped hops, intents or outcomes)")
    con.execute(
        _M_RUNS.format(
            confident_threshold=float(settings.confident_threshold),
            blast_members=_BLAST_MEMBERS.format(where=""),
        )
    )
    con.execute(
        _M_HOP_STATS.format(
            z=Z,
            z2=Z * Z,
            mean_latency=exact("avg", "latency_ms"),
            total_cost=exact("sum", "cost_usd"),
            mean_cost=exact("avg", "cost_usd"),
        )
    )
    con.execute(_M_STAGES)
    con.execute(_M_PREDICTED)
    con.execute(_M_CASCADE.format(advice=float(settings.advice_coverage)))
    con.execute(_M_VARIANCE)
    con.execute(
        _M_SCOPE.format(
            hop_dimensions=_HOP_DIMENSIONS,
            total_cost=exact("sum", "cost_usd"),
            variance=exact("avg", "consistency"),
            budget=float(settings.cost_budget_usd),
            composite=_composite_sql(G_ARVIS_DIMENSIONS, settings),
        )
    )
    con.execute(
        _M_HOP_G_ARVIS.format(
            hop_dimensions=_HOP_DIMENSIONS,
            variance=exact("avg", "consistency"),
            composite=_composite_sql(("groundedness", "accuracy", "variance", "safety"), settings),
        )
    )


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _g_arvis(row: dict[str, Any]) -> GArvis:
    return GArvis(**{k: row.get(k) for k in (*G_ARVIS_DIMENSIONS, "g_arvis")})


def compute_report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    files: list[str],
    records: int,
    bad_records: int,
) -> Report:
    """Run every metric query and read the results into the report model (SPEC 7)."""
    prepare(con, settings)
    scopes = {r["scope"]: r for r in _rows(con, "SELECT * FROM m_scope")}
    stats = _rows(
        con,
        "SELECT s.*, c.contribution, c.stage, g.groundedness, g.accuracy, g.variance, g.safety, "
        "g.g_arvis FROM m_hop_stats s JOIN m_cascade c ON c.scenario IS NULL AND c.wf = s.wf "
        "AND c.hop_id = s.hop_id JOIN m_hop_g_arvis g ON g.wf = s.wf AND g.hop_id = s.hop_id "
        "ORDER BY s.wf, s.rank",
    )
    what_ifs = _rows(
        con,
        "SELECT w.wf, w.hop_id, a.v AS coverage, w.v AS proposed_coverage, "
        "a.cascade_risk_score, w.cascade_risk_score AS proposed "
        "FROM m_cascade w JOIN m_cascade a ON a.scenario IS NULL AND a.wf = w.wf "
        "AND a.hop_id = w.hop_id WHERE w.scenario = w.hop_id "
        "ORDER BY w.wf, proposed, w.hop_id",
    )
    causes = _rows(con, _ROOT_CAUSES)
    workflows = [
        _workflow_report(
            scopes[wf],
            [s for s in stats if s["wf"] == wf],
            [w for w in what_ifs if w["wf"] == wf],
            [c for c in causes if c["wf"] == wf],
        )
        for wf in sorted(k for k in scopes if k is not None)
    ]
    overall = scopes[None]
    weakest = _rows(
        con,
        "SELECT wf, hop_id, pass_rate, pass_rate_lo, pass_rate_hi FROM m_hop_stats "
        "ORDER BY pass_rate, executions DESC, wf, hop_id LIMIT 1",
    )[0]
    (predicted,) = con.execute(
        "SELECT sum(predicted * runs ORDER BY scope) / sum(runs) FROM m_scope "
        "WHERE scope IS NOT NULL"
    ).fetchone() or (None,)
    return Report(
        files=files,
        records=records,
        bad_records=bad_records,
        runs=overall["runs"],
        hop_executions=overall["hop_executions"],
        end_to_end_success_rate=overall["e2e"],
        predicted_end_to_end=predicted,
        weakest_hop=WeakestHop(
            weakest["wf"],
            weakest["hop_id"],
            weakest["pass_rate"],
            (weakest["pass_rate_lo"], weakest["pass_rate_hi"]),
        ),
        cascade_risk_score=max(w.cascade_risk_score for w in workflows),
        g_arvis_scores=_g_arvis(overall),
        workflows=workflows,
        settings=settings,
    )


def _workflow_report(
    scope: dict[str, Any],
    stats: list[dict[str, Any]],
    what_ifs: list[dict[str, Any]],
    causes: list[dict[str, Any]],
) -> WorkflowReport:
    return WorkflowReport(
        workflow_id=scope["scope"],
        runs=scope["runs"],
        failed_runs=scope["failed_runs"],
        end_to_end_success_rate=scope["e2e"],
        predicted_end_to_end=scope["predicted"],
        cascade_risk_score=scope["cascade_risk_score"],
        confident_share=scope["confident_share"],
        observed_cascades=scope["observed_cascades"],
        hops=[
            HopStats(
                hop_id=s["hop_id"],
                executions=s["executions"],
                errors=s["errors"],
                checked=s["checked"],
                wrong=s["wrong"],
                error_rate=s["error_rate"],
                silent_error_rate=s["silent_error_rate"],
                pass_rate=s["pass_rate"],
                pass_rate_ci=(s["pass_rate_lo"], s["pass_rate_hi"]),
                validation_coverage=s["validation_coverage"],
                high_stakes_unvalidated=s["high_stakes_unvalidated"],
                cascade_contribution=s["contribution"],
                drift_rate=s["drift_rate"],
                median_position=float(s["median_position"]),
                validated=s["validated"],
                high_stakes=s["high_stakes"],
                drifted_hops=s["drifted"],
                mean_latency_ms=s["mean_latency_ms"],
                total_cost_usd=s["total_cost_usd"],
                mean_cost_usd=s["mean_cost_usd"],
                g_arvis_scores=_g_arvis(s),
                handled_errors=s["handled_errors"],
                stage=s["stage"],
            )
            for s in stats
        ],
        root_causes=[
            RootCause(c["origin_hop"], c["failed_runs"], c["mean_blast_radius"]) for c in causes
        ],
        drift=Drift(
            drifted_hops=scope["drifted_hops"],
            unanchored_hops=scope["unanchored_hops"],
            drift_rate=scope["drift_rate"],
            conflicting_intents=scope["conflicting_intents"],
        ),
        g_arvis_scores=_g_arvis(scope),
        what_if=[
            WhatIf(
                hop_id=w["hop_id"],
                coverage=w["coverage"],
                proposed_coverage=w["proposed_coverage"],
                cascade_risk_score=w["cascade_risk_score"],
                proposed_cascade_risk_score=w["proposed"],
            )
            for w in what_ifs
        ],
        runs_with_final_confidence=scope["runs_with_final_confidence"],
    )


def run_rows(
    con: duckdb.DuckDBPyConnection, failed_only: bool, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per run for `argus runs`: failed first, earliest origin and widest blast first.

    `limit` keeps the first rows of that order (in SQL: a large trace has millions of runs).
    """
    where = "WHERE failed" if failed_only else ""
    top = f" LIMIT {int(limit)}" if limit is not None else ""
    return _rows(
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
    blast = _BLAST_MEMBERS.format(where="AND run_id = $run")
    return _rows(
        con,
        "SELECT h.span_id, h.parent_id, h.hop_id, h.agent, h.position, h.seq, h.status, h.error, "
        "h.validated, h.violations, h.high_stakes, h.confidence, h.correct, h.latency_ms, "
        "h.cost_usd, h.model, h.intent_checksum, h.metadata, m.wrong, m.failed, m.drifted, "
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
    rows = _rows(
        con,
        "SELECT r.*, i.goal, i.intent_checksum FROM m_runs r LEFT JOIN ("
        "SELECT run_id, min_by(goal, _order) AS goal, min_by(intent_checksum, _order) "
        "AS intent_checksum FROM intents GROUP BY run_id) i USING (run_id) "
        "WHERE r.run_id = ?",
        [run_id],
    )
    return rows[0] if rows else None
