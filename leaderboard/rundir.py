"""Reading a submitted run directory as untrusted input.

A run directory holds `submission.json` at its root and the files lm-eval writes with `--output_path DIR
--log_samples` anywhere below it: `results_<date>.json` and, for every task of that invocation,
`samples_<task>_<date>.jsonl` (the date id pairs them; names as `midrl_bench.tasks.lm_eval_files` parses them).
Nothing else is accepted (`unknown_file`), nothing is executed, unpickled or followed: links, FIFOs, sockets and
devices are refused (`layout`), file names must be UTF-8, every file and line has a size limit, and JSON is parsed
only by `strict_json.loads_strict` (finite numbers, bounded nesting, valid Unicode).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from midrl_bench.leaderboard.strict_json import JsonRefused, loads_strict

from midrl_bench.tasks.lm_eval_files import RESULTS_NAME as _RESULTS_NAME
from midrl_bench.tasks.lm_eval_files import SAMPLES_NAME as _SAMPLES_NAME

SUBMISSION_FILE = "submission.json"
SCHEMA_FILE = "submission.schema.json"
# schema fields whose failure has a reason code of its own (the rest are `schema`)
_FIELD_CODES = {"model/revision": "revision_not_commit", "model/id": "model_id"}


class Rejected(ValueError):
    """A submission failed validation. `code` is a stable machine-readable reason; the message says exactly where."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SizeLimits:
    """Every bound on what a submission may cost; documented in docs/leaderboard.md ("Limits")."""

    submission_bytes: int = 64 * 1024
    results_bytes: int = 64 * 1024 * 1024
    samples_file_bytes: int = 4 * 1024**3  # math500 x 64 repeats of long traces is ~1 GB as lm-eval writes it
    line_bytes: int = 64 * 1024 * 1024  # one sample row (all repeats of one document)
    total_bytes: int = 32 * 1024**3
    max_files: int = 512
    max_dir_depth: int = 4  # lm-eval writes DIR/<model_name_sanitized>/...
    max_repeats: int = 256  # responses per document (the pack's default is 64)
    response_chars: int = 256 * 1024  # one response (~64k tokens of English)
    checker_base_s: float = 60.0  # total checker wall time allowed per submission: base ...
    checker_per_response_s: float = 0.1  # ... plus this much per response scored so far (honest: ~0.01-0.02 s)


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
    files: list[Path] = field(default_factory=list)  # every file, as walked (relative to root)

    def results_for(self, task: str) -> dict[str, Any]:
        return self.results[self.tasks[task].results_file]


@lru_cache(maxsize=1)
def submission_schema() -> dict[str, Any]:
    """The JSON Schema of submission.json, shipped in this package."""
    text = resources.files("midrl_bench.leaderboard").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return loads_strict(text.encode("utf-8"))


def validate_submission_record(record: Any) -> None:
    """Schema check of a submission record; the rejection names the offending field."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(submission_schema()).iter_errors(record), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(part) for part in errors[0].path) or "(root)"
        code = _FIELD_CODES.get(where, "schema")
        raise Rejected(code, f"{SUBMISSION_FILE} field {where}: {errors[0].message[:300]}")


def parse_json_bytes(data: bytes, where: str) -> Any:
    try:
        return loads_strict(data)
    except JsonRefused as refused:
        raise Rejected(refused.code, f"{where}: {refused}") from None


def load_json_file(path: Path, max_bytes: int) -> Any:
    size = path.stat().st_size
    if size > max_bytes:
        raise Rejected("size_limit", f"{path.name} is {size} bytes; the limit is {max_bytes}")
    return parse_json_bytes(path.read_bytes(), path.name)


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
            row = parse_json_bytes(line, f"{path.name}:{line_number}")
            if not isinstance(row, dict):
                raise Rejected("malformed_file", f"{path.name}:{line_number}: expected a JSON object")
            yield line_number, row


def _shown(name: str) -> str:
    """A file name as it may be printed (undecodable bytes shown escaped)."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _allowed(relative: Path) -> bool:
    name = relative.name
    if relative == Path(SUBMISSION_FILE):
        return True
    return bool(_RESULTS_NAME.match(name) or _SAMPLES_NAME.match(name))


def _entry_kind(path: Path, relative: Path) -> str:
    """'dir' or 'file' for an acceptable entry; Rejected for names and kinds a run directory never holds."""
    try:
        relative.as_posix().encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected("layout", f"{_shown(str(relative))}: file names must be valid UTF-8") from None
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise Rejected("layout", f"{relative} is a link; submissions must contain plain files only")
    if stat.S_ISDIR(mode):
        return "dir"
    if not stat.S_ISREG(mode):
        raise Rejected("layout", f"{relative} is not a regular file (FIFO, socket or device); refused unread")
    return "file"


