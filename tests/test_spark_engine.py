"""`--engine spark` gives DuckDB's numbers (issue 15): the same JSON report to 1e-9, the same
metric tables row by row, the same bad records, the same gate verdicts.

Spark runs in local mode (Java 17; PySpark from the `spark` extra): marker `spark`, skipped
without PySpark; `.ci/run` installs the extra and runs them with ARGUS_REQUIRE_SPARK=1, which
turns a missing PySpark into a failure. A Spark job costs seconds however
small its input, so the traces are loaded a few at a time rather than one command each: every
test trace below goes into one corpus, each with its own workflow and run ids (metrics are
computed per workflow, so each trace's section of the corpus report is that trace's report),
and the corpus is compared table by table.
"""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest
from tracebook import TRACE_A, TRACE_B, write_jsonl
from typer.testing import CliRunner

from argus_cli.cli import app

pytestmark = pytest.mark.spark

if os.environ.get("ARGUS_REQUIRE_SPARK"):
    import pyspark  # noqa: F401  (a missing PySpark fails here, it does not skip)
else:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")

from test_metrics_tree import OUTCOME, TREE  # noqa: E402

from argus_cli.converting import convert  # noqa: E402
from argus_cli.load.loading import load  # noqa: E402
from argus_cli.report import Settings  # noqa: E402

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parent.parent / "sample_traces"
MASTER = "local[2]"
# The metric tables, and their columns that are engine-specific: digests (compared for equality
# only, so each engine's own hash) and `_order`, the input order as a key (DuckDB's row id, a
# file and row number on Spark: the same order, other numbers). Everything else must agree.
TABLES = (
    "m_hops",
    "m_runs",
    "m_hop_stats",
    "m_stages",
    "m_predicted",
    "m_cascade",
    "m_variance",
    "m_scope",
    "m_hop_g_arvis",
)
ENGINE_SPECIFIC = {"input_hash", "output_hash", "intent_checksum", "_order"}


@pytest.fixture(scope="module")
def spark() -> Any:
    from argus_cli.spark.session import spark_session

    return spark_session(MASTER)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def close(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 (relative; 1e-12 absolute near 0)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None, (where, a, b)
        assert math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12), (where, a, b)
    else:
        assert a == b, (where, a, b)


def both(runner: CliRunner, *args: str) -> tuple[Any, Any]:
    """A command's result on DuckDB and on Spark."""
    duck = runner.invoke(app, list(args))
    spark = runner.invoke(app, [*args, "--engine", "spark", "--spark-master", MASTER])
    return duck, spark


