"""Time `argus report --json` against the floor and DuckDB baselines, on the same files.

    python benchmarks/run_benchmark.py --sizes 2000000,10000000

Traces are generated once per size (seeded, by generate_traces.py) into --work (default
/tmp/argus-bench) and reused: the JSON Lines file, and the same records as one Parquet file in
the writer library's column types (the generator writes both from the same seed). Every
measurement is a fresh child process, so wall time, CPU time (user + system) and peak RSS (from
the kernel's rusage of that child) include interpreter start-up and imports, as a user sees
them. Baselines, each measured in the same run on the same file:

- `wc -l`: reading the bytes, the I/O floor;
- DuckDB `read_json` of only the columns the metrics need, with a per-hop and a per-run
  aggregate: the target for JSON Lines (argus within 1.5x);
- DuckDB `read_json` of every column (auto-detected), for scale;
- the same per-hop and per-run aggregates straight off the Parquet file: the target for
  Parquet (argus within 3x);
- DuckDB running only argus's record check (the SPEC rule of validation.py, as argus applies it
  to a clean file of that format) with nothing kept and no metric computed: the floor under
  argus, given with its ratio to the target like an argus line.

Each argus line gives its ratio to its target by wall time and by CPU time: on a machine shared
with other work, wall time follows the load of the moment and CPU time much less.

With `--many-files 20000,100000`, folders of that many one-record JSON Lines files (the first
records of a generated trace, one a file: what part files and rotated exporter files add up to)
are timed too, against DuckDB reading the same folder by one glob with the same aggregates:
`read_ndjson_objects` and `->>` (the fastest DuckDB way we found: its typed `read_json` pays
for each column in each file, several times slower here) is the target, argus within 3x of it
at 20,000 files, and 100,000 files in under a minute; the JSON Lines target's typed
`read_json` over the folder is shown for scale.

Inputs past argus's WORK_ON_DISK_BYTES (1 GiB of JSON) are also timed with ARGUS_WORK=memory,
the old all-in-memory way, to show what the bounded-memory default costs in time.

The table printed at the end is what docs/speed.md quotes, with the machine it came from.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from argus_cli.load.workdb import PACKED_RATIO, WORK_ON_DISK_BYTES

HERE = Path(__file__).resolve().parent

# The aggregates of both DuckDB targets: SPEC 2-like counts per hop, and per run its length,
# last step and whether it failed (what argus needs of a run at the least).
AGGREGATES = """
WITH h AS (SELECT * FROM {scan} WHERE coalesce(kind, 'hop') = 'hop'),
per_hop AS (
    SELECT workflow_id, hop_id, count(*) AS n, count(*) FILTER (WHERE status = 'error') AS e,
           count(*) FILTER (WHERE validated) AS v, count(*) FILTER (WHERE len(violations) > 0),
           avg(confidence), sum(cost_usd)
    FROM h GROUP BY ALL
),
per_run AS (
    SELECT run_id, count(*) AS hops, max(seq) AS last, bool_or(status = 'error') AS failed
    FROM h GROUP BY run_id
)
SELECT (SELECT sum(n) FROM per_hop), (SELECT count(*) FILTER (WHERE failed) FROM per_run)
"""

NARROW_JSON = f"""
import duckdb, sys
con = duckdb.connect()
cols = {{"kind": "VARCHAR", "run_id": "VARCHAR", "hop_id": "VARCHAR", "workflow_id": "VARCHAR",
        "seq": "BIGINT", "status": "VARCHAR", "validated": "BOOLEAN", "violations": "JSON[]",
        "confidence": "DOUBLE", "correct": "BOOLEAN", "cost_usd": "DOUBLE",
        "high_stakes": "BOOLEAN"}}
