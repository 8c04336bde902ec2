"""Scoring of one document's n responses: a verdict, route and answer per response, and the per-document metrics.

This is the single place that turns responses into the pack's metrics; lm-eval (through `task_class.MidrlTask`),
`midrl runs regrade` and the leaderboard's re-scoring all call `score_doc` and `doc_values`, and aggregate with
`aggregations`, so the three cannot drift apart.

Per document, for n responses and every k in 1, 2, 4, ... <= n:
- `pass@k` (unbiased estimator), `maj@k` (exact expected majority-vote accuracy over k-subsets, see
  `midrl_bench.metrics.maj_at_k`), `avg@n` (mean per-response accuracy);
- `no_answer_rate` (no extractable answer), `unjudged_rate` (the checker could not judge: timeout, unparseable gold),
  `truncation_rate` (responses of at least `max_gen_toks` tokens; only when the model's tokenizer is known);
- `responses`: the audit record (verdict, reason, route, extracted answer, length of each response); its task-level
  aggregate is the number of responses scored.
Task level: every metric is the mean over documents, with a seeded percentile-bootstrap 95% interval over
documents (`<metric>_ci95_lo` / `_ci95_hi`); `length_p50` / `length_p90` are percentiles over all responses.
Votes: math answers are grouped by the checker's canonical form (one canonicalisation per distinct answer), MuSR
answers by letter, programs by their normalised text (whitespace and comments do not split a vote).
Cost: a math verdict depends only on (gold, extracted answer), so each distinct pair is checked once (n
responses of one problem usually hold a handful of distinct answers); each distinct program runs once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from midrl_bench import metrics, stats

RATE_METRICS = ("no_answer_rate", "unjudged_rate", "truncation_rate")
LENGTH_METRICS = {"length_p50": 50.0, "length_p90": 90.0}
POLICIES = ("standard", "strict")


@dataclass(frozen=True)
class SampleScore:
    correct: bool | None
    reason: str
    route: str  # how the answer was found ("boxed", "final_answer_phrase", "last_expression", a code shape, "none")
    extracted: str | None  # the extracted answer (math, letter) or a digest of the program (code)
    vote: str | None  # the key majority voting groups by; None: no answer


def score_doc(task_name: str, doc: dict[str, Any], responses: Sequence[str], *, policy: str = "standard",
              timeout_s: float | None = None) -> list[SampleScore]:
    """One SampleScore per response, by the task's checker."""
    return score_docs(task_name, [(doc, responses)], policy=policy, timeout_s=timeout_s)[0]


def score_docs(task_name: str, items: Sequence[tuple[dict[str, Any], Sequence[str]]], *, policy: str = "standard",
               timeout_s: float | None = None) -> list[list[SampleScore]]:
    """SampleScores of many documents' responses at once (math: one batch through the checker's worker pool)."""
    from midrl_bench.tasks import registry

    if policy not in POLICIES:
        raise ValueError(f"extraction policy must be one of {POLICIES}, got {policy!r}")
    kind = registry.spec(task_name).checker
    if kind == "math":
        return _math_scores(items, policy, timeout_s)
    if kind == "choice":
        return [_choice_scores(doc, responses) for doc, responses in items]
    if kind == "code":
        return [_code_scores(doc, responses) for doc, responses in items]
    raise KeyError(f"no checker for kind {kind!r} (task {task_name})")


def _extractions(pairs: list[tuple[str, str]], policy: str) -> list:
    """The extraction (answer, route) of every response, or None where the scan fails (the worker then judges it)."""
    from midrl_bench.verify.extract import extract_answer

    out = []
    for _, response in pairs:
        try:
            out.append(extract_answer(response, policy))
        except Exception:  # noqa: BLE001  (the worker judges it whole, under its hard timeout, and says what failed)
            out.append(None)
    return out


