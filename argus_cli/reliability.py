"""`argus reliability`: the arithmetic of chained agents (SPEC 6), what-if planning on a trace's
measured pass rates, and validation sample sizes.

A module of its own because design reviews ask these questions before any trace exists: the
chain arithmetic needs neither DuckDB nor a trace. With `--from` it reads the report model that
`argus report` builds (SPEC 2), so a measured pass rate and its interval are computed in one place.

Exactness: a rate is taken as the decimal the user wrote (a float's shortest repr) and products and
powers are worked in 50-digit decimal arithmetic, then rounded once to the nearest float. So
0.99 * 0.90 * 0.95 is 0.84645 (binary floats give 0.8464499999999999, which shows as 0.8464) and
0.97 ** 5 is 0.8587340257. Renderers round for people; JSON carries these floats unrounded.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from enum import Enum
from typing import Any

from argus_cli.diagnostics import UsageError
from argus_cli.findings import AGENT_TARGET
from argus_cli.report import Report

AGENT_RULE = AGENT_TARGET  # the article's rule: each agent at 0.97+ before chaining them
ARTICLE_RATES = (0.85, 0.90, 0.97, 0.99)  # the seed article's per-agent reliabilities
ARTICLE_LINE = 0.95  # the end-to-end reliability the article's table aims for
IMPROVE_TO = 0.99  # default goal of the one-hop what-if: the article's "target you need"
Z95 = 1.96  # SPEC 2's Wilson z
TABLE_ROWS = 10
MAX_AGENTS = 10_000  # a longer "chain" is a typo, and its JSON would be megabytes

_DEC = Context(prec=50)


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def end_to_end(rates: Sequence[float]) -> float:
    """End-to-end reliability of a chain: the product of its agents' reliabilities (SPEC 6)."""
    return prefix_products(rates)[-1] if rates else 1.0


def prefix_products(rates: Sequence[float]) -> list[float]:
    """End to end of the first 1, 2, ... n agents: where along the chain reliability goes."""
    total, out = Decimal(1), []
    for rate in rates:
        total = _DEC.multiply(total, _dec(rate))
        out.append(float(total))
    return out


def chain_power(rate: float, agents: int) -> float:
    """`rate ** agents`: the article's `end_to_end_reliability`, exact to the last float bit."""
    return float(_DEC.power(_dec(rate), agents))


def required_per_agent(target: float, agents: int) -> float:
    """The reliability every one of `agents` equal agents needs: `target ** (1 / agents)`."""
    return float(_DEC.power(_dec(target), _DEC.divide(Decimal(1), Decimal(agents))))


def _minus(a: float, b: float) -> float:
    """a - b on the decimals: a gain of 0.7425 - 0.375 is 0.3675, not 0.36750000000000005."""
    return float(_DEC.subtract(_dec(a), _dec(b)))


def longest_chain(rate: float, line: float) -> int | None:
    """How many agents at `rate` can be chained before end to end drops below `line`.

    None when there is no limit (a perfect agent, or a line of 0).
    """
    if rate >= 1.0 or line <= 0.0:
        return None
    if rate < line:
        return 0
    k = math.floor(math.log(line) / math.log(rate))
    while chain_power(rate, k + 1) >= line:  # the log ratio can be off by one at a boundary
        k += 1
    while k > 0 and chain_power(rate, k) < line:
        k -= 1
    return k


# --------------------------------------------------------------------------------------------
# Options: one line of explanation for anything that does not make sense (SPEC 9: exit 2)


class Mode(str, Enum):
    """The question a set of options asks."""

    chain = "chain"  # --p / --agents / --target: arithmetic on given reliabilities
    trace = "trace"  # --from: measured pass rates, what-ifs, the best single improvement
    samples = "samples"  # --samples / --compare: validated executions needed


TRACE_OPTIONS = ("--set", "--workflow", "--improve-to", "--strict", "--quiet")


