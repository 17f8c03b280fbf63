"""`argus reliability --samples`: how many validated executions tell two pass rates apart.

Apart from the chain arithmetic (reliability.py) because it answers another question, a
validation budget's, with another tool: SPEC 2's Wilson interval, searched for the sample size at
which two hops' intervals stop overlapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from argus_cli.diagnostics import UsageError
from argus_cli.reliability import Z95

COMPARE = (0.97, 0.99)  # default --samples question: the article's rule against its target
SAMPLE_RATE = 0.15  # the article's validation sample rate on standard hops
MAX_SAMPLES = 10**12


def wilson(rate: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion `rate` seen over `n` trials (SPEC 2's interval)."""
    z2 = z * z
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def apart(low: float, high: float, n: int, z: float = Z95) -> bool:
    """Whether `n` validated executions tell pass rate `low` from `high`: the Wilson interval of
    a hop observed at exactly `low` ends below the one of a hop observed at exactly `high`."""
    return wilson(low, n, z)[1] < wilson(high, n, z)[0]


def samples_to_tell_apart(low: float, high: float, z: float = Z95) -> int:
    """The smallest n of validated executions with `apart(low, high, n)`.

    Successes are taken as rate * n (not rounded), which makes the answer well defined: q lies in
    the Wilson interval at n exactly when (rate - q)^2 <= z^2 q (1 - q) / n, so the intervals are
    nested as n grows, and once apart they stay apart. A doubling search then bisection finds it.
    """
    if not low < high:
        raise UsageError(f"--compare needs two different rates, got {low} twice")
    hi = 1
    while not apart(low, high, hi, z):
        hi *= 2
        if hi > MAX_SAMPLES:
            raise UsageError(
                f"{low} and {high} are too close to tell apart with under {MAX_SAMPLES:,} "
                "validated executions"
            )
    lo = hi // 2  # not apart (or 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if apart(low, high, mid, z) else (mid, hi)
    return hi


@dataclass(frozen=True)
class SampleRow:
    """Both rates' intervals at one sample size, so the reader sees them close in on each other."""

    validated: int
    low: tuple[float, float]
    high: tuple[float, float]
    apart: bool


@dataclass(frozen=True)
class SamplePlan:
    """`--samples`: validated executions a hop needs to tell two pass rates apart."""

    compare: tuple[float, float]  # ascending
    z: float
    validated: int
    sample_rate: float
    executions: int  # hop executions that give `validated` at `sample_rate`
    rows: tuple[SampleRow, ...]  # the intervals at a few sizes around the answer

    def to_dict(self) -> dict[str, Any]:
        at = next(r for r in self.rows if r.validated == self.validated)
        return {
            "compare": list(self.compare),
            "z": self.z,
            "validated_executions": self.validated,
            "intervals": [list(at.low), list(at.high)],
            "sample_rate": self.sample_rate,
            "executions_at_sample_rate": self.executions,
        }


def executions_for(validated: int, sample_rate: float) -> int:
    """Hop executions that yield `validated` checks at `sample_rate`, in exact arithmetic (in
    floats 21 / 0.35 is 60.00000000000001, and its ceiling one too many)."""
    return math.ceil(Fraction(validated) / Fraction(repr(float(sample_rate))))


def sample_plan(a: float, b: float, z: float = Z95, sample_rate: float = SAMPLE_RATE) -> SamplePlan:
    """How many validated executions tell `a` from `b` (in either order), and what that costs in
    hop executions at the article's sample rate."""
    low, high = sorted((a, b))
    n = samples_to_tell_apart(low, high, z)
    sizes = sorted({max(1, n // 4), max(1, n // 2), n, 2 * n, 4 * n})
    return SamplePlan(
        compare=(low, high),
        z=z,
        validated=n,
        sample_rate=sample_rate,
        executions=executions_for(n, sample_rate),
        rows=tuple(
            SampleRow(k, wilson(low, k, z), wilson(high, k, z), apart(low, high, k, z))
            for k in sizes
        ),
    )
