"""Load progress on stderr: a bar while traces are read, a spinner while metrics are computed."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class LoadProgressBar:
    """Bytes read of the inputs' total, on stderr, for loads that last over `delay` seconds.

    DuckDB reports a running query's progress; a thread polls it while the loader waits on
    DuckDB, so the bar costs nothing on the load path itself. Short loads never show a bar.
    """

    def __init__(
        self, console: Console | None = None, delay: float = 1.0, interval: float = 0.1
    ) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.delay = delay
        self.interval = interval
        self.total = 0
        self.done = 0
        self.started = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def begin(self, total_bytes: int) -> None:
        self.total, self.done, self.started = total_bytes, 0, time.monotonic()

    @contextmanager
    def reading(self, con: Any, size: int) -> Iterator[None]:
        def poll(stop: threading.Event) -> None:
            while not stop.wait(self.interval):
                if self._progress is None and time.monotonic() - self.started < self.delay:
                    continue
                share = max(0.0, min(100.0, float(con.query_progress()))) / 100
                self._show(self.done + share * size)

        try:
            with _alongside(poll, "argus-progress"):
                yield
        finally:
            self.done += size
            if self._progress is not None:
                self._show(self.done)

    def _show(self, completed: float) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("reading traces"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("read", total=self.total)
            self._progress.start()
        assert self._task is not None
        self._progress.update(self._task, completed=completed)

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextmanager
def working(label: str, console: Console | None = None, delay: float = 1.0) -> Iterator[None]:
    """A spinner saying `label` on stderr while a step lasts past `delay` seconds.

    After the load's bar, computing the metrics of millions of hops takes a while too; a quick
    step shows nothing. Callers decide whether anyone is watching (see load_progress).
    """
    status = (console or Console(stderr=True, highlight=False)).status(label)
    shown = threading.Event()

    def later(done: threading.Event) -> None:
        if not done.wait(delay):
            status.start()
            shown.set()

    try:
        with _alongside(later, "argus-working"):
            yield
    finally:
        if shown.is_set():
            status.stop()


@contextmanager
def _alongside(work: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    """Run `work(stop)` on a thread while the block runs; then set `stop` and wait for it."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def load_progress(quiet: bool) -> LoadProgressBar | None:
    """A progress bar when a person is watching stderr; none when piped, in CI, or quiet."""
    if quiet or not sys.stderr.isatty():
        return None
    return LoadProgressBar()