def mode_for(given: Collection[str]) -> Mode:
    """Which question the options given ask; a mix that asks none, or two at once, is a usage
    error, so that no option is silently ignored."""

    def present(*options: str) -> str:
        return ", ".join(o for o in options if o in given)

    if "--samples" in given or "--compare" in given:
        extra = present("--agents", "--p", "--target", "--from", *TRACE_OPTIONS)
        if extra:
            raise UsageError(f"--samples plans a sample size on its own; drop {extra}")
        return Mode.samples
    if "--from" in given:
        extra = present("--agents", "--p")
        if extra:
            raise UsageError(f"--from takes the pass rates from the trace; drop {extra}")
        return Mode.trace
    stray = [o for o in TRACE_OPTIONS if o in given]
    if stray:
        raise UsageError(f"{stray[0]} needs --from TRACE")
    if "--p" in given or {"--agents", "--target"} <= set(given):
        return Mode.chain
    if "--agents" in given:
        raise UsageError("--agents needs --p (each agent's reliability) or --target (a goal)")
    if "--target" in given:
        raise UsageError("--target needs --agents N, --p P or --from TRACE")
    raise UsageError(
        "say what to compute: --p P [--agents N], --agents N --target T, --from TRACE or --samples"
    )


def parse_rate(option: str, text: str) -> float:
    """A probability as typed: anything but a number in [0, 1] is a usage error (SPEC 6)."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{option} must be a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # false for nan too
        raise UsageError(f"{option} must be between 0 and 1, got {text}")
    return value


def parse_count(option: str, text: str) -> int:
    """A whole number of agents, 1 to MAX_AGENTS: `5.0` or `2.5` is a usage error, not a guess."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_AGENTS:
        raise UsageError(f"{option} must be a whole number from 1 to {MAX_AGENTS}, got {text}")
    return value


def parse_setting(text: str) -> tuple[str, float]:
    """`HOP=P` of `--set`; split at the last `=`, so a hop name may contain one."""
    hop, sep, value = text.rpartition("=")
    if not sep or not hop:
        raise UsageError(f"--set takes HOP=P, got {text!r}")
    return hop, parse_rate(f"--set {hop}", value)


# --------------------------------------------------------------------------------------------
# --p / --agents / --target


@dataclass(frozen=True)
class Need:
    """What one agent (the weakest) alone would need for the chain to reach a target."""

    name: str  # "agent 2", or a hop id
    p: float
    others: float  # end to end of the rest of the chain
    required: float | None  # None: out of reach even at 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "p": self.p, "others": self.others, "required": self.required}


def need_of_weakest(names: Sequence[str], rates: Sequence[float], target: float) -> Need:
    """The lowest rate, and what it must become for the product to reach `target`: the others'
    product is fixed, so it needs `target / others`; above 1 that is out of reach."""
    i = min(range(len(rates)), key=lambda j: rates[j])  # ties: first in chain order
    others = end_to_end([r for j, r in enumerate(rates) if j != i])
    if others == 0.0:
        required = 0.0 if target == 0.0 else None
    else:
        required = float(_DEC.divide(_dec(target), _dec(others)))
    return Need(names[i], rates[i], others, required if required is None or required <= 1 else None)


@dataclass(frozen=True)
class ChainTable:
    """End to end by chain length, as the article's table: one column per per-agent rate."""

    lengths: tuple[int, ...]
    rates: tuple[float, ...]  # the article's rates and the one given, ascending
    cells: tuple[tuple[float, ...], ...]  # cells[row][column] = rates[column] ** lengths[row]
    chain: tuple[float | None, ...] | None  # unequal agents: the first k agents; None past n
    needed: tuple[float, ...] | None  # with a target: what each agent needs at that length
    line: float  # the end-to-end line marked: the target, else the article's 0.95
    longest: tuple[int | None, ...]  # per rate: longest chain at or above the line
    chain_longest: int | None  # the same for the given chain


def chain_lengths(agents: int | None) -> tuple[int, ...]:
    """1..10, or ten lengths around `agents` when the chain is longer than ten."""
    start = 1 if agents is None or agents <= TABLE_ROWS else agents - TABLE_ROWS // 2
    return tuple(range(start, start + TABLE_ROWS))


