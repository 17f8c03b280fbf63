"""`argus query` is sandboxed: once the trace is loaded its SQL reads the loaded relations only.

Every escape the issue names (COPY TO, reading another file, ATTACH, INSTALL/LOAD, SET) is
refused with one line on stderr and exit 2, in memory and with the work database on disk;
`--unsafe-sql` lifts the sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from argus_cli.cli import app

TRACE = str(Path(__file__).parent.parent / "sample_traces" / "support_desk.jsonl")


@pytest.fixture(params=["memory", "disk"])
def work(request, monkeypatch, tmp_path: Path) -> Path:
    """Run each test with the work database in memory and in a file (ARGUS_WORK=disk)."""
    monkeypatch.setenv("ARGUS_WORK", request.param)
    monkeypatch.setenv("ARGUS_TEMP_DIRECTORY", str(tmp_path / "work"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def query(sql: str, *extra: str):
    return CliRunner().invoke(app, ["query", TRACE, sql, "-q", "-f", "csv", *extra])


def refused(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert lines[0].startswith("argus: error: query refused: ")
    assert "--unsafe-sql" in lines[0]
    return lines[0]


def test_a_normal_query_still_works(work: Path) -> None:
    result = query(
        "SELECT h.workflow_id, count(*) AS n, count(DISTINCT o.run_id) AS judged FROM hops h "
        "LEFT JOIN outcomes o USING (run_id) LEFT JOIN intents i USING (run_id) "
        "GROUP BY ALL ORDER BY ALL"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "workflow_id,n,judged"
    assert len(result.stdout.splitlines()) > 1


def test_a_query_that_spills_to_disk_still_works(work: Path, monkeypatch) -> None:
    """The spill directory is set before the sandbox closes file access (and made only when
    first needed): a sort larger than the memory limit still works. Without a usable spill
    directory this query is an Out of Memory Error."""
    # 64MB: enough to load the sample under the one validation rule; the sort's 3M keys of
    # about 38 characters (some 160 MB) are not
    monkeypatch.setenv("ARGUS_MEMORY_LIMIT", "64MB")
    monkeypatch.setenv("ARGUS_THREADS", "1")
    sql = (
        "SELECT count(*) AS n FROM (SELECT md5(r::VARCHAR) || h.hop_id AS k "
        "FROM (SELECT hop_id FROM hops LIMIT 1) h, range(3000000) t(r) ORDER BY k DESC)"
    )
    result = query(sql)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "n\n3000000\n"


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT * FROM hops) TO 'stolen.csv'",
        "COPY hops TO 'stolen.parquet' (FORMAT parquet)",
        "EXPORT DATABASE 'exported'",
    ],
)
def test_writing_a_file_is_refused(work: Path, sql: str) -> None:
    line = refused(query(sql))
    assert "file system operations are disabled" in line
    assert sorted(p.name for p in work.iterdir() if p.name != "work") == []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('{secret}')",
        "SELECT * FROM read_csv('{secret}')",
        "SELECT * FROM read_json_auto('{secret}')",
        "SELECT * FROM '{secret}'",
        "SELECT * FROM glob('{folder}/*')",
    ],
)
def test_reading_another_file_is_refused(work: Path, sql: str) -> None:
    secret = work / "secret.csv"
    secret.write_text("password\nhunter2\n")
    line = refused(query(sql.format(secret=secret, folder=work)))
    assert "hunter2" not in line


def test_attaching_a_database_file_is_refused(work: Path) -> None:
    refused(query(f"ATTACH '{work / 'other.duckdb'}' AS other"))
    assert not (work / "other.duckdb").exists()


@pytest.mark.parametrize("sql", ["INSTALL httpfs", "LOAD httpfs", "INSTALL spatial"])
def test_installing_or_loading_an_extension_is_refused(work: Path, sql: str) -> None:
    refused(query(sql))


@pytest.mark.parametrize(
    "sql",
    [
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET lock_configuration",
        "SET autoinstall_known_extensions = true",
        "SET memory_limit = '100GB'",
        "PRAGMA threads = 64",
    ],
)
def test_changing_a_setting_is_refused(work: Path, sql: str) -> None:
    assert "configuration has been locked" in refused(query(sql))


def test_a_failing_query_is_not_called_refused(work: Path) -> None:
    result = query("SELECT nope FROM hops")
    assert result.exit_code == 2
    assert result.stderr.startswith("argus: error: query failed: Binder Error")


def test_unsafe_sql_lifts_the_sandbox(work: Path) -> None:
    out = work / "copied.csv"
    result = query(f"COPY (SELECT hop_id FROM hops LIMIT 1) TO '{out}'", "--unsafe-sql")
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("hop_id\n")
    secret = work / "secret.csv"
    secret.write_text("password\nhunter2\n")
    result = query(f"SELECT * FROM read_csv('{secret}')", "--unsafe-sql")
    assert result.stdout == "password\nhunter2\n"
    result = query("SET threads = 1", "--unsafe-sql")
    assert result.exit_code == 0, result.stderr
