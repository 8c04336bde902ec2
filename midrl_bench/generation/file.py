"""`file` backend: completions generated elsewhere (a batch job, another cluster, a hosted API), read from JSONL.

Export the requests with `write_requests(path, requests)`, generate however you like, and write one JSON object per
completion: `{"key": ..., "text": ...}` plus optional `prompt_tokens`, `completion_tokens` (0 when unknown) and
`finish_reason` ("stop" when absent). Instead of `key` a row may carry `problem_id`, `heuristic_id` and
`sample_index`, which form the key with `sample_key` (`problem|heuristic|sample`). Several files may be given (shards);
a key found twice is an error naming both places, and a requested key found nowhere is an error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midrl_bench.config import to_dict
from midrl_bench.generation.base import (
    FINISH_REASONS,
    Generation,
    GenerationError,
    GenerationRequest,
    check_unique_keys,
    sample_key,
)
from midrl_bench.jsonl import read_jsonl, write_jsonl


@dataclass(frozen=True)
class FileOptions:
    paths: list[Path] = field(default_factory=list)  # JSONL files (shards) holding the completions

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError("paths: give at least one JSONL file of completions")


class FileBackend:
    name = "file"
    Options = FileOptions

    def __init__(self, options: FileOptions) -> None:
        self.options = options
        self._rows: dict[str, tuple[dict[str, Any], str]] | None = None

    def describe(self) -> dict[str, Any]:
        from midrl_bench.provenance import sha256_file

        return {"backend": self.name, "files": [{"path": str(p), "sha256": sha256_file(p)} for p in self.options.paths]}

    def close(self) -> None:
        self._rows = None

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        check_unique_keys(requests, self.name)
        rows = self._load()
        missing = [request.key for request in requests if request.key not in rows]
        if missing:
            shown = ", ".join(repr(key) for key in missing[:5])
            raise GenerationError(
                f"file: {len(missing)} requested key(s) missing from {[str(p) for p in self.options.paths]}: {shown}"
                + (" ..." if len(missing) > 5 else "")
            )
        return [_to_generation(*rows[request.key], request) for request in requests]

    def _load(self) -> dict[str, tuple[dict[str, Any], str]]:
        if self._rows is None:
            rows: dict[str, tuple[dict[str, Any], str]] = {}
            for path in self.options.paths:
                if not Path(path).is_file():
                    raise GenerationError(f"file: completions file not found: {path}")
                for number, row in enumerate(read_jsonl(path), start=1):
                    where = f"{path} (row {number})"
                    key = _row_key(row, where)
                    if key in rows:
                        raise GenerationError(f"file: key {key!r} appears twice, at {rows[key][1]} and {where}")
                    rows[key] = (row, where)
            self._rows = rows
        return self._rows


def _row_key(row: dict[str, Any], where: str) -> str:
    if "key" in row:
        if not isinstance(row["key"], str) or not row["key"]:
            raise GenerationError(f"file: {where}: field 'key' must be a non-empty string")
        return row["key"]
    parts = ("problem_id", "heuristic_id", "sample_index")
    absent = [name for name in parts if name not in row]
    if absent:
        raise GenerationError(f"file: {where}: no 'key' field and missing {absent}")
    return sample_key(str(row["problem_id"]), str(row["heuristic_id"]), int(row["sample_index"]))


def _to_generation(row: dict[str, Any], where: str, request: GenerationRequest) -> Generation:
    text = row.get("text")
    if not isinstance(text, str):
        raise GenerationError(f"file: {where}: field 'text' must be a string (key {request.key!r})")
    finish_reason = row.get("finish_reason", "stop")
    if finish_reason not in FINISH_REASONS:
        raise GenerationError(f"file: {where}: field 'finish_reason' must be one of {FINISH_REASONS}")
    counts = {}
    for name in ("prompt_tokens", "completion_tokens"):
        value = row.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise GenerationError(f"file: {where}: field {name!r} must be an int >= 0")
        counts[name] = value
    return Generation(key=request.key, text=text, finish_reason=finish_reason, **counts)


def write_requests(path: str | Path, requests: list[GenerationRequest]) -> None:
    """Export requests as JSONL (`key`, `messages` or `prompt`, `sampling`, `seed`, `chat_template_kwargs`) for an external generator."""
    check_unique_keys(requests, "file")
    rows = []
    for request in requests:
        row: dict[str, Any] = {"key": request.key}
        row["messages" if request.messages is not None else "prompt"] = (
            request.messages if request.messages is not None else request.prompt
        )
        row.update(sampling=to_dict(request.sampling), seed=request.seed)
        if request.chat_template_kwargs:
            row["chat_template_kwargs"] = dict(request.chat_template_kwargs)
        rows.append(row)
    write_jsonl(path, rows)
