"""Partitioned Parquet datasets (`argus convert --partition`) and `--since/--until` (issue 7.3).

DATED is hand-built so that each run's partition and each range is worked out here:

    r1  w       a 2026-03-31T10:00Z, b 2026-04-01T00:00:01Z (crosses midnight)  date=2026-03-31
    r2  w       a 2026-04-01T01:00+02:00 (23:00Z the day before), b error         date=2026-03-31
    r3  x y/z   a 2026-04-01T08:00Z, b; outcome wrong                            date=2026-04-01
    r4  w       no timestamps                                                    date=unknown
    r5  w       a epoch ms 1775044800000 (2026-04-01T12:00Z), b says workflow other
    ghost       an intent without hops (no run)                     date=unknown/workflow_id=default

Runs: 5 (w: r1 r2 r4 r5; x y/z: r3); failed: r2 (error), r3 (outcome).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tracebook import TRACE_A, TRACE_B, hop, write_jsonl
from typer.testing import CliRunner

from argus_cli.cli import app
from argus_cli.converting import convert
from argus_cli.load import inputs
from argus_cli.load.loading import load, resolve_inputs

SAMPLES = Path(__file__).parent.parent / "sample_traces"
ODD = "x y/z"  # DuckDB percent-encodes it in the folder name

DATED: list[dict[str, Any]] = [
    {"kind": "intent", "run_id": "r1", "goal": "g", "constraints": []},
    hop("r1", "a", 1, started_at="2026-03-31T10:00:00Z"),
    hop("r1", "b", 2, started_at="2026-04-01T00:00:01Z"),
    hop("r2", "a", 1, started_at="2026-04-01T01:00:00+02:00"),
    hop("r2", "b", 2, status="error"),
    hop("r3", "a", 1, workflow_id=ODD, started_at="2026-04-01T08:00:00Z"),
    hop("r3", "b", 2, workflow_id=ODD),
    hop("r4", "a", 1),
    hop("r4", "b", 2),
    hop("r5", "a", 1, started_at=1775044800000),
    hop("r5", "b", 2, workflow_id="other"),
    {"kind": "intent", "run_id": "ghost", "goal": "g", "constraints": []},
    {"kind": "outcome", "run_id": "r1", "correct": True},
    {"kind": "outcome", "run_id": "r3", "correct": False},
]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NO_COLOR", "1")
    return CliRunner()


def cli(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args))


def report_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = cli(runner, "report", *args, "--json", "-q")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    del data["inputs"]
    return data


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 12 digits: DuckDB's parallel sums vary in the last bits from run to run
    (the same file twice too); counts, names and every integer must be exact."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


def run_ids(runner: CliRunner, *args: str) -> list[str]:
    result = cli(runner, "runs", *args, "-f", "json", "-q")
    assert result.exit_code == 0, result.output
    return sorted(r["run_id"] for r in json.loads(result.stdout))


def layout(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Each file (relative path) with its (kind, run_id) rows in file order."""
    return {
        str(p.relative_to(folder)): [(r["kind"], r["run_id"]) for r in pq.read_table(p).to_pylist()]
        for p in sorted(folder.rglob("*.parquet"))
    }


@pytest.fixture
def dated(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "dated.jsonl", DATED)


@pytest.fixture
def dataset(tmp_path: Path, dated: Path) -> Path:
    folder = tmp_path / "ds"
    done = convert([str(dated)], str(folder), partition=True, quiet=True)
    assert (done.hops, done.intents, done.outcomes, done.partitions) == (10, 2, 2, 5)
    return folder


