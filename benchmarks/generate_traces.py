"""Seeded generator of realistic argus traces (SPEC v1) for the bundled samples and benchmarks.

Real traces are private, so the samples, the tests' fixtures and the benchmarks need a stand-in
that behaves like production: marginal silent errors that cascade down a chain of agents,
sampled validation that catches only some of them, ground truth on a few hops, context drift and
the format variations the SPEC allows. Every figure comes from `random.Random(seed)` and a fixed
epoch, so a seed always gives the same bytes.

Regenerate the samples (from the repository root) with:

    python benchmarks/generate_traces.py sample_traces/prior_auth.jsonl \
        --hops 1900 --seed 7 --workflows prior-auth
    python benchmarks/generate_traces.py sample_traces/claims_coding.jsonl \
        --hops 1150 --seed 11 --workflows claims-coding

Benchmark input (10M hops, memory stays flat):

    python benchmarks/generate_traces.py /tmp/argus-10m.parquet --hops 10000000 --format parquet
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

EPOCH_MS = 1_775_030_400_000  # 2026-04-01T08:00:00Z: fixed, so output never depends on the clock
RUN_GAP_MS = 3_000.0  # mean time between run starts (runs overlap, like a busy queue)
LINES_PER_WRITE = 20_000
PARQUET_ROW_GROUP = 100_000
FORMATS = ("jsonl", "jsonl.gz", "parquet")

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rule:
    """A contract rule a validator can report; rendered as `cat:rule` or as an object."""

    category: str
    rule: str
    severity: str


@dataclass(frozen=True, slots=True)
class HopSpec:
    """One step of a workflow and the rates that drive its simulated truth and telemetry."""

    hop_id: str
    agent: str
    models: tuple[str, ...]  # first is the usual one, the rest are occasional fallbacks
    silent_rate: float  # chance of a wrong output from a clean input
    carry_rate: float  # chance of a wrong output from a wrong input (the cascade)
    sample_rate: float  # validation sample rate of ordinary executions
    error_rate: float  # status "error"
    fatal_share: float  # share of errors that end the run (the rest fall back and go on)
    errors: tuple[str, ...]
    rules: tuple[Rule, ...]
    input_tokens: tuple[int, int]
    output_tokens: tuple[int, int]
    ms_per_token: float
    overhead_ms: float
    high_stakes_share: float = 0.0  # executions that are a decision point (always validated)
    high_stakes_missed: float = 0.0  # the deliberate few high-stakes executions left unchecked
    skip_rate: float = 0.0
    skip_reason: str = ""
    deterministic: bool = False  # temperature 0: identical inputs give identical outputs
    confidence_share: float = 1.0  # executions that report a confidence
    safety_relevant: bool = False
    prompt_version: str = "v1"


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    """A chain of hops plus the run-level habits of the team that runs it."""

    workflow_id: str
    hops: tuple[HopSpec, ...]
    goals: tuple[tuple[str, tuple[str, ...]], ...]  # goal template ({member}), constraints
    drift_rate: float  # per later hop: the hop starts reading a reinterpreted intent
    conflict_rate: float  # runs that get a second, different intent record
    outcome_share: float  # runs whose final output gets a verdict
    label_rate: float  # hops with a ground-truth `correct` label
    score_rate: float  # hops with evaluator scores
    repeat_share: float  # runs that replay a case from a small pool (variance groups)
    case_pool: int


# USD per million tokens (input, output).
PRICES: dict[str, tuple[float, float]] = {
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1": (2.0, 8.0),
    "llama-3.3-70b-instruct": (0.6, 0.6),
}

COMMON_ERRORS = (
    "TimeoutError",
    "TimeoutError",
    "RateLimitError: 429 Too Many Requests",
    "APIConnectionError: connection reset by peer",
    "ContextWindowExceededError",
)

PRIOR_AUTH = WorkflowSpec(
    workflow_id="prior-auth",
    hops=(
        HopSpec(
            hop_id="intake-parser",
            agent="intake-agent",
            models=("claude-haiku-4-5", "gpt-4.1-mini"),
            silent_rate=0.015,
            carry_rate=0.0,
            sample_rate=0.15,
            error_rate=0.012,
            fatal_share=0.8,
            errors=(*COMMON_ERRORS, "JSONDecodeError: Expecting ',' delimiter"),
            rules=(
                Rule("format", "missing_field", "medium"),
                Rule("format", "invalid_date", "low"),
                Rule("grounding", "unsupported_claim", "medium"),
            ),
            input_tokens=(2_500, 11_000),
            output_tokens=(250, 700),
            ms_per_token=6.0,
            overhead_ms=350.0,
            deterministic=True,
            confidence_share=0.7,
            prompt_version="v4",
        ),
        HopSpec(
            hop_id="eligibility-checker",
            agent="eligibility-agent",
            models=("gpt-4.1-mini", "claude-haiku-4-5"),
            silent_rate=0.07,
            carry_rate=0.55,
            sample_rate=0.12,
            error_rate=0.02,
            fatal_share=0.5,
            errors=(*COMMON_ERRORS, "ToolError: eligibility API returned 503"),
            rules=(
                Rule("eligibility", "coverage_mismatch", "high"),
                Rule("eligibility", "plan_year_expired", "high"),
                Rule("format", "missing_field", "medium"),
                Rule("grounding", "member_id_mismatch", "high"),
            ),
            input_tokens=(900, 2_400),
            output_tokens=(120, 400),
            ms_per_token=5.0,
            overhead_ms=650.0,
            prompt_version="v7",
        ),
        HopSpec(
            hop_id="clinical-reviewer",
            agent="clinical-agent",
            models=("claude-sonnet-4-6", "gpt-4.1"),
            silent_rate=0.03,
            carry_rate=0.8,
            sample_rate=0.15,
            error_rate=0.015,
            fatal_share=0.6,
            errors=(*COMMON_ERRORS, "ToolError: guideline search timed out"),
            rules=(
                Rule("safety", "dose_exceeds_limit", "high"),
                Rule("safety", "contraindication_missed", "high"),
                Rule("clinical", "criteria_not_met", "medium"),
                Rule("grounding", "unsupported_claim", "medium"),
            ),
            input_tokens=(3_000, 9_000),
            output_tokens=(400, 1_200),
            ms_per_token=11.0,
            overhead_ms=500.0,
            skip_rate=0.03,
            skip_reason="gold_carded_provider",
            safety_relevant=True,
            prompt_version="v12",
        ),
        HopSpec(
            hop_id="policy-validator",
            agent="policy-agent",
            models=("claude-sonnet-4-6",),
            silent_rate=0.02,
            carry_rate=0.85,
            sample_rate=0.15,
            error_rate=0.01,
            fatal_share=0.5,
            errors=COMMON_ERRORS,
            rules=(
                Rule("policy", "wrong_policy_version", "medium"),
                Rule("policy", "step_therapy_skipped", "high"),
                Rule("compliance", "phi_in_free_text", "high"),
            ),
            input_tokens=(2_000, 6_000),
            output_tokens=(150, 500),
            ms_per_token=11.0,
            overhead_ms=400.0,
            prompt_version="v5",
        ),
        HopSpec(
            hop_id="approval-writer",
            agent="letter-agent",
            models=("claude-sonnet-4-6", "gpt-4.1"),
            silent_rate=0.015,
            carry_rate=0.9,
            sample_rate=0.1,
            error_rate=0.008,
            fatal_share=1.0,
            errors=COMMON_ERRORS,
            rules=(
                Rule("compliance", "missing_denial_reason", "high"),
                Rule("compliance", "appeal_rights_missing", "high"),
                Rule("safety", "dose_exceeds_limit", "high"),
                Rule("format", "letter_template_mismatch", "low"),
            ),
            input_tokens=(1_500, 4_000),
            output_tokens=(500, 1_400),
            ms_per_token=11.0,
            overhead_ms=300.0,
            high_stakes_share=0.2,
            high_stakes_missed=0.05,
            safety_relevant=True,
            prompt_version="v3",
        ),
    ),
    goals=(
        (
            "Prior authorisation for lumbar spine MRI, member {member}",
            ("payer policy LCD L35936", "no PHI in free text", "decision within 72h"),
        ),
        (
            "Prior authorisation für MRT — patient naïve, Mitglied {member}",
            ("Leitlinie S2k Kreuzschmerz", "keine PHI im Freitext", "Entscheidung binnen 72 h"),
        ),
        (
            "Prior authorization: GLP-1 agonist for type 2 diabetes, member {member}",
            ("step therapy: metformin ≥ 90 days", "formulary tier 3", "HIPAA minimum necessary"),
        ),
        (
            "Autorisation préalable — IRM du genou, adhérent {member}",
            ("critères HAS", "aucune donnée de santé dans les notes", "délai ≤ 72 h"),
        ),
        (
            "Prior authorization for 12 outpatient physical therapy visits, member {member}",
            ("payer policy PT-2026-04", "no PHI in free text", "decision within 72h"),
        ),
    ),
    drift_rate=0.012,
    conflict_rate=0.01,
    outcome_share=0.2,
    label_rate=0.05,
    score_rate=0.15,
    repeat_share=0.3,
    case_pool=60,
)

CLAIMS_CODING = WorkflowSpec(
    workflow_id="claims-coding",
    hops=(
        HopSpec(
            hop_id="document-reader",
            agent="reader-agent",
            models=("claude-haiku-4-5",),
            silent_rate=0.01,
            carry_rate=0.0,
            sample_rate=0.1,
            error_rate=0.006,
            fatal_share=0.8,
            errors=(*COMMON_ERRORS, "OCRError: page 3 unreadable"),
            rules=(
                Rule("format", "missing_field", "medium"),
                Rule("grounding", "ocr_misread", "medium"),
            ),
            input_tokens=(3_000, 14_000),
            output_tokens=(300, 900),
            ms_per_token=6.0,
            overhead_ms=300.0,
            deterministic=True,
            confidence_share=0.6,
            prompt_version="v2",
        ),
        HopSpec(
            hop_id="code-extractor",
            agent="coding-agent",
            models=("claude-sonnet-4-6", "llama-3.3-70b-instruct"),
            silent_rate=0.025,
            carry_rate=0.6,
            sample_rate=0.2,
            error_rate=0.01,
            fatal_share=0.5,
            errors=COMMON_ERRORS,
            rules=(
                Rule("coding", "unsupported_code", "high"),
                Rule("coding", "missing_modifier", "medium"),
                Rule("coding", "upcoding_risk", "high"),
                Rule("grounding", "code_not_in_note", "medium"),
            ),
            input_tokens=(1_200, 4_000),
            output_tokens=(100, 350),
            ms_per_token=10.0,
            overhead_ms=400.0,
            deterministic=True,
            prompt_version="v9",
        ),
        HopSpec(
            hop_id="coder-qa",
            agent="qa-agent",
            models=("gpt-4.1",),
            silent_rate=0.01,
            carry_rate=0.45,
            sample_rate=0.3,
            error_rate=0.008,
            fatal_share=0.5,
            errors=COMMON_ERRORS,
            rules=(
                Rule("coding", "ncci_edit_conflict", "medium"),
                Rule("coding", "unsupported_code", "high"),
            ),
            input_tokens=(1_500, 5_000),
            output_tokens=(80, 300),
            ms_per_token=9.0,
            overhead_ms=350.0,
            skip_rate=0.02,
            skip_reason="auto_accept_low_value",
            prompt_version="v4",
        ),
        HopSpec(
            hop_id="claim-formatter",
            agent="formatter-agent",
            models=("gpt-4.1-mini",),
            silent_rate=0.005,
            carry_rate=0.9,
            sample_rate=0.25,
            error_rate=0.004,
            fatal_share=1.0,
            errors=(*COMMON_ERRORS, "ValidationError: 837P segment NM1 too long"),
            rules=(
                Rule("format", "invalid_837_segment", "medium"),
                Rule("format", "missing_field", "low"),
            ),
            input_tokens=(600, 1_500),
            output_tokens=(200, 600),
            ms_per_token=4.0,
            overhead_ms=150.0,
            deterministic=True,
            prompt_version="v2",
        ),
    ),
    goals=(
        (
            "Code the professional claim for encounter {member} (ICD-10-CM + CPT)",
            ("CMS NCCI edits", "no upcoding", "modifier 25 only when documented"),
        ),
        (
            "Kodierung der Abrechnung für Fall {member} — ICD-10-GM und OPS",
            ("Deutsche Kodierrichtlinien 2026", "keine Überkodierung"),
        ),
        (
            "Assign HCPCS and ICD-10 codes for DME claim {member}",
            ("CMS NCCI edits", "no upcoding", "KX modifier needs documentation"),
        ),
    ),
    drift_rate=0.004,
    conflict_rate=0.005,
    outcome_share=0.2,
    label_rate=0.05,
    score_rate=0.12,
    repeat_share=0.3,
    case_pool=40,
)

WORKFLOWS: dict[str, WorkflowSpec] = {w.workflow_id: w for w in (PRIOR_AUTH, CLAIMS_CODING)}
TENANTS = ("acme", "globex", "initech")
OUTCOME_NOTES = ("UM nurse review", "peer-to-peer call", "appeal overturned", "audit sample")


def intent_checksum(goal: str, constraints: list[str] | tuple[str, ...]) -> str:
    """SPEC 1.2: sha256 hex of the canonical UTF-8 JSON of goal and constraints."""
    canonical = json.dumps(
        {"constraints": list(constraints), "goal": goal},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_DAY_PREFIX: dict[int, str] = {}


def rfc3339(ms: int) -> str:
    """Epoch ms to RFC 3339 with `Z`; hand-rolled because datetime formatting is the bottleneck."""
    day, rest = divmod(ms, 86_400_000)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        date = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(days=day)
        prefix = _DAY_PREFIX[day] = date.strftime("%Y-%m-%dT")
    hour, rest = divmod(rest, 3_600_000)
    minute, rest = divmod(rest, 60_000)
    sec, milli = divmod(rest, 1000)
    return f"{prefix}{hour:02d}:{minute:02d}:{sec:02d}.{milli:03d}Z"


class TraceGenerator:
    """Simulates runs (truth first, then what the telemetry reveals) and yields their records."""

    def __init__(self, seed: int, workflows: list[WorkflowSpec]) -> None:
        self.rng = random.Random(seed)
        self.workflows = workflows
        self.clock = float(EPOCH_MS)
        self._intents: dict[tuple[int, int, int], tuple[str, list[str], str]] = {}

    def runs(self) -> Iterator[list[Record]]:
        """Endless stream of runs, each as its records in write order."""
        choice = self.rng.choice
        while True:
            yield self.run(choice(self.workflows))

    def _intent(
        self, wf_index: int, goal_index: int, case_no: int, repeated: bool
    ) -> tuple[str, list[str], str]:
        """Goal, constraints and checksum of a case; replayed cases hit a small cache."""
        key = (wf_index, goal_index, case_no)
        cached = self._intents.get(key)
        if cached is None:
            template, constraints = self.workflows[wf_index].goals[goal_index]
            goal = template.format(member=f"M-{case_no:06d}")
            cached = (goal, list(constraints), intent_checksum(goal, constraints))
            if repeated:
                self._intents[key] = cached
        return cached

    def run(self, wf: WorkflowSpec) -> list[Record]:
        """One run: intent, hops in order, sometimes a second intent, sometimes an outcome."""
        rng = self.rng
        rand = rng.random
        bits = rng.getrandbits
        self.clock += rng.expovariate(1.0 / RUN_GAP_MS)
        start = int(self.clock)
        run_id = f"{bits(128):032x}"
        new_sdk = rand() < 0.7  # newer SDK: `kind`, RFC 3339; older one: epoch ms, no `kind`
        kind = "hop" if new_sdk else None
        tenant = TENANTS[int(rand() * 3)] if rand() < 0.2 else None

        repeated = rand() < wf.repeat_share
        case_no = int(rand() * wf.case_pool) if repeated else 100_000 + bits(20)
        case = f"{wf.workflow_id}/{case_no}"
        goal_index = case_no % len(wf.goals)
        wf_index = self.workflows.index(wf)
        goal, constraints, checksum = self._intent(wf_index, goal_index, case_no, repeated)

        intent: Record = {
            "kind": "intent",
            "run_id": run_id,
            "goal": goal,
            "constraints": constraints,
            "intent_checksum": checksum if rand() >= 0.03 else None,  # readers must compute it
            "created_at": start - 5 - int(rand() * 200),
        }
        records: list[Record] = [intent]

        hops = wf.hops
        conflict_at = 1 + int(rand() * (len(hops) - 1)) if rand() < wf.conflict_rate else -1
        drifted: str | None = None
        tainted = False
        any_wrong = False
        fatal = False
        parent: str | None = None
        t = start
        for index, hs in enumerate(hops):
            seq = index + 1
            if index == conflict_at:
                goal2 = goal + " (expedited)"
                constraints2 = constraints[:-1]
                drifted = intent_checksum(goal2, constraints2)
                records.append(
                    {
                        "kind": "intent",
                        "run_id": run_id,
                        "goal": goal2,
                        "constraints": constraints2,
                        "intent_checksum": drifted,
                        "created_at": t,
                    }
                )
            elif drifted is None and seq >= 3 and rand() < wf.drift_rate:
                drifted = intent_checksum(goal, constraints[:-1])  # a constraint fell out
            hop_checksum = drifted or checksum
            if rand() < 0.006:
                hop_checksum = None  # unanchored: the hop never read the intent store

            span_id = f"{bits(64):016x}"
            t += 3 + int(rand() * 40)
            base: Record = {
                "kind": kind,
                "run_id": run_id,
                "workflow_id": wf.workflow_id,
                "hop_id": hs.hop_id,
                "span_id": span_id,
                "parent_id": parent,
                "agent": hs.agent,
                "seq": seq,
                "status": "success",
                "error": None,
                "model": None,
                "started_at": t,
                "ended_at": t,
                "latency_ms": None,
                "input_tokens": None,
                "output_tokens": None,
                "cost_usd": None,
                "confidence": None,
                "validated": False,
                "violations": None,
                "high_stakes": False,
                "correct": None,
                "scores": None,
                "input_hash": None,
                "output_hash": None,
                "intent_checksum": hop_checksum,
                "metadata": None,
                "tenant": tenant,
            }
            if hs.skip_rate and rand() < hs.skip_rate:
                latency = 1 + int(rand() * 3)
                base["status"] = "skipped"
                base["ended_at"] = t + latency
                base["latency_ms"] = float(latency)
                base["metadata"] = {"skip_reason": hs.skip_reason}
                records.append(base)
                t += latency
                continue  # hands nothing on: the next hop's parent stays the previous one

            model = hs.models[0] if len(hs.models) == 1 or rand() < 0.9 else hs.models[1]
            price_in, price_out = PRICES[model]
            lo, hi = hs.input_tokens
            in_tok = lo + int((hi - lo) * rand())
            input_hash = _sha(f"{case}/{hs.hop_id}/in") if repeated else f"{bits(256):064x}"
            base["model"] = model
            base["input_tokens"] = in_tok
            base["input_hash"] = input_hash
            metadata: dict[str, Any] = {"prompt_version": hs.prompt_version}
            base["metadata"] = metadata

            if rand() < hs.error_rate:
                error = hs.errors[int(rand() * len(hs.errors))]
                if error.startswith("TimeoutError"):
                    latency_f = 30_000.0 + 500.0 * rand()
                else:
                    latency_f = 150.0 + 1_500.0 * rand()
                latency = int(latency_f)
                base["status"] = "error"
                base["error"] = error
                base["output_tokens"] = 0
                base["cost_usd"] = round(in_tok * price_in / 1e6, 6)
                base["ended_at"] = t + latency
                base["latency_ms"] = round(latency_f, 1)
                records.append(base)
                t += latency
                if rand() < hs.fatal_share:
                    fatal = True
                    break
                metadata["fallback"] = "cached_previous_output"
                continue  # the next hop gets the previous output: same truth, same parent

            # Truth: a clean input goes wrong at the silent rate; a wrong one usually stays wrong.
            wrong = rand() < (hs.carry_rate if tainted else hs.silent_rate)
            tainted = wrong
            any_wrong = any_wrong or wrong

            lo, hi = hs.output_tokens
            out_tok = lo + int((hi - lo) * rand())
            latency_f = hs.overhead_ms + out_tok * hs.ms_per_token * (0.6 + 0.8 * rand())
            latency = int(latency_f)
            base["output_tokens"] = out_tok
            base["cost_usd"] = round((in_tok * price_in + out_tok * price_out) / 1e6, 6)
            base["ended_at"] = t + latency
            if rand() >= 0.05:  # else readers fall back to ended_at - started_at
                base["latency_ms"] = round(latency_f, 1)
            t += latency

            if wrong:
                base["output_hash"] = f"{bits(256):064x}"
            elif repeated and (rand() < 0.97 if hs.deterministic else rand() < 0.7):
                base["output_hash"] = _sha(f"{input_hash}/out")
            elif repeated:
                base["output_hash"] = _sha(f"{input_hash}/out{1 + int(rand() * 3)}")
            else:
                base["output_hash"] = f"{bits(256):064x}"

            if hs.high_stakes_share and rand() < hs.high_stakes_share:
                base["high_stakes"] = True
                validated = rand() >= hs.high_stakes_missed
                metadata["decision"] = "deny"
            else:
                validated = rand() < hs.sample_rate
                if hs.high_stakes_share:
                    metadata["decision"] = "approve"
            base["validated"] = validated
            if validated:
                if wrong:
                    rules = hs.rules
                    picked = [rules[int(rand() * len(rules))]]
                    if rand() < 0.25:
                        extra = rules[int(rand() * len(rules))]
                        if extra is not picked[0]:
                            picked.append(extra)
                    if rand() < 0.5:
                        base["violations"] = [f"{r.category}:{r.rule}" for r in picked]
                    else:
                        base["violations"] = [
                            {"rule": r.rule, "severity": r.severity, "category": r.category}
                            for r in picked
                        ]
                else:
                    base["violations"] = []

            if rand() < hs.confidence_share:
                if not wrong:
                    conf = rng.gauss(0.91, 0.05)
                elif rand() < 0.65:  # confidently wrong: the dangerous case
                    conf = rng.gauss(0.88, 0.05)
                else:
                    conf = rng.gauss(0.6, 0.12)
                base["confidence"] = round(min(0.995, max(0.05, conf)), 3)

            if rand() < wf.label_rate:
                base["correct"] = not wrong
            if rand() < wf.score_rate:
                base["scores"] = self._scores(wrong, hs.safety_relevant)
            if rand() < 0.05:
                metadata["attempt"] = 2
            records.append(base)
            parent = span_id

        if not fatal and rand() < wf.outcome_share:
            outcome: Record = {
                "kind": "outcome",
                "run_id": run_id,
                "correct": not any_wrong,
                "source": "human" if rand() < 0.4 else "eval",
            }
            if rand() < 0.3:
                outcome["note"] = OUTCOME_NOTES[int(rand() * len(OUTCOME_NOTES))]
            records.append(outcome)
        return records

    def _scores(self, wrong: bool, safety_relevant: bool) -> dict[str, float | int]:
        """Evaluator scores: lower when wrong; sometimes partial, safety sometimes a 1/0 int."""
        rand = self.rng.random
        scores: dict[str, float | int] = {}
        full = rand() < 0.6
        if full or rand() < 0.5:
            scores["groundedness"] = round(
                (0.3 + 0.5 * rand()) if wrong else 0.75 + 0.25 * rand(), 3
            )
        if full or rand() < 0.5:
            scores["accuracy"] = round((0.1 + 0.5 * rand()) if wrong else 0.8 + 0.2 * rand(), 3)
        if full or not scores:
            unsafe = wrong and safety_relevant and rand() < 0.5
            safety = 0.2 * rand() if unsafe else 0.9 + 0.1 * rand()
            scores["safety"] = int(safety >= 0.5) if rand() < 0.4 else round(safety, 3)
        return scores


def _json_map(obj: dict[str, Any]) -> str:
    """Small flat object of ASCII keys and str/int/float values, faster than json.dumps."""
    parts = []
    for key, value in obj.items():
        if isinstance(value, str):
            parts.append(f'"{key}":"{value}"')
        else:
            parts.append(f'"{key}":{value!r}')
    return "{" + ",".join(parts) + "}"


def hop_line(h: Record) -> str:
    """One hop as a JSON line. Hand-written because json.dumps alone would cap us near 120k/s.

    Every string in a hop is ASCII we control (ids, hex, names), so no escaping is needed.
    """
    new_sdk = h["kind"] is not None
    parts = ['{"kind":"hop","run_id":"' if new_sdk else '{"run_id":"', h["run_id"]]
    parts.append(f'","workflow_id":"{h["workflow_id"]}","hop_id":"{h["hop_id"]}"')
    parts.append(f',"span_id":"{h["span_id"]}"')
    if h["parent_id"] is not None:
        parts.append(f',"parent_id":"{h["parent_id"]}"')
    parts.append(f',"agent":"{h["agent"]}","seq":{h["seq"]},"status":"{h["status"]}"')
    if h["error"] is not None:
        parts.append(f',"error":"{h["error"]}"')
    if h["model"] is not None:
        parts.append(f',"model":"{h["model"]}"')
    if new_sdk:
        parts.append(f',"started_at":"{rfc3339(h["started_at"])}"')
        parts.append(f',"ended_at":"{rfc3339(h["ended_at"])}"')
    else:
        parts.append(f',"started_at":{h["started_at"]},"ended_at":{h["ended_at"]}')
    if h["latency_ms"] is not None:
        parts.append(f',"latency_ms":{h["latency_ms"]!r}')
    if h["input_tokens"] is not None:
        parts.append(f',"input_tokens":{h["input_tokens"]},"output_tokens":{h["output_tokens"]}')
        parts.append(f',"cost_usd":{h["cost_usd"]!r}')
    if h["confidence"] is not None:
        parts.append(f',"confidence":{h["confidence"]!r}')
    parts.append(',"validated":true' if h["validated"] else ',"validated":false')
    if h["violations"] is not None:
        violations = h["violations"]
        parts.append(',"violations":' + (json.dumps(violations) if violations else "[]"))
    parts.append(',"high_stakes":true' if h["high_stakes"] else ',"high_stakes":false')
    if h["correct"] is not None:
        parts.append(',"correct":true' if h["correct"] else ',"correct":false')
    if h["scores"] is not None:
        parts.append(',"scores":' + _json_map(h["scores"]))
    if h["input_hash"] is not None:
        parts.append(f',"input_hash":"{h["input_hash"]}"')
    if h["output_hash"] is not None:
        parts.append(f',"output_hash":"{h["output_hash"]}"')
    if h["intent_checksum"] is not None:
        parts.append(f',"intent_checksum":"{h["intent_checksum"]}"')
    if h["metadata"] is not None:
        parts.append(',"metadata":' + _json_map(h["metadata"]))
    if h["tenant"] is not None:
        parts.append(f',"tenant":"{h["tenant"]}"')
    parts.append("}\n")
    return "".join(parts)


def record_line(r: Record) -> str:
    """Any record as a JSON line; intents carry free text (non-ASCII), so they use json."""
    kind = r["kind"]
    if kind is None or kind == "hop":
        return hop_line(r)
    if kind == "intent":
        r = {k: v for k, v in r.items() if v is not None}
        r["created_at"] = rfc3339(r["created_at"])
    return json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"


def _open_text(path: Path, fmt: str) -> IO[str]:
    if fmt == "jsonl.gz":
        # mtime=0 and no file name in the header: same bytes on every run.
        raw = open(path, "wb")  # noqa: SIM115 - closed by the caller through the wrapper
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
        return _GzipText(raw, gz)
    return open(path, "w", encoding="utf-8", newline="\n")


class _GzipText:
    """Text facade over a GzipFile that also closes the underlying file."""

    def __init__(self, raw: IO[bytes], gz: gzip.GzipFile) -> None:
        self.raw = raw
        self.gz = gz

    def write(self, text: str) -> int:
        return self.gz.write(text.encode("utf-8"))

    def close(self) -> None:
        self.gz.close()
        self.raw.close()


def write_jsonl(path: Path, fmt: str, runs: Iterator[list[Record]], hops: int) -> tuple[int, int]:
    """Streams whole runs until at least `hops` hop records; returns (runs, hop records)."""
    out = _open_text(path, fmt)
    n_runs = n_hops = 0
    batch: list[str] = []
    try:
        for records in runs:
            n_runs += 1
            for r in records:
                kind = r["kind"]
                if kind is None or kind == "hop":
                    n_hops += 1
                    batch.append(hop_line(r))
                else:
                    batch.append(record_line(r))
            if len(batch) >= LINES_PER_WRITE:
                out.write("".join(batch))
                batch.clear()
            if n_hops >= hops:
                break
        out.write("".join(batch))
    finally:
        out.close()
    return n_runs, n_hops


def write_parquet(path: Path, runs: Iterator[list[Record]], hops: int) -> tuple[int, int]:
    """Streams whole runs into ~100k-row groups under one explicit schema.

    Parquet needs one type per column, so timestamps are epoch ms (int64) and violations are
    `{rule, severity, category}` structs (a `cat:rule` string becomes category + rule).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    violation = pa.struct(
        [("rule", pa.string()), ("severity", pa.string()), ("category", pa.string())]
    )
    schema = pa.schema(
        [
            ("kind", pa.string()),
            ("run_id", pa.string()),
            ("workflow_id", pa.string()),
            ("hop_id", pa.string()),
            ("span_id", pa.string()),
            ("parent_id", pa.string()),
            ("agent", pa.string()),
            ("seq", pa.int64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("model", pa.string()),
            ("started_at", pa.int64()),
            ("ended_at", pa.int64()),
            ("latency_ms", pa.float64()),
            ("input_tokens", pa.int64()),
            ("output_tokens", pa.int64()),
            ("cost_usd", pa.float64()),
            ("confidence", pa.float64()),
            ("validated", pa.bool_()),
            ("violations", pa.list_(violation)),
            ("high_stakes", pa.bool_()),
            ("correct", pa.bool_()),
            ("scores", pa.map_(pa.string(), pa.float64())),
            ("input_hash", pa.string()),
            ("output_hash", pa.string()),
            ("intent_checksum", pa.string()),
            ("metadata", pa.map_(pa.string(), pa.string())),
            ("tenant", pa.string()),
            ("goal", pa.string()),
            ("constraints", pa.list_(pa.string())),
            ("created_at", pa.int64()),
            ("source", pa.string()),
            ("note", pa.string()),
        ]
    )
    names = schema.names
    converters: dict[str, Callable[[Any], Any]] = {
        "violations": _parquet_violations,
        "scores": lambda m: list(m.items()),
        "metadata": lambda m: [(k, str(v)) for k, v in m.items()],
    }
    columns: dict[str, list[Any]] = {name: [] for name in names}
    plain = [(name, columns[name]) for name in names if name not in converters]
    mapped = [(name, columns[name], fn) for name, fn in converters.items()]
    n_runs = n_hops = rows = 0

    writer = pq.ParquetWriter(path, schema, compression="zstd")

    def flush() -> None:
        arrays = [pa.array(columns[name], type=schema.field(name).type) for name in names]
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        for column in columns.values():
            column.clear()

    try:
        for records in runs:
            n_runs += 1
            for r in records:
                kind = r.get("kind")
                if kind is None or kind == "hop":
                    n_hops += 1
                    r["kind"] = "hop"
                for name, column in plain:
                    column.append(r.get(name))
                for name, column, fn in mapped:
                    value = r.get(name)
                    column.append(None if value is None else fn(value))
                rows += 1
            if rows >= PARQUET_ROW_GROUP:
                flush()
                rows = 0
            if n_hops >= hops:
                break
        if rows:
            flush()
    finally:
        writer.close()
    return n_runs, n_hops


def _parquet_violations(items: list[str | dict[str, str]]) -> list[dict[str, str | None]]:
    out: list[dict[str, str | None]] = []
    for item in items:
        if isinstance(item, str):
            category, _, rule = item.partition(":")
            out.append({"rule": rule, "severity": None, "category": category})
        else:
            out.append(item)  # type: ignore[arg-type]
    return out


def _format_of(path: Path, requested: str | None) -> str:
    if requested:
        return requested
    name = path.name
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".gz"):
        return "jsonl.gz"
    return "jsonl"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints the achieved throughput on stderr."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output file")
    parser.add_argument("--hops", type=int, required=True, help="write whole runs until >= N hops")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: from the name")
    parser.add_argument(
        "--workflows",
        default=",".join(WORKFLOWS),
        help=f"comma-separated, from: {', '.join(WORKFLOWS)}",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.workflows.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKFLOWS]
    if unknown or not names:
        parser.error(f"unknown workflow(s): {', '.join(unknown) or '(none)'}")
    if args.hops < 1:
        parser.error("--hops must be positive")
    fmt = _format_of(args.out, args.format)

    runs = TraceGenerator(args.seed, [WORKFLOWS[n] for n in names]).runs()
    began = time.perf_counter()
    if fmt == "parquet":
        n_runs, n_hops = write_parquet(args.out, runs, args.hops)
    else:
        n_runs, n_hops = write_jsonl(args.out, fmt, runs, args.hops)
    elapsed = time.perf_counter() - began
    print(
        f"wrote {n_hops:,} hops in {n_runs:,} runs to {args.out} ({fmt}) in {elapsed:.2f}s:"
        f" {n_hops / elapsed:,.0f} hops/s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
