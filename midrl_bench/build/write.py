"""Deterministic parquet writing of the built configs: `OUT/data/<config>/train-0000i-of-0000N.parquet`.

The Arrow schema is fixed (never inferred), rows keep the order the config assembly gave them, and the writer
options are pinned, so the same rows always give the same bytes with the same pyarrow version.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from midrl_bench.build.prompts import training_messages

COLUMNS = ["problem_id", "source", "problem", "answer", "heuristic_id", "heuristic_name", "sample_index",
           "adherence_score", "messages", "prompt", "completion"]

# The `datasets` features of a row, as written in the card's `dataset_info`.
FEATURES = [
    {"name": "problem_id", "dtype": "string"},
    {"name": "source", "dtype": "string"},
    {"name": "problem", "dtype": "string"},
    {"name": "answer", "dtype": "string"},
    {"name": "heuristic_id", "dtype": "string"},
    {"name": "heuristic_name", "dtype": "string"},
    {"name": "sample_index", "dtype": "int64"},
    {"name": "adherence_score", "dtype": "float64"},
    {"name": "messages", "list": [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}]},
    {"name": "prompt", "dtype": "string"},
    {"name": "completion", "dtype": "string"},
]


def arrow_schema():
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema([
        ("problem_id", pa.string()), ("source", pa.string()), ("problem", pa.string()), ("answer", pa.string()),
        ("heuristic_id", pa.string()), ("heuristic_name", pa.string()), ("sample_index", pa.int64()),
        ("adherence_score", pa.float64()), ("messages", pa.list_(message)), ("prompt", pa.string()),
        ("completion", pa.string()),
    ])


def output_row(row: dict[str, Any]) -> dict[str, Any]:
    """A selected row in the published schema (`prompt` is the problem, `completion` the solution)."""
    return {
        "problem_id": row["problem_id"], "source": row["source"], "problem": row["problem"], "answer": row["answer"],
        "heuristic_id": row["heuristic_id"], "heuristic_name": row["heuristic_name"],
        "sample_index": row["sample_index"], "adherence_score": row["adherence_score"],
        "messages": training_messages(row["problem"], row["completion"]),
        "prompt": row["problem"].strip(), "completion": row["completion"],
    }


def data_files(name: str, row_count: int, rows_per_file: int) -> list[str]:
    shards = max(1, -(-row_count // rows_per_file))
    return [f"data/{name}/train-{i:05d}-of-{shards:05d}.parquet" for i in range(shards)]


def write_config(out_dir: Path, name: str, rows: list[dict[str, Any]], rows_per_file: int) -> tuple[list[str], int]:
    """Write one config's parquet files (atomically, replacing any partial earlier attempt).

    Returns (relative paths, in-memory Arrow size in bytes — the `num_bytes` of the card's split info).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = out_dir / "data" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    paths = data_files(name, len(rows), rows_per_file)
    num_bytes = 0
    for index, relative in enumerate(paths):
        chunk = [output_row(row) for row in rows[index * rows_per_file:(index + 1) * rows_per_file]]
        table = pa.Table.from_pylist(chunk, schema=arrow_schema())
        num_bytes += table.nbytes
        target = out_dir / relative
        tmp = target.with_name(target.name + ".tmp")
        pq.write_table(table, tmp, compression="zstd", compression_level=3, row_group_size=10_000,
                       use_dictionary=True, write_statistics=True, version="2.6")
        os.replace(tmp, target)
    return paths, num_bytes


def remove_stale_configs(out_dir: Path, keep: set[str]) -> None:
    """Drop `data/<config>/` folders that this build does not write (left by an interrupted earlier attempt)."""
    data = out_dir / "data"
    if data.is_dir():
        for folder in data.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
