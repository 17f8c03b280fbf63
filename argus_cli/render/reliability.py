"""`argus reliability`: chain arithmetic, plans on a trace's pass rates, and sample sizes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from argus_cli.escaping import shown_all
from argus_cli.findings import e2e_verdict, pct
from argus_cli.reliability import (
    AGENT_RULE,
    ChainPlan,
    ChainTable,
    Need,
    TracePlan,
)
from argus_cli.render.base import Format, to_json
from argus_cli.sample_sizes import SamplePlan


def render_reliability(
    plan: ChainPlan | TracePlan | SamplePlan, fmt: Format, console: Console
) -> None:
    if fmt is Format.json:
        console.file.write(to_json(plan.to_dict()))
    elif isinstance(plan, ChainPlan):
        console.print(chain_view(plan))
    elif isinstance(plan, TracePlan):
        console.print(trace_plan_view(plan))
    else:
        console.print(samples_view(plan))


def _fix(value: float, places: int = 4) -> str:
    """Rounded half up from the shortest decimal, as by hand: 0.84645 shows as 0.8465."""
    exact = Decimal(repr(float(value)))
    return format(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


def _rate(value: float) -> str:
    """A rate as the user wrote it, with at least two places: 0.9 shows as 0.90."""
    exact = Decimal(repr(float(value)))
    return format(max(exact, exact.quantize(Decimal("0.01")), key=_places), "f")


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + _fix(abs(value))


def _span(interval: tuple[float, float]) -> str:
    return f"{_fix(interval[0])}–{_fix(interval[1])}"


def _need_line(need: Need, target: float, what: str, shown_p: str) -> str:
    """What the weakest agent or hop alone would need to reach the target."""
    who = f"{need.name} ({shown_p})"
    if need.required is None:
        return (
            f"{who} alone cannot get there: even at 1.0, the other {what} give "
            f"{_fix(need.others)}, below {_rate(target)}"
        )
    if need.required <= need.p:
        return f"{who} already does its part: it needs {_fix(need.required, 5)}"
    return f"with the other {what} as they are, {who} alone would need {_fix(need.required, 5)}"


def _rule_line(labels: Sequence[str], rates: Sequence[float], what: str) -> Text:
    """The article's rule against each labelled rate: which ones are below 0.97."""
    below = [label for label, r in zip(labels, rates, strict=True) if r < AGENT_RULE]
    rule = f"the article's rule (each agent at {_rate(AGENT_RULE)}+ before you chain them)"
    if not below:
        return Text(f"Every {what} meets {rule}.", style="green")
    shown = ", ".join(below[:5]) + (f" and {len(below) - 5} more" if len(below) > 5 else "")
    return Text(f"Below {rule}: {shown}.", style="yellow")


def chain_view(plan: ChainPlan) -> Group:
    plan = shown_all(plan)
    n = plan.agents
    agents = f"{n} agent{'s' if n != 1 else ''}"
    parts: list[Any] = []
    if plan.end_to_end is not None:
        given = (
            f"at {_rate(plan.single)}{' each' if n > 1 else ''}"
            if plan.single is not None
            else "at " + " × ".join(_rate(p) for p in plan.p)
        )
        parts.append(Text(f"{agents} {given}: end to end {_fix(plan.end_to_end)}", style="bold"))
    if plan.target is not None and plan.required_per_agent is not None:
        target = _rate(plan.target)
        line = f"To reach {target} end to end over {agents}, each needs "
        line += f"{_fix(plan.required_per_agent, 5)} ({target} ** (1/{n}))"
        if plan.end_to_end is not None:
            reach = "reaches" if plan.end_to_end >= plan.target else "falls short of"
            line += f"; this chain {reach} it"
        parts.append(Text(line, style="bold" if plan.end_to_end is None else ""))
        if plan.weakest is not None:
            need = _need_line(plan.weakest, plan.target, "agents", _rate(plan.weakest.p))
            parts.append(Text(need[:1].upper() + need[1:]))
    if plan.single is not None:
        every = f"all {n} agents" if n > 1 else "the agent"
        parts.append(_rule_line([f"{every} ({_rate(plan.single)})"], [plan.single], "agent"))
    elif plan.p:
        labels = [f"agent {i} ({_rate(r)})" for i, r in enumerate(plan.p, start=1)]
        parts.append(_rule_line(labels, plan.p, "agent"))
    if plan.end_to_end is not None and plan.end_to_end < 0.5:
        parts.append(Text("This chain fails more often than it succeeds.", style="bold red"))
    parts.append(Text())
    parts.append(_chain_table(plan.table, plan.single, n))
    return Group(*parts)


def _mark(value: float, line: float) -> Text:
    if value >= line:
        return Text(f"{_fix(value)} ✓", style="green")
    return Text(f"{_fix(value)}  ", style="red" if value < 0.5 else "")


def _chain_table(table: ChainTable, single: float | None, agents: int) -> Group:
    line = _rate(table.line)
    out = Table(
        title=f"End to end by chain length (✓ at or above {line})",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
    )
    out.add_column("agents", justify="right")
    if table.chain is not None:
        out.add_column("your\nchain", justify="right", style="bold")
    for rate in table.rates:
        mine = rate == single
        header = f"yours\n{_rate(rate)}" if mine else _rate(rate)
        out.add_column(header, justify="right", style="bold" if mine else None)
    if table.needed is not None:
        out.add_column(f"each needs\nfor {line}", justify="right")
    for row, length in enumerate(table.lengths, start=1):
        cells: list[str | Text] = [f"▸ {length}" if length == agents else str(length)]
        if table.chain is not None:
            value = table.chain[row - 1]
            cells.append("" if value is None else _mark(value, table.line))
        cells += [_mark(v, table.line) for v in table.cells[row - 1]]
        if table.needed is not None:
            cells.append(f"{_fix(table.needed[row - 1])}  ")
        mine = length == agents
        out.add_row(*cells, style="bold" if mine else None, end_section=row == len(table.lengths))

    def most(k: int | None) -> str:
        return "any  " if k is None else f"{k}  "

    last: list[str | Text] = ["longest"]
    if table.chain is not None:
        last.append(most(table.chain_longest))
    last += [most(k) for k in table.longest]
    if table.needed is not None:
        last.append("")
    out.add_row(*last)
    note = f"▸ your chain · longest: the most agents that stay at or above {line} end to end"
    return Group(out, Text(note, style="dim"))


