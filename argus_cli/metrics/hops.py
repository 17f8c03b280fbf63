"""SPEC 2 and 4, the hops: per-hop statistics, the stages runs choose between, and what the
hops predict (end to end success, the cascade risk and its what-if scenarios)."""

from __future__ import annotations

Z = 1.96  # the Wilson interval's z for 95%

M_HOP_STATS = """
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
M_STAGES = """
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
M_PREDICTED = f"""
CREATE OR REPLACE TABLE m_predicted AS
SELECT wf, product(run_pass_rate ORDER BY stage) AS predicted FROM (
    SELECT wf, stage, {_weighted("run_pass_rate")} AS run_pass_rate
    FROM m_hop_stats JOIN m_stages USING (wf, hop_id) GROUP BY wf, stage)
GROUP BY wf
"""

# SPEC 4 over every scenario at once: 'actual' (scenario NULL), and one per hop with that
# hop's coverage raised. Rows per (scenario, hop): the hop's coverage and contribution, and
# the scenario's risk.
M_CASCADE = f"""
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
