"""The pack's tasks as data: which source, which checker, which version.

This is the single place that knows how a pack task scores a response; lm-eval (through `pack/hooks.py`), the
leaderboard's re-scoring and the judge all call `score_responses`, so they cannot drift apart.
Bump a task's `version` (and its YAML `metadata.version`, and the changelog in `pack/README.md`) on any change to
its prompt, extraction, checker or data.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from midrl_bench.metrics import pass_at_k_table


@dataclass(frozen=True)
class TaskSpec:
    name: str
    checker: str  # "math" | "choice" | "code"
    version: int
    source: str  # "module" or "module:callable(arg)" resolving to a midrl_bench.sources.base.Source
    doc_fields: tuple[str, ...]
    expected_docs: int

    def load_source(self):
        module_name, _, call = self.source.partition(":")
        module = importlib.import_module(f"midrl_bench.sources.{module_name}")
        if not call:
            return module.SOURCE
        function_name, argument = call.rstrip(")").split("(")
        return getattr(module, function_name)(argument)


_MATH_FIELDS = ("id", "problem", "answer")
_MUSR_FIELDS = ("id", "narrative", "question", "choices", "answer_index")
_CODE_FIELDS = ("id", "prompt", "canonical_solution", "test", "entry_point")

TASK_SPECS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec("midrl_math500", "math", 1, "math500", _MATH_FIELDS, 500),
        TaskSpec("midrl_aime24", "math", 1, "aime24", _MATH_FIELDS, 30),
        TaskSpec("midrl_aime25", "math", 1, "aime25", _MATH_FIELDS, 30),
        TaskSpec("midrl_amc23", "math", 1, "amc23", _MATH_FIELDS, 40),
        TaskSpec("midrl_hmmt25", "math", 1, "hmmt25", _MATH_FIELDS, 30),
        TaskSpec("midrl_olympiadbench", "math", 1, "olympiadbench", _MATH_FIELDS, 675),
        TaskSpec("midrl_musr_murder", "choice", 1, "musr:source(murder)", _MUSR_FIELDS, 250),
        TaskSpec("midrl_musr_object", "choice", 1, "musr:source(object)", _MUSR_FIELDS, 256),
        TaskSpec("midrl_musr_team", "choice", 1, "musr:source(team)", _MUSR_FIELDS, 250),
        TaskSpec("midrl_humaneval", "code", 1, "humaneval", _CODE_FIELDS, 164),
        TaskSpec("midrl_toy", "math", 1, "toy:source(eval)", _MATH_FIELDS, 48),  # the tiny world (midrl demo)
    )
}

# Checkers by kind. A new kind (e.g. "code") registers itself here from its own module.
CHECKERS: dict[str, Callable[[dict, Sequence[str]], list[bool | None]]] = {}


def spec(task_name: str) -> TaskSpec:
    if task_name not in TASK_SPECS:
        raise KeyError(f"unknown pack task {task_name!r}; known: {sorted(TASK_SPECS)}")
    return TASK_SPECS[task_name]


@cache
def _cached_docs(task_name: str) -> tuple[str, ...]:
    task = spec(task_name)
    rows = task.load_source().load_rows()
    docs = [{field: row[field] for field in task.doc_fields} for row in rows]
    if len(docs) != task.expected_docs:
        raise ValueError(f"{task_name}: expected {task.expected_docs} docs, got {len(docs)}")
    return tuple(json.dumps(doc, ensure_ascii=False) for doc in docs)


def load_docs(task_name: str) -> list[dict[str, Any]]:
    """The task's documents exactly as lm-eval sees them (fresh copies)."""
    return [json.loads(text) for text in _cached_docs(task_name)]


def doc_hash(doc: dict[str, Any]) -> str:
    """Content hash of a document (canonical JSON), for submission checks."""
    canonical = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verdicts_for(task_name: str, doc: dict[str, Any], responses: Sequence[str]) -> list[bool | None]:
    kind = spec(task_name).checker
    if kind not in CHECKERS:
        _register_builtin_checkers()
    if kind not in CHECKERS:
        raise KeyError(f"no checker registered for kind {kind!r} (task {task_name})")
    return CHECKERS[kind](doc, responses)


def score_responses(task_name: str, doc: dict[str, Any], responses: Sequence[str]):
    """(verdicts, pass@k for every k <= len(responses)) of one document's sampled responses."""
    verdicts = verdicts_for(task_name, doc, responses)
    return verdicts, pass_at_k_table(verdicts)


def _math_verdicts(doc: dict, responses: Sequence[str]) -> list[bool | None]:
    from midrl_bench.verify.math import check_answers

    return [verdict.correct for verdict in check_answers([(doc["answer"], r) for r in responses])]


def _choice_verdicts(doc: dict, responses: Sequence[str]) -> list[bool | None]:
    from midrl_bench.verify.choice import check_choice

    return [check_choice(doc["answer_index"], len(doc["choices"]), r).correct for r in responses]


def _code_verdicts(doc: dict, responses: Sequence[str]) -> list[bool | None]:
    from midrl_bench.tasks.code_scoring import code_verdicts

    return code_verdicts(doc, responses)


def _register_builtin_checkers() -> None:
    CHECKERS.setdefault("math", _math_verdicts)
    CHECKERS.setdefault("choice", _choice_verdicts)
    CHECKERS.setdefault("code", _code_verdicts)
