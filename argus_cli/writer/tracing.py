"""The tracers: agent code opens a hop, records what happened, and a SPEC record is written.

A tracer records the runs of one workflow (SPEC 8). `tracer.hop(hop_id)` is a context manager:
entering it gives the hop its place in the run (`run_id`, `seq` in start order, a `span_id`, and
the enclosing hop's `span_id` as `parent_id`: its caller) and starts the clock; leaving it writes
exactly one `hop` record. A hop opened after another has ended, in the same block, is its
sibling, not its child: a chain's hops are all top-level. An exception that escapes the block is
recorded as `status: "error"` and re-raised, so failures are in the trace without anyone
remembering to log them; an exception that the block catches (a retried tool call, a fallback)
leaves the hop a success, and the child that raised it is a handled error (SPEC 3.1).
`record_hop` writes a record in one call, for code that times its own work.

The open hops live in a context variable, so nesting is right per thread and per asyncio task,
and the shared state store can stamp the hop that reads the intent with its checksum. What a
record holds, and how its fields are checked, is argus_cli.writer.records. Nothing here imports
DuckDB or pyarrow until `finalize()` or a Parquet sink needs them.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from argus_cli.diagnostics import InputError
from argus_cli.report import G_ARVIS_DIMENSIONS, Settings
from argus_cli.schema import intent_checksum
from argus_cli.writer.records import (
    UNSET,
    HopFields,
    Placement,
    Stamp,
    check_field,
    checked_fields,
    describe_error,
    hop_record,
    rfc3339,
    to_epoch,
)
from argus_cli.writer.sinks import JsonlSink, ParquetSink, Sink

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

    from argus_cli.writer.scoring import TraceReport

TRACE_PATH_ENV = "ARGUS_TRACE_PATH"
DEFAULT_TRACE_DIR = "argus-traces"
TraceFormat = Literal["jsonl", "parquet"]


class EmptyTraceError(InputError):
    """`finalize()` was called on a tracer with nothing to report."""


def random_span_id() -> str:
    """16 random hex digits, the size of an OpenTelemetry span id."""
    return uuid.uuid4().hex[:16]


# --------------------------------------------------------------------------------------------
# Hops

_OPEN_HOPS: contextvars.ContextVar[tuple[Hop, ...]] = contextvars.ContextVar(
    "argus_open_hops", default=()
)


def current_hop(tracer: AgentTracer | None = None) -> Hop | None:
    """The innermost open hop in this thread or task (of `tracer`, when given)."""
    for hop in reversed(_OPEN_HOPS.get()):
        if tracer is None or hop.tracer is tracer:
            return hop
    return None


class Hop:
    """One hop being executed; `record()` sets its fields, leaving the block writes it."""

    def __init__(
        self, tracer: AgentTracer, hop_id: str, parent_id: str | None, fields: dict[str, Any]
    ) -> None:
        self.tracer = tracer
        self.hop_id = hop_id
        self.span_id = tracer._span_ids()
        self.parent_id = parent_id
        self.run_id = ""
        self.seq = 0
        self._fields = fields
        self._output: Any = UNSET
        self._start: Stamp | None = None
        self._token: contextvars.Token[tuple[Hop, ...]] | None = None
        self._state: Literal["new", "open", "closed"] = "new"

    def __repr__(self) -> str:
        return f"<Hop {self.hop_id!r} run={self.run_id!r} seq={self.seq} {self._state}>"

    @property
    def fields(self) -> Mapping[str, Any]:
        """What has been recorded so far (without the output payload)."""
        return dict(self._fields)

    def record(self, output: Any = UNSET, **fields: Unpack[HopFields]) -> None:
        """Set fields of this hop's record; later calls override, metadata is merged.

        `output` (and `input`) are payloads: hashed into `output_hash` (`input_hash`), and
        written in full only when the tracer stores payloads.
        """
        if self._state == "closed":
            raise RuntimeError(f"hop {self.hop_id!r} has ended: call record() inside its block")
        checked = checked_fields(fields)
        if "metadata" in checked and "metadata" in self._fields:
            checked["metadata"] = {**self._fields["metadata"], **checked["metadata"]}
        self._fields.update(checked)
        if output is not UNSET:
            self._output = output

    def __enter__(self) -> Hop:
        if self._state != "new":
            raise RuntimeError(f"hop {self.hop_id!r} was already entered; open a new one")
        self._place()
        self._state = "open"
        self._token = _OPEN_HOPS.set((*_OPEN_HOPS.get(), self))
        self._start = self.tracer._stamp()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end = self.tracer._stamp()
        self._pop()
        self._state = "closed"
        if exc is not None and not self._violation_recorded(exc):
            self._fields["status"] = "error"
            self._fields["error"] = describe_error(exc)
        assert self._start is not None
        latency_ms = max(0.0, end.mono - self._start.mono) * 1000.0
        self.tracer._write_hop(self, self._start.wall, end.wall, latency_ms, self._output)

    def _place(self) -> None:
        """Take the next `seq` of the tracer's run, and the enclosing hop as parent."""
        self.run_id, self.seq = self.tracer._next_seq()
        if self.parent_id is None:
            enclosing = current_hop(self.tracer)
            if enclosing is not None and enclosing.run_id == self.run_id:
                self.parent_id = enclosing.span_id

    def _pop(self) -> None:
        token, self._token = self._token, None
        try:
            if token is not None:
                _OPEN_HOPS.reset(token)
                return
        except ValueError:  # exited in another context than entered (e.g. across tasks)
            pass
        _OPEN_HOPS.set(tuple(h for h in _OPEN_HOPS.get() if h is not self))

    def _violation_recorded(self, exc: BaseException) -> bool:
        """A ContractViolation whose violations this hop records is a wrong output, not an error.

        SPEC 2 keeps the two apart: `status` is what the hop reported, and violations found by
        validation make it wrong. Counting it as an error would hide it from the silent-error
        estimate that sampled validation exists to make. A violation raised for another hop
        (a child's, travelling up through this caller) is this hop's error, as any exception.
        """
        from argus_cli.writer.contracts import ContractViolation

        return (
            isinstance(exc, ContractViolation)
            and exc.span_id in (None, self.span_id)
            and bool(self._fields.get("validated"))
            and bool(self._fields.get("violations"))
        )


