"""Binding a logged sample row to the pack's own task: prompt, filter, generation arguments, protocol.

The task is loaded as lm-eval loads it (`TaskManager(include_path=<pack>)`, the pack's YAML and hooks), so the
rendering of a document, the filter and the generation arguments compared here are the task's own, not a copy:

- `prompt_mismatch`: the prompt lm-eval logged for the row (`arguments`, and its `prompt_hash`) must be the task's
  rendering of the pack's document with that `doc_id` (`Task.fewshot_context(doc, 0, system_instruction)`). When the
  run applied a chat template (`chat_template` in the results file), the template wraps the prompt in text the
  validator cannot reproduce without the model's tokenizer, so the task's `doc_to_text(doc)` must occur inside the
  logged prompt instead. Either way a response row cannot be moved to another document without its prompt.
- `filter_mismatch`: `filtered_resps` must equal the task's filter ensemble (lm-eval's own filter classes) applied to
  `resps`, so a response cannot be edited after the model wrote it in one field only.
- `generation_args`: the logged generation arguments must equal the task's, except keys declared in
  `submission.json` `generation` (shown on the entry's page) with the same values.
- `protocol`: the task is zero-shot (`n-shot` 0).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from midrl_bench.leaderboard.rundir import Rejected


@cache
def _task_manager():
    from lm_eval.tasks import TaskManager

    from midrl_bench.tasks import include_path

    return TaskManager(include_path=include_path(), include_defaults=False)


@cache
def pack_task(name: str):
    """The lm-eval Task object of a pack task (loaded once per process)."""
    return _task_manager().load([name])["tasks"][name]


def task_generation_kwargs(name: str) -> dict[str, Any]:
    return dict(pack_task(name).config.generation_kwargs or {})


def same_value(a: Any, b: Any) -> bool:
    """JSON-level equality that keeps booleans apart from numbers (`True != 1`) and compares numbers by value."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def check_generation_args(task: str, logged: Any, declared: dict[str, Any], where: str) -> None:
    """Every key where `logged` differs from the task's arguments must be declared with the logged value."""
    if not isinstance(logged, dict):
        raise Rejected("malformed_sample", f"{where}: no generation arguments logged")
    own = task_generation_kwargs(task)
    for key in sorted(set(own) | set(logged)):
        if key in own and key in logged and same_value(own[key], logged[key]) and key not in declared:
            continue
        if key not in declared:
            raise Rejected("generation_args", f"{where}: {key}={logged.get(key, '<absent>')!r} but the task uses "
                                              f"{own.get(key, '<absent>')!r}; declare it in submission.json "
                                              "`generation` to have it accepted and shown")
        if key not in logged or not same_value(declared[key], logged[key]):
            raise Rejected("generation_args", f"{where}: submission.json declares {key}={declared[key]!r}, the run "
                                              f"logged {logged.get(key, '<absent>')!r}")


def logged_request(row: dict[str, Any], where: str) -> tuple[str, Any]:
    """(prompt, generation arguments) of the row's one request, in either shape lm-eval logs `arguments` in."""
    arguments = row.get("arguments")
    if isinstance(arguments, dict) and len(arguments) == 1:
        (request,) = arguments.values()
        if isinstance(request, dict) and isinstance(request.get("arg_0"), str):
            return request["arg_0"], request.get("arg_1")
    if isinstance(arguments, list) and len(arguments) == 1 and isinstance(arguments[0], list) and arguments[0]:
        if isinstance(arguments[0][0], str):
            return arguments[0][0], (arguments[0][1] if len(arguments[0]) > 1 else None)
    raise Rejected("malformed_sample", f"{where}: `arguments` must hold exactly one generation request")


def check_prompt(task: str, doc: dict[str, Any], prompt: str, row: dict[str, Any], results: dict[str, Any],
                 where: str) -> None:
    lm_task = pack_task(task)
    logged_hash = row.get("prompt_hash")
    if logged_hash is not None and logged_hash != hashlib.sha256(prompt.encode("utf-8")).hexdigest():
        raise Rejected("prompt_mismatch", f"{where}: prompt_hash does not hash the logged prompt")
    if results.get("chat_template") is None:
        expected = lm_task.fewshot_context(doc, 0, system_instruction=results.get("system_instruction"))
        if prompt != expected:
            raise Rejected("prompt_mismatch", f"{where}: the logged prompt is not the task's rendering of doc "
                                              f"{row.get('doc_id')!r} (sha256 {_short(prompt)} vs {_short(expected)})")
    elif lm_task.doc_to_text(doc) not in prompt:
        raise Rejected("prompt_mismatch", f"{where}: the logged (chat-template) prompt does not contain the task's "
                                          f"rendering of doc {row.get('doc_id')!r}")


def _short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def check_filter(task: str, row: dict[str, Any], doc: dict[str, Any], where: str) -> list[str]:
    """The responses after the task's filter, which must equal the logged `filtered_resps`; returns them."""
    ensembles = {ensemble.name: ensemble for ensemble in pack_task(task)._filters}
    name = row.get("filter")
    if name not in ensembles:
        raise Rejected("filter_mismatch", f"{where}: filter {name!r} is not one of the task's {sorted(ensembles)}")
    resps, logged = row.get("resps"), row.get("filtered_resps")
    if not (isinstance(resps, list) and len(resps) == 1 and isinstance(resps[0], list)
            and all(isinstance(r, str) for r in resps[0])):
        raise Rejected("malformed_sample", f"{where}: `resps` must be one list of response strings")
    filtered: Any = [list(resps[0])]
    for make_filter in ensembles[name].filters:
        filtered = make_filter().apply(filtered, [doc])
    filtered = [list(item) if isinstance(item, (list, tuple)) else item for item in filtered]
    if not isinstance(logged, list) or json.dumps(filtered, ensure_ascii=False) != json.dumps(logged, ensure_ascii=False):
        raise Rejected("filter_mismatch", f"{where}: filtered_resps is not the task's filter {name!r} applied to resps "
                                          "(a response was edited after generation)")
    responses = filtered[0] if len(filtered) == 1 and isinstance(filtered[0], list) else filtered
    if not responses or not all(isinstance(r, str) for r in responses):
        raise Rejected("malformed_sample", f"{where}: the filter must keep a non-empty list of response strings")
    return responses


def check_protocol(task: str, results: dict[str, Any]) -> None:
    shots = (results.get("n-shot") or {}).get(task)
    if shots is not None and (isinstance(shots, bool) or shots != 0):
        raise Rejected("protocol", f"{task}: run used {shots!r}-shot prompts; the pack's tasks are zero-shot")
