"""Validation contracts, and the sampled validation of the seed article's `ValidatedAgent`.

A contract turns an agent's output into a list of violations, as SPEC `category:rule` strings, so
that `argus report` can count wrong outputs and tell their categories apart (`safety:...` feeds
the G-ARVIS safety score). A contract is built from any mix of:

- a pydantic model (anything with `model_validate`; pydantic itself is never imported here),
- a JSON-schema-like dict: either a subset of JSON Schema (`type`, `properties`, `required`,
  `enum`, `minimum`, `maximum`, `items`, `additionalProperties: false`), or the shorthand
  `{"key": python_type, ...}` where every key is required,
- plain check functions that return violation strings (or nothing).

`ValidatedAgent` validates a random `sample_rate` share of executions and every high-stakes one.
The draw is made before the agent runs, from the agent's own `random.Random`, so whether a hop is
checked cannot depend on its output: the checked hops are an unbiased sample, which is what makes
`argus report`'s silent-error estimate (wrong / checked) honest. Every execution is recorded,
checked or not: validation is sampled, tracing is not.
"""

from __future__ import annotations

import numbers
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from argus_cli.writer.tracing import AgentTracer, Hop, current_hop

CheckFunction = Callable[[Any], "Iterable[str] | str | None"]
Rule = Any  # a pydantic-like model class, a schema dict, or a CheckFunction


class ContractViolation(Exception):
    """An output broke its contract; raised after the hop (with its violations) was recorded.

    `output` is the offending output, for a caller that routes it to review instead of failing.
    `span_id` is the hop whose output it was: that hop stays `success` (it is wrong, not in
    error) when the exception leaves it, while a caller it travels up through records an error.
    """

    def __init__(
        self,
        message: str,
        *,
        hop_id: str | None = None,
        violations: Sequence[str] = (),
        output: Any = None,
        span_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.hop_id = hop_id
        self.violations = list(violations)
        self.output = output
        self.span_id = span_id


# --------------------------------------------------------------------------------------------
# Rules


def _prefixed(category: str, violation: str) -> str:
    return violation if ":" in violation else f"{category}:{violation}"


def _model_check(model: Any, category: str) -> Callable[[Any], list[str]]:
    """Violations from a pydantic-like model: one per error, `category:type:field`."""

    def check(output: Any) -> list[str]:
        try:
            model.model_validate(output)
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            errors = getattr(exc, "errors", None)
            if not callable(errors):
                return [f"{category}:invalid:{type(exc).__name__}"]
            found = []
            for error in errors():
                kind = str(error.get("type", "invalid"))
                rule = "missing_field" if kind == "missing" else kind
                loc = ".".join(str(part) for part in error.get("loc", ()))
                found.append(f"{category}:{rule}:{loc}" if loc else f"{category}:{rule}")
            return found or [f"{category}:invalid"]
        return []

    return check


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list | tuple),
    "object": lambda v: isinstance(v, Mapping),
    "null": lambda v: v is None,
}


