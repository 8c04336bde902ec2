"""The labelled validation set: reasoning traces with the heuristics that shape them (see validation/README.md).

Packaged set: `validation/traces_*.yaml` (traces written for this project in two rounds, three styles; counts in
validation/README.md) and the fixed split `validation/split.json`. The split is stratified by (round, style, kind):
within each stratum the items are ordered by the sha256 of their id and the first `round(0.6 * n)` go to `dev`
(tuning), the rest to `test` (reported figures); `split_rule` recomputes it and a test checks the file against it.
Stratifying by round keeps the split of round 1 as it was when round 2 was added.

A user's set (`--validation FILE`) is JSON-lines or YAML, one record per trace with the keys `id`, `text`,
`heuristics` (library ids) and optionally `split` (`dev` | `test`, default `test`), `style`/`kind` (free text) and
`round` (a positive integer, default 1: the batch the trace was written in).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VALIDATION_DIR = Path(__file__).resolve().parent / "validation"
SPLIT_FILE = "split.json"
DEV_SHARE = 0.6
SPLITS = ("dev", "test")
_REQUIRED = ("id", "text", "heuristics")
_OPTIONAL = ("split", "style", "kind", "round")


@dataclass(frozen=True)
class ValidationItem:
    id: str
    text: str
    heuristics: tuple[str, ...]  # sorted library ids that shape the solution
    split: str = "test"
    style: str = ""
    kind: str = ""
    round: int = 1  # the batch the trace was written in (round 2 was added after round 1 had been evaluated)

    @property
    def composed(self) -> bool:
        return len(self.heuristics) >= 2


def _item(record: Any, where: str, split: str | None = None) -> ValidationItem:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected an object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}")
    for key in _REQUIRED:
        if key not in record:
            raise ValueError(f"{where}: missing field '{key}'")
    if not isinstance(record["id"], str) or not record["id"]:
        raise ValueError(f"{where}: field 'id' must be a non-empty string")
    if not isinstance(record["text"], str) or not record["text"].strip():
        raise ValueError(f"{where}: field 'text' must be a non-empty string")
    ids = record["heuristics"]
    if not isinstance(ids, list) or not all(isinstance(h, str) for h in ids) or len(set(ids)) != len(ids):
        raise ValueError(f"{where}: field 'heuristics' must be a list of distinct id strings")
    chosen = split or record.get("split", "test")
    if chosen not in SPLITS:
        raise ValueError(f"{where}: field 'split' must be one of {list(SPLITS)}, got {chosen!r}")
    batch = record.get("round", 1)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"{where}: field 'round' must be a positive integer, got {batch!r}")
    return ValidationItem(record["id"], record["text"], tuple(sorted(ids)), chosen,
                          str(record.get("style", "")), str(record.get("kind", "")), batch)


def _check_unique(items: Sequence[ValidationItem], where: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{where}: id {item.id!r} appears twice")
        seen.add(item.id)


def split_rule(records: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """The documented stratified split: per (round, style, kind), ids ordered by sha256, first round(0.6 n) to dev."""
    strata: dict[tuple[int, str, str], list[str]] = {}
    for record in records:
        strata.setdefault((record.get("round", 1), record["style"], record["kind"]), []).append(record["id"])
    split: dict[str, list[str]] = {"dev": [], "test": []}
    for _, ids in sorted(strata.items()):
        ordered = sorted(ids, key=lambda i: hashlib.sha256(i.encode("utf-8")).hexdigest())
        cut = round(DEV_SHARE * len(ordered))
        split["dev"].extend(ordered[:cut])
        split["test"].extend(ordered[cut:])
    return {name: sorted(ids) for name, ids in split.items()}


def packaged_records(directory: Path = VALIDATION_DIR) -> list[dict[str, Any]]:
    """The raw records of the packaged trace files, in file order."""
    from midrl_bench.config import load_yaml

    records: list[dict[str, Any]] = []
    for path in sorted(directory.glob("traces_*.yaml")):
        data = load_yaml(path)
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of traces")
        records.extend(data)
    return records


def load_packaged(directory: Path = VALIDATION_DIR) -> list[ValidationItem]:
    """The packaged validation set with its fixed split."""
    split = json.loads((directory / SPLIT_FILE).read_text(encoding="utf-8"))
    split_of = {item_id: name for name in SPLITS for item_id in split[name]}
    items = []
    for index, record in enumerate(packaged_records(directory)):
        where = f"{directory}: trace {index + 1} ({record.get('id', '?') if isinstance(record, dict) else '?'})"
        if not isinstance(record, dict) or record.get("id") not in split_of:
            raise ValueError(f"{where}: not in {SPLIT_FILE}")
        items.append(_item(record, where, split_of[record["id"]]))
    _check_unique(items, str(directory))
    return items


def load_file(path: str | Path) -> list[ValidationItem]:
    """A user's labelled traces (JSON-lines, or YAML holding a list); errors name the file, record and field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such validation file")
    if path.suffix in (".yaml", ".yml"):
        from midrl_bench.config import load_yaml

        data = load_yaml(path)
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a YAML list of labelled traces")
        records = list(data)
    else:
        from midrl_bench.jsonl import read_jsonl

        records = list(read_jsonl(path))
    items = [_item(record, f"{path}: record {index + 1}") for index, record in enumerate(records)]
    if not items:
        raise ValueError(f"{path}: no labelled traces")
    _check_unique(items, str(path))
    return items


def check_against_library(items: Sequence[ValidationItem], library_ids: Sequence[str]) -> list[str]:
    """Heuristic ids the labels use that the library lacks (empty when the set fits the library)."""
    known = set(library_ids)
    return sorted({hid for item in items for hid in item.heuristics if hid not in known})


def of_split(items: Sequence[ValidationItem], split: str) -> list[ValidationItem]:
    return [item for item in items if item.split == split]
