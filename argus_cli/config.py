"""Configuration: `argus.toml` or `[tool.argus]` in `pyproject.toml`, and how flags override it.

The file is looked for from the current folder upwards; in each folder `argus.toml` comes first,
then a `pyproject.toml` that has a `[tool.argus]` table (one without it is passed over, as ruff
and mypy do). `--config PATH` names the file instead. Every value has one place where it is
decided: a flag given on the command line, else the file, else the default (the SPEC's).

    confident_threshold = 0.8          # SPEC 3
    cost_budget_usd = 1.0              # SPEC 5, inference_cost
    workflows = ["prior-auth"]         # only these workflows (like --workflow)
    since = "2026-04-01"               # only runs whose first hop started then or later (--since)
    until = "2026-04-30T12:00:00Z"     # ... then or earlier (--until); a bare date: the whole day

    [g_arvis_weights]                  # SPEC 5 composite; a dimension not named keeps weight 1
    safety = 2.0

    [check]                            # argus check: the gates (see gates.py)
    max_cascade_risk = 0.15
    min_e2e = 0.95
    min_predicted_e2e = 0.6
    min_pass_rate = 0.9                # every hop; or a table: {"*" = 0.9, policy-validator = 0.8}
    min_g_arvis = 0.8                  # the composite; or a table: {g_arvis = 0.8, safety = 0.95}
    max_drift_rate = 0.05
    require_high_stakes_validation = true
    min_runs = 200
    max_bad_records = 0                # malformed records allowed before the gate fails

    [diff]                             # argus diff
    max_regression = 0.02
    alpha = 0.05

An unknown key or a bad value is a usage error (exit 2) that names the file and the key. The
values are checked here, flags and file alike, so that the gates and the metrics only ever see
values that make sense.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from argus_cli.diagnostics import UsageError
from argus_cli.findings import CASCADE_LINE
from argus_cli.gates import COMPOSITE, MAX_BAD_RECORDS, GateSpec
from argus_cli.report import G_ARVIS_DIMENSIONS, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_FILE = "argus.toml"
PYPROJECT = "pyproject.toml"
EVERY_HOP = "*"
DEFAULT_ALPHA = 0.05

_TOP_KEYS = (
    "confident_threshold",
    "cost_budget_usd",
    "workflows",
    "since",
    "until",
    "g_arvis_weights",
    "check",
    "diff",
)
CHECK_KEYS = (
    "max_cascade_risk",
    "min_e2e",
    "min_predicted_e2e",
    "min_pass_rate",
    "min_g_arvis",
    "max_drift_rate",
    "require_high_stakes_validation",
    "min_runs",
    "max_bad_records",
)
_DIFF_KEYS = ("max_regression", "alpha")


@dataclass(frozen=True)
class CheckConfig:
    """The `[check]` table, validated; None: not set in the file."""

    max_cascade_risk: float | None = None
    min_e2e: float | None = None
    min_predicted_e2e: float | None = None
    min_pass_rate: dict[str, float] = field(default_factory=dict)  # hop or "*" -> floor
    min_g_arvis: dict[str, float] = field(default_factory=dict)  # dimension or g_arvis -> floor
    max_drift_rate: float | None = None
    require_high_stakes_validation: bool | None = None
    min_runs: int | None = None
    max_bad_records: int | None = None


@dataclass(frozen=True)
class Config:
    """A configuration file's validated content; every field None (or empty) when not set."""

    path: Path | None = None
    confident_threshold: float | None = None
    cost_budget_usd: float | None = None
    g_arvis_weights: dict[str, float] = field(default_factory=dict)
    workflows: tuple[str, ...] | None = None
    since: str | None = None  # as --since takes it: YYYY-MM-DD or RFC 3339
    until: str | None = None
    check: CheckConfig = field(default_factory=CheckConfig)
    max_regression: float | None = None
    alpha: float | None = None


# --------------------------------------------------------------------------------------------
# Finding and reading the file