scan = f"read_json(?, format='newline_delimited', columns={{cols!r}})"
print(con.execute({AGGREGATES!r}.format(scan=scan), [sys.argv[1]]).fetchall())
"""

ALL_JSON = """
import duckdb, sys
con = duckdb.connect()
print(con.execute(
    "SELECT workflow_id, hop_id, count(*), avg(confidence), sum(cost_usd) "
    "FROM (SELECT * FROM read_json_auto(?, format='newline_delimited')) GROUP BY ALL",
    [sys.argv[1]]).fetchall()[:1])
"""

PARQUET = f"""
import duckdb, sys
con = duckdb.connect()
print(con.execute({AGGREGATES!r}.format(scan="read_parquet(?)"), [sys.argv[1]]).fetchall())
"""


# argus's own record check (the SPEC rule, validation.py, on the path argus takes for a clean
# file) run by DuckDB with nothing kept and no metric: what checking every record costs before
# anything is computed, the floor under `argus report` on the same file. The SQL is argus's,
# built here (rule_only_sql) and handed to a bare DuckDB process, so the floor holds no import
# of argus.
RULE_ONLY = """
import duckdb, sys
print(duckdb.connect().execute(f"SELECT count(*), count(_error) FROM ({sys.argv[1]})").fetchall())
"""


def rule_only_sql(path: Path) -> str:
    import duckdb

    from argus_cli.load.inputs import resolve_inputs
    from argus_cli.load.loading import METRIC_FIELDS
    from argus_cli.load.parquet import _parquet_stage_sql
    from argus_cli.load.scans import _Scan
    from argus_cli.load.staging import _FACT_SOURCES, _fast_stage_sql

    (source,) = resolve_inputs([str(path)])
    if source.format == "parquet":
        con = duckdb.connect()
        sql = _parquet_stage_sql(con, source, 0, METRIC_FIELDS, _FACT_SOURCES)
        con.close()
    else:
        sql = _fast_stage_sql(_Scan((source,), (0,)), METRIC_FIELDS)
    assert sql is not None
    return sql


MANY_FILES_OBJECTS = """
import duckdb, sys
con = duckdb.connect()
print(con.execute(
    "SELECT json->>'workflow_id', json->>'hop_id', count(*), "
    "count(*) FILTER (WHERE json->>'status' = 'error'), "
    "count(*) FILTER (WHERE CAST(json->'validated' AS BOOLEAN)), "
    "count(*) FILTER (WHERE json_array_length(json->'violations') > 0), "
    "avg(CAST(json->>'confidence' AS DOUBLE)), sum(CAST(json->>'cost_usd' AS DOUBLE)), "
    "count(DISTINCT json->>'run_id') FROM read_ndjson_objects(?) GROUP BY ALL",
    [sys.argv[1] + "/*.jsonl"]).fetchall()[:1])