def chain_table(
    rates: Sequence[float], single: float | None, agents: int | None, target: float | None
) -> ChainTable:
    """The article's table around this chain: its rates as columns, plus the given one, the
    chain's own running product and, with a target, what each agent needs at each length."""
    lengths = chain_lengths(agents)
    columns = tuple(sorted({*ARTICLE_RATES, *([single] if single is not None else [])}))
    line = ARTICLE_LINE if target is None else target
    unequal = single is None and len(rates) > 0
    prefix = prefix_products(rates) if unequal else []
    needed = None if target is None else tuple(required_per_agent(target, k) for k in lengths)
    return ChainTable(
        lengths=lengths,
        rates=columns,
        cells=tuple(tuple(chain_power(r, k) for r in columns) for k in lengths),
        chain=tuple(prefix[k - 1] if k <= len(prefix) else None for k in lengths)
        if unequal
        else None,
        needed=needed,
        line=line,
        longest=tuple(longest_chain(r, line) for r in columns),
        chain_longest=sum(1 for v in prefix if v >= line) if unequal else None,
    )


@dataclass(frozen=True)
class ChainPlan:
    """`--p` / `--agents` / `--target`: a chain's end to end, and what a target asks of it."""

    agents: int
    p: tuple[float, ...]  # one per agent; empty with only --agents and --target
    single: float | None  # the one --p given for every agent
    end_to_end: float | None
    target: float | None
    required_per_agent: float | None
    weakest: Need | None  # with a target and several --p: what the weakest alone would need
    table: ChainTable

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "agents": self.agents,
            "p": list(self.p),
            "end_to_end": self.end_to_end,
        }
        if self.target is not None:
            out["target"] = self.target
            out["required_per_agent"] = self.required_per_agent
            if self.weakest is not None:
                out["weakest"] = self.weakest.to_dict()
        return out


def chain_plan(p: Sequence[float], agents: int | None, target: float | None) -> ChainPlan:
    """One `--p` is every agent's reliability (`p ** n`); several are one per agent (`prod`)."""
    if not p and (agents is None or target is None):
        raise UsageError("give --p, or --agents with --target")
    if len(p) > MAX_AGENTS:
        raise UsageError(f"{len(p)} --p values: a chain has at most {MAX_AGENTS} agents")
    if agents is not None and len(p) > 1 and len(p) != agents:
        raise UsageError(
            f"--agents {agents} with {len(p)} --p values: give one --p for every agent, "
            "or one per agent"
        )
    single = p[0] if len(p) == 1 else None
    n = agents if agents is not None else len(p)
    rates = tuple(p) * n if single is not None else tuple(p)
    e2e = None if not rates else chain_power(single, n) if single is not None else end_to_end(p)
    weakest = None
    if target is not None and len(p) > 1:
        weakest = need_of_weakest([f"agent {i}" for i in range(1, n + 1)], rates, target)
    return ChainPlan(
        agents=n,
        p=rates,
        single=single,
        end_to_end=e2e,
        target=target,
        required_per_agent=required_per_agent(target, n) if target is not None else None,
        weakest=weakest,
        table=chain_table(rates, single, n, target),
    )


# --------------------------------------------------------------------------------------------
# --from TRACE [--set HOP=P] [--improve-to P]


