"""Validation of a submitted run: every score is recomputed from the samples with the pack's own scoring.

Run level (`identity.check_run_identity`): `revision_not_commit`, `model_id`, `model_identity` (the results' model
and revision are the submission's). Per task, in this order (the first failure rejects the run with its reason code):
1. `unknown_task`: the task is not in the pack (`midrl_bench.tasks.registry.TASK_SPECS`);
2. `task_version`: the version lm-eval recorded is exactly the pack's current version (an integer: not `true`,
   `"1"` or `" 1.0 "`); `protocol`: zero-shot, a known extraction policy, the pack's own documents;
   `generation_args`: the task's arguments or declared ones;
3. per sample row: `malformed_sample` (fields), `doc_mismatch` (the doc's hash differs from the pack's document with
   that id), `duplicate_doc`, `prompt_mismatch` / `filter_mismatch` / `generation_args` (`binding`), `cost_limit`
   (repeats, response size, total checker time: `SizeLimits`);
4. per batch of rows, re-scored by `midrl runs regrade`'s `rescore_rows`: `repeats_below_k` (a logged pass@k or
   maj@k with fewer than k responses), `sample_metric_mismatch` (a logged per-document value differs from the
   re-scored one), `cost_limit` (the checker budget);
5. `missing_samples` / `incomplete_task`: sample rows vs lm-eval's `n-samples` and the task's full size;
6. `repeats_below_k` / `pass_at_k_mismatch` / `reported_metric_mismatch`: each reported mean (pass@k, maj@k, avg@n,
   rates) needs its k responses for every document and must equal the mean of the re-scored per-document values.
Per-sample metrics in the files are never used as scores: the accepted numbers are the recomputed ones. What cannot be
detected (which model wrote a response) is measured instead (`visibility.ResponseStats`) and shown per entry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from midrl_bench.leaderboard import binding
from midrl_bench.leaderboard.identity import check_run_identity
from midrl_bench.leaderboard.rundir import DEFAULT_LIMITS, RunDir, SizeLimits, iter_sample_rows, load_run_dir
from midrl_bench.leaderboard.rundir import Rejected as Rejected
from midrl_bench.leaderboard.visibility import ResponseStats

from midrl_bench.metrics import mean_and_stderr
from midrl_bench.tasks import lm_eval_files
from midrl_bench.tasks.lm_eval_files import parse_metric_key

TOLERANCE = 1e-6  # reported means are float sums of the same per-document values
CHUNK_RESPONSES = 64  # re-scored per call (whole documents), so the checker budget is checked this often
# What re-scores the responses (recorded in every entry's provenance): the code `midrl runs regrade` runs.
RESCORING = {"function": "midrl_bench.runs.regrade.rescore_rows",
             "note": "the scoring of midrl runs regrade and of the pack's lm-eval process_results "
                     "(midrl_bench.tasks.scoring)"}


@dataclass
class TaskScore:
    task: str
    version: int
    n_docs: int
    expected_docs: int
    repeats: int
    pass_at_k: dict[str, tuple[float, float]]  # "pass@k" -> (mean over documents, standard error), recomputed
    unjudged_rate: float  # share of responses the checker could not judge (verdict None)
    doc_ids: list[int] = field(default_factory=list)
    responses: dict[str, Any] = field(default_factory=dict)  # visibility.ResponseStats.summary() of its responses
    other_metrics: dict[str, tuple[float, float]] = field(default_factory=dict)  # maj@k, avg@n, rates: recomputed
    extraction: str = "standard"  # the math extraction policy the run (and so the re-scoring) used


@dataclass
class ValidatedRun:
    run: RunDir
    tasks: dict[str, TaskScore]
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def submission(self) -> dict[str, Any]:
        return self.run.submission


class CheckerBudget:
    """Total checker wall time per submission: `checker_base_s` + `checker_per_response_s` per response scored."""

    def __init__(self, limits: SizeLimits) -> None:
        self.limits, self.seconds, self.responses = limits, 0.0, 0

    def charge(self, seconds: float, responses: int, where: str) -> None:
        self.seconds += seconds
        self.responses += responses
        allowed = self.limits.checker_base_s + self.limits.checker_per_response_s * self.responses
        if self.seconds > allowed:
            raise Rejected("cost_limit", f"{where}: checking has taken {self.seconds:.1f} s for {self.responses} "
                                         f"responses; the limit is {allowed:.1f} s (SizeLimits.checker_*)")


def mean_metric(name: str) -> bool:
    """Whether a per-document value is aggregated by a plain mean (pass@k, maj@k, avg@n, the rates)."""
    from lm_eval.api.metrics import mean

    from midrl_bench.tasks.scoring import aggregations

    return name != "responses" and aggregations(1, 0)(name) is mean and "_ci95_" not in name


def rescore(task: str, rows: list[dict[str, Any]], policy: str, where: str) -> list[dict[str, float]]:
    """Per-document mean-aggregated values of `rows`, by `midrl_bench.runs.regrade.rescore_rows` (the same code)."""
    from midrl_bench.runs.regrade import rescore_rows

    try:
        rescored = rescore_rows(task, rows, policy=policy, bootstrap_iters=10, where=where)
    except (ValueError, TypeError, KeyError) as error:  # e.g. a logged `responses` record of the wrong types
        raise Rejected("malformed_sample", f"{where}: {str(error)[:300]}") from None
    return [{name: row[name] for name in row["metrics"] if mean_metric(name)} for row in rescored.rows]


def extraction_policy(task: str, results: dict[str, Any]) -> str:
    """The math extraction policy the run scored with (`--extraction`, recorded under configs.metadata.scoring)."""
    from midrl_bench.tasks.scoring import POLICIES

    metadata = (((results.get("configs") or {}).get(task) or {}).get("metadata") or {})
    scoring = metadata.get("scoring") if isinstance(metadata.get("scoring"), dict) else {}
    policy = scoring.get("extraction", metadata.get("extraction", "standard"))
    if policy not in POLICIES:
        raise Rejected("protocol", f"{task}: extraction policy {policy!r} is not one of {POLICIES}")
    return policy


def _check_version(task: str, results: dict[str, Any], current: int) -> None:
    reported = (results.get("versions") or {}).get(task)
    if type(reported) is not type(current) or reported != current:
        raise Rejected("task_version",
                       f"{task}: run used version {reported!r}; the pack's current version is {current!r} (exactly)")


def _check_costs(responses: list[str], limits: SizeLimits, where: str) -> None:
    if len(responses) > limits.max_repeats:
        raise Rejected("cost_limit", f"{where}: {len(responses)} responses for one document; the limit is "
                                     f"{limits.max_repeats} (SizeLimits.max_repeats)")
    longest = max(len(r) for r in responses)
    if longest > limits.response_chars:
        raise Rejected("cost_limit", f"{where}: a response of {longest} characters; the limit is "
                                     f"{limits.response_chars} (SizeLimits.response_chars)")


def _bind_row(ctx: dict, line: int, row: dict[str, Any]) -> tuple[int, list[str]]:
    """Checks of one row up to its responses (doc, prompt, filter, arguments, costs); returns (doc_id, responses)."""
    from midrl_bench.tasks.registry import doc_hash

    task, docs, where = ctx["task"], ctx["docs"], f"{ctx['task']} samples line {line}"
    doc_id = row.get("doc_id")
    if not isinstance(doc_id, int) or isinstance(doc_id, bool) or not isinstance(row.get("doc"), dict):
        raise Rejected("malformed_sample", f"{where}: needs an int doc_id and a doc object")
    if not 0 <= doc_id < len(docs) or doc_hash(row["doc"]) != doc_hash(docs[doc_id]):
        raise Rejected("doc_mismatch", f"{where}: doc_id {doc_id} does not match the pack's document (hash differs)")
    if doc_id in ctx["seen"]:
        raise Rejected("duplicate_doc", f"{where}: doc_id {doc_id} appears twice")
    ctx["seen"].add(doc_id)
    prompt, arguments = binding.logged_request(row, where)
    binding.check_prompt(task, docs[doc_id], prompt, row, ctx["results"], where)
    binding.check_generation_args(task, arguments, ctx["declared"], where)
    responses = binding.check_filter(task, row, docs[doc_id], where)
    _check_costs(responses, ctx["limits"], where)
    return doc_id, responses


def _score_chunk(ctx: dict, pending: list[tuple[int, dict]], values: list[dict[str, float]]) -> None:
    """Re-score the pending rows, charge the checker budget, compare every logged per-document value."""
    if not pending:
        return
    task, where = ctx["task"], f"{ctx['task']} samples lines {pending[0][0]}-{pending[-1][0]}"
    started = time.monotonic()
    fresh = rescore(task, [row for _, row in pending], ctx["policy"], where)
    responses = sum(len(lm_eval_files.row_responses(row, where)) for _, row in pending)
    ctx["budget"].charge(time.monotonic() - started, responses, where)
    for (line, row), recomputed in zip(pending, fresh, strict=True):
        _compare_logged(f"{task} samples line {line}", row, recomputed)
        values.append(recomputed)
    pending.clear()


def _compare_logged(where: str, row: dict[str, Any], recomputed: dict[str, float]) -> None:
    for key, logged in row.items():
        parsed = parse_metric_key(f"{key},x")
        if key not in recomputed:
            if parsed and parsed.family in ("pass", "maj") and parsed.part == "value":
                raise Rejected("repeats_below_k", f"{where}: logs {key} but doc {row['doc_id']} has "
                                                  f"{len(lm_eval_files.row_responses(row, where))} responses")
            continue
        if isinstance(logged, bool) or not isinstance(logged, (int, float)) or abs(logged - recomputed[key]) > TOLERANCE:
            raise Rejected("sample_metric_mismatch", f"{where}: doc {row['doc_id']} logs {key}={logged!r}, "
                                                     f"re-scoring the responses gives {recomputed[key]:.6f}")


def _check_coverage(task: str, results: dict, n_rows: int, expected: int, allow_partial: bool) -> None:
    effective = ((results.get("n-samples") or {}).get(task) or {}).get("effective")
    if effective != n_rows or isinstance(effective, bool):
        raise Rejected("missing_samples",
                       f"{task}: lm-eval evaluated {effective!r} documents, samples file has {n_rows}")
    if n_rows != expected and not allow_partial:
        raise Rejected("incomplete_task", f"{task}: {n_rows} of {expected} documents evaluated (was --limit used?)")


def _check_reported(task: str, results: dict, values: list[dict[str, float]], repeats: int) -> None:
    """Every reported mean metric equals the mean of the recomputed per-document values."""
    reported = (results.get("results") or {}).get(task) or {}
    keys = [(parsed, value) for key, value in reported.items()
            if (parsed := parse_metric_key(key)) and parsed.part == "value" and mean_metric(parsed.metric)]
    if not any(parsed.metric == "pass@1" for parsed, _ in keys):
        raise Rejected("missing_metric", f"{task}: the results file reports no pass@1")
    for parsed, value in keys:
        if parsed.metric not in values[0]:
            if parsed.family in ("pass", "maj"):
                raise Rejected("repeats_below_k", f"{task}: reports {parsed.metric} with only {repeats} responses "
                                                  "per document")
            continue  # a rate the re-scoring cannot know (truncation without token lengths) is not used
        recomputed = sum(doc[parsed.metric] for doc in values) / len(values)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value - recomputed) > TOLERANCE:
            code = "pass_at_k_mismatch" if parsed.family == "pass" else "reported_metric_mismatch"
            raise Rejected(code, f"{task}: reports {parsed.metric}={value!r}, re-scoring the samples gives "
                                 f"{recomputed:.6f}")


def _documents(task: str, results: dict[str, Any], allow_local: bool) -> list[dict[str, Any]]:
    """The pack's documents of the task. A run may name another source config (`midrl_toy`'s `toy_config`, a file
    on the machine that ran it, as `midrl demo` does): only a local store (`--allow-local`) follows it."""
    from midrl_bench.tasks.registry import TASK_SPECS, load_docs

    metadata = (((results.get("configs") or {}).get(task) or {}).get("metadata") or {})
    size, source = metadata.get("size"), metadata.get("toy_config")
    if source is None and size in (None, TASK_SPECS[task].expected_docs):
        return load_docs(task)
    if not allow_local:
        raise Rejected("protocol", f"{task}: the run served documents from another source (metadata size={size!r}, "
                                   f"toy_config={source!r}); only a local store (--allow-local) accepts that")
    try:
        return load_docs(task, size, source_config=source)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise Rejected("protocol", f"{task}: cannot load the run's documents ({str(error)[:200]})") from None


def _task_context(run: RunDir, task: str, limits: SizeLimits, budget: CheckerBudget,
                  allow_local: bool = False) -> dict[str, Any]:
    from midrl_bench.tasks.registry import TASK_SPECS

    if task not in TASK_SPECS:
        raise Rejected("unknown_task", f"{task} is not a task of the midrl pack ({sorted(TASK_SPECS)})")
    results = run.results_for(task)
    _check_version(task, results, TASK_SPECS[task].version)
    binding.check_protocol(task, results)
    declared = run.submission.get("generation") or {}
    config = (results.get("configs") or {}).get(task)
    if isinstance(config, dict) and "generation_kwargs" in config:
        binding.check_generation_args(task, config["generation_kwargs"], declared, f"{task} results configs")
    return {"task": task, "docs": _documents(task, results, allow_local), "seen": set(), "results": results,
            "declared": declared,
            "limits": limits, "budget": budget, "policy": extraction_policy(task, results)}


def validate_task(run: RunDir, task: str, limits: SizeLimits, allow_partial: bool,
                  budget: CheckerBudget | None = None, allow_local: bool = False) -> TaskScore:
    from midrl_bench.tasks.registry import TASK_SPECS

    ctx = _task_context(run, task, limits, budget or CheckerBudget(limits), allow_local)
    values, stats, pending, pending_responses = [], ResponseStats(), [], 0
    for line, row in iter_sample_rows(run.tasks[task].samples_file, limits):
        _, responses = _bind_row(ctx, line, row)
        stats.add(responses)
        pending.append((line, row))
        pending_responses += len(responses)
        if pending_responses >= CHUNK_RESPONSES:
            _score_chunk(ctx, pending, values)
            pending_responses = 0
    _score_chunk(ctx, pending, values)
    spec = TASK_SPECS[task]
    expected = len(ctx["docs"])
    _check_coverage(task, ctx["results"], len(values), expected, allow_partial)
    if len(stats.repeats) != 1:
        raise Rejected("repeats_below_k", f"{task}: documents have different numbers of responses "
                                          f"{sorted(stats.repeats)}")
    (n,) = stats.repeats
    _check_reported(task, ctx["results"], values, n)
    names = [name for name in values[0] if name.startswith("pass@")]
    return TaskScore(task=task, version=spec.version, n_docs=len(values), expected_docs=expected, repeats=n,
                     pass_at_k={name: mean_and_stderr([doc[name] for doc in values]) for name in names},
                     unjudged_rate=sum(doc["unjudged_rate"] for doc in values) / len(values),
                     doc_ids=sorted(ctx["seen"]), responses=stats.summary(),
                     other_metrics={name: mean_and_stderr([doc[name] for doc in values]) for name in values[0]
                                    if not name.startswith("pass@")},
                     extraction=ctx["policy"])


def validate_run(root, limits: SizeLimits = DEFAULT_LIMITS, allow_partial: bool = False,
                 allow_local: bool = False) -> ValidatedRun:
    """Load, check and re-score a run directory; raises `Rejected` with a reason code on the first mismatch."""
    run = load_run_dir(root, limits)
    identity = check_run_identity(run, allow_local=allow_local)
    budget = CheckerBudget(limits)
    tasks = {task: validate_task(run, task, limits, allow_partial, budget, allow_local) for task in sorted(run.tasks)}
    return ValidatedRun(run=run, tasks=tasks, identity=identity)