def test_a_run_goes_whole_under_its_first_hops_date_and_workflow(dataset: Path) -> None:
    assert layout(dataset) == {
        "date=2026-03-31/workflow_id=w/part-0.parquet": [
            ("hop", "r1"),
            ("hop", "r1"),
            ("hop", "r2"),
            ("hop", "r2"),
            ("intent", "r1"),
            ("outcome", "r1"),
        ],
        "date=2026-04-01/workflow_id=w/part-0.parquet": [("hop", "r5"), ("hop", "r5")],
        "date=2026-04-01/workflow_id=x%20y%2Fz/part-0.parquet": [
            ("hop", "r3"),
            ("hop", "r3"),
            ("outcome", "r3"),
        ],
        "date=unknown/workflow_id=default/part-0.parquet": [("intent", "ghost")],
        "date=unknown/workflow_id=w/part-0.parquet": [("hop", "r4"), ("hop", "r4")],
    }
    # The partition columns live in the folder names only.
    first = pq.read_schema(dataset / "date=unknown/workflow_id=w/part-0.parquet")
    assert "date" not in first.names and "workflow_id" not in first.names


def test_partition_columns_come_back_from_the_folders(dataset: Path) -> None:
    con = load([str(dataset)], keep_unknown=True).con
    rows = con.execute(
        "SELECT run_id, hop_id, workflow_id, date, typeof(date) FROM hops ORDER BY run_id, hop_id"
    ).fetchall()
    assert rows == [
        ("r1", "a", "w", "2026-03-31", "VARCHAR"),
        ("r1", "b", "w", "2026-03-31", "VARCHAR"),
        ("r2", "a", "w", "2026-03-31", "VARCHAR"),
        ("r2", "b", "w", "2026-03-31", "VARCHAR"),
        ("r3", "a", ODD, "2026-04-01", "VARCHAR"),
        ("r3", "b", ODD, "2026-04-01", "VARCHAR"),
        ("r4", "a", "w", "unknown", "VARCHAR"),
        ("r4", "b", "w", "unknown", "VARCHAR"),
        ("r5", "a", "w", "2026-04-01", "VARCHAR"),
        ("r5", "b", "w", "2026-04-01", "VARCHAR"),  # the run's workflow (SPEC 2), not `other`
    ]
    # Converting the dataset again replaces, never duplicates, its partition columns.
    again = dataset.parent / "again"
    convert([str(dataset)], str(again), quiet=True)
    assert layout(again) == layout(dataset)


def test_dataset_numbers_equal_the_input(runner: CliRunner, dated: Path, dataset: Path) -> None:
    flat = report_json(runner, str(dated))
    assert (flat["runs"], flat["hop_executions"]) == (5, 10)
    assert flat["end_to_end_success_rate"] == 3 / 5
    assert same(report_json(runner, str(dataset)), flat)
    assert run_ids(runner, str(dataset)) == ["r1", "r2", "r3", "r4", "r5"]
    result = cli(runner, "report", str(dataset))  # no warning about `date` or anything else
    assert result.exit_code == 0 and result.stderr == ""


def test_tracebook_through_a_dataset_gives_the_same_numbers(
    runner: CliRunner, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "ab.jsonl", [*TRACE_A, *TRACE_B])
    folder = tmp_path / "abds"  # no suffix: a dataset without --partition
    result = cli(runner, "convert", str(source), "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"argus: wrote 15 hop, 3 intent and 2 outcome records to {folder} (3 partitions)\n"
    )
    assert sorted(str(p.relative_to(folder).parent) for p in folder.rglob("*.parquet")) == [
        "date=2026-04-01/workflow_id=w",  # run3, the only run with a first-hop timestamp
        "date=unknown/workflow_id=v",
        "date=unknown/workflow_id=w",
    ]
    flat = report_json(runner, str(source))
    assert (flat["runs"], flat["hop_executions"], flat["end_to_end_success_rate"]) == (6, 14, 2 / 6)
    assert same(report_json(runner, str(folder)), flat)
    assert run_ids(runner, str(folder)) == run_ids(runner, str(source))
    checks = [
        cli(runner, "check", str(p), "--min-e2e", "0.5", "--json", "-q") for p in (source, folder)
    ]
    assert [c.exit_code for c in checks] == [1, 1]
    assert [json.loads(c.stdout)["passed"] for c in checks] == [False, False]


