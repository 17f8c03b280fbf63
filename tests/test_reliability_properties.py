"""Invariants of the reliability arithmetic over random inputs (hypothesis)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from argus_cli import reliability as rel
from argus_cli import sample_sizes as sizes

rates = st.floats(min_value=0.0, max_value=1.0)
chains = st.lists(rates, min_size=1, max_size=12)
agents = st.integers(min_value=1, max_value=50)


@given(chains)
def test_end_to_end_stays_in_0_1_and_below_every_agent(chain):
    value = rel.end_to_end(chain)
    assert 0.0 <= value <= min(chain)


@given(chains, st.data())
def test_end_to_end_is_monotone_in_every_p(chain, data):
    i = data.draw(st.integers(min_value=0, max_value=len(chain) - 1))
    better = data.draw(st.floats(min_value=chain[i], max_value=1.0))
    raised = [better if j == i else p for j, p in enumerate(chain)]
    assert rel.end_to_end(raised) >= rel.end_to_end(chain)


@given(rates, agents)
def test_power_is_the_product_and_falls_with_length(p, n):
    assert rel.chain_power(p, n) == rel.end_to_end([p] * n)
    assert rel.chain_power(p, n + 1) <= rel.chain_power(p, n)
    assert rel.prefix_products([p] * n)[-1] == rel.chain_power(p, n)


@given(st.floats(min_value=0.01, max_value=1.0), agents)
def test_the_inverse_gives_p_back(p, n):
    assert math.isclose(rel.required_per_agent(rel.chain_power(p, n), n), p, rel_tol=1e-9)


@given(rates, agents)
def test_the_required_rate_reaches_the_target(target, n):
    required = rel.required_per_agent(target, n)
    assert 0.0 <= required <= 1.0
    assert required >= target  # a chain never beats its agents
    assert math.isclose(rel.chain_power(required, n), target, rel_tol=1e-9, abs_tol=1e-300)


@given(st.lists(rates, min_size=2, max_size=8), rates)
def test_the_weakest_agents_need_reaches_the_target(chain, target):
    need = rel.need_of_weakest([f"agent {i}" for i in range(len(chain))], chain, target)
    assert need.p == min(chain)
    assert 0.0 <= need.others <= 1.0
    if need.required is None:  # out of reach: even a perfect weakest agent falls short
        assert need.others < target
    else:
        assert 0.0 <= need.required <= 1.0
        i = chain.index(need.p)
        fixed = [need.required if j == i else p for j, p in enumerate(chain)]
        assert math.isclose(rel.end_to_end(fixed), target, rel_tol=1e-9, abs_tol=1e-12)


@st.composite
def hops(draw: st.DrawFn) -> tuple[float, tuple[float, float]]:
    """A pass rate with an interval around it, as the report gives."""
    lo, p, hi = sorted(draw(st.lists(rates, min_size=3, max_size=3)))
    return p, (lo, hi)


@given(st.lists(hops(), min_size=1, max_size=10))
def test_the_interval_holds_the_prediction_inside_the_box(chain):
    points = [p for p, _ in chain]
    intervals = [i for _, i in chain]
    lo, hi = rel.product_interval(points, intervals)
    product = rel.end_to_end(points)
    assert 0.0 <= lo <= product <= hi <= 1.0
    assert lo >= rel.end_to_end([i[0] for i in intervals]) - 1e-15
    assert hi <= rel.end_to_end([i[1] for i in intervals]) + 1e-15


@given(st.lists(hops(), min_size=1, max_size=10))
def test_a_hop_known_exactly_narrows_the_interval(chain):
    points = [p for p, _ in chain]
    intervals = [i for _, i in chain]
    lo, hi = rel.product_interval(points, intervals)
    exact = [(points[0], points[0]), *intervals[1:]]
    lo2, hi2 = rel.product_interval(points, exact)
    assert lo2 >= lo - 1e-12 and hi2 <= hi + 1e-12


@given(rates, st.integers(min_value=1, max_value=10**6))
def test_wilson_holds_the_rate_within_0_1(p, n):
    lo, hi = sizes.wilson(p, n)
    assert 0.0 <= lo <= p + 1e-12 and p - 1e-12 <= hi <= 1.0


@given(
    st.floats(min_value=0.0, max_value=0.99),
    st.floats(min_value=0.01, max_value=1.0),
)
def test_samples_is_the_first_n_that_tells_the_rates_apart(low, gap):
    high = min(1.0, low + gap)
    n = sizes.samples_to_tell_apart(low, high)
    assert sizes.apart(low, high, n)
    assert n == 1 or not sizes.apart(low, high, n - 1)
    assert all(sizes.apart(low, high, k) for k in (n + 1, 2 * n, 10 * n))