def find_config(start: Path | None = None) -> Path | None:
    """The nearest `argus.toml`, or `pyproject.toml` with `[tool.argus]`, from `start` upwards."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _has_argus_table(pyproject):
            return pyproject
    return None


def _has_argus_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # A broken pyproject is argus's business only if it holds argus's settings: then
        # reading it reports the error, rather than silently falling back to the defaults.
        return "tool.argus" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "argus" in tool


def load_config(path: str | Path | None = None, *, start: Path | None = None) -> Config:
    """The named file, else the one `find_config` finds, else an empty configuration."""
    if path is None:
        found = find_config(start)
        if found is None:
            return Config()
        return _read(found, explicit=False)
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--config {path}: no such file")
    return _read(file, explicit=True)


def _read(file: Path, *, explicit: bool) -> Config:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{file}: invalid TOML: {exc}") from None
    prefix = ""
    if file.name == PYPROJECT:
        tool = data.get("tool")
        if not isinstance(tool, dict) or "argus" not in tool:
            if explicit:
                raise UsageError(f"{file}: has no [tool.argus] table")
            return Config()
        data = tool["argus"]
        prefix = "tool.argus."
        if not isinstance(data, dict):
            raise UsageError(f"{file}: tool.argus must be a table")
    return _parse(data, file, prefix)


# --------------------------------------------------------------------------------------------
# Validating the file's values


class _Keys:
    """Names a key as the user wrote it: `tool.argus.check.min_e2e` in the file `f`."""

    def __init__(self, file: Path, prefix: str) -> None:
        self.file = file
        self.prefix = prefix

    def error(self, key: str, problem: str) -> UsageError:
        return UsageError(f"{self.file}: {self.prefix}{key} {problem}")

    def table(self, key: str, value: Any, known: Iterable[str] | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {_show(value)}")
        if known is not None:
            allowed = tuple(known)
            for name in value:
                if name not in allowed:
                    where = f"{key}.{name}" if key else name
                    raise self.error(where, f"is not a known key (known: {', '.join(allowed)})")
        return value

    def number(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, got {_show(value)}")
        if not math.isfinite(value):
            raise self.error(key, f"must be a finite number, got {value}")
        return float(value)

    def unit(self, key: str, value: Any) -> float:
        number = self.number(key, value)
        if not 0.0 <= number <= 1.0:
            raise self.error(key, f"must be between 0 and 1, got {_show(value)}")
        return number


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _parse(data: dict[str, Any], file: Path, prefix: str) -> Config:
    keys = _Keys(file, prefix)
    keys.table("", data, _TOP_KEYS)
    check = _parse_check(keys, data.get("check", {}))
    diff = keys.table("diff", data.get("diff", {}), _DIFF_KEYS)
    workflows = data.get("workflows")
    if workflows is not None and (
        not isinstance(workflows, list) or not all(isinstance(w, str) and w for w in workflows)
    ):
        raise keys.error("workflows", f"must be a list of workflow names, got {_show(workflows)}")
    weights = {
        dim: keys.number(f"g_arvis_weights.{dim}", w)
        for dim, w in keys.table(
            "g_arvis_weights", data.get("g_arvis_weights", {}), G_ARVIS_DIMENSIONS
        ).items()
    }
    for dim, w in weights.items():
        if w < 0:
            raise keys.error(f"g_arvis_weights.{dim}", f"must be 0 or more, got {_show(w)}")
    if weights and not any(w > 0 for w in _weights(weights).values()):
        raise keys.error("g_arvis_weights", "must give at least one dimension a weight above 0")
    confident = data.get("confident_threshold")
    budget = data.get("cost_budget_usd")
    if budget is not None and keys.number("cost_budget_usd", budget) <= 0:
        raise keys.error("cost_budget_usd", f"must be above 0, got {_show(budget)}")
    since, first = _date_key(keys, "since", data.get("since"), end_of_day=False)
    until, last = _date_key(keys, "until", data.get("until"), end_of_day=True)
    if first is not None and last is not None and first > last:
        raise keys.error("until", f"must not be before since, got {until!r} (since {since!r})")
    regression = diff.get("max_regression")
    alpha = diff.get("alpha")
    if alpha is not None and not 0.0 < keys.number("diff.alpha", alpha) < 1.0:
        raise keys.error("diff.alpha", f"must be between 0 and 1 (exclusive), got {_show(alpha)}")
    return Config(
        path=file,
        confident_threshold=None
        if confident is None
        else keys.unit("confident_threshold", confident),
        cost_budget_usd=None if budget is None else float(budget),
        g_arvis_weights=weights,
        workflows=None if workflows is None else tuple(workflows),
        since=since,
        until=until,
        check=check,
        max_regression=None if regression is None else keys.unit("diff.max_regression", regression),
        alpha=None if alpha is None else float(alpha),
    )


def _date_key(
    keys: _Keys, key: str, value: Any, *, end_of_day: bool
) -> tuple[str | None, datetime | None]:
    """`since`/`until`: the text --since/--until would take (a TOML date or time is one too)."""
    if value is None:
        return None, None
    text = value.isoformat() if isinstance(value, date) else value  # datetime is a date too
    moment = _moment(text, end_of_day=end_of_day) if isinstance(text, str) else None
    if moment is None:
        expected = "must be a date YYYY-MM-DD or an RFC 3339 time"
        raise keys.error(key, f"{expected}, got {_show(value)}")
    return text, moment


def _parse_check(keys: _Keys, raw: Any) -> CheckConfig:
    table = keys.table("check", raw, CHECK_KEYS)

    def unit(name: str) -> float | None:
        value = table.get(name)
        return None if value is None else keys.unit(f"check.{name}", value)

    def floors(name: str, bare: str, allowed: tuple[str, ...] | None) -> dict[str, float]:
        value = table.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            return {bare: keys.unit(f"check.{name}", value)}
        keys.table(f"check.{name}", value, allowed)
        return {k: keys.unit(f"check.{name}.{k}", v) for k, v in value.items()}

    stakes = table.get("require_high_stakes_validation")
    if stakes is not None and not isinstance(stakes, bool):
        raise keys.error(
            "check.require_high_stakes_validation", f"must be true or false, got {_show(stakes)}"
        )

    def count(name: str) -> int | None:
        value = table.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise keys.error(
                f"check.{name}", f"must be a whole number, 0 or more, got {_show(value)}"
            )
        return value

    return CheckConfig(
        max_cascade_risk=unit("max_cascade_risk"),
        min_e2e=unit("min_e2e"),
        min_predicted_e2e=unit("min_predicted_e2e"),
        min_pass_rate=floors("min_pass_rate", EVERY_HOP, None),
        min_g_arvis=floors("min_g_arvis", COMPOSITE, (*G_ARVIS_DIMENSIONS, COMPOSITE)),
        max_drift_rate=unit("max_drift_rate"),
        require_high_stakes_validation=stakes,
        min_runs=count("min_runs"),
        max_bad_records=count("max_bad_records"),
    )


def _weights(overrides: Mapping[str, float]) -> dict[str, float]:
    """Every dimension's weight: 1 unless the file names it."""
    return {d: overrides.get(d, 1.0) for d in G_ARVIS_DIMENSIONS}