def test_sample_traces_through_a_dataset(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "samples"
    result = cli(runner, "convert", str(SAMPLES), "-o", str(folder), "--partition", "-q")
    assert result.exit_code == 0, result.output
    flat = report_json(runner, str(SAMPLES))
    assert (flat["runs"], flat["hop_executions"]) == (680 + 301, 3042 + 1503)
    assert same(report_json(runner, str(folder)), flat)
    assert run_ids(runner, str(folder)) == run_ids(runner, str(SAMPLES))
    # An RFC 3339 bound inside the day: SQL-filtered the same way on both.
    window = ("--since", "2026-04-01T08:05:00Z", "--until", "2026-04-01T10:10:00+02:00")
    part = report_json(runner, str(SAMPLES), *window)
    assert same(report_json(runner, str(folder), *window), part)
    assert 0 < part["runs"] < flat["runs"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ((), ["r1", "r2", "r3", "r4", "r5"]),
        (("--since", "2026-04-01"), ["r3", "r5"]),
        (("--until", "2026-03-31"), ["r1", "r2"]),
        (("--since", "2026-03-31", "--until", "2026-04-01"), ["r1", "r2", "r3", "r5"]),
        (("--since", "2026-03-31T23:00:00.000001Z"), ["r3", "r5"]),
        (("--until", "2026-04-01T01:00:00+02:00"), ["r1", "r2"]),  # inclusive
        (("--since", "2026-04-01T10:00:00", "--until", "2026-04-01T12:00:00Z"), ["r5"]),
    ],
)
def test_since_until_pick_runs_by_their_first_hop(
    runner: CliRunner, dated: Path, dataset: Path, window: tuple[str, ...], expected: list[str]
) -> None:
    assert run_ids(runner, str(dated), *window) == expected
    assert run_ids(runner, str(dataset), *window) == expected
    assert same(
        report_json(runner, str(dataset), *window), report_json(runner, str(dated), *window)
    )


def test_since_with_workflow_and_check(runner: CliRunner, dated: Path, dataset: Path) -> None:
    args = ("--since", "2026-04-01", "--workflow", "w")
    assert run_ids(runner, str(dataset), *args) == ["r5"]
    data = report_json(runner, str(dated), *args)
    assert (data["runs"], data["end_to_end_success_rate"]) == (1, 1.0)
    for path in (dated, dataset):
        result = cli(runner, "check", str(path), "--until", "2026-03-31", "--min-e2e", "0.5", "-q")
        assert result.exit_code == 0, result.output  # r1 ok, r2 failed: 0.5 holds
        result = cli(runner, "check", str(path), "--min-e2e", "0.5", "-q")
        assert result.exit_code == 1  # w holds (3 of 4), x y/z fails (0 of 1)
    empty = cli(runner, "report", str(dated), "--since", "2027-01-01")
    assert empty.exit_code == 2
    assert empty.stderr.count("\n") == 1 and "no runs with a first hop started" in empty.stderr


