"""argus_cli.reliability: the article's figures, the inverse, intervals, what-ifs, sample sizes."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
from tracebook import TRACE_A

from argus_cli import reliability as rel
from argus_cli import sample_sizes as sizes
from argus_cli.analysis import analyse
from argus_cli.diagnostics import UsageError
from argus_cli.report import Settings

AWKWARD = str(Path(__file__).parent / "data" / "awkward.jsonl")


def exact_power(p: str, n: int) -> float:
    """The float nearest to the decimal p to the n, by rational arithmetic: the reference."""
    return float(Fraction(p) ** n)


# --------------------------------------------------------------------------------------------
# the chain


@pytest.mark.parametrize(
    ("p", "shown"), [("0.85", "0.4437"), ("0.90", "0.5905"), ("0.97", "0.8587"), ("0.99", "0.9510")]
)
def test_the_articles_figures(p, shown):
    value = rel.chain_power(float(p), 5)
    assert value == exact_power(p, 5)  # exact: the float nearest the true decimal product
    assert f"{value:.4f}" == shown
    assert value == rel.end_to_end([float(p)] * 5)


def test_products_are_taken_on_the_decimals_written():
    # binary floats give 0.8464499999999999 (shown as 0.8464); the decimals give 0.84645
    assert 0.99 * 0.90 * 0.95 != 0.84645
    assert rel.end_to_end([0.99, 0.90, 0.95]) == 0.84645
    assert rel.chain_power(0.97, 5) == 0.8587340257
    assert rel.end_to_end([]) == 1.0
    assert rel.prefix_products([0.99, 0.90, 0.95]) == [0.99, 0.891, 0.84645]


def test_required_per_agent_is_the_inverse():
    required = rel.required_per_agent(0.95, 5)
    assert required == pytest.approx(0.95 ** (1 / 5), rel=1e-15)
    assert f"{required:.5f}" == "0.98979"
    assert rel.chain_power(required, 5) == pytest.approx(0.95, rel=1e-15)
    assert rel.required_per_agent(0.0, 3) == 0.0
    assert rel.required_per_agent(1.0, 3) == 1.0


def test_need_of_weakest():
    out_of_reach = rel.need_of_weakest(["a1", "a2", "a3"], [0.99, 0.90, 0.95], 0.95)
    assert (out_of_reach.name, out_of_reach.p, out_of_reach.required) == ("a2", 0.90, None)
    assert out_of_reach.others == 0.9405  # 0.99 * 0.95: even a perfect a2 stays below 0.95
    within = rel.need_of_weakest(["a1", "a2", "a3"], [0.99, 0.90, 0.95], 0.80)
    assert within.required == pytest.approx(0.80 / 0.9405)
    tie = rel.need_of_weakest(["x", "y"], [0.9, 0.9], 0.5)
    assert tie.name == "x"  # ties go to the first in chain order
    zero = rel.need_of_weakest(["x", "y", "z"], [0.5, 0.0, 0.0], 0.5)
    assert zero.others == 0.0 and zero.required is None


@pytest.mark.parametrize(
    ("rate", "line", "longest"),
    [
        (0.99, 0.95, 5),
        (0.97, 0.95, 1),
        (0.95, 0.95, 1),  # on the line counts as at it
        (0.90, 0.95, 0),
        (0.5, 0.25, 2),  # 0.5 ** 2 is exactly the line
        (0.999, 0.95, 51),
        (1.0, 0.95, None),
        (0.9, 0.0, None),
    ],
)
def test_longest_chain(rate, line, longest):
    assert rel.longest_chain(rate, line) == longest
    if longest is not None:
        assert rel.chain_power(rate, longest) >= line or longest == 0
        assert rel.chain_power(rate, longest + 1) < line


def test_chain_lengths_are_one_to_ten_or_around_n():
    assert rel.chain_lengths(None) == tuple(range(1, 11))
    assert rel.chain_lengths(10) == tuple(range(1, 11))
    assert rel.chain_lengths(12) == tuple(range(7, 17))


def test_chain_plan_equal_agents():
    plan = rel.chain_plan([0.97], 5, None)
    assert plan.to_dict() == {"agents": 5, "p": [0.97] * 5, "end_to_end": 0.8587340257}
    table = plan.table
    assert table.rates == (0.85, 0.90, 0.97, 0.99) and table.line == 0.95
    assert [round(v, 4) for v in table.cells[4]] == [0.4437, 0.5905, 0.8587, 0.9510]
    assert table.longest == (0, 0, 1, 5) and table.chain is None and table.needed is None


def test_chain_plan_unequal_agents_with_target():
    plan = rel.chain_plan([0.99, 0.90, 0.95], None, 0.95)
    data = plan.to_dict()
    assert list(data) == ["agents", "p", "end_to_end", "target", "required_per_agent", "weakest"]
    assert data["agents"] == 3 and data["end_to_end"] == 0.84645
    assert data["required_per_agent"] == pytest.approx(0.95 ** (1 / 3))
    assert data["weakest"] == {"name": "agent 2", "p": 0.9, "others": 0.9405, "required": None}
    assert plan.table.chain == (0.99, 0.891, 0.84645, *[None] * 7)
    assert plan.table.chain_longest == 1
    assert plan.table.needed is not None and plan.table.needed[4] == pytest.approx(0.98979, 1e-5)


def test_chain_plan_target_only_and_a_given_rate_joins_the_columns():
    plan = rel.chain_plan([], 5, 0.95)
    assert plan.to_dict() == {
        "agents": 5,
        "p": [],
        "end_to_end": None,
        "target": 0.95,
        "required_per_agent": rel.required_per_agent(0.95, 5),
    }
    assert rel.chain_plan([0.8], 3, None).table.rates == (0.8, 0.85, 0.90, 0.97, 0.99)


def test_chain_plan_usage_errors():
    with pytest.raises(UsageError, match="--agents 3 with 2 --p values"):
        rel.chain_plan([0.9, 0.8], 3, None)
    with pytest.raises(UsageError, match="at most"):
        rel.chain_plan([0.9] * (rel.MAX_AGENTS + 1), None, None)
    with pytest.raises(UsageError):
        rel.chain_plan([], 5, None)


# --------------------------------------------------------------------------------------------
# options


@pytest.mark.parametrize(
    ("given", "mode"),
    [
        ({"--p"}, rel.Mode.chain),
        ({"--p", "--agents"}, rel.Mode.chain),
        ({"--agents", "--target"}, rel.Mode.chain),
        ({"--p", "--target"}, rel.Mode.chain),
        ({"--from"}, rel.Mode.trace),
        ({"--from", "--set", "--workflow", "--improve-to", "--target", "--strict", "--quiet"}, "t"),
        ({"--samples"}, rel.Mode.samples),
        ({"--compare"}, rel.Mode.samples),
        ({"--samples", "--compare"}, rel.Mode.samples),
    ],
)
def test_mode_for(given, mode):
    assert rel.mode_for(given) == (rel.Mode.trace if mode == "t" else mode)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (set(), "say what to compute"),
        ({"--agents"}, "--agents needs --p"),
        ({"--target"}, "--target needs --agents N, --p P or --from TRACE"),
        ({"--p", "--set"}, "--set needs --from TRACE"),
        ({"--p", "--workflow"}, "--workflow needs --from TRACE"),
        ({"--agents", "--target", "--improve-to"}, "--improve-to needs --from TRACE"),
        ({"--p", "--strict"}, "--strict needs --from TRACE"),
        ({"--from", "--agents", "--p"}, "drop --agents, --p"),
        ({"--samples", "--target"}, "--samples plans a sample size on its own; drop --target"),
        ({"--compare", "--from"}, "drop --from"),
    ],
)
def test_mode_for_refuses_a_mix_that_does_not_make_sense(given, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        rel.mode_for(given)


def test_parse_rate_count_and_setting():
    assert rel.parse_rate("--p", "0.97") == 0.97
    assert rel.parse_rate("--p", "1") == 1.0 and rel.parse_rate("--p", "0") == 0.0
    for bad in ("1.5", "-0.1", "nan", "inf", "abc", ""):
        with pytest.raises(UsageError, match="--p must be"):
            rel.parse_rate("--p", bad)
    assert rel.parse_count("--agents", "5") == 5
    for bad in ("0", "-3", "2.5", "5.0", "five", "10001"):
        with pytest.raises(UsageError, match="--agents must be a whole number"):
            rel.parse_count("--agents", bad)
    assert rel.parse_setting("validator=0.99") == ("validator", 0.99)
    assert rel.parse_setting("a=b=0.5") == ("a=b", 0.5)  # split at the last =
    for bad in ("validator", "=0.9"):
        with pytest.raises(UsageError, match="--set takes HOP=P"):
            rel.parse_setting(bad)
    with pytest.raises(UsageError, match="--set v must be between 0 and 1"):
        rel.parse_setting("v=1.2")


# --------------------------------------------------------------------------------------------
# --from: measured pass rates


def test_product_interval_of_one_hop_is_its_own_interval():
    lo, hi = rel.product_interval([0.8], [(0.6, 0.9)])
    assert lo == pytest.approx(0.6, rel=1e-12) and hi == pytest.approx(0.9, rel=1e-12)


def test_product_interval_edges():
    assert rel.product_interval([0.9, 0.8], [(0.9, 0.9), (0.8, 0.8)]) == (0.72, 0.72)  # exact
    lo, hi = rel.product_interval([0.9, 1.0], [(0.8, 0.95), (0.0, 1.0)])  # a hop never checked
    assert lo == 0.0 and hi == pytest.approx(0.95)
    assert rel.product_interval([0.0, 0.9], [(0.0, 0.4), (0.8, 0.95)]) == (0.0, 0.38)


def test_product_interval_is_narrower_than_the_box_and_wider_than_any_hop():
    points = [0.9869, 0.9089, 0.8851, 0.8020, 0.8522]
    intervals = [(0.9376, 0.9869), (0.8256, 0.9486), (0.7853, 0.9376), (0.6691, 0.8886)]
    intervals.append((0.7364, 0.9219))
    lo, hi = rel.product_interval(points, intervals)
    box_lo = math.prod(i[0] for i in intervals)
    box_hi = math.prod(i[1] for i in intervals)
    product = math.prod(points)
    assert box_lo < lo < product < hi < box_hi
    # wider, in log terms, than the widest hop on each side
    pairs = list(zip(points, intervals, strict=True))
    assert math.log(product / lo) > max(math.log(p / i[0]) for p, i in pairs)
    assert math.log(hi / product) > max(math.log(i[1] / p) for p, i in pairs)


def test_trace_plan_reads_the_reports_pass_rates(report_of):
    report = report_of(TRACE_A)
    plan = rel.trace_plan(report)
    wf = report.workflows[0]
    assert [h.hop_id for h in plan.hops] == ["a", "b", "c"]
    assert plan.end_to_end == pytest.approx(wf.predicted_end_to_end) == pytest.approx(0.375)
    assert plan.end_to_end_ci[0] == 0.0  # c was never checked: its interval starts at 0 (SPEC 2)
    assert plan.end_to_end_ci[1] > plan.end_to_end
    assert plan.what_if is None and plan.target is None
    # raising a (0.5) to 0.99 pays most: the weakest hop always does with one common goal
    assert plan.best is not None and plan.best.hop_id == "a"
    assert plan.best.improved_end_to_end == pytest.approx(0.99 * 0.75)
    assert plan.best.gain == 0.3675  # on the decimals: floats give 0.36750000000000005
    c = plan.hops[2]
    assert c.improved_end_to_end is None and c.gain == 0.0  # already at 1.0
    data = plan.to_dict()
    assert list(data)[:4] == ["agents", "p", "end_to_end", "end_to_end_ci"]
    assert data["agents"] == 3 and data["p"] == [0.5, 0.75, 1.0]


def test_trace_plan_what_if_and_target(report_of):
    plan = rel.trace_plan(report_of(TRACE_A), [("a", 0.99)], improve_to=0.95, target=0.9)
    assert plan.sets == {"a": 0.99}
    assert plan.what_if is not None
    value, (lo, hi) = plan.what_if
    assert value == pytest.approx(0.99 * 0.75)
    assert lo == 0.0 and hi == value  # c still unchecked; b and c sit at their upper bounds
    assert plan.hops[0].improved_end_to_end is None  # a is already above the 0.95 goal
    assert plan.best is not None and plan.best.hop_id == "b"
    assert plan.best.improved_end_to_end == pytest.approx(0.99 * 0.95)
    assert plan.required_per_agent == pytest.approx(0.9 ** (1 / 3))
    assert plan.weakest is not None and plan.weakest.name == "b"
    assert plan.weakest.required == pytest.approx(0.9 / 0.99)
    data = plan.to_dict()
    assert data["what_if"]["set"] == {"a": 0.99} and data["what_if"]["p"] == [0.99, 0.75, 1.0]
    assert data["best_improvement"]["hop_id"] == "b" and data["improve_to"] == 0.95
    assert data["target"] == 0.9 and data["weakest"]["name"] == "b"


def test_trace_plan_nothing_to_improve(report_of):
    plan = rel.trace_plan(report_of(TRACE_A), improve_to=0.4)
    assert plan.best is None and all(h.gain == 0.0 for h in plan.hops)


def test_trace_plan_usage_errors(report_of):
    report = report_of(TRACE_A)
    with pytest.raises(UsageError, match=r"--set zz: no such hop in workflow w \(its hops: a, b"):
        rel.trace_plan(report, [("zz", 0.9)])
    with pytest.raises(UsageError, match="--set a is given twice"):
        rel.trace_plan(report, [("a", 0.9), ("a", 0.8)])
    with pytest.raises(UsageError, match=r"holds 3 workflows \(triage-ü, v, w\); choose one"):
        rel.trace_plan(analyse([AWKWARD], quiet=True))


def test_one_hop_workflow_gets_its_hops_interval():
    report = analyse([AWKWARD], Settings(workflows=("v",)), quiet=True)
    plan = rel.trace_plan(report)
    assert plan.end_to_end_ci == pytest.approx(report.workflows[0].hops[0].pass_rate_ci)


def test_wilson_is_the_reports_interval():
    """--samples sizes with the interval the report shows: SPEC 2's Wilson, z = 1.96."""
    report = analyse([AWKWARD], quiet=True)
    checked = [h for wf in report.workflows for h in wf.hops if h.checked]
    assert checked
    for h in checked:
        w_lo, w_hi = sizes.wilson(h.wrong / h.checked, h.checked)
        expected = ((1 - h.error_rate) * (1 - w_hi), (1 - h.error_rate) * (1 - w_lo))
        assert h.pass_rate_ci == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------------------------------
