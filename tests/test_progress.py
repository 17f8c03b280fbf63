"""The load progress bar: shown for slow loads on a terminal, never otherwise."""

from __future__ import annotations

import io

from rich.console import Console
from tracebook import hop, write_jsonl

from argus_cli.load.loading import load
from argus_cli.render import LoadProgressBar, load_progress


def test_progress_bar_draws_bytes_read_for_a_slow_load(tmp_path):
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [hop(f"r{i // 5}", f"h{i % 5}", i % 5 + 1, cost_usd=0.01) for i in range(60_000)],
    )
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    bar = LoadProgressBar(console, delay=0.0, interval=0.001)
    trace = load([str(path)], progress=bar)
    assert trace.con.execute("SELECT count(*) FROM hops").fetchone() == (60_000,)
    drawn = screen.getvalue()
    assert "reading traces" in drawn
    assert bar.done == path.stat().st_size  # every byte accounted for when the load ends


def test_no_bar_for_a_quick_load(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [hop("r", "a", 1)])
    screen = io.StringIO()
    bar = LoadProgressBar(Console(file=screen, force_terminal=True), delay=60.0, interval=0.001)
    load([str(path)], progress=bar)
    assert screen.getvalue() == ""


def test_no_bar_when_quiet_or_piped(monkeypatch):
    monkeypatch.setattr("sys.stderr", io.StringIO())  # piped: not a terminal
    assert load_progress(quiet=False) is None
    assert load_progress(quiet=True) is None


def test_a_spinner_says_what_a_long_step_does_and_a_quick_one_shows_nothing():
    import time

    from argus_cli.render import working

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with working("computing metrics", console, delay=0.0):
        time.sleep(0.3)
    assert "computing metrics" in screen.getvalue()

    quiet_screen = io.StringIO()
    console = Console(file=quiet_screen, force_terminal=True, width=100)
    with working("computing metrics", console, delay=60.0):
        pass
    assert quiet_screen.getvalue() == ""


def test_only_a_watched_trace_gets_the_spinner(tmp_path, monkeypatch):
    from argus_cli import analysis, render

    path = write_jsonl(tmp_path / "t.jsonl", [hop("r", "a", 1)])
    labels: list[str] = []
    real = render.working

    def spy(label, *args, **kwargs):
        labels.append(label)
        return real(label, *args, **kwargs)

    monkeypatch.setattr(render, "working", spy)
    trace = analysis.open_trace([str(path)], columns="metrics")  # stderr is not a terminal
    assert not trace.watched
    analysis.report_for(trace, analysis.Settings())
    assert labels == []
    trace.watched = True  # as open_trace sets it when a person watches stderr
    analysis.prepared(trace, analysis.Settings())
    assert labels == ["computing metrics"]
