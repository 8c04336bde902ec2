"""The two training inputs of a run, in the one file layout both backends read.

- Mid-training rows come from a built dataset (`midrl build` output dir + config such as `n16`), a local
  .jsonl/.parquet file, or a Hub repo at a revision. Each becomes `{"prompt": [user messages], "completion":
  [assistant message]}` (conversational prompt-completion: TRL's SFTTrainer trains on the completion only;
  OpenRLHF's SFTDataset reads it with `--data.input_key prompt --data.output_key completion
  --data.apply_chat_template`), or plain `prompt`/`completion` strings with `format: text`.
- RL prompts come from a source module (`midrl_bench.sources.<name>`, e.g. `dapo_math_17k`) or a .jsonl file with
  `problem`/`answer`; each becomes `{"id", "prompt": [user message with the pack's math instruction], "answer"}`.
  TRL passes `answer` to the reward as a keyword; OpenRLHF reads it as `--data.label_key answer`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from midrl_bench.config import ConfigError
from midrl_bench.jsonl import read_jsonl
from midrl_bench.pipeline.spec import MidtrainSpec, PipelineSpec, RLSpec
from midrl_bench.provenance import sha256_file

MIDTRAIN_FILE = "midtrain.jsonl"
RL_PROMPTS_FILE = "rl_prompts.jsonl"


def load_midtrain_rows(spec: PipelineSpec) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(training records, origin) for `spec.midtrain`; errors name the dataset and the missing column."""
    mid = spec.midtrain
    local = spec.local_path(mid.dataset)
    rows, origin = _load_table(local, mid) if local is not None else _load_hub_table(mid)
    if mid.limit is not None:
        rows = rows[: mid.limit]
    records = [_midtrain_record(row, mid, f"{mid.dataset} row {i}") for i, row in enumerate(rows)]
    if not records:
        raise ConfigError(f"midtrain.dataset: {mid.dataset} has no rows in split {mid.split!r}")
    return records, {**origin, "rows": len(records)}


def _load_table(path: Path, mid: MidtrainSpec) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import datasets

    if path.is_dir():
        dataset = datasets.load_dataset(str(path), mid.config, split=mid.split)
        origin = {"kind": "dir", "path": str(path), "config": mid.config, "split": mid.split,
                  "fingerprint": dataset._fingerprint}
        manifest = path / "manifest.json"
        if manifest.is_file():
            origin["manifest_sha256"] = sha256_file(manifest)
        return [dict(row) for row in dataset], origin
    if path.suffix == ".jsonl":
        return list(read_jsonl(path)), {"kind": "file", "path": str(path), "sha256": sha256_file(path)}
    if path.suffix == ".parquet":
        dataset = datasets.load_dataset("parquet", data_files=str(path), split="train")
        return [dict(row) for row in dataset], {"kind": "file", "path": str(path), "sha256": sha256_file(path)}
    raise ConfigError(f"midtrain.dataset: {path} is neither a dataset directory nor a .jsonl/.parquet file")


def _load_hub_table(mid: MidtrainSpec) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import datasets

    dataset = datasets.load_dataset(mid.dataset, mid.config, split=mid.split, revision=mid.revision)
    origin = {"kind": "hub", "repo": mid.dataset, "config": mid.config, "split": mid.split,
              "revision": mid.revision, "fingerprint": dataset._fingerprint}
    return [dict(row) for row in dataset], origin


def _midtrain_record(row: dict[str, Any], mid: MidtrainSpec, where: str) -> dict[str, Any]:
    if mid.format == "text":
        for column in ("prompt", "completion"):
            if not isinstance(row.get(column), str):
                raise ConfigError(f"midtrain.dataset: {where} has no string column {column!r} (format: text)")
        return {"prompt": row["prompt"], "completion": row["completion"]}
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages or messages[-1].get("role") != "assistant":
        raise ConfigError(f"midtrain.dataset: {where} needs a 'messages' list ending with an assistant message")
    clean = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
    return {"prompt": clean[:-1], "completion": clean[-1:]}


def load_rl_prompts(spec: PipelineSpec) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(RL prompt records, origin) for `spec.rl`, before the prompt-length filter."""
    from midrl_bench.tasks.prompts import math_prompt

    rl = spec.rl
    rows, origin = _rl_rows(spec, rl)
    records = []
    for index, row in enumerate(rows[: rl.limit] if rl.limit is not None else rows):
        if "problem" not in row or "answer" not in row:
            raise ConfigError(f"rl.prompts: {rl.prompts} row {index} needs 'problem' and 'answer'")
        records.append({"id": str(row.get("id", index)), "answer": str(row["answer"]),
                        "prompt": [{"role": "user", "content": math_prompt(str(row["problem"]))}]})
    if not records:
        raise ConfigError(f"rl.prompts: {rl.prompts} has no rows")
    return records, {**origin, "rows": len(records)}


def _rl_rows(spec: PipelineSpec, rl: RLSpec) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    local = spec.local_path(rl.prompts)
    if local is not None:
        if local.suffix != ".jsonl":
            raise ConfigError(f"rl.prompts: {local} is not a .jsonl file")
        return list(read_jsonl(local)), {"kind": "file", "path": str(local), "sha256": sha256_file(local)}
    try:
        source = importlib.import_module(f"midrl_bench.sources.{rl.prompts}").SOURCE
    except ModuleNotFoundError:
        raise ConfigError(f"rl.prompts: {rl.prompts!r} is neither an existing .jsonl file nor a source in "
                          "midrl_bench.sources") from None
    return source.load_rows(), {"kind": "source", "name": rl.prompts, **source.origin()}


def filter_prompt_length(records: list[dict[str, Any]], tokenizer: Any, max_prompt_tokens: int
                         ) -> tuple[list[dict[str, Any]], int]:
    """Drop prompts whose chat-templated length exceeds `max_prompt_tokens`; returns (kept, dropped count).

    Both backends get the same kept prompts, so neither truncates a prompt silently (TRL 1.16 has no prompt limit
    of its own; OpenRLHF would cut the prompt's left end).
    """
    kept = []
    for record in records:
        ids = tokenizer.apply_chat_template(record["prompt"], tokenize=True, add_generation_prompt=True)
        if hasattr(ids, "keys"):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        if len(ids) <= max_prompt_tokens:
            kept.append(record)
    if not kept:
        raise ConfigError(f"rl.max_prompt_tokens: every prompt is longer than {max_prompt_tokens} tokens")
    return kept, len(records) - len(kept)
