"""The metric SQL, written once for DuckDB, as Spark SQL: a sqlglot transpile plus the few
rewrites sqlglot leaves to the caller.

The metrics stay one definition (metrics/*.py, DuckDB SQL); nothing here states a metric. What
each rewrite is for:

- `AS MATERIALIZED` / `NOT MATERIALIZED` on a CTE: a DuckDB planning hint, meaningless on Spark.
- An ordered aggregate, `sum(x ORDER BY k)` / `product(x ORDER BY k)`: DuckDB uses the order
  to make a float sum the same on every run; Spark has no ordered aggregate, so the values are
  collected, sorted by the key and folded in that order (`aggregate(array_sort(...))`), which
  keeps the same guarantee.
- `hash(x)`: only ever compared for equality (span keys, digests, output hashes); Spark's
  `hash` is 32 bits, so `xxhash64` (64 bits, as DuckDB's) keeps collisions as unlikely.
- A number written with a point (`1.0`): DECIMAL on both engines, but DuckDB's `avg` of a
  DECIMAL is a DOUBLE and Spark's a DECIMAL of a few digits (0.33333): a DOUBLE on Spark.
- `product(x) OVER w`: Spark SQL has no `product`: the frame's values multiplied in order.
- `list_has_any(a, b)`: sqlglot writes `a && b`, which Spark does not parse: `arrays_overlap`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import sqlglot
from sqlglot import exp

_FOLDS = {"sum": ("0D", "+"), "product": ("1D", "*")}


def _ordered_fold(node: exp.Expression) -> exp.Expression:
    """`sum(x ORDER BY k)` -> the values sorted by k, folded left to right."""
    name = "sum" if isinstance(node, exp.Sum) else node.name.lower()
    if name not in _FOLDS:
        return node
    args = [node.this] if not isinstance(node, exp.Anonymous) else node.expressions
    if len(args) != 1 or not isinstance(args[0], exp.Order):
        return node
    order = args[0]
    keys = [o.this for o in order.expressions]
    start, op = _FOLDS[name]
    pairs = ", ".join(
        [f"{k.sql(dialect='spark')} AS k{i}" for i, k in enumerate(keys)]
        + [f"CAST({order.this.sql(dialect='spark')} AS DOUBLE) AS v"]
    )
    value = order.this.sql(dialect="spark")
    # (NULLs are left out, as the aggregate does, and no value at all is NULL, not 0 or 1)
    folded = (
        f"CASE WHEN count({value}) > 0 THEN aggregate(array_sort(collect_list("
        f"CASE WHEN ({value}) IS NOT NULL THEN struct({pairs}) END)), {start}, "
        f"(acc, e) -> acc {op} e.v) END"
    )
    return cast(exp.Expression, sqlglot.parse_one(folded, read="spark"))


def _window_product(node: exp.Window) -> exp.Expression:
    """`product(x) OVER w` -> the frame's values, in the frame's order, multiplied."""
    value = node.this.expressions[0].sql(dialect="spark")
    over = node.copy()
    over.set("this", sqlglot.parse_one(f"collect_list({value})", read="spark"))
    count = node.copy()
    count.set("this", sqlglot.parse_one(f"count({value})", read="spark"))
    folded = (
        f"CASE WHEN {count.sql(dialect='spark')} > 0 THEN aggregate("
        f"{over.sql(dialect='spark')}, 1D, (acc, e) -> acc * e) END"
    )
    return cast(exp.Expression, sqlglot.parse_one(folded, read="spark"))


def _respell(node: exp.Expression) -> exp.Expression:
    """First pass: spellings, changed in place so that nested calls are reached too."""
    if isinstance(node, exp.Literal) and not node.is_string and any(c in node.this for c in ".eE"):
        return exp.cast(node, "double")
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    elif isinstance(node, exp.Anonymous) and node.name.lower() == "hash":
        node.set("this", "xxhash64")
    elif isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    return node


def _refold(node: exp.Expression) -> exp.Expression:
    """Second pass: the aggregates Spark lacks, written from their (respelled) arguments."""
    if (
        isinstance(node, exp.Window)
        and isinstance(node.this, exp.Anonymous)
        and node.this.name.lower() == "product"
    ):
        return _window_product(node)
    if isinstance(node, (exp.Sum, exp.Anonymous)):
        return _ordered_fold(node)
    return node


@lru_cache(maxsize=256)
def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_respell)
    return tree.transform(_refold).sql(dialect="spark")
