"""Seeded generator of realistic argus traces (SPEC v2) for the bundled samples and benchmarks.

Real traces are private, so the samples, the tests' fixtures and the benchmarks need a stand-in
that behaves like production: marginal silent errors that cascade down a chain of agents,
sampled validation that catches only some of them, ground truth on a few hops, context drift and
the format variations the SPEC allows. Every figure comes from `random.Random(seed)` and a fixed
epoch, so a seed always gives the same bytes.

Regenerate the samples (from the repository root) with:

    python benchmarks/generate_traces.py sample_traces/prior_auth.jsonl \
        --hops 1880 --seed 35 --workflows prior-auth
    python benchmarks/generate_traces.py sample_traces/claims_coding.jsonl \
        --hops 1180 --seed 6 --workflows claims-coding
    python benchmarks/generate_traces.py sample_traces/support_desk.jsonl \
        --hops 1500 --seed 1 --workflows support-desk

prior-auth and claims-coding are chains: each hop passes its output to the next, and every hop
is top-level. support-desk is a tree (a router, two alternative specialists, their tools and a
sub-agent; see support_desk.py): it is simulated through the writer library itself, so it is
slower, and is generated on its own (not mixed with the chains).

The seeds were picked as typical draws: at a few hundred runs a sampled estimate still
wanders (prior-auth's cascade risk spans about 0.13-0.32 across seeds; its long-run value is
0.24, claims-coding's 0.04).

Benchmark input (10M hops, memory stays flat):

    python benchmarks/generate_traces.py /tmp/argus-10m.parquet --hops 10000000 --format parquet
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

EPOCH_MS = 1_775_030_400_000  # 2026-04-01T08:00:00Z: fixed, so output never depends on the clock
RUN_GAP_MS = 3_000.0  # mean time between run starts (runs overlap, like a busy queue)
RUNS_PER_WRITE = 4_000
PARQUET_ROW_GROUP = 100_000
FORMATS = ("jsonl", "jsonl.gz", "parquet")


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
    models: tuple[str, ...]  # the usual model, then an occasional fallback
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
            silent_rate=0.065,
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
            silent_rate=0.07,
            carry_rate=0.9,
            sample_rate=0.1,
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
            silent_rate=0.04,
            carry_rate=0.95,
            sample_rate=0.08,
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
            carry_rate=0.95,
            sample_rate=0.03,
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
            # Denials are the decision point (a clinician must sign them off), so they are
            # `high_stakes` and always validated, bar a deliberate few. Approvals are only
            # sampled: were every execution checked, SPEC 4's escape product would hold the
            # cascade risk near 0 and the sample could not show the gate failing.
            high_stakes_share=0.12,
            high_stakes_missed=0.06,
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
            silent_rate=0.035,
            carry_rate=0.6,
            sample_rate=0.15,
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
            silent_rate=0.015,
            carry_rate=0.45,
            sample_rate=0.25,
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
            sample_rate=0.2,
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
TREE_WORKFLOW = "support-desk"  # support_desk.py: written through the writer library, alone
TENANTS = ("acme", "globex", "initech")
OUTCOME_NOTES = ("UM nurse review", "peer-to-peer call", "appeal overturned", "audit sample")

# A hop is a tuple in this field order: tuples are the cheapest record CPython can build, and the
# writers unpack them positionally (JSONL) or append them column by column (Parquet).
HOP_FIELDS: tuple[str, ...] = (
    "kind",
    "run_id",
    "workflow_id",
    "hop_id",
    "span_id",
    "parent_id",
    "agent",
    "seq",
    "status",
    "error",
    "model",
    "started_at",
    "ended_at",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "confidence",
    "validated",
    "violations",
    "high_stakes",
    "correct",
    "scores",
    "input_hash",
    "output_hash",
    "intent_checksum",
    "metadata",
    "tenant",
)
Hop = tuple[Any, ...]
Meta = tuple[tuple[str, str | int], ...]  # metadata as pairs: hashable, so its JSON is cached
Record = dict[str, Any]  # intent and outcome records
Run = list[Hop | Record]


# The string encoder json.dumps(ensure_ascii=False) itself uses (the C one when available).
_json_str: Callable[[str], str] = json.encoder.encode_basestring


def intent_checksum(goal: str, constraints: list[str] | tuple[str, ...]) -> str:
    """SPEC 1.2: sha256 hex of the UTF-8 canonical JSON of goal and constraints.

    Spelled out by hand (it runs once per run), it is byte for byte what
    json.dumps({"constraints": ..., "goal": ...}, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False) gives.
    """
    items = ",".join(map(_json_str, constraints))
    canonical = f'{{"constraints":[{items}],"goal":{_json_str(goal)}}}'
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_MINUTE_PREFIX: dict[int, str] = {}


def rfc3339(ms: int) -> str:
    """Epoch ms to RFC 3339 with `Z`, caching each minute's prefix (datetime is too slow here)."""
    minute, rest = divmod(ms, 60_000)
    prefix = _MINUTE_PREFIX.get(minute)
    if prefix is None:
        if len(_MINUTE_PREFIX) > 4096:
            _MINUTE_PREFIX.clear()
        prefix = _MINUTE_PREFIX[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
    return f"{prefix}{rest / 1000:06.3f}Z"  # exact: rest is whole ms below 60 000


class TraceGenerator:
    """Simulates runs (truth first, then what the telemetry reveals) and yields their records."""

    def __init__(self, seed: int, workflows: list[WorkflowSpec]) -> None:
        self.rng = random.Random(seed)
        self.workflows = workflows
        self.clock = float(EPOCH_MS)
        self._intents: dict[tuple[str, int], tuple[str, list[str], str]] = {}
        self._meta: dict[tuple[str, str], Meta] = {
            (w.workflow_id, h.hop_id): (("prompt_version", h.prompt_version),)
            for w in workflows
            for h in w.hops
        }

    def runs(self) -> Iterator[Run]:
        """Endless stream of runs, each as its records in write order."""
        choice = self.rng.choice
        while True:
            yield self.run(choice(self.workflows))

    def _intent(self, wf: WorkflowSpec, case_no: int, repeated: bool) -> tuple[str, list[str], str]:
        """Goal, constraints and checksum of a case; replayed cases hit a small cache."""
        key = (wf.workflow_id, case_no)
        cached = self._intents.get(key)
        if cached is None:
            template, constraints = wf.goals[case_no % len(wf.goals)]
            goal = template.format(member=f"M-{case_no:06d}")
            cached = (goal, list(constraints), intent_checksum(goal, constraints))
            if repeated:
                self._intents[key] = cached
        return cached

    def run(self, wf: WorkflowSpec) -> Run:
        """One run: intent, hops in order, sometimes a second intent, sometimes an outcome."""
        rng = self.rng
        rand = rng.random
        bits = rng.getrandbits
        self.clock += rng.expovariate(1.0 / RUN_GAP_MS)
        start = int(self.clock)
        run_id = bits(128).to_bytes(16, "big").hex()
        new_sdk = rand() < 0.7  # newer SDK: `kind`, RFC 3339, hashes; older one: epoch ms only
        kind = "hop" if new_sdk else None
        tenant = TENANTS[int(rand() * 3)] if rand() < 0.2 else None
        workflow_id = wf.workflow_id

        repeated = rand() < wf.repeat_share
        case_no = int(rand() * wf.case_pool) if repeated else 100_000 + bits(20)
        case = f"{workflow_id}/{case_no}"
        goal, constraints, checksum = self._intent(wf, case_no, repeated)
        records: Run = [
            {
                "kind": "intent",
                "run_id": run_id,
                "goal": goal,
                "constraints": constraints,
                "intent_checksum": checksum if rand() >= 0.03 else None,  # readers compute it
                "created_at": start - 5 - int(rand() * 200),
            }
        ]

        hops = wf.hops
        conflict_at = 1 + int(rand() * (len(hops) - 1)) if rand() < wf.conflict_rate else -1
        drifted: str | None = None
        tainted = any_wrong = fatal = False
        t = start
        # A chain: each hop passes its output on, and none is the caller of the next, so every
        # hop is top-level and has no parent_id (SPEC 1.1).
        for index, hs in enumerate(hops):
            seq = index + 1
            if index == conflict_at:  # an agent rewrote the goal; later hops read the new one
                goal2 = goal + " (expedited)"
                drifted = intent_checksum(goal2, constraints[:-1])
                records.append(
                    {
                        "kind": "intent",
                        "run_id": run_id,
                        "goal": goal2,
                        "constraints": constraints[:-1],
                        "intent_checksum": drifted,
                        "created_at": t,
                    }
                )
            elif drifted is None and seq >= 3 and rand() < wf.drift_rate:
                drifted = intent_checksum(goal, constraints[:-1])  # a constraint fell out
            hop_checksum: str | None = drifted or checksum
            if rand() < 0.006:
                hop_checksum = None  # unanchored: the hop never read the intent store

            hop_id = hs.hop_id
            span_id = bits(64).to_bytes(8, "big").hex()
            meta = self._meta[workflow_id, hop_id]
            t += 3 + int(rand() * 40)
            if hs.skip_rate and rand() < hs.skip_rate:
                end = t + 1 + int(rand() * 3)
                records.append(
                    (kind, run_id, workflow_id, hop_id, span_id, None, hs.agent, seq,
                     "skipped", None, None, t, end, float(end - t), None, None, None, None,
                     False, None, False, None, None, None, None, hop_checksum,
                     (("skip_reason", hs.skip_reason),), tenant)
                )  # fmt: skip
                t = end
                continue  # hands nothing on

            models = hs.models
            model = models[0] if len(models) == 1 or rand() < 0.9 else models[1]
            price_in, price_out = PRICES[model]
            lo, hi = hs.input_tokens
            in_tok = lo + int((hi - lo) * rand())
            if not new_sdk:
                input_hash = None
            elif repeated:
                input_hash = _sha(f"{case}/{hop_id}/in")
            else:
                input_hash = bits(256).to_bytes(32, "big").hex()

            if rand() < hs.error_rate:
                errors = hs.errors
                error = errors[int(rand() * len(errors))]
                if error == "TimeoutError":
                    latency = 30_000.0 + 500.0 * rand()
                else:
                    latency = 150.0 + 1_500.0 * rand()
                end = t + int(latency)
                fatal = rand() < hs.fatal_share
                if not fatal:
                    meta = (*meta, ("fallback", "cached_previous_output"))
                records.append(
                    (kind, run_id, workflow_id, hop_id, span_id, None, hs.agent, seq,
                     "error", error, model, t, end, latency, in_tok, 0, in_tok * price_in / 1e6,
                     None, False, None, False, None, None, input_hash, None, hop_checksum,
                     meta, tenant)
                )  # fmt: skip
                t = end
                if fatal:
                    break
                continue  # the next hop gets the previous output: same truth

            # Truth: a clean input goes wrong at the silent rate; a wrong one usually stays wrong.
            wrong = rand() < (hs.carry_rate if tainted else hs.silent_rate)
            tainted = wrong
            any_wrong = any_wrong or wrong

            lo, hi = hs.output_tokens
            out_tok = lo + int((hi - lo) * rand())
            latency = hs.overhead_ms + out_tok * hs.ms_per_token * (0.6 + 0.8 * rand())
            end = t + int(latency)
            cost = (in_tok * price_in + out_tok * price_out) / 1e6
            # Sometimes left out: readers fall back to ended_at - started_at.
            latency_ms = latency if rand() >= 0.05 else None

            if not new_sdk:
                output_hash = None
            elif wrong or not repeated:
                output_hash = bits(256).to_bytes(32, "big").hex()
            elif rand() < (0.97 if hs.deterministic else 0.7):
                output_hash = _sha(f"{input_hash}/out")
            else:
                output_hash = _sha(f"{input_hash}/out{1 + int(rand() * 3)}")

            high_stakes = hs.high_stakes_share > 0 and rand() < hs.high_stakes_share
            if high_stakes:
                validated = rand() >= hs.high_stakes_missed
                meta = (*meta, ("decision", "deny"))
            else:
                validated = rand() < hs.sample_rate
                if hs.high_stakes_share:
                    meta = (*meta, ("decision", "approve"))
            violations: list[str | dict[str, str]] | None = None
            if validated:
                violations = self._violations(hs.rules) if wrong else []

            confidence: float | None = None
            if rand() < hs.confidence_share:
                # Triangular spreads: much cheaper than gauss, and bounded.
                if not wrong:
                    confidence = min(0.995, 0.91 + 0.12 * (rand() - rand()))
                elif rand() < 0.65:  # confidently wrong: the dangerous case
                    confidence = 0.87 + 0.1 * (rand() - rand())
                else:
                    confidence = 0.6 + 0.25 * (rand() - rand())

            correct = (not wrong) if rand() < wf.label_rate else None
            scores = self._scores(wrong, hs.safety_relevant) if rand() < wf.score_rate else None
            if rand() < 0.05:
                meta = (*meta, ("attempt", 2))
            records.append(
                (kind, run_id, workflow_id, hop_id, span_id, None, hs.agent, seq, "success",
                 None, model, t, end, latency_ms, in_tok, out_tok, cost, confidence, validated,
                 violations, high_stakes, correct, scores, input_hash, output_hash,
                 hop_checksum, meta, tenant)
            )  # fmt: skip
            t = end

        if not fatal and rand() < wf.outcome_share:
            outcome: Record = {
                "kind": "outcome",
                "run_id": run_id,
                "correct": not any_wrong,  # truth, whether or not a check caught it
                "source": "human" if rand() < 0.4 else "eval",
            }
            if rand() < 0.3:
                outcome["note"] = OUTCOME_NOTES[int(rand() * len(OUTCOME_NOTES))]
            records.append(outcome)
        return records

    def _violations(self, rules: tuple[Rule, ...]) -> list[str | dict[str, str]]:
        """One or two failed rules, as `cat:rule` strings or as objects (both SPEC shapes)."""
        rand = self.rng.random
        picked = [rules[int(rand() * len(rules))]]
        if rand() < 0.25:
            extra = rules[int(rand() * len(rules))]
            if extra is not picked[0]:
                picked.append(extra)
        if rand() < 0.5:
            return [f"{r.category}:{r.rule}" for r in picked]
        return [{"rule": r.rule, "severity": r.severity, "category": r.category} for r in picked]

    def _scores(self, wrong: bool, safety_relevant: bool) -> dict[str, float | int]:
        """Evaluator scores: lower when wrong; sometimes partial, safety sometimes a 1/0 int."""
        rand = self.rng.random
        scores: dict[str, float | int] = {}
        full = rand() < 0.6
        if full or rand() < 0.5:
            value = (0.3 + 0.5 * rand()) if wrong else (0.75 + 0.25 * rand())
            scores["groundedness"] = round(value, 3)
        if full or rand() < 0.5:
            value = (0.1 + 0.5 * rand()) if wrong else (0.8 + 0.2 * rand())
            scores["accuracy"] = round(value, 3)
        if full or not scores:
            unsafe = wrong and safety_relevant and rand() < 0.5
            safety = 0.2 * rand() if unsafe else 0.9 + 0.1 * rand()
            scores["safety"] = int(safety >= 0.5) if rand() < 0.4 else round(safety, 3)
        return scores


def _json_pairs(pairs: Iterable[tuple[str, Any]]) -> str:
    """A flat object of ASCII keys and str/int/float values, faster than json.dumps."""
    parts = []
    for key, value in pairs:
        if isinstance(value, str):
            parts.append(f'"{key}":"{value}"')
        else:
            parts.append(f'"{key}":{value!r}')
    return "{" + ",".join(parts) + "}"


_META_JSON: dict[Meta, str] = {}


def hop_line(h: Hop) -> str:
    """One hop as a JSON line, by hand: json.dumps alone costs more than the whole simulation.

    Every string in a hop is ASCII that the generator controls (ids, hex, names), so nothing
    needs escaping. Floats are written at a fixed precision; `write_parquet` rounds alike.
    """
    (kind, run_id, workflow_id, hop_id, span_id, parent, agent, seq, status, error, model,
     started, ended, latency, in_tok, out_tok, cost, confidence, validated, violations,
     high_stakes, correct, scores, in_hash, out_hash, checksum, meta, tenant) = h  # fmt: skip
    head = '{"kind":"hop","run_id":"' if kind else '{"run_id":"'
    parts = [
        f'{head}{run_id}","workflow_id":"{workflow_id}","hop_id":"{hop_id}","span_id":"{span_id}"'
    ]
    if parent is not None:
        parts.append(f',"parent_id":"{parent}"')
    parts.append(f',"agent":"{agent}","seq":{seq},"status":"{status}"')
    if error is not None:
        parts.append(f',"error":"{error}"')
    if model is not None:
        parts.append(f',"model":"{model}"')
    if kind:
        parts.append(f',"started_at":"{rfc3339(started)}","ended_at":"{rfc3339(ended)}"')
    else:
        parts.append(f',"started_at":{started},"ended_at":{ended}')
    if latency is not None:
        parts.append(f',"latency_ms":{latency:.1f}')
    if in_tok is not None:
        parts.append(f',"input_tokens":{in_tok},"output_tokens":{out_tok},"cost_usd":{cost:.6f}')
    if confidence is not None:
        parts.append(f',"confidence":{confidence:.3f}')
    if validated:
        parts.append(',"validated":true,"violations":')
        parts.append(json.dumps(violations) if violations else "[]")
    else:
        parts.append(',"validated":false')
    if high_stakes:
        parts.append(',"high_stakes":true')
    elif kind:
        parts.append(',"high_stakes":false')  # the older SDK leaves the default out
    if correct is not None:
        parts.append(',"correct":true' if correct else ',"correct":false')
    if scores is not None:
        parts.append(',"scores":' + _json_pairs(scores.items()))
    if in_hash is not None:
        parts.append(f',"input_hash":"{in_hash}"')
    if out_hash is not None:
        parts.append(f',"output_hash":"{out_hash}"')
    if checksum is not None:
        parts.append(f',"intent_checksum":"{checksum}"')
    meta_json = _META_JSON.get(meta)
    if meta_json is None:
        meta_json = _META_JSON[meta] = _json_pairs(meta)
    parts.append(f',"metadata":{meta_json}')
    if tenant is not None:
        parts.append(f',"tenant":"{tenant}"')  # not in the SPEC: readers must keep it
    parts.append("}\n")
    return "".join(parts)


def record_line(r: Record) -> str:
    """An intent or outcome record as a JSON line; free text goes through json's encoder."""
    if r["kind"] == "intent":
        items = ",".join(map(_json_str, r["constraints"]))
        checksum = r["intent_checksum"]
        check = "" if checksum is None else f',"intent_checksum":"{checksum}"'
        return (
            f'{{"kind":"intent","run_id":"{r["run_id"]}","goal":{_json_str(r["goal"])}'
            f',"constraints":[{items}]{check},"created_at":"{rfc3339(r["created_at"])}"}}\n'
        )
    return json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"


def _epoch_ms(stamp: str) -> int:
    """An RFC 3339 `...Z` timestamp (as the writer library writes them) as epoch ms."""
    parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return round(parsed.timestamp() * 1000)


def hop_tuple(record: Record) -> Hop:
    """A hop record as the writer library wrote it, in this generator's tuple form."""
    values = dict(record)
    values["kind"] = "hop"
    values["started_at"] = _epoch_ms(record["started_at"])
    values["ended_at"] = _epoch_ms(record["ended_at"])
    values["metadata"] = tuple((k, v) for k, v in (record.get("metadata") or {}).items())
    return tuple(values.get(name) for name in HOP_FIELDS)


def write_jsonl(path: Path, fmt: str, runs: Iterator[Run], hops: int) -> tuple[int, int]:
    """Streams whole runs until at least `hops` hop records; returns (runs, hop records).

    Lines are encoded run by run: a non-ASCII goal widens only its own run's text, not the batch.
    """
    with open(path, "wb") as raw:
        # mtime=0 and no name in the gzip header: the same bytes on every run.
        gz = (
            gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0)
            if fmt == "jsonl.gz"
            else None
        )
        out = gz or raw
        n_runs = n_hops = 0
        batch: list[bytes] = []
        append = batch.append
        for records in runs:
            n_runs += 1
            lines = []
            for r in records:
                if type(r) is tuple:
                    n_hops += 1
                    lines.append(hop_line(r))
                else:
                    n_hops += r.get("kind") == "hop"  # type: ignore[union-attr]
                    lines.append(record_line(r))  # type: ignore[arg-type]
            append("".join(lines).encode())
            if len(batch) >= RUNS_PER_WRITE:
                out.write(b"".join(batch))
                batch.clear()
            if n_hops >= hops:
                break
        out.write(b"".join(batch))
        if gz is not None:
            gz.close()
    return n_runs, n_hops


