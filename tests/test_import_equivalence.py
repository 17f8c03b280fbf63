"""The issue's "done when": an OTLP or Langfuse export gives the report that the equivalent
hand-written hop records give, both built from one description (tests/importbook.py)."""

from __future__ import annotations

import gzip
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importbook import Hop, Run, sample_runs, spec_records, trace_id, write_langfuse, write_otlp
from tracebook import write_jsonl

from argus_cli.analysis import analyse
from argus_cli.load.loading import load


def numbers(path: Path) -> dict:
    """The report without its inputs (file names and record counts differ by format)."""
    data = analyse([str(path)], quiet=True).to_dict()
    del data["inputs"]
    return data


def usage(path: Path) -> list[tuple]:
    """Tokens and model per hop: not in the report, so compared on their own."""
    con = load([str(path)]).con
    return con.execute(
        "SELECT run_id, hop_id, input_tokens, output_tokens, cost_usd, model FROM hops "
        "ORDER BY run_id, position"
    ).fetchall()


def test_otlp_gives_the_numbers_of_the_hop_records(tmp_path):
    runs = sample_runs()
    spec = write_jsonl(tmp_path / "spec.jsonl", spec_records(runs))
    otlp = write_otlp(tmp_path / "otlp.jsonl", runs)
    assert numbers(otlp) == numbers(spec)
    assert usage(otlp) == usage(spec)


def test_otlp_in_any_order_layout_and_compression(tmp_path):
    runs = sample_runs()
    expected = numbers(write_jsonl(tmp_path / "spec.jsonl", spec_records(runs)))
    for seed, lines in ((1, 1), (2, 7), (3, 40)):
        path = write_otlp(tmp_path / f"otlp-{seed}.jsonl", runs, seed=seed, lines=lines)
        assert numbers(path) == expected, f"seed {seed}, {lines} lines"
    packed = tmp_path / "otlp.jsonl.gz"
    packed.write_bytes(gzip.compress((tmp_path / "otlp-2.jsonl").read_bytes()))
    assert numbers(packed) == expected


def test_langfuse_gives_the_numbers_of_the_hop_records(tmp_path):
    runs = sample_runs()
    spec = write_jsonl(tmp_path / "spec.jsonl", spec_records(runs))
    lines = write_langfuse(tmp_path / "observations.jsonl", runs)
    array = write_langfuse(tmp_path / "observations.json", runs, seed=5, as_array=True)
    assert numbers(lines) == numbers(spec)
    assert numbers(array) == numbers(spec)
    assert usage(lines) == usage(spec)


def test_a_report_of_several_formats_at_once(tmp_path):
    runs = sample_runs()
    spec = write_jsonl(tmp_path / "spec.jsonl", spec_records(runs))
    # the runs split over an OTLP file and a Langfuse file, read together in one report
    otlp = write_otlp(tmp_path / "a.jsonl", runs[:2])
    langfuse = write_langfuse(tmp_path / "b.jsonl", runs[2:])
    mixed = analyse([str(otlp), str(langfuse)], quiet=True).to_dict()
    del mixed["inputs"]
    assert mixed == numbers(spec)


hop_names = st.sampled_from(["plan", "fetch", "write", "check"])


@st.composite
def descriptions(draw: st.DrawFn) -> list[Run]:
    runs = []
    for n in range(draw(st.integers(min_value=1, max_value=5))):
        hops = []
        for name in draw(st.lists(hop_names, min_size=1, max_size=4, unique=True)):
            tokens = draw(st.none() | st.integers(min_value=0, max_value=10_000))
            hops.append(
                Hop(
                    name,
                    error=draw(st.sampled_from([None, None, "Timeout"])),
                    input_tokens=tokens,
                    output_tokens=draw(st.none() | st.integers(min_value=0, max_value=500)),
                    usage_on_models=draw(st.booleans()),
                    cost=draw(st.sampled_from([None, 0.5, 0.25, 0.125])),
                    validated=draw(st.booleans()),
                    violations=tuple(draw(st.lists(st.sampled_from(["safety:pii", "fmt:x"]),
                                                   max_size=2))),
                    failed_checks=tuple(draw(st.lists(st.sampled_from(["tox", "pii"]),
                                                      max_size=1))),
                    passed_checks=draw(st.integers(min_value=0, max_value=1)),
                    confidence=draw(st.none() | st.sampled_from([0.5, 0.75, 0.875, 1.0])),
                    correct=draw(st.none() | st.booleans()),
                    high_stakes=draw(st.booleans()),
                    intent_checksum=draw(st.sampled_from([None, "K", "Z"])),
                    scores=draw(st.dictionaries(st.sampled_from(["safety", "accuracy"]),
                                                st.sampled_from([0.0, 0.5, 1.0]), max_size=2)),
                    model=draw(st.sampled_from([None, "m1"])),
                    duration_ms=draw(st.integers(min_value=1, max_value=9_000)),
                )
            )  # fmt: skip
        workflow = draw(st.sampled_from(["w1", "w2"]))
        runs.append(Run(trace_id(n + 1), workflow, hops, start_ms=1_775_037_600_000 + n * 60_000))
    return runs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(descriptions(), st.integers(min_value=0, max_value=2**16))
def test_any_description_means_the_same_in_every_format(runs, seed):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        spec = write_jsonl(root / "spec.jsonl", spec_records(runs))
        expected = numbers(spec)
        lines = random.Random(seed).randint(1, 4)
        assert numbers(write_otlp(root / "otlp.jsonl", runs, seed=seed, lines=lines)) == expected
        assert numbers(write_langfuse(root / "lf.jsonl", runs, seed=seed)) == expected
