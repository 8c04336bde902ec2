"""The pack's tasks as data: which source and which checker; version and size come from the task's YAML.

Each task has its own folder `pack/<task>/` holding `<task>.yaml` (the single source of truth for the task's
`metadata.version` and `metadata.size`, the number of documents), a README card with a changelog line per version,
and `reference.json` (golden scores of a pinned tiny-model run, checked by tests/test_pack_reference.py).
Scoring is in `midrl_bench.tasks.scoring`; lm-eval, `midrl runs regrade`, the leaderboard and the judge all call
it, so they cannot drift apart. Bump a task's version (and add a changelog line to its card) on any change to its
prompt, extraction, checker or data that moves a score.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from midrl_bench.metrics import pass_at_k_table


@dataclass(frozen=True)
class TaskSpec:
    name: str
    checker: str  # "math" | "choice" | "code"
    source: str  # "module" or "module:callable(arg)" resolving to a midrl_bench.sources.base.Source
    doc_fields: tuple[str, ...]

    @property
    def folder(self) -> Path:
        from midrl_bench.tasks import include_path

        return Path(include_path()) / self.name

    @property
    def version(self) -> int:
        return int(_yaml_metadata(self.name)["version"])

    @property
    def expected_docs(self) -> int:
        """The task's size as its YAML states it (lm-eval metadata `size` can override it for a run)."""
        return int(_yaml_metadata(self.name)["size"])

    def load_source(self, config: str | None = None):
        """The task's Source; `config` is a source's own config file (the toy world's YAML), passed through."""
        module_name, _, call = self.source.partition(":")
        module = importlib.import_module(f"midrl_bench.sources.{module_name}")
        if not call:
            return module.SOURCE
        function_name, argument = call.rstrip(")").split("(")
        factory = getattr(module, function_name)
        return factory(argument) if config is None else factory(argument, config=config)


_MATH_FIELDS = ("id", "problem", "answer")
_MUSR_FIELDS = ("id", "narrative", "question", "choices", "answer_index")
_CODE_FIELDS = ("id", "prompt", "canonical_solution", "test", "entry_point")

TASK_SPECS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec("midrl_math500", "math", "math500", _MATH_FIELDS),
        TaskSpec("midrl_aime24", "math", "aime24", _MATH_FIELDS),
        TaskSpec("midrl_aime25", "math", "aime25", _MATH_FIELDS),
        TaskSpec("midrl_amc23", "math", "amc23", _MATH_FIELDS),
        TaskSpec("midrl_hmmt25", "math", "hmmt25", _MATH_FIELDS),
        TaskSpec("midrl_olympiadbench", "math", "olympiadbench", _MATH_FIELDS),
        TaskSpec("midrl_musr_murder", "choice", "musr:source(murder)", _MUSR_FIELDS),
        TaskSpec("midrl_musr_object", "choice", "musr:source(object)", _MUSR_FIELDS),
        TaskSpec("midrl_musr_team", "choice", "musr:source(team)", _MUSR_FIELDS),
        TaskSpec("midrl_humaneval", "code", "humaneval", _CODE_FIELDS),
        TaskSpec("midrl_toy", "math", "toy:source(eval)", _MATH_FIELDS),  # the tiny world (midrl demo)
    )
}



def spec(task_name: str) -> TaskSpec:
    if task_name not in TASK_SPECS:
        raise KeyError(f"unknown pack task {task_name!r}; known: {sorted(TASK_SPECS)}")
    return TASK_SPECS[task_name]


@cache
def _yaml_metadata(task_name: str) -> dict[str, Any]:
    """`metadata` of the task's own YAML (plain YAML: the `!function` hooks live in the shared base files)."""
    from midrl_bench.config import load_yaml

    path = spec(task_name).folder / f"{task_name}.yaml"
    metadata = (load_yaml(path) or {}).get("metadata") or {}
    for key in ("version", "size"):
        if isinstance(metadata.get(key), bool) or not isinstance(metadata.get(key), int):
            raise ValueError(f"{path}: metadata.{key} must be an integer, got {metadata.get(key)!r}")
    return metadata


@cache
def _cached_docs(task_name: str, source_config: str | None = None) -> tuple[str, ...]:
    task = spec(task_name)
    rows = task.load_source(source_config).load_rows()
    return tuple(json.dumps({field: row[field] for field in task.doc_fields}, ensure_ascii=False) for row in rows)


def load_docs(task_name: str, size: int | None = None, source_config: str | None = None) -> list[dict[str, Any]]:
    """The task's documents exactly as lm-eval sees them (fresh copies); their count must be `size` (default: the
    YAML's `metadata.size`). `source_config`: the source's own config file (midrl_toy: the toy world's YAML)."""
    docs = [json.loads(text) for text in _cached_docs(task_name, source_config)]
    expected = spec(task_name).expected_docs if size is None else size
    if len(docs) != expected:
        raise ValueError(f"{task_name}: expected {expected} docs (metadata.size), got {len(docs)}")
    return docs


def doc_hash(doc: dict[str, Any]) -> str:
    """Content hash of a document (canonical JSON), for submission checks."""
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checker_settings(task_name: str, policy: str = "standard", timeout_s: float | None = None) -> dict[str, Any]:
    """The one record of what judges a task's responses (written into results files and regrade records)."""
    kind = spec(task_name).checker
    if kind == "math":
        from midrl_bench.verify.settings import checker_settings as math_settings

        return {"kind": "math", **math_settings(policy, timeout_s)}
    if kind == "choice":
        return {"kind": "choice", "extraction": "last 'Answer: <letter>' line, else the last boxed letter"}
    from midrl_bench.tasks.code_scoring import MEMORY_MB, TIMEOUT_S

    return {"kind": "code", "timeout_s": TIMEOUT_S, "memory_mb": MEMORY_MB}


def score_responses(task_name: str, doc: dict[str, Any], responses: Sequence[str], *, policy: str = "standard"):
    """(verdicts, pass@k for every k <= len(responses)) of one document's sampled responses."""
    from midrl_bench.tasks.scoring import score_doc

    verdicts = [score.correct for score in score_doc(task_name, doc, responses, policy=policy)]
    return verdicts, pass_at_k_table(verdicts)
