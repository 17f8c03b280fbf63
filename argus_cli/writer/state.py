"""The shared state store: a run's original intent, written once, and contract-checked writes.

Context drift (the seed article's second failure mode) happens when each agent works from what
the previous one passed on. The store keeps the original goal where every agent can read it:
`write_intent` stores it once per goal id (a different intent for the same goal raises, the same
one again is a no-op), and `get_intent` stamps the hop that reads it with the intent checksum, so
a hop that worked from anything else shows up as drifted, or unanchored, in `argus report`.

Agents write their results with `set`, or with `write_with_contract`, which refuses keys that an
`AgentWriteContract` forbids (the intent itself) or does not declare. Values are JSON on every
backend, so code tested against the in-memory store behaves the same on Redis.

Backends: `memory` (one process), `file` (a JSON file, shared by the processes of one machine:
every change is a read-modify-replace under an exclusive `flock` on a side lock file, and the
data file is replaced atomically, so a reader never sees half a write), and `redis` (write-once
with `SET NX`, atomic across machines; the `redis` package is imported only for this backend).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from argus_cli.schema import intent_checksum
from argus_cli.writer.records import rfc3339
from argus_cli.writer.tracing import AgentTracer, current_hop

PROTECTED_KEYS = ("original_intent", "goal_id")
STATE_PATH_ENV = "ARGUS_STATE_PATH"
REDIS_URL_ENV = "ARGUS_REDIS_URL"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
BackendName = Literal["memory", "file", "redis"]


class IntentConflict(PermissionError):
    """A different intent was written for a goal that already has one."""


@dataclasses.dataclass(frozen=True)
class Intent:
    """The original goal of a run (SPEC 1.2), immutable once written."""

    goal_id: str
    goal: str
    constraints: tuple[str, ...]
    intent_checksum: str
    created_at: str

    @property
    def checksum(self) -> str:
        """The seed article's name for `intent_checksum`."""
        return self.intent_checksum

    def to_dict(self) -> dict[str, Any]:
        return {
            "goal_id": self.goal_id,
            "goal": self.goal,
            "constraints": list(self.constraints),
            "intent_checksum": self.intent_checksum,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Intent:
        return cls(
            goal_id=data["goal_id"],
            goal=data["goal"],
            constraints=tuple(data["constraints"]),
            intent_checksum=data["intent_checksum"],
            created_at=data["created_at"],
        )


@dataclasses.dataclass(frozen=True)
class AgentWriteContract:
    """What one agent may write: declared keys only, never the protected ones."""

    agent_id: str
    allowed_write_keys: Sequence[str]
    forbidden_write_keys: Sequence[str] = PROTECTED_KEYS

    def __post_init__(self) -> None:
        for name in ("allowed_write_keys", "forbidden_write_keys"):
            keys = getattr(self, name)
            if isinstance(keys, str):
                raise TypeError(f"{name} is a list of keys, got the string {keys!r}")
            object.__setattr__(self, name, tuple(keys))

    def check(self, key: str, agent_id: str | None = None) -> None:
        """PermissionError, worded as in the seed article, unless `key` may be written."""
        check_write(self, agent_id or self.agent_id, key)


StateContract = AgentWriteContract  # the name the seed article imports


def check_write(contract: Any, agent_id: str, key: str) -> None:
    """The article's rules for any contract-like object (its own pydantic model too)."""
    if getattr(contract, "agent_id", agent_id) != agent_id:
        raise PermissionError(
            f"Agent {agent_id} used the write contract of agent {contract.agent_id}"
        )
    if key in contract.forbidden_write_keys:
        raise PermissionError(f"Agent {agent_id} attempted to overwrite protected key: {key}")
    if key not in contract.allowed_write_keys:
        raise PermissionError(f"Agent {agent_id} attempted to write undeclared key: {key}")


@dataclasses.dataclass(frozen=True)
class Entry:
    """A stored value and who wrote it when."""

    value: Any
    written_by: str | None
    written_at: str


# --------------------------------------------------------------------------------------------
# Backends: each stores JSON text; SharedStateStore does the encoding and the rules.


class StateBackend(Protocol):
    def put_intent_once(self, goal_id: str, data: str) -> str | None:
        """Store `data` unless the goal has an intent; return the existing one if it has."""

    def get_intent(self, goal_id: str) -> str | None: ...

    def put(self, key: str, data: str) -> None: ...

    def get(self, key: str) -> str | None: ...

    def close(self) -> None: ...


class MemoryBackend:
    """One process's store; a lock makes write-once hold across its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._intents: dict[str, str] = {}
        self._values: dict[str, str] = {}

    def put_intent_once(self, goal_id: str, data: str) -> str | None:
        with self._lock:
            existing = self._intents.get(goal_id)
            if existing is None:
                self._intents[goal_id] = data
            return existing

    def get_intent(self, goal_id: str) -> str | None:
        with self._lock:
            return self._intents.get(goal_id)

    def put(self, key: str, data: str) -> None:
        with self._lock:
            self._values[key] = data

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._values.get(key)

    def close(self) -> None:
        """Nothing to release."""


class FileBackend:
    """A JSON file shared by the processes of one machine (see the module docstring).

    Every operation opens its own descriptor on the lock file, so `flock` excludes threads of
    one process as well as other processes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[dict[str, dict[str, str]]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield self._read()
        finally:
            os.close(fd)  # releases the lock

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"intents": {}, "values": {}}
        try:
            state = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.path}: not a shared state file ({exc})") from None
        if not isinstance(state, dict):
            raise ValueError(f"{self.path}: not a shared state file")
        state.setdefault("intents", {})
        state.setdefault("values", {})
        return state

    def _replace(self, state: dict[str, dict[str, str]]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle, ensure_ascii=False, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def put_intent_once(self, goal_id: str, data: str) -> str | None:
        with self._locked(exclusive=True) as state:
            existing = state["intents"].get(goal_id)
            if existing is None:
                state["intents"][goal_id] = data
                self._replace(state)
            return existing

    def get_intent(self, goal_id: str) -> str | None:
        with self._locked(exclusive=False) as state:
            return state["intents"].get(goal_id)

    def put(self, key: str, data: str) -> None:
        with self._locked(exclusive=True) as state:
            state["values"][key] = data
            self._replace(state)

    def get(self, key: str) -> str | None:
        with self._locked(exclusive=False) as state:
            return state["values"].get(key)

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own descriptor."""


class RedisBackend:
    """Keys `{namespace}:intent:{goal_id}` and `{namespace}:value:{key}` on a Redis server."""

    def __init__(
        self, url: str | None = None, *, client: Any = None, namespace: str = "argus"
    ) -> None:
        if client is None:
            try:
                import redis
            except ImportError as exc:
                raise ImportError(
                    "backend='redis' needs the redis package: pip install redis"
                ) from exc
            client = redis.Redis.from_url(url or os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL)
        self.client = client
        self.prefix = f"{namespace}:"

    @staticmethod
    def _text(value: Any) -> str | None:
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def put_intent_once(self, goal_id: str, data: str) -> str | None:
        key = f"{self.prefix}intent:{goal_id}"
        for _ in range(3):  # retried only if the key vanished between SET NX and GET
            if self.client.set(key, data, nx=True):
                return None
            existing = self._text(self.client.get(key))
            if existing is not None:
                return existing
        raise RuntimeError(f"redis key {key} keeps disappearing: is something deleting it?")

    def get_intent(self, goal_id: str) -> str | None:
        return self._text(self.client.get(f"{self.prefix}intent:{goal_id}"))

    def put(self, key: str, data: str) -> None:
        self.client.set(f"{self.prefix}value:{key}", data)

    def get(self, key: str) -> str | None:
        return self._text(self.client.get(f"{self.prefix}value:{key}"))

    def close(self) -> None:
        self.client.close()


# --------------------------------------------------------------------------------------------
# The store


class SharedStateStore:
    """State shared by the agents of a workflow, with a write-once original intent.

    The default goal id is the attached tracer's current run id (so each run has its own
    intent), else `goal_id`, else a UUID made for this store. With a tracer attached, the first
    write of an intent also writes the run's `intent` record.
    """

    def __init__(
        self,
        backend: BackendName | StateBackend = "memory",
        *,
        path: str | os.PathLike[str] | None = None,
        url: str | None = None,
        client: Any = None,
        namespace: str = "argus",
        tracer: AgentTracer | None = None,
        goal_id: str | None = None,
    ) -> None:
        self.backend: StateBackend
        if backend == "memory":
            self.backend = MemoryBackend()
        elif backend == "file":
            where = path if path is not None else os.environ.get(STATE_PATH_ENV)
            if not where:
                raise ValueError(f"backend='file' needs path= (or ${STATE_PATH_ENV})")
            self.backend = FileBackend(where)
        elif backend == "redis":
            self.backend = RedisBackend(url, client=client, namespace=namespace)
        elif isinstance(backend, str):
            raise ValueError(f"unknown backend {backend!r} (memory, file or redis)")
        else:
            self.backend = backend
        self.tracer = tracer
        self._goal_id = goal_id or uuid.uuid4().hex

    def __repr__(self) -> str:
        return f"<SharedStateStore {type(self.backend).__name__}>"

    def __enter__(self) -> SharedStateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the backend's connection (Redis); the stored state stays."""
        self.backend.close()

    def _now(self) -> float:
        return self.tracer.now() if self.tracer is not None else time.time()

    @property
    def goal_id(self) -> str:
        """The goal id used when none is given."""
        return self.tracer.run_id if self.tracer is not None else self._goal_id

    def write_intent(
        self, goal: str, constraints: Sequence[str] = (), *, goal_id: str | None = None
    ) -> Intent:
        """Store the original intent once; the same intent again returns the stored one.

        Raises IntentConflict when the goal already has a different intent.
        """
        if not isinstance(goal, str):
            raise TypeError(f"goal must be a string, got {goal!r}")
        if isinstance(constraints, str) or not all(isinstance(c, str) for c in constraints):
            raise TypeError(f"constraints must be a list of strings, got {constraints!r}")
        goal_id = goal_id or self.goal_id
        now = self._now()
        intent = Intent(
            goal_id=goal_id,
            goal=goal,
            constraints=tuple(constraints),
            intent_checksum=intent_checksum(goal, list(constraints)),
            created_at=rfc3339(now),
        )
        existing = self.backend.put_intent_once(goal_id, json.dumps(intent.to_dict()))
        if existing is not None:
            stored = Intent.from_dict(json.loads(existing))
            if stored.intent_checksum != intent.intent_checksum:
                raise IntentConflict(
                    f"goal {goal_id} already has an intent (checksum "
                    f"{stored.intent_checksum[:12]}…): the original intent is write-once"
                )
            return stored
        if self.tracer is not None:
            self.tracer.record_intent(goal, list(constraints), goal_id=goal_id, created_at=now)
        return intent

    def get_intent(self, goal_id: str | None = None) -> Intent:
        """The stored intent; the open hop that reads it records its checksum."""
        goal_id = goal_id or self.goal_id
        data = self.backend.get_intent(goal_id)
        if data is None:
            raise KeyError(f"no intent written for goal {goal_id}; call write_intent() first")
        intent = Intent.from_dict(json.loads(data))
        hop = current_hop()
        if hop is not None and "intent_checksum" not in hop.fields:
            hop.record(intent_checksum=intent.intent_checksum)
        return intent

    def set(self, key: str, value: Any, *, written_by: str | None = None) -> None:
        """Store a JSON value; the intent's keys are refused (they are write-once)."""
        if key in PROTECTED_KEYS:
            raise PermissionError(f"{key} is write-once: the intent is written by write_intent()")
        entry = {"value": value, "written_by": written_by, "written_at": rfc3339(self._now())}
        try:
            data = json.dumps(entry, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"value of {key!r} must be JSON (dicts, lists, text, numbers): {exc}"
            ) from None
        self.backend.put(key, data)

    def get(self, key: str, default: Any = None) -> Any:
        entry = self.entry(key)
        return default if entry is None else entry.value

    def entry(self, key: str) -> Entry | None:
        """The value of `key` with who wrote it and when, or None."""
        data = self.backend.get(key)
        if data is None:
            return None
        raw = json.loads(data)
        return Entry(raw["value"], raw["written_by"], raw["written_at"])

    def write_with_contract(
        self, agent_id: str, key: str, value: Any, contract: AgentWriteContract | Any
    ) -> None:
        """`set`, after the contract allows `agent_id` to write `key` (PermissionError if not)."""
        check_write(contract, agent_id, key)
        self.set(key, value, written_by=agent_id)
