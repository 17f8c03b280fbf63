"""SPEC 5, the G-ARVIS scores, and the per-workflow and overall figures (`m_scope`) that
gather every table before into one row per scope; `exact` keeps float sums order-free."""

from __future__ import annotations

from argus_cli.report import Settings

# SPEC 5 variance: share of the most common output per repeated input, averaged over inputs.
M_VARIANCE = """
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
HOP_DIMENSIONS = f"""
       {exact("avg", "score_groundedness")} AS groundedness,
       {exact("avg", "coalesce(score_accuracy, CASE WHEN checked THEN CASE WHEN wrong THEN 0.0 ELSE 1.0 END END)")} AS accuracy,
       {exact("avg", "coalesce(score_safety, CASE WHEN validated THEN CASE WHEN safety_violation THEN 0.0 ELSE 1.0 END END)")} AS safety
"""  # noqa: E501


def composite_sql(dimensions: tuple[str, ...], settings: Settings) -> str:
    """Weighted mean of the dimensions that have a value: a NULL one carries no weight."""
    weights = [(d, float(settings.weight(d))) for d in dimensions if settings.weight(d) > 0]
    if not weights:
        return "CAST(NULL AS DOUBLE)"
    top = " + ".join(f"coalesce({w} * {d}, 0)" for d, w in weights)
    bottom = " + ".join(f"CASE WHEN {d} IS NULL THEN 0 ELSE {w} END" for d, w in weights)
    return f"({top}) / nullif({bottom}, 0)"


# One row per workflow and one (scope NULL) over all: the run-level and G-ARVIS figures.
M_SCOPE = """
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

M_HOP_G_ARVIS = """
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