def _is_json_schema(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return (
        isinstance(kind, str)
        or (isinstance(kind, list) and all(isinstance(k, str) for k in kind))
        or isinstance(schema.get("properties"), Mapping)
        or isinstance(schema.get("required"), list)
    )


def _json_schema_errors(schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
    """Violations (without category) of the supported subset of JSON Schema."""
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        unknown = [k for k in kinds if k not in _JSON_TYPES]
        if unknown:
            raise ValueError(f"unsupported JSON schema type(s) {unknown} at {path}")
        if not any(_JSON_TYPES[k](value) for k in kinds):
            return [f"wrong_type:{path}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"not_allowed:{path}"]
    errors: list[str] = []
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            errors.append(f"out_of_range:{path}")
    if isinstance(value, Mapping):
        properties: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"missing_field:{_join(path, key)}")
        for key, sub in properties.items():
            if key in value:
                errors.extend(_json_schema_errors(sub, value[key], _join(path, key)))
        if schema.get("additionalProperties") is False:
            errors.extend(
                f"unexpected_field:{_join(path, k)}" for k in value if k not in properties
            )
    if isinstance(value, list | tuple) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            errors.extend(_json_schema_errors(schema["items"], item, f"{path}[{index}]"))
    return errors


def _join(path: str, key: str) -> str:
    return key if path == "output" else f"{path}.{key}"


def _shorthand_errors(schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
    """`{"key": type or (types) or {nested shorthand}}`: every key required, of that type."""
    if not isinstance(value, Mapping):
        return [f"wrong_type:{path}"]
    errors: list[str] = []
    for key, expected in schema.items():
        where = _join(path, key)
        if key not in value:
            errors.append(f"missing_field:{where}")
        elif isinstance(expected, Mapping):
            errors.extend(_shorthand_errors(expected, value[key], where))
        elif not _isinstance(value[key], expected):
            errors.append(f"wrong_type:{where}")
    return errors


def _isinstance(value: Any, expected: Any) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    for t in types:
        if t is None or t is type(None):
            if value is None:
                return True
        elif t is float:
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                return True
        elif t is int:
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                return True
        elif isinstance(value, t):
            return True
    return False


def _check_shorthand(schema: Mapping[str, Any], path: str = "schema") -> None:
    for key, expected in schema.items():
        if isinstance(expected, Mapping):
            _check_shorthand(expected, f"{path}.{key}")
            continue
        types = expected if isinstance(expected, tuple) else (expected,)
        if not all(t is None or isinstance(t, type) for t in types):
            raise TypeError(f"{path}.{key}: expected a type, a tuple of types or a dict")


def _schema_check(schema: Mapping[str, Any], category: str) -> Callable[[Any], list[str]]:
    if _is_json_schema(schema):
        errors = _json_schema_errors
    else:
        _check_shorthand(schema)
        errors = _shorthand_errors
    return lambda output: [f"{category}:{e}" for e in errors(schema, output, "output")]


def _function_check(fn: CheckFunction, category: str) -> Callable[[Any], list[str]]:
    def check(output: Any) -> list[str]:
        result = fn(output)
        if result is None:
            return []
        if isinstance(result, str):
            return [_prefixed(category, result)] if result else []
        if isinstance(result, bool):
            raise TypeError(f"check {fn!r} returned a bool; return violation strings instead")
        found = list(result)
        if not all(isinstance(v, str) for v in found):
            raise TypeError(f"check {fn!r} must return strings, got {found!r}")
        return [_prefixed(category, v) for v in found if v]

    return check


# --------------------------------------------------------------------------------------------
# Contracts

_REGISTRY: dict[str, ValidationContract] = {}
_REGISTRY_LOCK = threading.Lock()


class ValidationContract:
    """What a valid output looks like; `check(output)` lists the `category:rule` violations.

    Each rule is a pydantic-like model class, a schema dict or a check function (see the module
    docstring); `category` prefixes violations of model and schema rules, and any check-function
    violation that has no `category:` of its own.
    """

    def __init__(self, *rules: Rule, name: str | None = None, category: str = "format") -> None:
        if not rules:
            raise ValueError("a contract needs at least one rule (model, schema or check)")
        self.name = name
        self.category = category
        self._checks = [self._compile(rule, category) for rule in rules]

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<ValidationContract{label}: {len(self._checks)} rule(s)>"

    @staticmethod
    def _compile(rule: Rule, category: str) -> Callable[[Any], list[str]]:
        if isinstance(rule, ValidationContract):
            return rule.check
        if callable(getattr(rule, "model_validate", None)):
            return _model_check(rule, category)
        if isinstance(rule, Mapping):
            return _schema_check(rule, category)
        if callable(rule):
            return _function_check(rule, category)
        raise TypeError(
            f"a contract rule is a model with model_validate, a schema dict or a function, "
            f"got {rule!r}"
        )

    @classmethod
    def from_model(cls, model: Any, *, category: str = "format") -> ValidationContract:
        """From a pydantic model (or any class with `model_validate`)."""
        if not callable(getattr(model, "model_validate", None)):
            raise TypeError(f"{model!r} has no model_validate (a pydantic v2 model has)")
        return cls(model, name=getattr(model, "__name__", None), category=category)

    @classmethod
    def from_schema(
        cls, schema: Mapping[str, Any], *, category: str = "format"
    ) -> ValidationContract:
        """From a JSON-schema-like dict (see the module docstring)."""
        if not isinstance(schema, Mapping):
            raise TypeError(f"a schema is a dict, got {schema!r}")
        return cls(schema, category=category)

    @classmethod
    def from_checks(cls, *checks: CheckFunction, category: str = "contract") -> ValidationContract:
        """From functions that return violation strings (`category:rule`, or just `rule`)."""
        return cls(*checks, category=category)

    def check(self, output: Any) -> list[str]:
        """Every violation of every rule, in rule order, without repeats; [] when valid."""
        found: dict[str, None] = {}
        for check in self._checks:
            for violation in check(output):
                found.setdefault(violation)
        return list(found)

    @classmethod
    def register(cls, task_id: str, contract: ValidationContract | Rule) -> ValidationContract:
        """Make `contract` the one `for_task(task_id)` returns (replacing any earlier one)."""
        if not isinstance(contract, ValidationContract):
            contract = cls(contract, name=task_id)
        with _REGISTRY_LOCK:
            _REGISTRY[task_id] = contract
        return contract

    @classmethod
    def unregister(cls, task_id: str) -> None:
        with _REGISTRY_LOCK:
            _REGISTRY.pop(task_id, None)

    @classmethod
    def for_task(cls, task_id: str) -> ValidationContract:
        """The contract registered for a task, or KeyError saying how to register one."""
        with _REGISTRY_LOCK:
            contract = _REGISTRY.get(task_id)
        if contract is None:
            raise KeyError(
                f"no validation contract registered for task {task_id!r}; "
                f"register one with ValidationContract.register({task_id!r}, contract)"
            )
        return contract


# --------------------------------------------------------------------------------------------
# Sampled validation


class ValidatedAgent:
    """Runs an agent, validates a sampled share of its outputs and every high-stakes one.

    `run(payload, hop_id)` records one hop per call, validated or not, and raises
    ContractViolation after recording when the output breaks the contract. A payload is
    high-stakes when `high_stakes=True` is passed or the payload has `"high_stakes": True`.
    """

    def __init__(
        self,
        agent_fn: Callable[[Any], Any],
        contract: ValidationContract | None = None,
        sample_rate: float = 0.15,
        *,
        tracer: AgentTracer,
        seed: int | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(sample_rate, bool) or not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in 0..1, got {sample_rate!r}")
        self.agent = agent_fn
        self.contract = contract
        self.sample_rate = float(sample_rate)
        self.tracer = tracer
        self.name = name or getattr(agent_fn, "__name__", None)
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.executions = 0
        self.validations = 0

    def __repr__(self) -> str:
        return f"<ValidatedAgent {self.name!r} sample_rate={self.sample_rate}>"

    def should_validate(self, high_stakes: bool) -> bool:
        """One draw per execution, high-stakes or not, so the sample never depends on the mix."""
        with self._rng_lock:
            draw = self._rng.random()
            self.executions += 1
        return high_stakes or draw < self.sample_rate

    def run(
        self,
        input_payload: Any,
        hop_id: str,
        *,
        high_stakes: bool | None = None,
        contract: ValidationContract | None = None,
    ) -> Any:
        """Run the agent in its own hop `hop_id` and return its output."""
        chosen = self._contract(contract)
        stakes = self._high_stakes(input_payload, high_stakes)
        with self.tracer.hop(
            hop_id, agent=self.name, high_stakes=stakes, input=input_payload
        ) as hop:
            return self._run_in(hop, input_payload, chosen, stakes)

    def run_with_validation(
        self,
        context: Any,
        contract: ValidationContract | None = None,
        *,
        high_stakes: bool | None = None,
    ) -> Any:
        """Run inside an open `tracer.hop(...)`: the validation result goes on that hop."""
        hop = current_hop(self.tracer)
        if hop is None:
            raise RuntimeError(
                "run_with_validation() records onto the open hop: call it inside "
                "`with tracer.hop(...)`, or use run(payload, hop_id)"
            )
        chosen = self._contract(contract)
        stakes = self._high_stakes(context, high_stakes) or bool(hop.fields.get("high_stakes"))
        hop.record(input=context, high_stakes=stakes)
        if self.name and "agent" not in hop.fields:
            hop.record(agent=self.name)
        return self._run_in(hop, context, chosen, stakes)

    __call__ = run

    def _contract(self, contract: ValidationContract | None) -> ValidationContract:
        chosen = contract or self.contract
        if chosen is None:
            raise ValueError(f"{self!r} has no contract: pass one here or to ValidatedAgent()")
        return chosen

    @staticmethod
    def _high_stakes(payload: Any, explicit: bool | None) -> bool:
        if explicit is not None:
            return bool(explicit)
        return isinstance(payload, Mapping) and payload.get("high_stakes") is True

    def _run_in(self, hop: Hop, payload: Any, contract: ValidationContract, stakes: bool) -> Any:
        validate = self.should_validate(stakes)  # drawn before the output exists
        output = self.agent(payload)
        hop.record(output)
        if not validate:
            hop.record(validated=False)
            return output
        with self._rng_lock:
            self.validations += 1
        violations = contract.check(output)
        hop.record(validated=True, violations=violations)
        if violations:
            raise ContractViolation(
                f"hop {hop.hop_id}: {violations}",
                hop_id=hop.hop_id,
                violations=violations,
                output=output,
                span_id=hop.span_id,
            )
        return output
