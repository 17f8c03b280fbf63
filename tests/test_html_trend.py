"""The trend by day: each day's figures are `argus report --since DAY --until DAY`'s, and the
page's own --since/--until bound the days."""

from __future__ import annotations

import json

import pytest
from htmlbook import lookup, page_data, parse, shown_numbers, two_day_trace

from argus_cli.cli import app


@pytest.fixture
def two_days(tmp_path):
    return two_day_trace(tmp_path)


def _page(runner, args):
    result = runner.invoke(app, [*args, "--format", "html"])
    assert result.exit_code == 0, result.output
    return parse(result.stdout)


def test_each_day_is_that_days_report(runner, two_days):
    root = _page(runner, ["report", str(two_days)])
    data = page_data(root)
    days = data["trend"]["days"]
    assert [d["day"] for d in days] == ["2026-04-01", "2026-04-02"]
    assert data["trend"]["total_days"] == 2
    total = 0
    for day in days:
        alone = json.loads(
            runner.invoke(
                app,
                ["report", str(two_days), "--since", day["day"], "--until", day["day"], "--json"],
            ).stdout
        )
        (wf,) = day["workflows"]
        (expected,) = alone["workflows"]
        for key in (
            "runs",
            "end_to_end_success_rate",
            "predicted_end_to_end",
            "cascade_risk_score",
        ):
            assert wf[key] == expected[key], (day["day"], key)
        assert wf["hops"] == {h["hop_id"]: h["pass_rate"] for h in expected["hops"]}
        total += wf["runs"]
    assert total == data["report"]["runs"]
    # the table shows those numbers, one row per day, and a chart draws them
    trend_cells = [(p, k, v) for p, k, v in shown_numbers(root) if p.startswith("trend/")]
    assert len(trend_cells) == 2 * 4
    for path, key, value in trend_cells:
        assert value == lookup(data, path, key)
    labels = [n.attrs.get("aria-label") for n in root.find_all("div", "chart")]
    assert "trend of support-desk by day" in labels


def test_since_until_bound_the_trend(runner, two_days):
    data = page_data(_page(runner, ["report", str(two_days), "--since", "2026-04-02"]))
    assert data["trend"] == {"total_days": 1, "days": []}
    assert (
        data["report"]["runs"]
        == json.loads(
            runner.invoke(app, ["report", str(two_days), "--since", "2026-04-02", "--json"]).stdout
        )["runs"]
    )


def test_the_whole_report_is_unchanged_by_the_trend(runner, two_days):
    """The days rebuild the metric tables; the report and failed runs are the whole range's."""
    root = _page(runner, ["report", str(two_days)])
    whole = json.loads(runner.invoke(app, ["report", str(two_days), "--json"]).stdout)
    assert page_data(root)["report"] == whole
    for path, key, value in shown_numbers(root):
        assert value == lookup(page_data(root), path, key)


def test_a_long_trend_keeps_its_last_days(runner, two_days, monkeypatch):
    monkeypatch.setattr("argus_cli.metrics.trend.MAX_DAYS", 1)
    root = _page(runner, ["report", str(two_days)])
    data = page_data(root)
    assert data["trend"]["total_days"] == 2
    assert [d["day"] for d in data["trend"]["days"]] == ["2026-04-02"]
    assert "The last 1 of 2 days." in root.all_text()