def trace_plan_view(plan: TracePlan) -> Group:
    plan = shown_all(plan)
    hops = len(plan.hops)
    head = Text(
        f"argus reliability · workflow {plan.workflow_id}: {hops} hop{'s' if hops != 1 else ''}, "
        f"{plan.runs} runs from {', '.join(plan.files)}",
        style="bold",
    )
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "Predicted",
        f"{_fix(plan.end_to_end)} end to end, 95% interval {_span(plan.end_to_end_ci)} "
        "(the product of the hops' pass rates)",
    )
    grid.add_row(
        "Observed",
        f"{_fix(plan.observed_end_to_end)} of {plan.runs} runs · "
        + e2e_verdict(plan.observed_end_to_end, plan.end_to_end),
    )
    if plan.what_if is not None:
        value, interval = plan.what_if
        sets = ", ".join(f"{hop} = {_rate(p)}" for hop, p in plan.sets.items())
        grid.add_row(
            "What if",
            f"{sets}: {_fix(value)} end to end, 95% interval {_span(interval)} "
            f"({_signed(value - plan.end_to_end)})",
        )
    goal = _rate(plan.improve_to)
    best = plan.best
    if best is not None and best.improved_end_to_end is not None:
        grid.add_row(
            "Pays most",
            ("then " if plan.what_if is not None else "")
            + f"raising {best.hop_id} from {_fix(best.rate)} to {goal}: "
            f"{_fix(best.improved_end_to_end)} end to end ({_signed(best.gain)})",
        )
    else:
        grid.add_row("Pays most", f"no single hop: raising any one to {goal} gains nothing")
    if plan.target is not None and plan.required_per_agent is not None:
        target = _rate(plan.target)
        line = f"{target} end to end needs {_fix(plan.required_per_agent, 5)} from every hop"
        if plan.weakest is not None:
            line += "; " + _need_line(plan.weakest, plan.target, "hops", _fix(plan.weakest.p))
        grid.add_row("Target", line)
    names, rates = [h.hop_id for h in plan.hops], [h.rate for h in plan.hops]
    grid.add_row("Rule", _rule_line(names, rates, "hop"))
    title = f"Workflow {plan.workflow_id}" + (" (what if)" if plan.what_if is not None else "")
    panel = Panel(grid, title=title, title_align="left", box=box.ROUNDED)
    return Group(head, panel, _trace_hop_table(plan))


def _trace_hop_table(plan: TracePlan) -> Table:
    goal = _rate(plan.improve_to)
    table = Table(
        title=f"Hops of {plan.workflow_id} in canonical order",
        title_justify="left",
        box=box.SIMPLE_HEAVY,
    )
    table.add_column("#", justify="right")
    table.add_column("hop")
    table.add_column("executions", justify="right")
    table.add_column("checked", justify="right")
    table.add_column("pass rate", justify="right")
    table.add_column("95% interval", justify="right")
    if plan.what_if is not None:
        table.add_column("what if", justify="right")
    table.add_column(f"end to end\nif at {goal}", justify="right")
    table.add_column("gain", justify="right")
    for rank, hop in enumerate(plan.hops, start=1):
        cells = [
            str(rank),
            hop.hop_id,
            str(hop.executions),
            str(hop.checked),
            _fix(hop.pass_rate),
            _span(hop.pass_rate_ci),
        ]
        if plan.what_if is not None:
            cells.append("" if hop.set_to is None else _rate(hop.set_to))
        if hop.improved_end_to_end is None:
            cells += ["already there", ""]
        else:
            best = hop is plan.best
            cells += [_fix(hop.improved_end_to_end), _signed(hop.gain) + (" ◂" if best else "  ")]
        table.add_row(*cells, style="bold" if hop is plan.best else None)
    return table


def samples_view(plan: SamplePlan) -> Group:
    plan = shown_all(plan)
    low, high = (_rate(r) for r in plan.compare)
    lines = [
        Text(
            f"To tell a pass rate of {low} from {high}, a hop needs {plan.validated:,} validated "
            "executions",
            style="bold",
        ),
        Text(
            f"At the article's {pct(plan.sample_rate, 0)} sample rate that is "
            f"{plan.executions:,} hop executions."
        ),
        Text(
            f"(the smallest number at which the Wilson 95% intervals, z = {plan.z}, of the two "
            "rates no longer overlap)",
            style="dim",
        ),
    ]
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("validated", justify="right")
    table.add_column(f"interval at {low}", justify="right")
    table.add_column(f"interval at {high}", justify="right")
    table.add_column("told apart")
    for row in plan.rows:
        mine = row.validated == plan.validated
        table.add_row(
            f"▸ {row.validated:,}" if mine else f"{row.validated:,}",
            _span(row.low),
            _span(row.high),
            Text("yes", style="green") if row.apart else Text("no", style="yellow"),
            style="bold" if mine else None,
        )
    return Group(*lines, table)