# --samples


def _wilson_by_hand(p: float, n: int) -> tuple[float, float]:
    """SPEC 2's formula written out again, independently of the module."""
    z = 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(
    ("low", "high", "n"), [(0.97, 0.99, 753), (0.0, 1.0, 4), (0.99, 0.999, 1038), (0.9, 0.95, 427)]
)
def test_samples_to_tell_apart_is_the_first_n_without_overlap(low, high, n):
    assert sizes.samples_to_tell_apart(low, high) == n
    apart = [_wilson_by_hand(low, k)[1] < _wilson_by_hand(high, k)[0] for k in range(1, 5000)]
    first = apart.index(True) + 1
    assert first == n
    assert all(apart[n - 1 :])  # once apart, apart for good: the doubling search is sound


def test_samples_usage_errors():
    with pytest.raises(UsageError, match="two different rates"):
        sizes.samples_to_tell_apart(0.9, 0.9)
    with pytest.raises(UsageError, match="too close to tell apart"):
        sizes.samples_to_tell_apart(0.5, 0.5 + 1e-13)


def test_sample_plan():
    plan = sizes.sample_plan(0.99, 0.97)  # either order
    assert plan.compare == (0.97, 0.99) and plan.validated == 753
    assert plan.executions == 5020  # 753 / 0.15, exactly
    assert [r.validated for r in plan.rows] == [188, 376, 753, 1506, 3012]
    assert [r.apart for r in plan.rows] == [False, False, True, True, True]
    data = plan.to_dict()
    assert list(data) == [
        "compare",
        "z",
        "validated_executions",
        "intervals",
        "sample_rate",
        "executions_at_sample_rate",
    ]
    assert data["intervals"][0][1] < data["intervals"][1][0]


def test_executions_at_sample_rate_is_exact():
    # in floats 21 / 0.35 is 60.00000000000001, whose ceiling would be 61
    assert math.ceil(21 / 0.35) == 61
    assert sizes.executions_for(21, 0.35) == 60
    assert sizes.executions_for(22, 0.35) == 63
    assert sizes.executions_for(753, 0.15) == 5020
    assert sizes.sample_plan(0.0, 1.0, sample_rate=0.5).executions == 8
