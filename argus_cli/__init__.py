"""argus: why a multi-agent AI workflow fails in production, and whether to ship it.

The CLI (`argus`) reads hop traces into DuckDB; `argus_cli.analysis.analyse` is the same engine as
a library call. The writer library (tracers, validation contracts, the shared state store) is
exported here lazily (PEP 562), so `import argus_cli` stays cheap for the CLI and for agent code:
nothing imports DuckDB or pyarrow until a report is computed or a Parquet part is written.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"  # 0.3: --engine spark; 0.2: SPEC v2 (CHANGELOG.md)

# Public name -> the module that defines it.
_EXPORTS = {
    "AgentTracer": "argus_cli.writer.tracing",
    "WorkflowTracer": "argus_cli.writer.tracing",
    "EmptyTraceError": "argus_cli.writer.tracing",
    "payload_hash": "argus_cli.writer.records",
    "ValidationContract": "argus_cli.writer.contracts",
    "ContractViolation": "argus_cli.writer.contracts",
    "ValidatedAgent": "argus_cli.writer.contracts",
    "SharedStateStore": "argus_cli.writer.state",
    "AgentWriteContract": "argus_cli.writer.state",
    "StateContract": "argus_cli.writer.state",
    "Intent": "argus_cli.writer.state",
    "IntentConflict": "argus_cli.writer.state",
    "GARVISScorer": "argus_cli.writer.scoring",
    "TraceReport": "argus_cli.writer.scoring",
}

__all__ = [
    "AgentTracer",
    "AgentWriteContract",
    "ContractViolation",
    "EmptyTraceError",
    "GARVISScorer",
    "Intent",
    "IntentConflict",
    "SharedStateStore",
    "StateContract",
    "TraceReport",
    "ValidatedAgent",
    "ValidationContract",
    "WorkflowTracer",
    "__version__",
    "payload_hash",
]

if TYPE_CHECKING:
    from argus_cli.writer.contracts import ContractViolation, ValidatedAgent, ValidationContract
    from argus_cli.writer.records import payload_hash
    from argus_cli.writer.scoring import GARVISScorer, TraceReport
    from argus_cli.writer.state import (
        AgentWriteContract,
        Intent,
        IntentConflict,
        SharedStateStore,
        StateContract,
    )
    from argus_cli.writer.tracing import AgentTracer, EmptyTraceError, WorkflowTracer


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'argus_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