def relabel(records: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """A trace's records with its own workflow and run ids, so that traces can share a file."""
    out = []
    for record in records:
        record = dict(record)
        record["run_id"] = f"{name}:{record['run_id']}"
        if record.get("kind", "hop") == "hop":
            record["workflow_id"] = f"{name}:{record.get('workflow_id', 'default')}"
            for key in ("span_id", "parent_id"):  # a default span id names its run
                if isinstance(record.get(key), str) and "/" in record[key]:
                    record[key] = f"{name}:{record[key]}"
        out.append(record)
    return out


def random_trees(seed: int, runs: int) -> list[dict[str, Any]]:
    """Runs of every shape SPEC v2 reads: trees through explicit and default span ids, parents
    named later or nowhere, handled and unhandled errors, skipped hops, seq with gaps and
    repeats or none (positions by started_at, then input order), intents that drift or
    conflict, outcomes, scores, costs, latencies and repeated inputs (variance)."""
    rng = random.Random(seed)
    hops = ["router", "billing", "lookup", "tech", "reviewer", "responder"]
    records: list[dict[str, Any]] = []
    for r in range(runs):
        run = f"r{r}"
        wf = rng.choice(["alpha", "beta", "gamma"])
        n = rng.randint(1, 9)
        seq_mode = rng.choice(["dense", "dense", "gaps", "none"])
        if rng.random() < 0.3:
            records.append(
                {
                    "kind": "intent",
                    "run_id": run,
                    "goal": rng.choice(["g1", "g2"]),
                    "constraints": [],
                }
            )
        for i in range(1, n + 1):
            hop_id = rng.choice(hops)
            record: dict[str, Any] = {"run_id": run, "hop_id": hop_id, "workflow_id": wf}
            if seq_mode == "dense":
                record["seq"] = i
            elif seq_mode == "gaps":
                record["seq"] = i * 2 + rng.choice([0, 0, 1])
            record["started_at"] = f"2026-11-{1 + r % 28:02d}T10:{i:02d}:00Z"
            if rng.random() < 0.5:
                record["span_id"] = f"s{i}"
            if i > 1 and rng.random() < 0.6:
                parent = rng.randint(1, n + 1)
                record["parent_id"] = (
                    f"{run}/{rng.choice(hops)}/{parent}" if rng.random() < 0.3 else f"s{parent}"
                )
            record["status"] = rng.choice(["success"] * 6 + ["error", "skipped"])
            if record["status"] == "error":
                record["error"] = "TimeoutError"
            if rng.random() < 0.5:
                record["validated"] = True
                record["violations"] = rng.choice([[], [], ["safety:pii"], ["fmt"]])
            if rng.random() < 0.4:
                record["confidence"] = rng.choice([0.3, 0.8, 0.95])
            if rng.random() < 0.1:
                record["correct"] = rng.random() < 0.5
            if rng.random() < 0.3:
                record["scores"] = {"groundedness": rng.random(), "safety": rng.random()}
            record["cost_usd"] = round(rng.random() / 100, 6)
            record["latency_ms"] = rng.randint(10, 5000)
            record["input_hash"] = f"in{rng.randint(0, 3)}"
            record["output_hash"] = f"out{rng.randint(0, 2)}"
            if rng.random() < 0.3:
                record["intent_checksum"] = rng.choice(["k1", "k2"])
            records.append(record)
        if rng.random() < 0.2:
            records.append({"kind": "outcome", "run_id": run, "correct": rng.random() < 0.5})
    return records


def corpus(tmp_path: Path) -> list[str]:
    """Every test trace, each under its own ids, as JSON Lines and Parquet; the tree-shaped
    sample as a partitioned dataset; and the importers' test exports."""
    records = (
        relabel(TRACE_A, "a")
        + relabel(TRACE_B, "b")
        + relabel([*TREE, OUTCOME], "tree")
        + relabel(random_trees(7, 400), "random")
    )
    rng = random.Random(1)
    rng.shuffle(records)  # runs interleaved: positions come from seq and time, not file order
    half = len(records) // 2
    first = write_jsonl(tmp_path / "first.jsonl", records[:half])
    second = write_jsonl(tmp_path / "second.jsonl", records[half:])
    parquet = tmp_path / "second.parquet"
    convert([str(second)], str(parquet), quiet=True)
    dataset = tmp_path / "support_desk"  # the tree-shaped sample as a convert --partition dataset
    convert([str(SAMPLES / "support_desk.jsonl")], str(dataset), partition=True, quiet=True)
    return [
        str(first),
        str(parquet),
        str(dataset),
        str(DATA / "awkward.jsonl"),
        str(DATA / "otlp" / "genai_collector.jsonl"),
        str(DATA / "otlp" / "openinference_pretty.json"),
        str(DATA / "langfuse" / "observations.json"),
    ]


def test_every_metric_table_agrees_on_the_test_traces(tmp_path: Path, spark: Any) -> None:
    """Every table the metric engine builds, row by row, on both engines, and the report."""
    from argus_cli.analysis import report_for
    from argus_cli.spark.loading import load_spark

    inputs = corpus(tmp_path)
    duck = load(inputs, columns="metrics")
    on_spark = load_spark(spark, inputs)
    assert (on_spark.records, on_spark.bad) == (duck.records, duck.bad)
    close(
        report_for(duck, Settings()).to_dict(),
        report_for(on_spark, Settings()).to_dict(),
    )
    for table in TABLES:
        columns = [
            name
            for (name, *_rest) in duck.con.execute(f"DESCRIBE {table}").fetchall()
            if name not in ENGINE_SPECIFIC
        ]
        select = f"SELECT {', '.join(columns)} FROM {table}"
        want = sorted((_row(r) for r in duck.con.execute(select).fetchall()), key=_key)
        got = sorted((_row(r) for r in on_spark.con.execute(select).fetchall()), key=_key)
        assert len(got) == len(want), table
        close(want, got, table)
    assert duck.con.execute("SELECT count(*) FROM m_runs").fetchone() == (
        on_spark.con.execute("SELECT count(*) FROM m_runs").fetchone()
    )


def _row(row: tuple[Any, ...]) -> list[Any]:
    """Spark's Decimal where DuckDB gives a float (the same number)."""
    from decimal import Decimal

    return [float(v) if isinstance(v, Decimal) else v for v in row]


def _key(row: list[Any]) -> str:
    """Rows in one order on both engines: floats to 9 digits, as `close` compares them."""
    return repr([f"{v:.9g}" if isinstance(v, float) else v for v in row])


def test_a_chain_only_trace_agrees(runner: CliRunner, tmp_path: Path, spark: Any) -> None:
    """Without any parent_id the engine skips the tree (SPEC v1 chains): that path too, through
    `argus report --json` on the two chain samples and random chains, with --workflow, --since
    and settings that change every figure."""
    chains = [
        {k: v for k, v in r.items() if k not in ("parent_id", "span_id")}
        for r in random_trees(11, 300)
    ]
    path = str(write_jsonl(tmp_path / "chains.jsonl", chains))
    samples = [str(SAMPLES / "claims_coding.jsonl"), str(SAMPLES / "prior_auth.jsonl")]
    duck, on_spark = both(
        runner,
        "report",
        path,
        *samples,
        "--json",
        *("--workflow", "alpha", "--workflow", "beta", "--workflow", "prior-auth"),
        *("--since", "2026-01-01", "--confident-threshold", "0.9", "--cost-budget", "0.02"),
    )
    assert duck.exit_code == on_spark.exit_code == 0, on_spark.output
    want, got = json.loads(duck.stdout), json.loads(on_spark.stdout)
    close(want, got)
    assert {w["workflow_id"] for w in got["workflows"]} == {"alpha", "beta", "prior-auth"}


def test_check_gates_a_dataset_on_spark(runner: CliRunner, tmp_path: Path, spark: Any) -> None:
    """`argus check --engine spark` on a partitioned dataset named by URI (read by Spark itself,
    as a lake would be), `--since` pruning its `date=` folders: the same verdicts, values and
    exit code as DuckDB on the folder, failing closed on a malformed record as DuckDB does
    (named on stderr by file and line)."""
    dataset = tmp_path / "dataset"
    trace = write_jsonl(tmp_path / "trace.jsonl", random_trees(5, 150))  # (over 28 days)
    convert([str(trace)], str(dataset), partition=True, quiet=True)
    days = sorted({p.name for p in dataset.rglob("date=*")})
    since = days[len(days) // 2].removeprefix("date=")  # (the earlier days are not read)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"run_id": "x", "hop_id": "a", "seq": "one"}\nnot json\n{"run_id": "x", "hop_id": "a"}\n',
        encoding="utf-8",
    )
    gate = ["--json", "--max-cascade-risk", "0.9", "--since", since]
    duck = runner.invoke(app, ["check", str(dataset), str(bad), *gate])
    on_spark = runner.invoke(
        app,
        ["check", dataset.as_uri(), str(bad), *gate, "--engine", "spark", "--spark-master", MASTER],
    )
    assert duck.exit_code == on_spark.exit_code == 1, on_spark.output
    want, got = json.loads(duck.stdout), json.loads(on_spark.stdout)
    every = len(list(dataset.rglob("*.parquet")))
    assert len(want["inputs"]["files"]) == len(got["inputs"]["files"]) < every + 1  # (pruned)
    assert all(f.startswith("file://") for f in got["inputs"]["files"][:-1])
    want["inputs"]["files"] = got["inputs"]["files"] = []  # (named by path, and by URI)
    close(want, got)
    gates = {g["gate"]: g["passed"] for g in got["gates"]}
    assert gates["max-bad-records"] is False
    assert "bad.jsonl:2" in on_spark.stderr and "bad.jsonl:1" in on_spark.stderr
    assert "max-cascade-risk" in gates  # (a gate per workflow, each judged as on DuckDB)


def test_unusable_inputs_exit_2_naming_them(runner: CliRunner, tmp_path: Path, spark: Any) -> None:
    """A missing file, a file that is no trace, stdin, and --strict on a malformed record: one
    line, exit 2, on Spark as on DuckDB."""
    not_trace = tmp_path / "notes.jsonl"
    not_trace.write_text("hello\n", encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"run_id": "x", "hop_id": "a"}\n{"run_id": 1}\n', encoding="utf-8")
    cases = [
        ["report", str(tmp_path / "missing.jsonl")],
        ["report", str(not_trace)],
        ["report", str(bad), "--strict"],
        ["check", str(DATA / "bad" / "wrong_types.jsonl"), "--strict"],
    ]
    for args in cases:
        duck, on_spark = both(runner, *args)
        assert on_spark.exit_code == duck.exit_code == 2, (args, on_spark.output)
        assert on_spark.stderr == duck.stderr, args
        assert len(on_spark.stderr.strip().splitlines()) == 1
    result = runner.invoke(app, ["report", "-", "--engine", "spark"], input="{}\n")
    assert result.exit_code == 2 and "stdin" in result.stderr
    # a master argus cannot use: one line from Spark's error, exit 2, no traceback
    sample = str(SAMPLES / "support_desk.jsonl")
    result = runner.invoke(
        app, ["report", sample, "--engine", "spark", "--spark-master", "sc://127.0.0.1:9"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("argus: error: spark: ") and result.stderr.count("\n") == 1


def test_the_rewrites_reach_nested_calls() -> None:
    """The rewrites apply inside one another: a hash of a hash (the default span id's key),
    an ordered sum of a hashed value, a decimal literal inside a fold."""
    from argus_cli.spark.dialect import to_spark

    spark_sql = to_spark("SELECT hash(hash(a || '/' || b)), sum(hash(x) * 1.5 ORDER BY k) FROM t")
    assert "HASH(" not in spark_sql.replace("XXHASH64(", "")
    assert "XXHASH64(XXHASH64(a || '/' || b))" in spark_sql
    assert "ORDER BY" not in spark_sql and "CAST(1.5 AS DOUBLE)" in spark_sql
    folded = to_spark("SELECT product(x ORDER BY k) FROM t")
    assert "ARRAY_SORT(COLLECT_LIST(" in folded and "acc * e.v" in folded
    assert "MATERIALIZED" not in to_spark("WITH a AS MATERIALIZED (SELECT 1) SELECT * FROM a")


def test_a_java_exception_is_told_by_its_own_message(spark: Any) -> None:
    """A job that fails in the JVM reaches Python as Py4J's "An error occurred while calling
    o123.localCheckpoint." (what `--engine spark` said of a 10M-hop run out of memory): the line
    argus prints is the Java exception's message instead."""
    from argus_cli.spark.session import error_line

    failing = spark.sql("SELECT raise_error('argus-test: the job failed here') AS x")
    with pytest.raises(Exception) as info:
        failing.localCheckpoint()
    line = error_line(str(info.value))
    assert "argus-test: the job failed here" in line
    assert not line.startswith("An error occurred while calling")
