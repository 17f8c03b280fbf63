"""Which way a file is read, and that the faster ways give the same numbers and bad records.

A Parquet column of a type the field cannot take as it is (a `scores` struct) is typed from its
own JSON by the JSON rule while the rest of the file is read by type, instead of the whole file
going line by line; a narrowed load leaves out columns that could neither fail a record nor feed
a figure. Positions come straight from `seq` in runs whose seq is 1..n, by rank elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from tracebook import TRACE_A, TRACE_B, write_jsonl

from argus_cli.analysis import analyse
from argus_cli.load import staging
from argus_cli.load.loading import load

SCORE_KEYS = ("groundedness", "accuracy", "safety")


def _full_scores(records: list[dict]) -> list[dict]:
    """Every hop with all three scores: a struct column holds every key in every row."""
    out = []
    for r in records:
        r = dict(r)
        if r.get("kind", "hop") == "hop":
            r["scores"] = {k: float((r.get("scores") or {}).get(k, 0.5)) for k in SCORE_KEYS}
        out.append(r)
    return out


def _struct_parquet(jsonl: Path, parquet: Path) -> Path:
    """The JSON Lines file as Parquet with `scores` a STRUCT, as DuckDB writes it from JSON."""
    con = duckdb.connect()
    struct = "STRUCT(" + ", ".join(f"{k} DOUBLE" for k in SCORE_KEYS) + ")"
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(scores AS {struct}) AS scores) "
        f"FROM read_json_auto('{jsonl}', format = 'newline_delimited', sample_size = -1)) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    (scores_type,) = con.execute(
        f"SELECT column_type FROM (DESCRIBE SELECT scores FROM '{parquet}')"
    ).fetchone() or ("",)
    assert str(scores_type).startswith("STRUCT(")
    return parquet


def _numbers(report) -> dict:
    data = report.to_dict()
    del data["inputs"]["files"]
    return data


def test_a_scores_struct_is_read_by_type_with_the_same_report(tmp_path, monkeypatch):
    records = _full_scores([*TRACE_A, *TRACE_B])
    jsonl = write_jsonl(tmp_path / "t.jsonl", records)
    parquet = _struct_parquet(jsonl, tmp_path / "t.parquet")
    expected = _numbers(analyse([str(jsonl)], quiet=True))
    monkeypatch.setattr(staging, "_stage_lines", _refuse)
    assert _numbers(analyse([str(parquet)], quiet=True)) == expected


def _refuse(*args, **kwargs):
    raise AssertionError("read line by line")


def test_a_bad_score_in_a_struct_is_named_as_in_json_lines(tmp_path):
    records = _full_scores([*TRACE_A, *TRACE_B])
    hop = next(i for i, r in enumerate(records) if r.get("kind", "hop") == "hop")
    records[hop]["scores"]["accuracy"] = 1.5
    jsonl = write_jsonl(tmp_path / "t.jsonl", records)
    parquet = _struct_parquet(jsonl, tmp_path / "t.parquet")
    for columns in ("metrics", "all"):
        from_json = load([str(jsonl)], columns=columns)  # type: ignore[arg-type]
        from_parquet = load([str(parquet)], columns=columns)  # type: ignore[arg-type]
        bad_json = [(b.line, b.reason) for b in from_json.bad]
        bad_parquet = [(b.line, b.reason) for b in from_parquet.bad]
        assert bad_parquet == bad_json
        assert [(line, reason.split(" must ")[0]) for line, reason in bad_json] == [
            (hop + 1, "field 'scores'")
        ]
        from_json.close()
        from_parquet.close()


def test_positions_from_seq_and_by_rank_agree(tmp_path):
    """Runs whose seq is 1..n take it as their position; seqs with gaps, or not from 1, are
    ranked: such a trace reports as the same trace renumbered 1..n does."""
    base = [dict(r) for r in TRACE_A if r.get("kind", "hop") == "hop"]
    runs: dict[str, list[dict]] = {}
    for r in base:
        runs.setdefault(r["run_id"], []).append(r)
    renumbered: list[dict] = []
    odd: list[dict] = []
    for n, (_run_id, hops) in enumerate(sorted(runs.items())):
        hops = sorted(hops, key=lambda h: h.get("seq", 0))
        for i, h in enumerate(hops, start=1):
            renumbered.append({**h, "seq": i})
            odd.append({**h, "seq": (i * 10, i + 100, i)[n % 3]})  # gaps, offset, 1..n
    a = write_jsonl(tmp_path / "a.jsonl", renumbered)
    b = write_jsonl(tmp_path / "b.jsonl", odd)
    assert len(runs) >= 3
    report_a = _numbers(analyse([str(a)], quiet=True))
    assert json.dumps(_numbers(analyse([str(b)], quiet=True)), sort_keys=True) == json.dumps(
        report_a, sort_keys=True
    )


def test_a_run_longer_than_the_seq_bit_set_is_ranked(tmp_path):
    """A run of more hops than SEQ_BITS (a long agent loop) is ranked, not positioned by seq:
    same report as its seqs given with a gap, which always takes the ranking way. Hand-checked:
    hop 70 of 100 fails, so 1 of 2 runs succeeds and h70's pass rate is 1/2."""
    from argus_cli.metrics.runs import SEQ_BITS

    n = SEQ_BITS + 38

    def run(run_id: str, step: int) -> list[dict]:
        return [
            {"run_id": run_id, "hop_id": f"h{i}", "seq": i * step,
             "status": "error" if run_id == "r1" and i == 70 else "success"}
            for i in range(1, n + 1)
        ]  # fmt: skip

    plain = write_jsonl(tmp_path / "plain.jsonl", run("r1", 1) + run("r2", 1))
    gapped = write_jsonl(tmp_path / "gapped.jsonl", run("r1", 2) + run("r2", 2))
    report = analyse([str(plain)], quiet=True)
    (wf,) = report.workflows
    assert (wf.runs, wf.end_to_end_success_rate) == (2, 0.5)
    assert next(h for h in wf.hops if h.hop_id == "h70").pass_rate == 0.5
    assert json.dumps(_numbers(analyse([str(gapped)], quiet=True)), sort_keys=True) == json.dumps(
        _numbers(report), sort_keys=True
    )