def walk_files(root: Path, limits: SizeLimits) -> list[Path]:
    """Every file below `root` (relative paths), after the checks of the module doc; nothing is opened."""
    files, total, pending = [], 0, [Path()]
    while pending:
        folder = pending.pop()
        for name in sorted(os.listdir(root / folder)):
            relative = folder / name
            if _entry_kind(root / relative, relative) == "dir":
                if len(relative.parts) >= limits.max_dir_depth:
                    raise Rejected("layout", f"{relative} is nested deeper than {limits.max_dir_depth} folders")
                pending.append(relative)
                continue
            if not _allowed(relative):
                raise Rejected("unknown_file", f"{relative}: a run directory holds only {SUBMISSION_FILE}, "
                                               "results_<date>.json and samples_<task>_<date>.jsonl")
            files.append(relative)
            total += os.lstat(root / relative).st_size
            if len(files) > limits.max_files:
                raise Rejected("size_limit", f"more than {limits.max_files} files in the run directory")
    if total > limits.total_bytes:
        raise Rejected("size_limit", f"run directory holds {total} bytes; the limit is {limits.total_bytes}")
    return sorted(files)


def _group_members(results: dict[str, Any]) -> dict[str, list]:
    groups = results.get("group_subtasks")
    if groups is None:
        return {}
    if not isinstance(groups, dict) or not all(isinstance(m, list) for m in groups.values()):
        raise Rejected("malformed_file", "group_subtasks must map each group to a list of task names")
    return groups


def _check_claims(name: str, data: Any, tasks: dict[str, TaskFiles]) -> None:
    """Every task a results file reports, directly or through a group, has its samples file."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise Rejected("malformed_file", f"{name}: not an lm-eval results file (no 'results' mapping)")
    groups = _group_members(data)
    missing = [task for task in data["results"] if task not in tasks and task not in groups]
    if missing:
        raise Rejected("missing_samples", f"{name} reports {missing} but no samples file was found "
                                          f"(run lm-eval with --log_samples)")
    for group, members in groups.items():
        empty = [m for m in members if not isinstance(m, str) or (m not in tasks and m not in groups)]
        if empty:
            raise Rejected("group_without_samples",
                           f"{name}: group {group!r} claims {empty!r}, which have no samples in the run")


def _pair_files(root: Path, files: list[Path], limits: SizeLimits) -> tuple[dict, dict[str, TaskFiles]]:
    results_by_date = {m["date"]: root / p for p in files if (m := _RESULTS_NAME.match(p.name))}
    if not results_by_date:
        raise Rejected("layout", "no lm-eval results_<date>.json file in the run directory")
    results = {path: load_json_file(path, limits.results_bytes) for path in results_by_date.values()}
    tasks: dict[str, TaskFiles] = {}
    for relative in files:
        match = _SAMPLES_NAME.match(relative.name)
        if not match:
            continue
        task, date, path = match["task"], match["date"], root / relative
        if date not in results_by_date:
            raise Rejected("layout", f"{relative} has no results_{date}.json beside it")
        if task in tasks:
            first = tasks[task].samples_file.name
            raise Rejected("layout", f"task {task} has two samples files ({first}, {relative.name})")
        if path.stat().st_size > limits.samples_file_bytes:
            raise Rejected("size_limit", f"{relative.name} is larger than {limits.samples_file_bytes} bytes")
        tasks[task] = TaskFiles(task, results_by_date[date], path)
    for path, data in results.items():
        _check_claims(path.name, data, tasks)
    return results, tasks


def load_run_dir(root: str | Path, limits: SizeLimits = DEFAULT_LIMITS) -> RunDir:
    """Structure, size and schema checks of a run directory; scores are checked by `validate.validate_run`."""
    root = Path(root)
    if root.is_symlink() or not root.is_dir():
        raise Rejected("layout", f"{root} is not a directory")
    files = walk_files(root, limits)
    if Path(SUBMISSION_FILE) not in files:
        raise Rejected("layout", f"{SUBMISSION_FILE} missing at the root of {root}")
    submission = load_json_file(root / SUBMISSION_FILE, limits.submission_bytes)
    validate_submission_record(submission)
    results, tasks = _pair_files(root, files, limits)
    if not tasks:
        raise Rejected("layout", "no samples_<task>_<date>.jsonl file; run lm-eval with --log_samples")
    return RunDir(root=root, submission=submission, results=results, tasks=tasks, files=files)