def _parquet_schema() -> Any:
    """One explicit schema for every kind of record (Parquet needs one type per column).

    Timestamps are epoch ms (int64) and violations are `{rule, severity, category}` structs;
    a `cat:rule` string becomes category + rule with no severity.
    """
    import pyarrow as pa

    violation = pa.struct(
        [("rule", pa.string()), ("severity", pa.string()), ("category", pa.string())]
    )
    types = {
        "seq": pa.int64(),
        "started_at": pa.int64(),
        "ended_at": pa.int64(),
        "latency_ms": pa.float64(),
        "input_tokens": pa.int64(),
        "output_tokens": pa.int64(),
        "cost_usd": pa.float64(),
        "confidence": pa.float64(),
        "validated": pa.bool_(),
        "violations": pa.list_(violation),
        "high_stakes": pa.bool_(),
        "correct": pa.bool_(),
        "scores": pa.map_(pa.string(), pa.float64()),
        "metadata": pa.map_(pa.string(), pa.string()),
        "constraints": pa.list_(pa.string()),
        "created_at": pa.int64(),
    }
    names = [*HOP_FIELDS, "goal", "constraints", "created_at", "source", "note"]
    return pa.schema([(name, types.get(name, pa.string())) for name in names])


def _parquet_violations(items: list[str | dict[str, str]]) -> list[dict[str, str | None]]:
    if not items:
        return []
    out: list[dict[str, str | None]] = []
    for item in items:
        if isinstance(item, str):
            category, _, rule = item.partition(":")
            out.append({"rule": rule, "severity": None, "category": category})
        else:
            out.append(dict(item))
    return out


