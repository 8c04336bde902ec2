"""The run's shared data files (`midrl_bench.pipeline.data`) rewritten as the parquet files verl reads.

GRPO prompts (verl's RLHFDataset): one row per prompt with
    prompt        the chat messages ([{"role": "user", "content": ...}]; verl applies the model's chat template)
    data_source   "midrl/<rl.prompts>" (passed to compute_score; the reward does not branch on it)
    reward_model  {"style": "rule", "ground_truth": <gold answer>}
    extra_info    {"index": i, "id": <prompt id>, "split": "train"}
SFT rows (verl's multi-turn SFT dataset): one `messages` list per row, loss on the assistant turns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RL_PARQUET = "rl_prompts.verl.parquet"
SFT_PARQUET = "midtrain.verl.parquet"


def rl_rows(records: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    return [{"prompt": record["prompt"], "data_source": f"midrl/{source}",
             "reward_model": {"style": "rule", "ground_truth": str(record["answer"])},
             "extra_info": {"index": index, "id": str(record["id"]), "split": "train"}}
            for index, record in enumerate(records)]


def sft_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"messages": [*record["prompt"], *record["completion"]]} for record in records]


def write_parquet(rows: list[dict[str, Any]], path: str | Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    tmp.replace(path)
    return path
