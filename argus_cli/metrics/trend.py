"""The trend by day: the same report, computed again for the runs of each day.

A day's figures are `compute_report` over the runs whose first hop started that day (UTC),
within the selection's own `since`/`until`: the very metric SQL of the whole report, so a day's
numbers are those of `argus report --since DAY --until DAY`. There is no second definition of a
metric here, only a loop over days, which SQL lists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb

from argus_cli.metrics import compute_report, prepare
from argus_cli.report import Report, Settings

# A trend longer than this shows its last MAX_DAYS days. Each day is one more pass of the
# metrics over the trace (about as long as the whole report: 2.5 s a day at 500,000 hops).
MAX_DAYS = 31


@dataclass(frozen=True)
class Day:
    day: date
    report: Report


@dataclass(frozen=True)
class Trend:
    days: tuple[Day, ...]
    total_days: int  # days with runs in the selection; more than len(days) when cut


def run_days(con: duckdb.DuckDBPyConnection) -> list[date]:
    """The days (UTC) on which the selection's runs started; `prepare` must have run."""
    found = con.execute(
        "SELECT DISTINCT CAST(h.started_at AS DATE) AS day FROM hops h "
        "JOIN m_runs r USING (run_id) WHERE h.position = 1 AND h.started_at IS NOT NULL "
        "ORDER BY day"
    ).fetchall()
    return [day for (day,) in found]


def _day_settings(settings: Settings, day: date) -> Settings:
    """The settings narrowed to one day, inside the selection's own range."""
    first = datetime.combine(day, time.min)
    last = datetime.combine(day + timedelta(days=1), time.min) - timedelta(microseconds=1)
    since = max(first, settings.since) if settings.since else first
    until = min(last, settings.until) if settings.until else last
    return dataclasses.replace(settings, since=since, until=until)


def trend(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    files: list[str],
    records: int,
    bad_records: int,
) -> Trend:
    """Each day's report when the runs span two days or more (else no days).

    The metric tables are rebuilt for each day and, at the end, for the whole selection again,
    so that what runs after this sees the tables `prepare(settings)` made.
    """
    days = run_days(con)
    if len(days) < 2:
        return Trend((), len(days))
    shown = days[-MAX_DAYS:]
    try:
        reports = tuple(
            Day(day, compute_report(con, _day_settings(settings, day), files, records, bad_records))
            for day in shown
        )
    finally:
        prepare(con, settings)
    return Trend(reports, len(days))