_META_PAIRS: dict[Meta, list[tuple[str, str]]] = {}


def _parquet_metadata(meta: Meta) -> list[tuple[str, str]]:
    """Metadata as map entries (string values); few distinct tuples, so cached."""
    pairs = _META_PAIRS.get(meta)
    if pairs is None:
        pairs = _META_PAIRS[meta] = [(k, str(v)) for k, v in meta]
    return pairs


def write_parquet(path: Path, runs: Iterator[Run], hops: int) -> tuple[int, int]:
    """Streams whole runs into ~100k-row groups; values match the JSONL writer's."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    names: list[str] = schema.names
    pad = (None,) * (len(names) - len(HOP_FIELDS))  # a hop has no intent/outcome columns
    # Applied per row group to non-null values, so the hot loop only collects rows.
    fixes: dict[int, Callable[[Any], Any]] = {
        names.index(name): fn
        for name, fn in (
            ("latency_ms", lambda v: round(v, 1)),
            ("cost_usd", lambda v: round(v, 6)),
            ("confidence", lambda v: round(v, 3)),
            ("violations", _parquet_violations),
            ("scores", lambda v: list(v.items())),
            ("metadata", _parquet_metadata),
        )
    }
    kind_at = names.index("kind")
    rows: list[tuple[Any, ...]] = []
    n_runs = n_hops = 0
    writer = pq.ParquetWriter(path, schema, compression="zstd")

    def flush() -> None:
        arrays = []
        for i, field in enumerate(schema):
            column = list(map(itemgetter(i), rows))
            fix = fixes.get(i)
            if fix is not None:
                column = [None if v is None else fix(v) for v in column]
            elif i == kind_at:
                column = [v or "hop" for v in column]
            arrays.append(pa.array(column, type=field.type))
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
        rows.clear()

    try:
        for records in runs:
            n_runs += 1
            for r in records:
                if type(r) is not tuple and r.get("kind") == "hop":  # type: ignore[union-attr]
                    r = hop_tuple(r)  # type: ignore[arg-type]  # from the writer library
                if type(r) is tuple:
                    n_hops += 1
                    rows.append(r + pad)
                else:
                    rows.append(tuple(map(r.get, names)))  # type: ignore[union-attr]
            if len(rows) >= PARQUET_ROW_GROUP:
                flush()
            if n_hops >= hops:
                break
        if rows:
            flush()
    finally:
        writer.close()
    return n_runs, n_hops


def _format_of(path: Path, requested: str | None) -> str:
    if requested:
        return requested
    if path.name.endswith(".parquet"):
        return "parquet"
    return "jsonl.gz" if path.name.endswith(".gz") else "jsonl"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; prints the achieved throughput on stderr."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output file")
    parser.add_argument("--hops", type=int, required=True, help="write whole runs until >= N hops")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: from the name")
    parser.add_argument(
        "--workflows",
        default=",".join(WORKFLOWS),
        help=f"comma-separated, from: {', '.join(WORKFLOWS)}; or {TREE_WORKFLOW} alone",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.workflows.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKFLOWS and n != TREE_WORKFLOW]
    if unknown or not names:
        parser.error(f"unknown workflow(s): {', '.join(unknown) or '(none)'}")
    if TREE_WORKFLOW in names and len(names) > 1:
        parser.error(f"{TREE_WORKFLOW} is generated alone (it is not mixed with the chains)")
    if args.hops < 1:
        parser.error("--hops must be positive")
    fmt = _format_of(args.out, args.format)

    runs: Iterator[Run]
    if names == [TREE_WORKFLOW]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when imported
        from support_desk import SupportDesk

        runs = SupportDesk(args.seed).runs()  # type: ignore[assignment]
    else:
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
