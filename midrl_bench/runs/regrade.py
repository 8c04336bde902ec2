"""Re-scoring stored lm-eval samples with the current checker (`midrl runs regrade RUN_DIR [-o OUT]`).

The new `results_<date>.json` and `samples_<task>_<date>.jsonl` are written beside the newest results file (or in
OUT) under a fresh date, so nothing is ever overwritten and lm-eval's file grammar still holds (the newest results
file of a run wins, see `load.py`). The new results file keeps the old one's other fields and adds a `regrade`
record: the source file, the old and new checker settings per task, and how many verdicts changed.
The leaderboard re-scores with `rescore_rows`, the same code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from midrl_bench import stats
from midrl_bench.runs.load import Run, RunError, load_run
from midrl_bench.tasks import lm_eval_files, scoring
from midrl_bench.tasks.task_class import WORDS

FILTER = "all"


@dataclass
class Rescored:
    task: str
    rows: list[dict[str, Any]]  # the samples rows with fresh per-document values
    results: dict[str, Any]  # the task's results block ("<metric>,all" and "<metric>_stderr,all")
    responses: int = 0
    changed_verdicts: int = 0
    verdicts_logged: bool = True  # False: old rows had no per-response verdicts; changes counted from pass@1
    settings: dict[str, Any] = field(default_factory=dict)


def _old_verdicts(row: dict[str, Any], n: int) -> list[bool | None] | None:
    record = row.get("responses")
    if isinstance(record, dict) and isinstance(record.get("verdict"), list) and len(record["verdict"]) == n:
        return record["verdict"]
    return None


def _lengths(row: dict[str, Any], responses: list[str]) -> tuple[list[int], list[bool] | None, str]:
    """Lengths as the run logged them (its tokenizer), else whitespace words (and no truncation)."""
    record = row.get("responses") if isinstance(row.get("responses"), dict) else {}
    lengths, unit = record.get("length"), record.get("length_unit")
    if isinstance(lengths, list) and len(lengths) == len(responses) and isinstance(unit, str):
        truncated = record.get("truncated")
        return lengths, truncated if isinstance(truncated, list) and len(truncated) == len(responses) else None, unit
    return [len(r.split()) for r in responses], None, WORDS


def aggregate(values: list[dict[str, Any]], bootstrap_iters: int, seed: int) -> dict[str, Any]:
    """lm-eval's task aggregation of per-document values, with the pack's aggregations and lm-eval's stderr."""
    from lm_eval.api.metrics import stderr_for_metric

    lookup = scoring.aggregations(bootstrap_iters, seed)
    names = list(dict.fromkeys(name for doc in values for name in doc))
    out: dict[str, Any] = {}
    for name in names:
        items = [doc[name] for doc in values if name in doc]
        function = lookup(name)
        out[f"{name},{FILTER}"] = function(items)
        stderr = stderr_for_metric(metric=function, bootstrap_iters=bootstrap_iters)
        out[f"{name}_stderr,{FILTER}"] = stderr(items) if stderr and len(items) > 1 else "N/A"
    return out


def rescore_rows(task: str, rows: Iterable[dict[str, Any]], *, policy: str = "standard",
                 timeout_s: float | None = None, bootstrap_iters: int = stats.DEFAULT_BOOTSTRAP,
                 seed: int = stats.DEFAULT_SEED, where: str = "samples") -> Rescored:
    """Re-score lm-eval samples rows of one pack task with the current checker.

    Returns the rows with fresh per-document values (the audit record included), the task's results block as lm-eval
    would write it, and how many per-response verdicts differ from the ones the rows logged.
    """
    from midrl_bench.tasks import registry

    rows = list(rows)
    items = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row.get("doc"), dict):
            raise RunError(f"{where}: row {number} has no doc object")
        items.append((row["doc"], lm_eval_files.row_responses(row, f"{where}: row {number}")))
    scored = scoring.score_docs(task, items, policy=policy, timeout_s=timeout_s)
    result = Rescored(task=task, rows=[], results={},
                      settings={"extraction": policy, "checker_timeout_s": timeout_s, "bootstrap_iters": bootstrap_iters,
                                "bootstrap_seed": seed, "checker": registry.checker_settings(task, policy, timeout_s)})
    values = []
    for row, (_, responses), scores in zip(rows, items, scored, strict=True):
        lengths, truncated, unit = _lengths(row, responses)
        doc_values = scoring.doc_values(scores, lengths, truncated, unit)
        old = _old_verdicts(row, len(responses))
        new = [s.correct for s in scores]
        if old is not None:
            result.changed_verdicts += sum(a != b for a, b in zip(old, new, strict=True))
        else:
            result.verdicts_logged = False
            old_pass = row.get("pass@1")
            if isinstance(old_pass, (int, float)):
                result.changed_verdicts += round(abs(old_pass - doc_values["pass@1"]) * len(responses))
        result.responses += len(responses)
        values.append(doc_values)
        new_row = {key: value for key, value in row.items() if key not in set(row.get("metrics") or [])}
        result.rows.append({**new_row, "metrics": list(doc_values), **doc_values})
    result.results = aggregate(values, bootstrap_iters, seed)
    return result