# --------------------------------------------------------------------------------------------
# Flag over file over default


def _flag_unit(flag: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise UsageError(f"{flag} must be between 0 and 1, got {value}")
    return value


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def settings_from(
    config: Config,
    *,
    confident_threshold: float | None = None,
    cost_budget: float | None = None,
    workflows: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Settings:
    """The metric settings: each flag given wins over the file, the file over the default."""
    _flag_unit("--confident-threshold", confident_threshold)
    first, last = date_range(since, until, config)
    if cost_budget is not None and not (math.isfinite(cost_budget) and cost_budget > 0):
        raise UsageError(f"--cost-budget must be above 0, got {cost_budget}")
    default = Settings()
    return Settings(
        confident_threshold=_first(
            confident_threshold, config.confident_threshold, default.confident_threshold
        ),
        cost_budget_usd=_first(cost_budget, config.cost_budget_usd, default.cost_budget_usd),
        g_arvis_weights=tuple(_weights(config.g_arvis_weights).items())
        if config.g_arvis_weights
        else default.g_arvis_weights,
        workflows=tuple(workflows) if workflows else (config.workflows or default.workflows),
        since=first,
        until=last,
    )


def date_range(
    since: str | None, until: str | None, config: Config | None = None
) -> tuple[datetime | None, datetime | None]:
    """The run filter's bounds as naive UTC instants: each flag given wins over the file's key."""
    config = config or Config()
    bounds: list[tuple[datetime | None, str]] = []
    for flag, key, text, filed, end_of_day in (
        ("--since", "since", since, config.since, False),
        ("--until", "until", until, config.until, True),
    ):
        if text is not None:
            bounds.append((parse_moment(flag, text, end_of_day=end_of_day), f"{flag} {text}"))
        elif filed is not None:
            where = f" in {config.path}" if config.path is not None else ""
            moment = parse_moment(key, filed, end_of_day=end_of_day)
            bounds.append((moment, f"{key} = {filed!r}{where}"))
        else:
            bounds.append((None, ""))
    (first, first_named), (last, last_named) = bounds
    if first is not None and last is not None and first > last:
        raise UsageError(f"{first_named} is after {last_named}")
    return first, last


def parse_moment(flag: str, text: str, *, end_of_day: bool) -> datetime:
    """A `--since`/`--until` value as a naive UTC instant, the way hop timestamps are held.

    A bare date YYYY-MM-DD means the whole day, so as an upper bound it is the day's last
    microsecond (DuckDB's timestamp resolution); RFC 3339 without an offset is UTC (SPEC 1.1).
    """
    moment = _moment(text, end_of_day=end_of_day)
    if moment is None:
        raise UsageError(f"{flag} {text!r}: expected a date YYYY-MM-DD or an RFC 3339 time")
    return moment


def _moment(text: str, *, end_of_day: bool) -> datetime | None:
    """parse_moment's instant, or None when `text` is neither a date nor an RFC 3339 time."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end_of_day else time.min)
        if value[-1:] in ("Z", "z"):
            value = value[:-1] + "+00:00"
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_floors(
    flag: str, values: Iterable[str], bare: str, allowed: tuple[str, ...] | None
) -> dict[str, float]:
    """`P` (for `bare`) or `NAME=P`, as given to a repeatable flag; later ones win."""
    out: dict[str, float] = {}
    for text in values:
        name, sep, number = text.rpartition("=")
        name = name.strip() if sep else bare
        if not name:
            raise UsageError(f"{flag} {text}: the name before '=' is empty")
        if allowed is not None and name not in allowed:
            raise UsageError(f"{flag} {text}: {name!r} is not one of {', '.join(allowed)}")
        try:
            value = float(number)
        except ValueError:
            raise UsageError(f"{flag} {text}: expected P or NAME=P with P a number") from None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise UsageError(f"{flag} {text}: must be between 0 and 1, got {number.strip()}")
        out[name] = value
    return out


def gate_spec(
    config: Config,
    *,
    max_cascade_risk: float | None = None,
    min_e2e: float | None = None,
    min_predicted_e2e: float | None = None,
    min_pass_rate: list[str] | None = None,
    min_g_arvis: list[str] | None = None,
    max_drift_rate: float | None = None,
    require_high_stakes_validation: bool | None = None,
    min_runs: int | None = None,
    max_bad_records: int | None = None,
) -> GateSpec:
    """The gates of `argus check`; per hop and per dimension, a flag wins over the file."""
    file = config.check
    if min_runs is not None and min_runs < 0:
        raise UsageError(f"--min-runs must be 0 or more, got {min_runs}")
    if max_bad_records is not None and max_bad_records < 0:
        raise UsageError(f"--max-bad-records must be 0 or more, got {max_bad_records}")
    pass_rates = {
        **file.min_pass_rate,
        **parse_floors("--min-pass-rate", min_pass_rate or (), EVERY_HOP, None),
    }
    g_arvis = {
        **file.min_g_arvis,
        **parse_floors(
            "--min-g-arvis", min_g_arvis or (), COMPOSITE, (*G_ARVIS_DIMENSIONS, COMPOSITE)
        ),
    }
    return GateSpec(
        max_cascade_risk=_first(
            _flag_unit("--max-cascade-risk", max_cascade_risk),
            file.max_cascade_risk,
            CASCADE_LINE,
        ),
        min_e2e=_first(_flag_unit("--min-e2e", min_e2e), file.min_e2e),
        min_predicted_e2e=_first(
            _flag_unit("--min-predicted-e2e", min_predicted_e2e), file.min_predicted_e2e
        ),
        min_pass_rate=pass_rates.pop(EVERY_HOP, None),
        min_pass_rate_by_hop=tuple(sorted(pass_rates.items())),
        min_g_arvis=tuple(
            (d, g_arvis[d]) for d in (COMPOSITE, *G_ARVIS_DIMENSIONS) if d in g_arvis
        ),
        max_drift_rate=_first(_flag_unit("--max-drift-rate", max_drift_rate), file.max_drift_rate),
        require_high_stakes_validation=bool(
            _first(require_high_stakes_validation, file.require_high_stakes_validation, False)
        ),
        min_runs=_first(min_runs, file.min_runs) or None,
        max_bad_records=_first(max_bad_records, file.max_bad_records, MAX_BAD_RECORDS),
    )


def diff_thresholds(
    config: Config, *, max_regression: float | None = None, alpha: float | None = None
) -> tuple[float | None, float]:
    """`argus diff`'s gate (None: no gate) and its significance level."""
    _flag_unit("--max-regression", max_regression)
    if alpha is not None and not (math.isfinite(alpha) and 0.0 < alpha < 1.0):
        raise UsageError(f"--alpha must be between 0 and 1 (exclusive), got {alpha}")
    return (
        _first(max_regression, config.max_regression),
        _first(alpha, config.alpha, DEFAULT_ALPHA),
    )
