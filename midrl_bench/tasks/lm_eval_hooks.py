"""Functions the pack's YAML files reference (`!function hooks.<name>` re-exports these)."""

from __future__ import annotations

from typing import Any

from midrl_bench.tasks import prompts, registry


def pack_dataset(pack_task: str, size: int | None = None, toy_config: str | None = None, **_metadata: Any):
    """`custom_dataset` of every pack task: a DatasetDict with one `test` split of the task's documents.

    lm-eval passes the task's metadata and `dataset_kwargs` as keyword arguments; `pack_task` comes from the latter,
    `size` (the expected document count) from the metadata, so a run can follow a differently sized source (e.g.
    the toy world's config) with `--metadata '{"size": N}'`. `toy_config` (midrl_toy only) names the toy world's
    YAML whose eval split the task serves: `--metadata '{"toy_config": "my-world.yaml", "size": 192}'`.
    """
    import datasets

    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"{pack_task}: metadata.size must be an integer >= 1, got {size!r}")
    docs = registry.load_docs(pack_task, size, source_config=toy_config)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def keep_all(resps, docs):
    """Filter that keeps every repeat, so pass@k sees all samples."""
    return [list(r) for r in resps]


def math_doc_to_text(doc: dict[str, Any]) -> str:
    return prompts.math_prompt(doc["problem"])


def musr_doc_to_text(doc: dict[str, Any]) -> str:
    return prompts.musr_prompt(doc["narrative"], doc["question"], list(doc["choices"]))
