"""The bad-input corpus, tests/data/bad/: per-record faults stay per record (issue 12).

Each `NAME.expected.json` names its file, the case, how many records it holds, which are bad
(line and reason) and optionally a query over the loaded hops with its rows. Every load mode
must agree; `argus report` loads the rest and names each bad line on stderr (exit 0), and
`--strict` makes the first one fatal (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from argus_cli.cli import app
from argus_cli.load.loading import load

BAD = Path(__file__).parent / "data" / "bad"
CASES = sorted(BAD.glob("*.expected.json"))


def _case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    case["path"] = BAD / case["file"]
    return case


@pytest.mark.parametrize("expected", CASES, ids=lambda p: p.name.split(".")[0])
def test_every_load_mode_loads_the_rest_and_names_the_bad_line(expected):
    case = _case(expected)
    for kwargs in ({"columns": "metrics"}, {"columns": "all"}, {"keep_unknown": True}):
        trace = load([str(case["path"])], **kwargs)
        try:
            assert trace.records == case["records"], kwargs
            assert [[b.line, b.reason] for b in trace.bad] == case["bad"], kwargs
            (hops,) = trace.con.execute("SELECT count(*) FROM hops").fetchone()
            assert hops == case["records"] - len(case["bad"]), kwargs
            # `query_unknown` reads unknown fields, which only `argus query` (keep_unknown) has
            query = case.get("query_unknown" if "keep_unknown" in kwargs else "query")
            if query is not None:
                sql, rows = query
                assert [list(r) for r in trace.con.execute(sql).fetchall()] == rows, kwargs
        finally:
            trace.close()


@pytest.mark.parametrize("expected", CASES, ids=lambda p: p.name.split(".")[0])
def test_report_skips_and_names_them_and_strict_refuses(runner, expected):
    case = _case(expected)
    path = str(case["path"])
    result = runner.invoke(app, ["report", path, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["inputs"]["records"] == case["records"]
    assert report["inputs"]["bad_records"] == len(case["bad"])
    for line, reason in case["bad"]:
        assert f"{path}:{line}: {reason}" in result.stderr
    assert "Traceback" not in result.output
    strict = runner.invoke(app, ["report", path, "--strict"])
    assert strict.exit_code == (2 if case["bad"] else 0), strict.output
    assert "Traceback" not in strict.output


@pytest.mark.parametrize("expected", CASES, ids=lambda p: p.name.split(".")[0])
def test_query_and_convert_load_the_same_records(runner, tmp_path, expected):
    case = _case(expected)
    result = runner.invoke(app, ["query", str(case["path"]), "SELECT count(*) AS n FROM hops"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["convert", str(case["path"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == case["records"] - len(case["bad"])