def product_interval(
    points: Sequence[float], intervals: Sequence[tuple[float, float]]
) -> tuple[float, float]:
    """95% interval of `prod(points)` from each factor's own 95% interval: MOVER on logs.

    Zou and Donner's method of variance estimates recovery (Stat Med 2008;27:1693) turns the
    intervals [l_i, u_i] of independent estimates into one for their sum; the log of a product is
    a sum, so with P = prod(p_i):

        L = P * exp(-sqrt(sum (ln p_i - ln l_i)^2)),  U = P * exp(sqrt(sum (ln u_i - ln p_i)^2))

    Why this method: it uses exactly the per-hop intervals `argus report` shows (SPEC 2), keeps
    their asymmetry near 1, is closed form (no sampling, so the same trace always gives the same
    interval), gives a one-hop chain its hop's own interval, and always lies inside
    [prod l_i, prod u_i], the box where every hop sits at its bound at once, which covers far more
    than 95% once there are a few hops. In simulation (2 to 10 hops, 30 to 300 checked executions
    each, rates 0.80 to 0.99) it covered the true product 92% to 94% of the time. Like the
    prediction itself it takes the hops as independent. A factor known exactly (a `--set`
    what-if) adds nothing to the width; a hop never checked has lower bound 0 (SPEC 2), and so
    has the chain. When a hop's pass rate is 0 the upper bound is the box's.
    """
    product = end_to_end(points)
    box_lo = end_to_end([lo for lo, _ in intervals])
    box_hi = end_to_end([hi for _, hi in intervals])
    if product <= 0.0:
        return 0.0, box_hi
    if box_lo <= 0.0:
        lower = 0.0
    else:
        down = math.fsum(
            max(0.0, math.log(p) - math.log(lo)) ** 2
            for p, (lo, _) in zip(points, intervals, strict=True)
        )
        lower = min(product, max(box_lo, math.exp(math.log(product) - math.sqrt(down))))
    up = math.fsum(
        max(0.0, math.log(hi) - math.log(p)) ** 2
        for p, (_, hi) in zip(points, intervals, strict=True)
    )
    log_upper = math.log(product) + math.sqrt(up)  # in logs: a tiny P with a wide hop overflows
    upper = box_hi if log_upper >= math.log(box_hi) else max(product, math.exp(log_upper))
    return lower, upper


@dataclass(frozen=True)
class HopPlan:
    """One hop of the traced workflow: measured, what-if, and what raising it alone would give."""

    hop_id: str
    executions: int
    checked: int
    pass_rate: float  # measured (SPEC 2)
    pass_rate_ci: tuple[float, float]
    set_to: float | None  # --set what-if
    improved_end_to_end: float | None  # the what-if chain with only this hop at `improve_to`
    gain: float  # improved_end_to_end minus the what-if chain's end to end; 0 when already there

    @property
    def rate(self) -> float:
        return self.pass_rate if self.set_to is None else self.set_to

    @property
    def interval(self) -> tuple[float, float]:
        return self.pass_rate_ci if self.set_to is None else (self.set_to, self.set_to)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hop_id": self.hop_id,
            "executions": self.executions,
            "checked": self.checked,
            "pass_rate": self.pass_rate,
            "pass_rate_ci": list(self.pass_rate_ci),
            "set_to": self.set_to,
            "improved_end_to_end": self.improved_end_to_end,
            "gain": self.gain,
        }


@dataclass(frozen=True)
class TracePlan:
    """`--from`: the measured chain, its interval, a what-if, and the best single improvement.

    The what-if (`--set`), the improvement ranking and the target all work on the chain with the
    `--set` values in place: the question after "what if validator were 0.99" is "what next".
    """

    workflow_id: str
    files: tuple[str, ...]
    runs: int
    observed_end_to_end: float
    hops: tuple[HopPlan, ...]
    end_to_end: float  # predicted from the measured pass rates (report's predicted_end_to_end)
    end_to_end_ci: tuple[float, float]
    what_if: tuple[float, tuple[float, float]] | None  # end to end and interval with --set
    improve_to: float
    best: HopPlan | None  # the hop whose raising to `improve_to` gains most
    target: float | None
    required_per_agent: float | None
    weakest: Need | None

    @property
    def sets(self) -> dict[str, float]:
        return {h.hop_id: h.set_to for h in self.hops if h.set_to is not None}

    @property
    def chain_end_to_end(self) -> float:
        """End to end of the chain the plan works on: the what-if's, else the measured one."""
        return self.end_to_end if self.what_if is None else self.what_if[0]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "agents": len(self.hops),
            "p": [h.pass_rate for h in self.hops],
            "end_to_end": self.end_to_end,
            "end_to_end_ci": list(self.end_to_end_ci),
            "interval_method": "MOVER on the log scale from the hops' Wilson intervals",
            "workflow_id": self.workflow_id,
            "files": list(self.files),
            "runs": self.runs,
            "observed_end_to_end": self.observed_end_to_end,
            "hops": [h.to_dict() for h in self.hops],
            "what_if": None
            if self.what_if is None
            else {
                "set": self.sets,
                "p": [h.rate for h in self.hops],
                "end_to_end": self.what_if[0],
                "end_to_end_ci": list(self.what_if[1]),
            },
            "improve_to": self.improve_to,
            "best_improvement": None
            if self.best is None
            else {
                "hop_id": self.best.hop_id,
                "from": self.best.rate,
                "end_to_end": self.best.improved_end_to_end,
                "gain": self.best.gain,
            },
        }
        if self.target is not None:
            out["target"] = self.target
            out["required_per_agent"] = self.required_per_agent
            out["weakest"] = None if self.weakest is None else self.weakest.to_dict()
        return out


