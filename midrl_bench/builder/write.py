"""The published row schema (defined once, here) and deterministic, streaming parquet writing of the configs.

`features()` is the one definition of a row: a `datasets.Features`, from which the Arrow schema of the parquet
files and the card's `dataset_info` features are both derived. Files are
`OUT/data/<config>/train-0000i-of-0000N.parquet`; rows arrive one at a time (`ConfigWriter.add`) and are flushed
in row groups of `ROW_GROUP_ROWS`, so memory stays bounded whatever the config's size. Writer options are pinned
and rows keep the order the assembly gives them, so the same rows always give the same bytes with the same pyarrow.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from midrl_bench.builder.prompts import training_messages

ROW_GROUP_ROWS = 4096  # rows per parquet row group (and per in-memory buffer of one config)
# (column, type): "string" | "int64" | "float64" | "messages" (a list of {role, content}). The one row schema.
ROW_SCHEMA: tuple[tuple[str, str], ...] = (
    ("problem_id", "string"), ("source", "string"), ("problem", "string"), ("answer", "string"),
    ("heuristic_id", "string"), ("heuristic_name", "string"), ("sample_index", "int64"),
    ("adherence_score", "float64"), ("messages", "messages"), ("prompt", "string"), ("completion", "string"),
)
COLUMNS = [name for name, _ in ROW_SCHEMA]
DERIVED = {  # columns computed from a selected row; every other column is copied from it
    "messages": lambda row: training_messages(row["problem"], row["completion"]),
    "prompt": lambda row: row["problem"].strip(),
}


def features() -> Any:
    """The row schema as `datasets.Features` (the Hub's and `load_dataset`'s own description of columns)."""
    from datasets import Features, List, Value

    def feature(kind: str) -> Any:
        if kind == "messages":
            return List({"role": Value("string"), "content": Value("string")})
        return Value(kind)

    return Features({name: feature(kind) for name, kind in ROW_SCHEMA})


def arrow_schema() -> Any:
    return features().arrow_schema


def card_features() -> list[dict[str, Any]]:
    """The features as written in the card's `dataset_info` YAML."""
    return features()._to_yaml_list()


def output_row(row: dict[str, Any]) -> dict[str, Any]:
    """A selected row in the published schema (`prompt` is the problem, `completion` the solution)."""
    return {name: DERIVED[name](row) if name in DERIVED else row[name] for name in COLUMNS}


def data_files(name: str, row_count: int, rows_per_file: int) -> list[str]:
    shards = max(1, -(-row_count // rows_per_file))
    return [f"data/{name}/train-{i:05d}-of-{shards:05d}.parquet" for i in range(shards)]


class ConfigWriter:
    """Writes one config's `row_count` rows (known in advance, so file names are fixed) as they arrive."""

    def __init__(self, out_dir: Path, name: str, row_count: int, rows_per_file: int) -> None:
        folder = out_dir / "data" / name
        if folder.exists():
            shutil.rmtree(folder)  # a partial earlier attempt of this build's own write stage
        folder.mkdir(parents=True)
        self.out_dir, self.name, self.rows_per_file = out_dir, name, rows_per_file
        self.paths = data_files(name, row_count, rows_per_file)
        self.expected, self.written, self.num_bytes = row_count, 0, 0
        self._buffer: list[dict[str, Any]] = []
        self._writer: Any = None
        self._file_index = -1

    def add(self, row: dict[str, Any]) -> None:
        self._buffer.append(row)
        in_file = self.written % self.rows_per_file + len(self._buffer)
        if len(self._buffer) >= ROW_GROUP_ROWS or in_file >= self.rows_per_file:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._buffer:
            return
        if self.written // self.rows_per_file != self._file_index:
            self._close_file()
            self._file_index = self.written // self.rows_per_file
            self._writer = pq.ParquetWriter(self._tmp(), arrow_schema(), compression="zstd", compression_level=3,
                                            use_dictionary=True, write_statistics=True, version="2.6")
        table = pa.Table.from_pylist(self._buffer, schema=arrow_schema())
        self.num_bytes += table.nbytes
        self._writer.write_table(table, row_group_size=len(self._buffer))
        self.written += len(self._buffer)
        self._buffer = []

    def _tmp(self) -> Path:
        target = self.out_dir / self.paths[self._file_index]
        return target.with_name(target.name + ".tmp")

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            os.replace(self._tmp(), self._tmp().with_suffix(""))
            self._writer = None

    def close(self) -> tuple[list[str], int]:
        """Finish the last file; (relative paths, in-memory Arrow size in bytes = the card's `num_bytes`)."""
        self._flush()
        self._close_file()
        if self.written != self.expected:
            raise RuntimeError(f"write: config {self.name} got {self.written} rows, planned {self.expected}")
        return self.paths, self.num_bytes


def remove_stale_configs(out_dir: Path, keep: set[str]) -> None:
    """Drop `data/<config>/` folders that this build does not write (left by an interrupted earlier attempt)."""
    data = out_dir / "data"
    if data.is_dir():
        for folder in data.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