def test_pruned_partitions_are_never_opened(
    runner: CliRunner, dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrupt = dataset / "date=2026-03-31/workflow_id=w/part-9.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    broken = cli(runner, "report", str(dataset), "-q")
    assert broken.exit_code == 2 and "part-9.parquet" in broken.stderr
    assert report_json(runner, str(dataset), "--since", "2026-04-01")["runs"] == 2

    opened: list[str] = []
    real = inputs._file_source

    def spy(path: Path, display: str) -> inputs.Source:
        opened.append(str(path.relative_to(dataset)))
        return real(path, display)

    monkeypatch.setattr(inputs, "_file_source", spy)
    resolve_inputs([str(dataset)], since=None, until=inputs.datetime(2026, 3, 31, 23, 59))
    assert opened == [
        "date=2026-03-31/workflow_id=w/part-0.parquet",
        "date=2026-03-31/workflow_id=w/part-9.parquet",
    ]
    opened.clear()
    resolve_inputs([str(dataset)], since=inputs.datetime(2026, 4, 1), until=None)
    assert opened == [
        "date=2026-04-01/workflow_id=w/part-0.parquet",
        "date=2026-04-01/workflow_id=x%20y%2Fz/part-0.parquet",
    ]
    out = cli(runner, "runs", str(dataset), "--since", "2026-05-01")
    assert out.exit_code == 2
    assert (
        out.stderr == f"argus: error: {dataset}: no date= partition in the --since/--until range\n"
    )


def test_refuses_a_folder_that_is_not_empty(runner: CliRunner, dated: Path, dataset: Path) -> None:
    before = layout(dataset)
    result = cli(runner, "convert", str(dated), "-o", str(dataset), "--partition")
    assert result.exit_code == 2
    assert result.stderr == (
        f"argus: error: -o {dataset}: folder is not empty (--overwrite replaces it)\n"
    )
    assert layout(dataset) == before
    (dataset / "date=unknown/workflow_id=w/part-0.parquet").unlink()
    result = cli(runner, "convert", str(dated), "-o", str(dataset), "--overwrite", "-q")
    assert result.exit_code == 0, result.output
    assert layout(dataset) == before
    (dataset / "notes.txt").write_text("mine")
    result = cli(runner, "convert", str(dated), "-o", str(dataset), "--overwrite")
    assert result.exit_code == 2 and "notes.txt" in result.stderr
    assert (dataset / "notes.txt").exists()
    empty = dataset.parent / "empty"
    empty.mkdir()
    assert cli(runner, "convert", str(dated), "-o", str(empty), "-q").exit_code == 0
    assert layout(empty) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--since", "yesterday"),
            "--since 'yesterday': expected a date YYYY-MM-DD or an RFC 3339",
        ),
        (("--until", "2026-13-01"), "--until '2026-13-01': expected a date YYYY-MM-DD or an RFC"),
        (("--since", "2026-04-02", "--until", "2026-04-01"), "--since 2026-04-02 is after --until"),
    ],
)
@pytest.mark.parametrize("command", ["report", "check", "runs"])
def test_bad_dates_are_usage_errors(
    runner: CliRunner, dated: Path, command: str, args: tuple[str, ...], message: str
) -> None:
    result = cli(runner, command, str(dated), *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"argus: error: {message}")
    assert result.stderr.count("\n") == 1


def test_partition_refuses_a_json_target(runner: CliRunner, dated: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = cli(runner, "convert", str(dated), "-o", str(target), "--partition")
    assert result.exit_code == 2
    assert (
        result.stderr == f"argus: error: -o {target}: --partition writes a Parquet dataset folder\n"
    )
    assert not target.exists()


def test_input_order_within_a_run_survives_at_scale(tmp_path: Path) -> None:
    """Ties in position go by input order, and a run's intent is its first: both must survive.

    DuckDB's own partitioned COPY reorders rows with this many (15 partitions, 15k records).
    """
    records: list[dict[str, Any]] = []
    for r in range(1500):
        day = f"2026-04-0{1 + r % 5}T10:00:00Z"
        records.append(hop(f"r{r}", "h0", workflow_id=f"w{r % 3}", started_at=day))
        records += [hop(f"r{r}", f"h{(7 * k + r) % 8 or 8}", workflow_id="w") for k in range(1, 8)]
        records += [{"kind": "intent", "run_id": f"r{r}", "goal": g} for g in ("first", "later")]
    source = write_jsonl(tmp_path / "many.jsonl", records)
    folder = tmp_path / "many"
    convert([str(source)], str(folder), quiet=True)
    sql = (
        "SELECT md5(string_agg(run_id || hop_id || position, ',' ORDER BY run_id, position)), "
        "(SELECT count(*) FROM (SELECT min_by(goal, _order) AS g FROM intents GROUP BY run_id) "
        "WHERE g = 'first') FROM hops"
    )
    flat = load([str(source)]).con.execute(sql).fetchall()
    assert flat[0][1] == 1500
    assert len(list(folder.rglob("*.parquet"))) == 15
    assert load([str(folder)]).con.execute(sql).fetchall() == flat