def trace_plan(
    report: Report,
    sets: Sequence[tuple[str, float]] = (),
    improve_to: float = IMPROVE_TO,
    target: float | None = None,
) -> TracePlan:
    """Plan on one workflow's measured pass rates; `report` must hold exactly one workflow
    (the CLI filters it with --workflow).

    With one common goal the weakest hop always gains most (raising p_i to g multiplies the
    chain by g / p_i); the ranking says by how much, and what each other hop would give.
    """
    if len(report.workflows) != 1:
        names = ", ".join(w.workflow_id for w in report.workflows)
        raise UsageError(
            f"the trace holds {len(report.workflows)} workflows ({names}); "
            "choose one with --workflow"
        )
    wf = report.workflows[0]
    hop_ids = [h.hop_id for h in wf.hops]
    chosen: dict[str, float] = {}
    for hop, value in sets:
        if hop not in hop_ids:
            raise UsageError(
                f"--set {hop}: no such hop in workflow {wf.workflow_id} "
                f"(its hops: {', '.join(hop_ids)})"
            )
        if hop in chosen:
            raise UsageError(f"--set {hop} is given twice")
        chosen[hop] = value
    measured = [h.pass_rate for h in wf.hops]
    rates = [chosen.get(h.hop_id, h.pass_rate) for h in wf.hops]
    intervals = [
        (chosen[h.hop_id], chosen[h.hop_id]) if h.hop_id in chosen else h.pass_rate_ci
        for h in wf.hops
    ]
    base = end_to_end(rates)
    hops: list[HopPlan] = []
    for i, h in enumerate(wf.hops):
        improved = None
        if rates[i] < improve_to:
            improved = end_to_end([improve_to if j == i else r for j, r in enumerate(rates)])
        hops.append(
            HopPlan(
                hop_id=h.hop_id,
                executions=h.executions,
                checked=h.checked,
                pass_rate=h.pass_rate,
                pass_rate_ci=h.pass_rate_ci,
                set_to=chosen.get(h.hop_id),
                improved_end_to_end=improved,
                gain=0.0 if improved is None else _minus(improved, base),
            )
        )
    gaining = [h for h in hops if h.gain > 0]
    weakest = None
    if target is not None:
        order = sorted(range(len(hops)), key=lambda i: (rates[i], -hops[i].executions, hop_ids[i]))
        ranked = [hop_ids[i] for i in order]
        weakest = need_of_weakest(ranked, [rates[i] for i in order], target)
    return TracePlan(
        workflow_id=wf.workflow_id,
        files=tuple(report.files),
        runs=wf.runs,
        observed_end_to_end=wf.end_to_end_success_rate,
        hops=tuple(hops),
        end_to_end=end_to_end(measured),
        end_to_end_ci=product_interval(measured, [h.pass_rate_ci for h in wf.hops]),
        what_if=(base, product_interval(rates, intervals)) if chosen else None,
        improve_to=improve_to,
        best=max(gaining, key=lambda h: h.gain) if gaining else None,
        target=target,
        required_per_agent=required_per_agent(target, len(hops)) if target is not None else None,
        weakest=weakest,
    )
