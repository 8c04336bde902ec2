"""Functions the pack's YAML files reference (`!function hooks.<name>` re-exports these)."""

from __future__ import annotations

from typing import Any

from midrl_bench.metrics import PASS_AT_K
from midrl_bench.tasks import prompts, registry


def pack_dataset(pack_task: str, **_metadata: Any):
    """`custom_dataset` of every pack task: a DatasetDict with one `test` split of the task's documents.

    lm-eval passes the task's metadata and `dataset_kwargs` as keyword arguments; `pack_task` comes from the latter.
    """
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(registry.load_docs(pack_task))})


def keep_all(resps, docs):
    """Filter that keeps every repeat, so pass@k sees all samples."""
    return [list(r) for r in resps]


def math_doc_to_text(doc: dict[str, Any]) -> str:
    return prompts.math_prompt(doc["problem"])


def musr_doc_to_text(doc: dict[str, Any]) -> str:
    return prompts.musr_prompt(doc["narrative"], doc["question"], list(doc["choices"]))


def process_results_for(task_name: str):
    """lm-eval `process_results` for a task: pass@k over every kept repeat, plus counts of wrong and unjudged."""

    def process_results(doc: dict[str, Any], results: list) -> dict[str, float]:
        responses = results[0] if results and isinstance(results[0], list) else results
        verdicts, table = registry.score_responses(task_name, doc, [str(r) for r in responses])
        return {key: table[key] for key in (f"pass@{k}" for k in PASS_AT_K) if key in table} | {
            "unjudged_rate": sum(v is None for v in verdicts) / max(1, len(verdicts)),
        }

    return process_results