"""


@dataclass
class Result:
    size: int
    fmt: str
    what: str
    wall_s: float
    cpu_s: float
    peak_mb: float
    baseline: str | None = None


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **env} if env else None,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"failed: {' '.join(argv)}\n{err}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def ensure_trace(work: Path, size: int, fmt: str, seed: int) -> Path:
    path = work / f"hops-{size}.{fmt}"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate_traces.py"),
                str(path),
                "--hops",
                str(size),
                "--seed",
                str(seed),
                "--format",
                fmt,
            ],
            check=True,
        )
    return path


def argus_argv(path: Path) -> list[str]:
    argus = shutil.which("argus")
    base = [argus] if argus else [sys.executable, "-m", "argus_cli"]
    return [*base, "report", str(path), "--json", "--quiet"]


def run(
    sizes: list[int], work: Path, seed: int, repeat: int, in_memory: bool = True
) -> list[Result]:
    work.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []

    def best(argv: list[str], env: dict[str, str] | None) -> tuple[float, float, float]:
        runs = [measure(argv, env) for _ in range(repeat)]
        return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)

    for size in sizes:
        jsonl = ensure_trace(work, size, "jsonl", seed)
        parquet = ensure_trace(work, size, "parquet", seed)
        py = sys.executable
        cases = [
            ("jsonl", "wc -l (I/O floor)", ["wc", "-l", str(jsonl)], None),
            (
                "jsonl",
                "DuckDB read_json, needed columns",
                [py, "-c", NARROW_JSON, str(jsonl)],
                None,
            ),
            ("jsonl", "DuckDB read_json, every column", [py, "-c", ALL_JSON, str(jsonl)], None),
            (
                "jsonl",
                "DuckDB, argus's record check only",
                [py, "-c", RULE_ONLY, rule_only_sql(jsonl)],
                "DuckDB read_json, needed columns",
            ),
            ("jsonl", "argus report --json", argus_argv(jsonl), "DuckDB read_json, needed columns"),
            (
                "parquet",
                "DuckDB on Parquet, needed aggregates",
                [py, "-c", PARQUET, str(parquet)],
                None,
            ),
            (
                "parquet",
                "DuckDB, argus's record check only",
                [py, "-c", RULE_ONLY, rule_only_sql(parquet)],
                "DuckDB on Parquet, needed aggregates",
            ),
            (
                "parquet",
                "argus report --json",
                argus_argv(parquet),
                "DuckDB on Parquet, needed aggregates",
            ),
        ]
        # Past WORK_ON_DISK_BYTES argus works in a database file with a 1 GB memory limit; the
        # table also shows what forcing it to work in memory costs and saves.
        packed = PACKED_RATIO * parquet.stat().st_size  # as the loader estimates it
        for fmt, path, size_in_json in (
            ("jsonl", jsonl, jsonl.stat().st_size),
            ("parquet", parquet, packed),
        ):
            if in_memory and size_in_json >= WORK_ON_DISK_BYTES:
                target = next(c[3] for c in cases if c[0] == fmt and c[3])
                what = "argus report --json, ARGUS_WORK=memory"
                cases.append((fmt, what, argus_argv(path), target))
        for fmt, what, argv, baseline in cases:
            env = {"ARGUS_WORK": "memory"} if what.endswith("ARGUS_WORK=memory") else None
            wall, cpu, peak = best(argv, env)
            results.append(Result(size, fmt, what, wall, cpu, peak, baseline))
            print(
                f"{size:>10,} {fmt:<8} {what:<40} {wall:7.2f} s {cpu:7.2f} s cpu {peak:8.0f} MB",
                file=sys.stderr,
            )
    return results


def ensure_many_files(work: Path, count: int, seed: int) -> Path:
    """A folder of `count` one-record files: the first records of a generated trace."""
    folder = work / f"many-{count}"
    done = folder / "_complete"  # (argus passes over `_` names; the DuckDB glob is *.jsonl)
    if done.exists():
        return folder
    trace = ensure_trace(work, count, "jsonl", seed)
    print(f"writing {count:,} files into {folder} ...", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    with trace.open("rb") as records:
        for number, record in zip(range(count), records, strict=False):
            (folder / f"part-{number:06d}.jsonl").write_bytes(record)
    done.touch()
    return folder


def run_many_files(counts: list[int], work: Path, seed: int, repeat: int) -> list[Result]:
    """argus and DuckDB over folders of one-record files, best of `repeat` runs each."""
    work.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    baseline = "DuckDB read_ndjson_objects, aggregates"
    for count in counts:
        folder = ensure_many_files(work, count, seed)
        py, glob = sys.executable, str(folder / "*.jsonl")
        cases = [
            (baseline, [py, "-c", MANY_FILES_OBJECTS, str(folder)], None),
            # The JSON Lines target's query, over the folder's glob: for scale.
            ("DuckDB read_json, needed columns", [py, "-c", NARROW_JSON, glob], None),
            ("argus report --json", argus_argv(folder), baseline),
        ]
        for what, argv, against in cases:
            runs = [measure(argv) for _ in range(repeat)]
            wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
            peak = max(r[2] for r in runs)
            # (in the table's hops column: one record a file, so as many records as files)
            results.append(Result(count, "one-record files", what, wall, cpu, peak, against))
            print(f"{count:>10,} files    {what:<40} {wall:7.2f} s {peak:8.0f} MB", file=sys.stderr)
    return results


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (a Spark run is a JVM and Python
    workers besides the argus process), in MB, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew, tree = bool(more), tree | more
    return sum(rss.get(pid, 0) for pid in tree) / 1e6


def measure_tree(argv: list[str]) -> tuple[float, float, float]:
    """`measure`, with the peak of the whole process tree's memory, sampled every 0.2 s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        err = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"failed: {' '.join(argv)}\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, peak


