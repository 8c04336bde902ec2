"""Reading a submitted run directory as untrusted input.

A run directory holds `submission.json` at its root and the files lm-eval writes with `--output_path DIR
--log_samples` anywhere below it: `results_<date>.json` and, for every task of that invocation,
`samples_<task>_<date>.jsonl` (the date id pairs them). Nothing in it is executed, unpickled or followed: links are
refused, every file and line has a size limit, and only JSON is parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

SUBMISSION_FILE = "submission.json"
SCHEMA_FILE = "submission.schema.json"
_RESULTS_NAME = re.compile(r"^results_(?P<date>[0-9T:.\-]+)\.json$")
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>[A-Za-z0-9_]+)_(?P<date>[0-9T:.\-]+)\.jsonl$")


class Rejected(ValueError):
    """A submission failed validation. `code` is a stable machine-readable reason; the message says exactly where."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SizeLimits:
    submission_bytes: int = 64 * 1024
    results_bytes: int = 64 * 1024 * 1024
    samples_file_bytes: int = 4 * 1024**3  # math500 x 64 repeats of long traces is ~1 GB as lm-eval writes it
    line_bytes: int = 64 * 1024 * 1024  # one sample row (all repeats of one document)
    total_bytes: int = 32 * 1024**3
    max_files: int = 512


DEFAULT_LIMITS = SizeLimits()


@dataclass
class TaskFiles:
    task: str
    results_file: Path
    samples_file: Path


@dataclass
class RunDir:
    root: Path
    submission: dict[str, Any]
    results: dict[Path, dict[str, Any]]  # results file -> parsed lm-eval results JSON
    tasks: dict[str, TaskFiles] = field(default_factory=dict)

    def results_for(self, task: str) -> dict[str, Any]:
        return self.results[self.tasks[task].results_file]


@lru_cache(maxsize=1)
def submission_schema() -> dict[str, Any]:
    """The JSON Schema of submission.json, shipped in this package."""
    return json.loads(resources.files("midrl_bench.leaderboard").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def validate_submission_record(record: Any) -> None:
    """Schema check of a submission record; the rejection names the offending field."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(submission_schema()).iter_errors(record), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "(root)"
        raise Rejected("schema", f"{SUBMISSION_FILE} field {where}: {errors[0].message[:300]}")


def load_json_file(path: Path, max_bytes: int) -> Any:
    if path.stat().st_size > max_bytes:
        raise Rejected("size_limit", f"{path.name} is {path.stat().st_size} bytes; the limit is {max_bytes}")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Rejected("malformed_file", f"{path.name}: not valid UTF-8 JSON ({error})") from None


def iter_sample_rows(path: Path, limits: SizeLimits) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of an lm-eval samples file, each line bounded by `limits.line_bytes`."""
    with path.open("rb") as handle:
        line_number = 0
        while True:
            line = handle.readline(limits.line_bytes + 1)
            if not line:
                return
            line_number += 1
            if len(line) > limits.line_bytes:
                raise Rejected("size_limit", f"{path.name}:{line_number}: line longer than {limits.line_bytes} bytes")
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise Rejected("malformed_file", f"{path.name}:{line_number}: not valid UTF-8 JSON ({error})") from None
            if not isinstance(row, dict):
                raise Rejected("malformed_file", f"{path.name}:{line_number}: expected a JSON object")
            yield line_number, row


def _walk_files(root: Path, limits: SizeLimits) -> list[Path]:
    files, total = [], 0
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise Rejected("layout", f"{path.relative_to(root)} is a link; submissions must contain plain files only")
        if not path.is_file():
            continue
        files.append(path)
        total += path.stat().st_size
        if len(files) > limits.max_files:
            raise Rejected("size_limit", f"more than {limits.max_files} files in the run directory")
    if total > limits.total_bytes:
        raise Rejected("size_limit", f"run directory holds {total} bytes; the limit is {limits.total_bytes}")
    return files


def _pair_files(root: Path, files: list[Path], limits: SizeLimits) -> tuple[dict, dict[str, TaskFiles]]:
    results_by_date = {m["date"]: p for p in files if (m := _RESULTS_NAME.match(p.name))}
    if not results_by_date:
        raise Rejected("layout", "no lm-eval results_<date>.json file in the run directory")
    results = {path: load_json_file(path, limits.results_bytes) for path in results_by_date.values()}
    tasks: dict[str, TaskFiles] = {}
    for path in files:
        match = _SAMPLES_NAME.match(path.name)
        if not match:
            continue
        task, date = match["task"], match["date"]
        if date not in results_by_date:
            raise Rejected("layout", f"{path.relative_to(root)} has no results_{date}.json beside it")
        if task in tasks:
            first = tasks[task].samples_file.name
            raise Rejected("layout", f"task {task} has two samples files ({first}, {path.name})")
        if path.stat().st_size > limits.samples_file_bytes:
            raise Rejected("size_limit", f"{path.name} is larger than {limits.samples_file_bytes} bytes")
        tasks[task] = TaskFiles(task, results_by_date[date], path)
    for path, data in results.items():
        if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
            raise Rejected("malformed_file", f"{path.name}: not an lm-eval results file (no 'results' mapping)")
        groups = data.get("group_subtasks") if isinstance(data.get("group_subtasks"), dict) else {}
        missing = [task for task in data["results"] if task not in tasks and task not in groups]
        if missing:
            raise Rejected("missing_samples", f"{path.name} reports {missing} but no samples file was found "
                                              f"(run lm-eval with --log_samples)")
    return results, tasks


def load_run_dir(root: str | Path, limits: SizeLimits = DEFAULT_LIMITS) -> RunDir:
    """Structure, size and schema checks of a run directory; scores are checked by `validate.validate_run`."""
    root = Path(root)
    if not root.is_dir() or root.is_symlink():
        raise Rejected("layout", f"{root} is not a directory")
    files = _walk_files(root, limits)
    submission_path = root / SUBMISSION_FILE
    if submission_path not in files:
        raise Rejected("layout", f"{SUBMISSION_FILE} missing at the root of {root}")
    submission = load_json_file(submission_path, limits.submission_bytes)
    validate_submission_record(submission)
    results, tasks = _pair_files(root, files, limits)
    if not tasks:
        raise Rejected("layout", "no samples_<task>_<date>.jsonl file; run lm-eval with --log_samples")
    return RunDir(root=root, submission=submission, results=results, tasks=tasks)