def _group_rows(old: dict[str, Any], results: dict[str, dict]) -> None:
    """Recompute the group rows of `old` as unweighted means over their leaf tasks (the pack's groups)."""
    from lm_eval.api.metrics import aggregate_subtask_metrics

    subtasks = old.get("group_subtasks") or {}

    def leaves(name: str) -> list[str]:
        return [leaf for child in subtasks.get(name, []) for leaf in (leaves(child) if subtasks.get(child) else [child])]

    for group, block in (old.get("results") or {}).items():
        if not subtasks.get(group):
            continue
        members = [results[leaf] for leaf in leaves(group) if leaf in results]
        new_block = {key: value for key, value in block.items() if lm_eval_files.parse_metric_key(key) is None}
        for key in block:
            parsed = lm_eval_files.parse_metric_key(key)
            found = [m[key] for m in members if parsed and parsed.part == "value" and isinstance(m.get(key), float)]
            if found:
                new_block[key] = aggregate_subtask_metrics(found, [1] * len(found), weight_by_size=False)
                new_block[f"{parsed.metric}_stderr,{parsed.filter}"] = "N/A"
        results[group] = new_block


def _fresh_date(folder: Path) -> str:
    date = datetime.now().isoformat().replace(":", "-")
    while (folder / lm_eval_files.results_name(date)).exists():
        date = datetime.now().isoformat().replace(":", "-")
    return date


def regrade_run(run_dir: str | Path, out: str | Path | None = None, *, policy: str = "standard",
                timeout_s: float | None = None, bootstrap_iters: int = stats.DEFAULT_BOOTSTRAP,
                seed: int = stats.DEFAULT_SEED) -> tuple[Path, dict[str, Any]]:
    """Re-score every pack task of a run; returns (new results file, its `regrade` record)."""
    from midrl_bench.tasks.registry import TASK_SPECS

    run: Run = load_run(run_dir)
    tasks = [task for name, task in run.tasks.items() if name in TASK_SPECS]
    if not tasks:
        raise RunError(f"{run.root}: no task of the midrl pack in this run (has {sorted(run.tasks)})")
    source = max((task.results_file for task in tasks), key=lambda p: lm_eval_files.parse_results_name(p.name))
    old = json.loads(source.read_text(encoding="utf-8"))
    folder = Path(out) if out is not None else source.parent
    folder.mkdir(parents=True, exist_ok=True)
    date = _fresh_date(folder)
    results, record = dict(old.get("results") or {}), {"source": str(source), "date": date, "tasks": {}}
    for task in tasks:
        rescored = rescore_rows(task.name, task.rows(), policy=policy, timeout_s=timeout_s,
                                bootstrap_iters=bootstrap_iters, seed=seed, where=str(task.samples_file))
        results[task.name] = {**{k: v for k, v in task.results.items() if lm_eval_files.parse_metric_key(k) is None},
                              **rescored.results}
        old_scoring = ((task.config.get("metadata") or {}).get("scoring") or {})
        record["tasks"][task.name] = {
            "old_checker": old_scoring.get("checker", "not recorded (written before checker settings were logged)"),
            "new_checker": rescored.settings["checker"], "settings": rescored.settings,
            "responses": rescored.responses, "changed_verdicts": rescored.changed_verdicts,
            "changed_verdicts_exact": rescored.verdicts_logged, "samples_source": str(task.samples_file),
        }
        _write_rows(folder / lm_eval_files.samples_name(task.name, date), rescored.rows)
    _group_rows(old, results)
    configs = dict(old.get("configs") or {})
    for task in tasks:
        config = dict(configs.get(task.name) or {})
        settings = record["tasks"][task.name]["settings"]
        scoring_record = {**((config.get("metadata") or {}).get("scoring") or {}), **settings}
        config["metadata"] = {**(config.get("metadata") or {}), "scoring": scoring_record}
        configs[task.name] = config
    new = {**old, "results": results, "configs": configs, "regrade": record}
    target = folder / lm_eval_files.results_name(date)
    _write_new(target, json.dumps(new, indent=2, default=str, allow_nan=False) + "\n")
    return target, record


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    _write_new(path, "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows))


def _write_new(path: Path, text: str) -> None:
    """Write a file that must not exist yet (never overwrite), atomically."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    try:
        os.link(temporary, path)  # fails if `path` exists: nothing is overwritten
    except FileExistsError:
        raise RunError(f"{path}: exists already; regrade never overwrites a file") from None
    finally:
        temporary.unlink()
