"""What every source module shares: a Hub id pinned to a revision, a local-mirror path, and a normaliser.

A source module (one file per problem set or benchmark) defines a module-level `SOURCE = Source(...)`. Rows come
out in the mirror schema of `../shared/data/README.md` (`id`, `problem`, `answer`, ... for math; MuSR and
HumanEval have their own fields). Users get the Hub dataset at the pinned revision by default; with
`MIDRL_DATA_DIR` set, the same rows are read from the local mirror instead (no network).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from midrl_bench.jsonl import read_jsonl
from midrl_bench.paths import data_dir, mirror_file
from midrl_bench.provenance import sha256_file


@dataclass(frozen=True)
class Source:
    name: str
    hub_id: str
    hub_revision: str  # a commit sha or tag on the Hub; never a moving branch for published numbers
    mirror_path: str  # relative to MIDRL_DATA_DIR
    normalise_hub_row: Callable[[dict[str, Any], int], dict[str, Any]]
    hub_config: str | None = None
    hub_split: str = "test"
    expected_rows: int | None = None
    licence: str = "unknown"
    row_filter: Callable[[dict[str, Any]], bool] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def load_rows(self) -> list[dict[str, Any]]:
        """Normalised rows, from the mirror when MIDRL_DATA_DIR is set, else from the Hub at the pinned revision."""
        rows = self._mirror_rows() if data_dir() is not None else self._hub_rows()
        if self.row_filter is not None:
            rows = [row for row in rows if self.row_filter(row)]
        if self.expected_rows is not None and len(rows) != self.expected_rows:
            raise ValueError(f"source {self.name}: expected {self.expected_rows} rows, got {len(rows)}")
        return rows

    def origin(self) -> dict[str, Any]:
        """Where the rows come from, for provenance records."""
        if data_dir() is not None:
            path = mirror_file(self.mirror_path)
            return {"kind": "mirror", "path": str(path), "sha256": sha256_file(path)}
        return {"kind": "hub", "hub_id": self.hub_id, "revision": self.hub_revision, "config": self.hub_config,
                "split": self.hub_split}

    def _mirror_rows(self) -> list[dict[str, Any]]:
        return list(read_jsonl(mirror_file(self.mirror_path)))

    def _hub_rows(self) -> list[dict[str, Any]]:
        import datasets

        dataset = datasets.load_dataset(
            self.hub_id, self.hub_config, split=self.hub_split, revision=self.hub_revision
        )
        return [self.normalise_hub_row(dict(row), index) for index, row in enumerate(dataset)]
