"""Reasoning traces read from lm-eval `samples_<task>_<date>.jsonl` files (written with `--log_samples`).

One trace per sampled response: a pack task with `repeats: N` logs one row per document whose `filtered_resps`
holds all N responses (keep-all filter), so a row gives N traces, keyed `task/doc_id/repeat`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midrl_bench.jsonl import read_jsonl
from midrl_bench.tasks.lm_eval_files import task_of_samples_file  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Trace:
    task: str
    doc_id: int
    repeat: int
    text: str
    doc: dict[str, Any]
    target: str

    @property
    def key(self) -> str:
        return f"{self.task}/{self.doc_id}/{self.repeat}"


def row_responses(row: dict[str, Any], where: str) -> list[str]:
    """All responses of a sample row; a row logged without `filtered_resps` is read from its `resps`."""
    from midrl_bench.tasks.lm_eval_files import row_responses as logged_responses

    if "filtered_resps" not in row and "resps" in row:
        row = {**row, "filtered_resps": row["resps"]}
    return logged_responses(row, where)


def load_traces(paths: Iterable[str | Path], max_docs_per_task: int | None = None) -> list[Trace]:
    """Traces of every samples file, in file then document then repeat order."""
    traces: list[Trace] = []
    for path in paths:
        task = task_of_samples_file(path)
        for row_index, row in enumerate(read_jsonl(path)):
            if max_docs_per_task is not None and row_index >= max_docs_per_task:
                break
            where = f"{path}: row {row_index + 1}"
            doc_id = row.get("doc_id")
            if not isinstance(doc_id, int) or not isinstance(row.get("doc"), dict):
                raise ValueError(f"{where}: needs an int doc_id and a doc object")
            for repeat, text in enumerate(row_responses(row, where)):
                traces.append(Trace(task, doc_id, repeat, text, row["doc"], str(row.get("target", ""))))
    return traces


def trace_verdicts(traces: list[Trace]) -> list[bool | None]:
    """Correctness of each trace: the pack's scoring for pack tasks, the math checker against `target` otherwise."""
    from midrl_bench.tasks.registry import TASK_SPECS, score_responses
    from midrl_bench.verify.math import check_answers

    verdicts: list[bool | None] = [None] * len(traces)
    groups: dict[tuple[str, int], list[int]] = {}
    for index, trace in enumerate(traces):
        groups.setdefault((trace.task, trace.doc_id), []).append(index)
    other: list[int] = []
    for (task, _), indices in groups.items():
        if task not in TASK_SPECS:
            other.extend(indices)
            continue
        doc = traces[indices[0]].doc
        group_verdicts, _ = score_responses(task, doc, [traces[i].text for i in indices])
        for index, verdict in zip(indices, group_verdicts, strict=True):
            verdicts[index] = verdict
    if other:
        checked = check_answers([(traces[i].target, traces[i].text) for i in other])
        for index, verdict in zip(other, checked, strict=True):
            verdicts[index] = verdict.correct
    return verdicts
