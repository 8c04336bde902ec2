"""An lm-eval run directory as the pack reads it (`lm_eval --output_path DIR --log_samples`).

A run may hold several results files (one per lm-eval invocation, or a regrade beside the original); for every
task the newest results file reporting it wins, and its samples file must sit beside it with the same date.
Every bad input is a `RunError` whose message is one line naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midrl_bench.tasks import lm_eval_files


class RunError(ValueError):
    """A run directory or file the pack cannot read; the message names the file."""


@dataclass
class TaskRun:
    name: str
    version: Any
    results: dict[str, Any]  # the task's block of the results file
    config: dict[str, Any]  # the task's `configs` entry
    results_file: Path
    samples_file: Path | None

    @property
    def metrics(self) -> dict[str, float]:
        return lm_eval_files.task_metrics(self.results)

    def rows(self) -> Iterator[dict[str, Any]]:
        """The samples rows, one per document; a missing samples file is an error naming the results file."""
        if self.samples_file is None:
            raise RunError(f"{self.results_file}: reports {self.name} but has no samples_{self.name}_<date>.jsonl "
                           "beside it (run lm-eval with --log_samples)")
        from midrl_bench.jsonl import read_jsonl

        try:
            for number, row in enumerate(read_jsonl(self.samples_file), start=1):
                if not isinstance(row.get("doc_id"), int):
                    raise RunError(f"{self.samples_file}: row {number}: not an lm-eval sample row (no integer doc_id)")
                yield row
        except RunError:
            raise
        except ValueError as error:  # read_jsonl names the file and line of a bad line
            raise RunError(str(error)) from None


@dataclass
class Run:
    root: Path
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group rows of the newest results file
    results_files: list[Path] = field(default_factory=list)

    def task(self, name: str) -> TaskRun:
        if name not in self.tasks:
            raise RunError(f"{self.root}: no task {name!r} in this run (has {sorted(self.tasks)})")
        return self.tasks[name]


def _read_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"{path}: cannot read an lm-eval results file ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise RunError(f"{path}: not an lm-eval results file (no 'results' mapping)")
    return data


def load_run(path: str | Path) -> Run:
    """The run at `path`: a directory searched for results files, or one results file."""
    root = Path(path)
    if not root.exists():
        raise RunError(f"{root}: no such run directory or results file")
    files = lm_eval_files.results_files(root)
    if not files:
        raise RunError(f"{root}: no lm-eval results_<date>.json file in it")
    run = Run(root=root, results_files=files)
    for results_file in files:  # oldest first: a newer file's task replaces an older one's
        data = _read_results(results_file)
        samples = lm_eval_files.samples_beside(results_file)
        subtasks = data.get("group_subtasks") or {}
        for name, block in data["results"].items():
            if name in subtasks and subtasks[name]:
                run.groups[name] = block
                continue
            run.tasks[name] = TaskRun(
                name=name, version=(data.get("versions") or {}).get(name), results=block,
                config=(data.get("configs") or {}).get(name) or {}, results_file=results_file,
                samples_file=samples.get(name),
            )
    return run
