"""The workflow map's edges (SPEC 3): which hop led to which, in how many runs, and along which
of them the damage of a failed run travelled.

Two kinds of edge, both read from `m_hops` after `prepare`:

- `call`: a hop ran within another (its parent, SPEC 3.1): caller -> callee.
- `next`: a hop ran right after another under the same caller (or both top-level): the output
  of one went on to the next.

An edge carried damage in a failed run when both of its ends are the run's origin hop or in its
blast radius (SPEC 3.2): the error went up through callers and on to later hops along it. Runs
failed only by their outcome have no origin and take no part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from argus_cli.metrics.runs import BLAST_MEMBERS, rows

EDGES = """
WITH h AS (SELECT run_id, wf, hop_id, position, parent_position FROM m_hops),
calls AS (
    SELECT c.wf, p.hop_id AS source, c.hop_id AS target, 'call' AS kind, c.run_id,
           p.position AS source_position, c.position AS target_position
    FROM h c JOIN h p ON p.run_id = c.run_id AND p.position = c.parent_position
),
nexts AS (
    SELECT * FROM (
        SELECT wf, hop_id AS source, lead(hop_id) OVER w AS target, 'next' AS kind, run_id,
               position AS source_position, lead(position) OVER w AS target_position
        FROM h WINDOW w AS (PARTITION BY run_id, parent_position ORDER BY position)
    ) WHERE target IS NOT NULL
),
damaged AS (
    SELECT run_id, position FROM ({blast})
    UNION
    SELECT run_id, origin_position FROM m_runs WHERE origin_position IS NOT NULL
),
edges AS (SELECT * FROM calls UNION ALL SELECT * FROM nexts)
SELECT e.wf, e.source, e.target, e.kind, count(DISTINCT e.run_id) AS runs,
       count(DISTINCT e.run_id) FILTER (WHERE ds.run_id IS NOT NULL AND dt.run_id IS NOT NULL)
           AS damaged_runs
FROM edges e
LEFT JOIN damaged ds ON ds.run_id = e.run_id AND ds.position = e.source_position
LEFT JOIN damaged dt ON dt.run_id = e.run_id AND dt.position = e.target_position
GROUP BY e.wf, e.source, e.target, e.kind
ORDER BY e.wf, e.kind, runs DESC, e.source, e.target
"""


@dataclass(frozen=True)
class Edge:
    """Runs in which `source` led to `target`, and the failed runs whose damage went along it."""

    workflow_id: str
    source: str
    target: str
    kind: str  # "call" or "next"
    runs: int
    damaged_runs: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "source": self.source,
            "target": self.target,
            "kind": self.kind,
            "runs": self.runs,
            "damaged_runs": self.damaged_runs,
        }


def hop_edges(con: duckdb.DuckDBPyConnection) -> list[Edge]:
    """Every edge of every selected workflow; `prepare` must have built the metric tables."""
    return [
        Edge(r["wf"], r["source"], r["target"], r["kind"], r["runs"], r["damaged_runs"])
        for r in rows(con, EDGES.format(blast=BLAST_MEMBERS.format(where="")))
    ]


def failed_run_ids(con: duckdb.DuckDBPyConnection, per_workflow: int) -> list[tuple[str, str]]:
    """(workflow, run) of the first failed runs of each workflow, in `argus runs --failed`'s
    order: earliest origin first, then the widest blast radius."""
    found = con.execute(
        "SELECT wf, run_id FROM m_runs WHERE failed QUALIFY row_number() OVER ("
        "PARTITION BY wf ORDER BY origin_position NULLS LAST, blast_radius DESC, run_id) <= ? "
        "ORDER BY wf, origin_position NULLS LAST, blast_radius DESC, run_id",
        [per_workflow],
    ).fetchall()
    return [(str(wf), str(run)) for wf, run in found]
