"""Validation of a submitted run: every score is recomputed from the samples with the pack's own checkers.

Per task, in this order (the first failure rejects the run with its reason code):
1. `unknown_task`: the task is not in the pack (`midrl_bench.tasks.registry.TASK_SPECS`);
2. `task_version`: the version lm-eval recorded is not the pack's current version;
3. per sample row: `malformed_sample` (fields), `doc_mismatch` (the doc's hash differs from the pack's document with
   that id), `duplicate_doc`, `repeats_below_k` (a logged pass@k with fewer than k responses),
   `sample_metric_mismatch` (a logged per-sample metric differs from the re-scored one);
4. `missing_samples` / `incomplete_task`: sample rows vs lm-eval's `n-samples` and the task's full size;
5. `repeats_below_k` / `pass_at_k_mismatch`: each reported pass@k needs >= k responses for every document and must
   equal the mean of the recomputed per-document values.
Per-sample metrics in the files are never used as scores: the accepted numbers are the recomputed ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from midrl_bench.leaderboard.rundir import DEFAULT_LIMITS, RunDir, SizeLimits, iter_sample_rows, load_run_dir
from midrl_bench.leaderboard.rundir import Rejected as Rejected

from midrl_bench.metrics import mean_and_stderr

TOLERANCE = 1e-6  # reported means are float sums of the same per-document values
_REPORTED_KEY = re.compile(r"^(?P<metric>pass@(?P<k>[0-9]+)),(?P<filter>.+)$")


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


@dataclass
class ValidatedRun:
    run: RunDir
    tasks: dict[str, TaskScore]

    @property
    def submission(self) -> dict[str, Any]:
        return self.run.submission


def responses_of(row: dict[str, Any]) -> list[str] | None:
    """All repeats of one sample row: lm-eval logs `filtered_resps` as [[r1..rN]] (keep-all filter) or [r1..rN]."""
    value = row.get("filtered_resps")
    if not isinstance(value, list):
        return None
    flat = [item for part in value for item in part] if value and all(isinstance(p, list) for p in value) else value
    return flat if all(isinstance(item, str) for item in flat) else None


def _check_version(task: str, results: dict[str, Any], current: int) -> None:
    reported = (results.get("versions") or {}).get(task)
    try:
        same = reported is not None and float(reported) == float(current)
    except (TypeError, ValueError):
        same = False
    if not same:
        raise Rejected("task_version",
                       f"{task}: run used version {reported!r}; the pack's current version is {current}")


def _score_row(task: str, line: int, row: dict[str, Any], docs: list[dict], seen: set[int]) -> tuple[int, dict, list]:
    from midrl_bench.tasks.registry import doc_hash, score_responses

    where = f"{task} samples line {line}"
    doc_id, responses = row.get("doc_id"), responses_of(row)
    if not isinstance(doc_id, int) or isinstance(doc_id, bool) or not isinstance(row.get("doc"), dict) or not responses:
        raise Rejected("malformed_sample", f"{where}: needs an int doc_id, a doc object and non-empty filtered_resps")
    if not 0 <= doc_id < len(docs) or doc_hash(row["doc"]) != doc_hash(docs[doc_id]):
        raise Rejected("doc_mismatch", f"{where}: doc_id {doc_id} does not match the pack's document (hash differs)")
    if doc_id in seen:
        raise Rejected("duplicate_doc", f"{where}: doc_id {doc_id} appears twice")
    seen.add(doc_id)
    verdicts, table = score_responses(task, docs[doc_id], responses)
    recomputed = {**table, "unjudged_rate": sum(v is None for v in verdicts) / len(verdicts)}
    for key, logged in row.items():
        if not (key.startswith("pass@") or key == "unjudged_rate"):
            continue
        if key not in recomputed:
            raise Rejected("repeats_below_k", f"{where}: logs {key} but doc {doc_id} has {len(responses)} responses")
        if not isinstance(logged, (int, float)) or abs(float(logged) - recomputed[key]) > TOLERANCE:
            raise Rejected("sample_metric_mismatch", f"{where}: doc {doc_id} logs {key}={logged!r}, "
                                                     f"re-scoring the responses gives {recomputed[key]:.6f}")
    return doc_id, table, verdicts


def _check_coverage(task: str, results: dict, n_rows: int, expected: int, allow_partial: bool) -> None:
    effective = ((results.get("n-samples") or {}).get(task) or {}).get("effective")
    if effective != n_rows:
        raise Rejected("missing_samples",
                       f"{task}: lm-eval evaluated {effective!r} documents, samples file has {n_rows}")
    if n_rows != expected and not allow_partial:
        raise Rejected("incomplete_task", f"{task}: {n_rows} of {expected} documents evaluated (was --limit used?)")


def _check_reported(task: str, results: dict, tables: list[dict[str, float]], repeats: int) -> None:
    reported = (results.get("results") or {}).get(task) or {}
    keys = [(m, reported[key]) for key in reported if (m := _REPORTED_KEY.match(key))]
    if not any(match["metric"] == "pass@1" for match, _ in keys):
        raise Rejected("missing_metric", f"{task}: the results file reports no pass@1")
    for match, value in keys:
        metric, k = match["metric"], int(match["k"])
        if k > repeats:
            raise Rejected("repeats_below_k", f"{task}: reports {metric} with only {repeats} responses per document")
        recomputed = sum(table[metric] for table in tables) / len(tables)
        if not isinstance(value, (int, float)) or abs(float(value) - recomputed) > TOLERANCE:
            raise Rejected("pass_at_k_mismatch", f"{task}: reports {metric}={value!r}, "
                                                 f"re-scoring the samples gives {recomputed:.6f}")


def validate_task(run: RunDir, task: str, limits: SizeLimits, allow_partial: bool) -> TaskScore:
    from midrl_bench.tasks.registry import TASK_SPECS, load_docs

    if task not in TASK_SPECS:
        raise Rejected("unknown_task", f"{task} is not a task of the midrl pack ({sorted(TASK_SPECS)})")
    spec, results = TASK_SPECS[task], run.results_for(task)
    _check_version(task, results, spec.version)
    docs, seen, tables, verdicts = load_docs(task), set(), [], []
    repeats: set[int] = set()
    for line, row in iter_sample_rows(run.tasks[task].samples_file, limits):
        _, table, row_verdicts = _score_row(task, line, row, docs, seen)
        tables.append(table)
        verdicts.extend(row_verdicts)
        repeats.add(len(row_verdicts))
    _check_coverage(task, results, len(tables), spec.expected_docs, allow_partial)
    if len(repeats) != 1:
        raise Rejected("repeats_below_k", f"{task}: documents have different numbers of responses {sorted(repeats)}")
    (n,) = repeats
    _check_reported(task, results, tables, n)
    scores = {key: mean_and_stderr([table[key] for table in tables]) for key in tables[0]}
    return TaskScore(task=task, version=spec.version, n_docs=len(tables), expected_docs=spec.expected_docs, repeats=n,
                     pass_at_k=scores, unjudged_rate=sum(v is None for v in verdicts) / len(verdicts),
                     doc_ids=sorted(seen))


def validate_run(root, limits: SizeLimits = DEFAULT_LIMITS, allow_partial: bool = False) -> ValidatedRun:
    """Load, check and re-score a run directory; raises `Rejected` with a reason code on the first mismatch."""
    run = load_run_dir(root, limits)
    tasks = {task: validate_task(run, task, limits, allow_partial) for task in sorted(run.tasks)}
    return ValidatedRun(run=run, tasks=tasks)