def run_spark(sizes: list[int], work: Path, seed: int, master: str) -> list[Result]:
    """A partitioned dataset (`argus convert --partition`) on DuckDB and on Spark `master`.

    Memory is the whole process tree's (the JVM and Spark's Python workers too), and so is CPU
    time (that of the processes that have ended and were waited for, which the JVM's are).
    """
    results: list[Result] = []
    baseline = "DuckDB on Parquet, needed aggregates"
    for size in sizes:
        dataset = work / f"hops-{size}-dataset"
        if not dataset.exists():
            parquet = ensure_trace(work, size, "parquet", seed)
            print(f"converting {parquet} to {dataset} ...", file=sys.stderr)
            subprocess.run(
                [
                    *argus_argv(parquet)[:-4],
                    "convert",
                    str(parquet),
                    "-o",
                    str(dataset),
                    "--partition",
                    "--quiet",
                ],
                check=True,
            )
        py = sys.executable
        glob = str(dataset / "**" / "*.parquet")
        cases = [
            (baseline, [py, "-c", PARQUET, glob], None),
            ("argus report --json (DuckDB)", argus_argv(dataset), baseline),
            (
                f"argus report --json --engine spark ({master})",
                [*argus_argv(dataset), "--engine", "spark", "--spark-master", master],
                baseline,
            ),
        ]
        for what, argv, against in cases:
            wall, cpu, peak = measure_tree(argv)
            results.append(Result(size, "dataset", what, wall, cpu, peak, against))
            print(f"{size:>10,} dataset  {what:<40} {wall:7.2f} s {peak:8.0f} MB", file=sys.stderr)
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| hops | file | path | wall | CPU | peak RSS | wall vs target | CPU vs target |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        wall_ratio = cpu_ratio = ""
        if r.baseline:
            base = next(b for b in results if b.size == r.size and b.what == r.baseline)
            wall_ratio = f"{r.wall_s / base.wall_s:.2f}x"
            cpu_ratio = f"{r.cpu_s / base.cpu_s:.2f}x"
        wall, cpu, peak = f"{r.wall_s:.2f} s", f"{r.cpu_s:.2f} s", f"{r.peak_mb:,.0f} MB"
        lines.append(
            f"| {r.size:,} | {r.fmt} | {r.what} | {wall} | {cpu} | {peak} "
            f"| {wall_ratio} | {cpu_ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="hop counts, comma-separated")
    parser.add_argument("--work", type=Path, default=Path("/tmp/argus-bench"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is kept")
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the ARGUS_WORK=memory lines (minutes and several GB at 10M hops)",
    )
    parser.add_argument(
        "--many-files",
        default="",
        help="folders of this many one-record files, comma-separated (e.g. 20000,100000)",
    )
    parser.add_argument(
        "--spark",
        default="",
        help="hop counts of partitioned datasets to run on DuckDB and --engine spark",
    )
    parser.add_argument("--spark-master", default="local[2]")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]  # --sizes '': only --many-files
    results = run(sizes, args.work, args.seed, args.repeat, in_memory=not args.no_memory)
    counts = [int(n) for n in args.many_files.split(",") if n]
    many = run_many_files(counts, args.work, args.seed, args.repeat)
    spark_sizes = [int(n) for n in args.spark.split(",") if n]
    many += run_spark(spark_sizes, args.work, args.seed, args.spark_master)
    cpus = os.cpu_count()
    print(
        f"\nMachine: {platform.machine()}, {cpus} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}\n"
    )
    print(table(results + many))


if __name__ == "__main__":
    main()