# --------------------------------------------------------------------------------------------
# Tracers

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def default_trace_path(workflow_id: str, fmt: TraceFormat | None = None) -> Path:
    """$ARGUS_TRACE_PATH (`{workflow_id}` in it is filled in), else argus-traces/<id>.jsonl."""
    safe = _UNSAFE_NAME.sub("_", workflow_id).strip(".") or "default"
    configured = os.environ.get(TRACE_PATH_ENV)
    if configured:
        return Path(configured.replace("{workflow_id}", safe))
    return Path(DEFAULT_TRACE_DIR) / f"{safe}.{'parquet' if fmt == 'parquet' else 'jsonl'}"


def _format_of(path: Path, requested: TraceFormat | None) -> TraceFormat:
    if path.name.endswith(".gz"):
        raise ValueError(f"{path}: gzip cannot be appended to safely; write .jsonl, compress later")
    if requested is not None:
        if requested not in ("jsonl", "parquet"):
            raise ValueError(f"format must be 'jsonl' or 'parquet', got {requested!r}")
        return requested
    return "parquet" if path.name.endswith(".parquet") else "jsonl"


def settings_for(
    workflow_id: str | None, dimensions: Sequence[str] | None, base: Settings | None = None
) -> Settings:
    """Settings restricted to one workflow, with a G-ARVIS composite over `dimensions`."""
    base = base or Settings()
    weights = base.g_arvis_weights
    if dimensions is not None:
        unknown = [d for d in dimensions if d not in G_ARVIS_DIMENSIONS]
        if unknown:
            raise ValueError(
                f"unknown G-ARVIS dimension(s) {', '.join(unknown)}; "
                f"known: {', '.join(G_ARVIS_DIMENSIONS)}"
            )
        weights = tuple((d, base.weight(d) if d in dimensions else 0.0) for d in G_ARVIS_DIMENSIONS)
    workflows = (workflow_id,) if workflow_id is not None else base.workflows
    return dataclasses.replace(base, g_arvis_weights=weights, workflows=workflows)


