"""The builder's resumable store under `OUT/.midrl/`.

Layout:
```
OUT/.midrl/state.json                 config hash, part ([i, N] or null) + per-stage record {done, counts}
OUT/.midrl/config.json                the canonical config the build was started with
OUT/.midrl/<stage>/shard-00000.jsonl  sharded, append-only stage outputs
OUT/.midrl/<name>.json                small whole-stage results (selection, decontamination, diversity, ...)
```
Every file is written to a temporary name and renamed, so a SIGKILL leaves either a complete file or none.
Shards are only ever added, never rewritten: a present shard is finished work and a resumed build skips it.
Shard boundaries come from the plan (fixed by the config), so a resumed build feeds every stage exactly the same
batches as an uninterrupted one and produces the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from midrl_bench.jsonl import read_jsonl, write_jsonl

STATE_DIR = ".midrl"


class StoreError(RuntimeError):
    """The output directory cannot be used for this build; the message says why and what to do."""


def write_json(path: Path, data: Any) -> None:
    """Atomic, canonical JSON (sorted keys, fixed indentation) so equal data gives equal bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise StoreError(f"{path}: corrupt JSON ({error.msg}); delete the file to recompute that stage") from None


class Store:
    def __init__(self, out_dir: str | Path) -> None:
        self.out = Path(out_dir)
        self.root = self.out / STATE_DIR

    # ------------------------------------------------------------------ whole build
    def open(self, config_hash: str, config_data: dict[str, Any], part: list[int] | None = None) -> bool:
        """Create or re-open the store; True when resuming. A different config or part is refused, never overwritten.

        `part` = [i, N] for a `--shard i/N` part, None for a whole build (or a merge target).
        """
        state_path = self.root / "state.json"
        if state_path.exists():
            state = read_json(state_path)
            if state.get("config_hash") != config_hash:
                raise StoreError(
                    f"{self.out} holds a build of a different config (hash {state.get('config_hash', '?')[:12]}, "
                    f"this config {config_hash[:12]}); use a new --out directory, nothing was changed")
            if state.get("part") != part:
                raise StoreError(f"{self.out} holds {_describe_part(state.get('part'))}, not "
                                 f"{_describe_part(part)}; use a new --out directory, nothing was changed")
            return True
        if self.out.exists() and any(p.name != STATE_DIR for p in self.out.iterdir()):
            raise StoreError(f"{self.out} is not empty and holds no build state; choose an empty --out directory")
        write_json(self.root / "config.json", config_data)
        write_json(state_path, {"config_hash": config_hash, "part": part, "stages": {}})
        return False

    def part(self) -> list[int] | None:
        return self.state().get("part")

    def config_data(self) -> dict[str, Any]:
        return read_json(self.root / "config.json")

    def state(self) -> dict[str, Any]:
        return read_json(self.root / "state.json")

    def stage_done(self, stage: str) -> bool:
        return bool(self.state()["stages"].get(stage, {}).get("done"))

    def stage_counts(self, stage: str) -> dict[str, Any]:
        return self.state()["stages"].get(stage, {}).get("counts", {})

    def mark_done(self, stage: str, counts: dict[str, Any]) -> None:
        state = self.state()
        state["stages"][stage] = {"done": True, "counts": counts}
        write_json(self.root / "state.json", state)

    # ------------------------------------------------------------------ small whole-stage results
    def put(self, name: str, data: Any) -> None:
        write_json(self.root / f"{name}.json", data)

    def get(self, name: str) -> Any:
        path = self.root / f"{name}.json"
        if not path.exists():
            raise StoreError(f"{path}: missing; the stage that writes it has not run")
        return read_json(path)

    def has(self, name: str) -> bool:
        return (self.root / f"{name}.json").exists()

    # ------------------------------------------------------------------ shards
    def shard_path(self, stage: str, index: int) -> Path:
        return self.root / stage / f"shard-{index:05d}.jsonl"

    def has_shard(self, stage: str, index: int) -> bool:
        return self.shard_path(stage, index).exists()

    def write_shard(self, stage: str, index: int, rows: list[dict[str, Any]]) -> None:
        write_jsonl(self.shard_path(stage, index), rows)

    def read_shard(self, stage: str, index: int) -> list[dict[str, Any]]:
        return list(read_jsonl(self.shard_path(stage, index)))

    def read_stage(self, stage: str, shard_count: int) -> Iterator[dict[str, Any]]:
        for index in range(shard_count):
            yield from self.read_shard(stage, index)

    def adopt_shard(self, other: Store, stage: str, index: int) -> None:
        """Take shard `index` of `stage` from another store (a hard link when possible, else an atomic copy)."""
        source, target = other.shard_path(stage, index), self.shard_path(stage, index)
        if target.exists():
            return
        if not source.exists():
            raise StoreError(f"{other.out}: shard {index} of stage {stage} is missing; finish that part first")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)


def _describe_part(part: list[int] | None) -> str:
    return "a whole build" if part is None else f"part {part[0]}/{part[1]} (--shard {part[0]}/{part[1]})"
