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
from argus_cli.load.loading import position_sql
from argus_cli.metrics.hops import M_CASCADE, M_HOP_STATS, M_PREDICTED, M_STAGES, Z
from argus_cli.metrics.runs import (
    BLAST_MEMBERS,
    CHAINS,
    DEFAULT_SPAN,
    M_HOPS,
    M_RUNS,
    ROOT_CAUSES,
    SEQ_BITS,
    TREE,
    TREE_SPAN_KEYS,
    rows,
    run_counts,
    run_hops,
    run_rows,
    run_summary,
)
from argus_cli.metrics.scores import (
    HOP_DIMENSIONS,
    M_HOP_G_ARVIS,
    M_SCOPE,
    M_VARIANCE,
    composite_sql,
    exact,
)
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

__all__ = [
    "BUCKET_HOPS",
    "NoRunsError",
    "compute_report",
    "exact",
    "prepare",
    "run_counts",
    "run_hops",
    "run_rows",
    "run_summary",
    "started_in_range",
]


# m_hops ranks the hops of runs whose seq is not 1..n and joins each hop to its run: both hold
# a bucket's hops in memory at once. Past this many hops, runs are split by a hash of run_id
# into buckets of about this size, one statement each, so a large trace stays within the memory
# limit instead of spilling (measured at 10M hops: buckets of 5M spill and take 2.6x the wall
# time of buckets of 2M, at the same peak).
BUCKET_HOPS = 2_000_000


def _hop_buckets(con: duckdb.DuckDBPyConnection) -> int:
    if not isinstance(con, duckdb.DuckDBPyConnection):  # Spark spreads the work itself
        return 1
    (hops,) = con.execute("SELECT count(*) FROM hop_facts").fetchone() or (0,)
    # (5% over before a second bucket: a trace of 2,000,001 hops read twice for one hop cost
    # 5 s of CPU, the run tree built once per bucket)
    return max(1, -(-int(hops) // (BUCKET_HOPS + BUCKET_HOPS // 20)))


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


class NoRunsError(InputError):
    """The inputs were read but leave no run to analyse: `argus check` fails a gate on it."""


def prepare(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Build the metric tables; raise NoRunsError when nothing is left to analyse."""
    workflow_filter = ""
    if settings.workflows:
        names = ", ".join("'" + w.replace("'", "''") + "'" for w in settings.workflows)
        workflow_filter = f"AND r.wf IN ({names})"
    date_filter = started_in_range("r.run_start", settings.since, settings.until)
    buckets = _hop_buckets(con)
    (trees,) = con.execute("SELECT count(parent_id) > 0 FROM hop_facts").fetchone() or (True,)
    for bucket in range(buckets):
        con.execute(
            M_HOPS.format(
                verb="CREATE OR REPLACE TABLE m_hops AS" if bucket == 0 else "INSERT INTO m_hops",
                position=position_sql("_order"),
                seq_bits=SEQ_BITS,
                span_keys=TREE_SPAN_KEYS.format(default_span=DEFAULT_SPAN) if trees else "",
                span_ids="span_id, parent_id," if trees else "",
                span_ids_excluded=", span_id, parent_id" if trees else "",
                tree=TREE if trees else CHAINS,
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
        raise NoRunsError(
            f"no runs{scope} with a first hop started {bounds} (runs without started_at "
            "are left out when --since or --until is given)"
        )
    if not count:
        if settings.workflows:
            known = con.execute(
                "SELECT DISTINCT workflow_id FROM hops WHERE position = 1 ORDER BY 1"
            ).fetchall()
            raise NoRunsError(
                f"no runs of workflow {', '.join(settings.workflows)} "
                f"(the inputs hold: {', '.join(k for (k,) in known) or 'none'})"
            )
        raise NoRunsError("no hop records to analyse (only skipped hops, intents or outcomes)")
    con.execute(
        M_RUNS.format(
            confident_threshold=float(settings.confident_threshold),
            blast_members=BLAST_MEMBERS.format(where=""),
        )
    )
    con.execute(
        M_HOP_STATS.format(
            z=Z,
            z2=Z * Z,
            mean_latency=exact("avg", "latency_ms"),
            total_cost=exact("sum", "cost_usd"),
            mean_cost=exact("avg", "cost_usd"),
        )
    )
    con.execute(M_STAGES)
    con.execute(M_PREDICTED)
    con.execute(M_CASCADE.format(advice=float(settings.advice_coverage)))
    con.execute(M_VARIANCE)
    con.execute(
        M_SCOPE.format(
            hop_dimensions=HOP_DIMENSIONS,
            total_cost=exact("sum", "cost_usd"),
            variance=exact("avg", "consistency"),
            budget=float(settings.cost_budget_usd),
            composite=composite_sql(G_ARVIS_DIMENSIONS, settings),
        )
    )
    con.execute(
        M_HOP_G_ARVIS.format(
            hop_dimensions=HOP_DIMENSIONS,
            variance=exact("avg", "consistency"),
            composite=composite_sql(("groundedness", "accuracy", "variance", "safety"), settings),
        )
    )


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
    scopes = {r["scope"]: r for r in rows(con, "SELECT * FROM m_scope")}
    stats = rows(
        con,
        "SELECT s.*, c.contribution, c.stage, g.groundedness, g.accuracy, g.variance, g.safety, "
        "g.g_arvis FROM m_hop_stats s JOIN m_cascade c ON c.scenario IS NULL AND c.wf = s.wf "
        "AND c.hop_id = s.hop_id JOIN m_hop_g_arvis g ON g.wf = s.wf AND g.hop_id = s.hop_id "
        "ORDER BY s.wf, s.rank",
    )
    what_ifs = rows(
        con,
        "SELECT w.wf, w.hop_id, a.v AS coverage, w.v AS proposed_coverage, "
        "a.cascade_risk_score, w.cascade_risk_score AS proposed "
        "FROM m_cascade w JOIN m_cascade a ON a.scenario IS NULL AND a.wf = w.wf "
        "AND a.hop_id = w.hop_id WHERE w.scenario = w.hop_id "
        "ORDER BY w.wf, proposed, w.hop_id",
    )
    causes = rows(con, ROOT_CAUSES)
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
    weakest = rows(
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
            RootCause(
                c["origin_hop"], c["failed_runs"], c["mean_blast_radius"], c["observed_cascades"]
            )
            for c in causes
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