class AgentTracer:
    """Records the runs of one workflow as SPEC records (see the module docstring).

    `path` (or $ARGUS_TRACE_PATH, else `argus-traces/{workflow_id}.jsonl`) is a JSON Lines file,
    or a Parquet folder when it ends in `.parquet` or `format="parquet"`; `sink` replaces both
    (any argus_cli.writer.sinks.Sink, e.g. one that keeps records in memory; `finalize()` reads
    `sink.path`). For simulations and tests, `clock` (epoch seconds) replaces the wall and
    monotonic clocks, and `span_ids` makes the span ids (default: random_span_id), so that a
    seeded simulation writes the same bytes every time.
    """

    def __init__(
        self,
        workflow_id: str = "default",
        *,
        path: str | os.PathLike[str] | None = None,
        format: TraceFormat | None = None,
        run_id: str | None = None,
        store_payloads: bool = False,
        rows_per_group: int = 10_000,
        clock: Callable[[], float] | None = None,
        g_arvis_dimensions: Sequence[str] | None = None,
        settings: Settings | None = None,
        sink: Sink | None = None,
        span_ids: Callable[[], str] | None = None,
    ) -> None:
        if not isinstance(workflow_id, str) or not workflow_id:
            raise ValueError("workflow_id must be a non-empty string")
        self.workflow_id = workflow_id
        if sink is not None:
            if path is not None or format is not None:
                raise ValueError("give a sink, or a path and format, not both")
            self.format: TraceFormat = "parquet" if isinstance(sink, ParquetSink) else "jsonl"
            self._sink: Sink = sink
        else:
            target = Path(path) if path is not None else default_trace_path(workflow_id, format)
            self.format = _format_of(target, format)
            self._sink = (
                ParquetSink(target, rows_per_group)
                if self.format == "parquet"
                else JsonlSink(target)
            )
        self._span_ids = span_ids or random_span_id
        self.store_payloads = store_payloads
        self.g_arvis_dimensions = tuple(g_arvis_dimensions or G_ARVIS_DIMENSIONS)
        self.settings = settings_for(workflow_id, g_arvis_dimensions, settings)
        self._clock = clock
        self._lock = threading.Lock()
        self._run_id = run_id or uuid.uuid4().hex
        self._seq = 0
        self.hops_written = 0
        self.records_written = 0

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} workflow={self.workflow_id!r} run={self._run_id!r} "
            f"path={str(self.path)!r}>"
        )

    @property
    def path(self) -> Path:
        return self._sink.path

    @property
    def run_id(self) -> str:
        return self._run_id

    def now(self) -> float:
        """Epoch seconds on this tracer's clock (the real one unless `clock` was given)."""
        return self._stamp().wall

    def new_run(self, run_id: str | None = None) -> str:
        """Start the next run on this tracer: a new run_id, and `seq` from 1 again."""
        with self._lock:
            self._run_id = run_id or uuid.uuid4().hex
            self._seq = 0
            return self._run_id

    def hop(
        self, hop_id: str, *, parent: Hop | str | None = None, **fields: Unpack[HopFields]
    ) -> Hop:
        """A context manager for one hop; `fields` are recorded up front (e.g. metadata).

        The hop's parent is its caller: the hop open around this one in the same thread or
        task, if any. `parent` (a Hop or a span id) names the caller when it is not that one,
        e.g. work a hop hands to a thread pool, or a call from another process. A hop that only
        received the previous hop's output (a chain, a hand-off) has no parent: leave it out.
        """
        if not isinstance(hop_id, str) or not hop_id:
            raise ValueError("hop_id must be a non-empty string")
        parent_id = parent.span_id if isinstance(parent, Hop) else parent
        return Hop(self, hop_id, parent_id, checked_fields(fields))

    def record_hop(
        self,
        hop_id: str,
        output: Any = UNSET,
        *,
        started_at: dt.datetime | float | None = None,
        ended_at: dt.datetime | float | None = None,
        latency_ms: float | None = None,
        parent: Hop | str | None = None,
        **fields: Unpack[HopFields],
    ) -> dict[str, Any]:
        """Write one hop record now, for code that did the work already; returns the record.

        Timestamps are aware datetimes or epoch seconds; `ended_at` defaults to now. The hop
        takes the run's next `seq` and the open hop as parent when called, so record the hops
        of a run in the order they started.
        """
        hop = self.hop(hop_id, parent=parent, **fields)
        hop._place()
        hop._state = "closed"
        end = to_epoch(ended_at) if ended_at is not None else self._stamp().wall
        if latency_ms is not None:
            latency = check_field("latency_ms", latency_ms)
            start = to_epoch(started_at) if started_at is not None else end - latency / 1000.0
        else:
            start = to_epoch(started_at) if started_at is not None else end
            latency = (end - start) * 1000.0
        return self._write_hop(hop, start, end, latency, output)

    def record_intent(
        self,
        goal: str,
        constraints: Sequence[str] = (),
        *,
        goal_id: str | None = None,
        created_at: dt.datetime | float | None = None,
    ) -> dict[str, Any]:
        """Write this run's `intent` record (SPEC 1.2); SharedStateStore calls it for you."""
        record: dict[str, Any] = {
            "kind": "intent",
            "run_id": self._run_id,
            "goal": check_field("goal", goal),
            "constraints": check_field("constraints", constraints),
        }
        record["intent_checksum"] = intent_checksum(goal, record["constraints"])
        stamp = to_epoch(created_at) if created_at is not None else self._stamp().wall
        record["created_at"] = rfc3339(stamp)
        if goal_id is not None:
            record["goal_id"] = goal_id
        self._write(record)
        return record

    def record_outcome(
        self, correct: bool, *, source: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Write the verdict on this run's final output (SPEC 1.3), e.g. from a reviewer."""
        record: dict[str, Any] = {
            "kind": "outcome",
            "run_id": self._run_id,
            "correct": check_field("correct", correct),
        }
        if source is not None:
            record["source"] = check_field("source", source)
        if note is not None:
            record["note"] = check_field("note", note)
        self._write(record)
        return record

    def flush(self) -> None:
        """Make every record so far readable (closes the open Parquet part; JSONL needs nothing)."""
        self._sink.flush()

    def close(self) -> None:
        self._sink.close()

    def finalize(self, settings: Settings | None = None) -> TraceReport:
        """The report for this tracer's workflow, from everything in its trace file or folder.

        Computed by `argus_cli.analysis.analyse`, the engine behind `argus report`, over the
        whole destination: runs written earlier or by other processes to the same path count.
        """
        from argus_cli.analysis import analyse
        from argus_cli.writer.scoring import TraceReport

        self._sink.flush()
        empty = (
            f"nothing to report: no hop of workflow {self.workflow_id!r} has been written to "
            f"{self.path} (open one with tracer.hop(...) or call record_hop() first)"
        )
        if not self.path.exists():
            raise EmptyTraceError(empty)
        try:
            report = analyse([str(self.path)], settings or self.settings, quiet=True)
        except InputError as exc:
            if self.hops_written == 0:
                raise EmptyTraceError(empty) from exc
            raise
        return TraceReport(report, self.workflow_id, str(self.path), self.g_arvis_dimensions)

    # ----------------------------------------------------------------------------------------

    def _stamp(self) -> Stamp:
        if self._clock is not None:
            now = float(self._clock())
            return Stamp(now, now)
        return Stamp(time.time(), time.perf_counter())

    def _next_seq(self) -> tuple[str, int]:
        with self._lock:
            self._seq += 1
            return self._run_id, self._seq

    def _write_hop(
        self, hop: Hop, started: float, ended: float, latency_ms: float, output: Any
    ) -> dict[str, Any]:
        place = Placement(
            self.workflow_id, hop.run_id, hop.hop_id, hop.span_id, hop.parent_id, hop.seq
        )
        record = hop_record(
            place,
            hop._fields,
            output,
            started=started,
            ended=ended,
            latency_ms=latency_ms,
            store_payloads=self.store_payloads,
        )
        self._write(record)
        with self._lock:
            self.hops_written += 1
        return record

    def _write(self, record: Mapping[str, Any]) -> None:
        self._sink.write(record)
        with self._lock:
            self.records_written += 1


class WorkflowTracer(AgentTracer):
    """The same tracer under the name the seed article uses for a whole workflow's runs."""