def _math_scores(items, policy, timeout_s) -> list[list[SampleScore]]:
    """One check per distinct (gold, extracted answer), one canonicalisation per distinct answer, in the pool.

    The checker's verdict depends on the response only through its extracted answer
    (`midrl_bench.verify.math_worker.judge`: the route only names where the answer was found, in the reason), so
    responses sharing a (gold, answer) share a verdict and are checked once; the extraction (bounded scanning) runs
    here, and each response keeps its own route.
    """
    from midrl_bench.verify.math import canonical_answers, check_answers

    pairs = [(str(doc["answer"]), str(r)) for doc, responses in items for r in responses]
    found = _extractions(pairs, policy)
    keys = [(gold, "answer", f.answer) if f is not None else (gold, "response", response)
            for (gold, response), f in zip(pairs, found, strict=True)]
    first: dict[tuple, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    checked = check_answers([pairs[index] for index in first.values()], policy=policy, timeout_s=timeout_s)
    verdict_of = dict(zip(first, checked, strict=True))
    # a right answer joins the right group by its verdict; only the others need a canonical form to be grouped
    distinct = sorted({v.extracted for v in checked if v.extracted is not None and v.correct is not True})
    canonical = dict(zip(distinct, canonical_answers(distinct, timeout_s=timeout_s), strict=True))
    flat = []
    for key, extraction in zip(keys, found, strict=True):
        verdict = verdict_of[key]
        route, reason = verdict.route, verdict.reason
        if extraction is not None and verdict.route and extraction.route != verdict.route:
            route = extraction.route  # same answer found another way: same verdict, this response's route
            reason = reason.replace(f"({verdict.route})", f"({route})")
        vote = None
        if verdict.extracted is not None:
            form = canonical.get(verdict.extracted)
            vote = f"canonical:{form}" if form is not None else f"text:{' '.join(verdict.extracted.split())}"
        flat.append(SampleScore(verdict.correct, reason, route, verdict.extracted, vote))
    out, start = [], 0
    for _, responses in items:
        out.append(flat[start : start + len(responses)])
        start += len(responses)
    return out


def _choice_scores(doc, responses) -> list[SampleScore]:
    from midrl_bench.verify.choice import check_choice, extract_choice

    out = []
    for response in responses:
        verdict = check_choice(doc["answer_index"], len(doc["choices"]), response)
        if verdict.extracted is None:
            route = "none"
        else:  # the letter came from an Answer line unless it is only found inside a box
            unboxed = response.replace("\\boxed", "\\unboxed").replace("\\fbox", "\\unfbox")
            route = "final_answer_phrase" if extract_choice(unboxed) is not None else "boxed"
        out.append(SampleScore(verdict.correct, verdict.reason, route, verdict.extracted, verdict.extracted))
    return out


def _normalised_program(code: str) -> str:
    lines = (re.sub(r"\s+#.*$", "", line).rstrip() for line in code.splitlines())
    return "\n".join(line for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _code_scores(doc, responses) -> list[SampleScore]:
    """Each distinct response runs once in the sandbox (identical text, identical program and tests)."""
    from midrl_bench.tasks.code_scoring import assemble_solution, judge_responses

    distinct = list(dict.fromkeys(responses))
    verdict_of = dict(zip(distinct, judge_responses(doc, distinct), strict=True)) if distinct else {}
    out = []
    for response in responses:
        verdict = verdict_of[response]
        solution = assemble_solution(doc["prompt"], doc["entry_point"], response)
        program = _normalised_program(solution.code)
        if program == _normalised_program(doc["prompt"]) or not response.strip():
            out.append(SampleScore(verdict.verdict, f"no_code: {verdict.reason}", "none", None, None))
            continue
        digest = "sha256:" + hashlib.sha256(program.encode("utf-8")).hexdigest()[:16]
        out.append(SampleScore(verdict.verdict, verdict.reason, solution.shape, digest, digest))
    return out


def doc_values(scores: Sequence[SampleScore], lengths: Sequence[int], truncated: Sequence[bool] | None,
               length_unit: str) -> dict[str, Any]:
    """The per-document values lm-eval aggregates (one dict per document, logged in its samples row)."""
    n = len(scores)
    correct = [s.correct for s in scores]
    groups = metrics.vote_groups([s.vote for s in scores], correct)
    values: dict[str, Any] = dict(metrics.pass_at_k_table(correct, metrics.powers_of_two(n)))
    values |= {f"maj@{k}": metrics.maj_at_k(groups, k) for k in metrics.powers_of_two(n)}
    values["avg@n"] = metrics.avg_at_n(correct)
    values["no_answer_rate"] = sum(s.route == "none" for s in scores) / n
    values["unjudged_rate"] = sum(s.correct is None for s in scores) / n
    if truncated is not None:
        values["truncation_rate"] = sum(truncated) / n
    for name in [key for key in values if not key.endswith("_rate")]:
        values[f"{name}_ci95_lo"] = values[f"{name}_ci95_hi"] = values[name]
    values |= {name: list(lengths) for name in LENGTH_METRICS}
    values["responses"] = {
        "verdict": correct, "reason": [s.reason for s in scores], "route": [s.route for s in scores],
        "extracted": [s.extracted for s in scores], "length": list(lengths), "length_unit": length_unit,
        **({"truncated": list(truncated)} if truncated is not None else {}),
    }
    return values


def metric_names(n: int, with_truncation: bool = True) -> list[str]:
    """Every metric key a task with n responses per document reports, in reporting order."""
    ks = metrics.powers_of_two(n)
    main = [*(f"pass@{k}" for k in ks), *(f"maj@{k}" for k in ks), "avg@n"]
    rates = [r for r in RATE_METRICS if with_truncation or r != "truncation_rate"]
    bounds = [f"{name}_ci95_{side}" for name in main for side in ("lo", "hi")]
    return [*main, *rates, *bounds, *LENGTH_METRICS, "responses"]


def higher_is_better(name: str) -> bool:
    from midrl_bench.tasks.lm_eval_files import parse_metric_key

    return parse_metric_key(f"{name},all").family is not None  # pass@k, maj@k, avg@n and their bounds


def aggregations(bootstrap_iters: int = stats.DEFAULT_BOOTSTRAP, seed: int = stats.DEFAULT_SEED):
    """metric name -> aggregation of its per-document values (lm-eval's `mean` for means, so it adds a stderr)."""
    from lm_eval.api.metrics import mean

    def bound(side: int):
        return lambda items: stats.bootstrap_ci(items, bootstrap_iters, seed)[side]

    def length(q: float):
        return lambda items: stats.percentile([x for lengths in items for x in lengths], q)

    def lookup(name: str):
        if name.endswith("_ci95_lo") or name.endswith("_ci95_hi"):
            return bound(0 if name.endswith("_lo") else 1)
        if name in LENGTH_METRICS:
            return length(LENGTH_METRICS[name])
        if name == "responses":
            return lambda items: float(sum(len(record["verdict"]) for record in items))
        return mean

    return lookup
