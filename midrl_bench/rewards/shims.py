"""The one reward, adapted to each trainer's calling convention and nothing else.

- TRL (`GRPOTrainer(reward_funcs=[trl_reward_function(name)])`): `(prompts, completions, **kwargs) -> list[float]`;
  the gold answers arrive as the dataset's `answer` column in `kwargs`, completions are strings or
  `[{"role": "assistant", ...}]` lists.
- OpenRLHF (`--reward.remote_url reward_func.py`): OpenRLHF 0.11 loads the file with `importlib` and calls
  `reward_func(queries, prompts, labels)` (`openrlhf/utils/agent.py`, `SingleTurnAgentExecutor`), where a query is
  the decoded prompt + response (special tokens kept) and a label is the dataset's `--data.label_key` value; it reads
  `rewards` / `scores` / `extra_logs` from the returned dict.
- verl (`reward.custom_reward_function.path=compute_score.py`): verl 0.9 loads the file with
  `verl.utils.import_utils.load_extern_object` and its reward manager calls
  `compute_score(data_source=, solution_str=, ground_truth=, extra_info=)` once per response, with the response
  decoded without special tokens and the ground truth from the parquet's `reward_model.ground_truth`; a returned
  dict's `score` is the reward and its other keys are logged.

Could-not-judge verdicts score 0.0 and are logged (`reward/unjudged_rate` in TRL, `unjudged` in OpenRLHF's extra
logs and verl's reward extra info), never silently merged with wrong.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from midrl_bench.rewards import get_reward

# End-of-turn / end-of-sequence markers of common chat templates (Llama 3 <|eot_id|>, Qwen <|im_end|>, Mistral
# </s>, Gemma <end_of_turn>/<eos>, DeepSeek <｜end▁of▁sentence｜>). OpenRLHF decodes queries with special tokens
# kept, TRL and verl without; removing them makes an `Answer: 12<|eot_id|>` line read the same in all three.
_SPECIAL_MARKERS = re.compile(r"<\|[^<>|\s]{1,40}\|>|<｜[^<>｜\s]{1,40}｜>|</s>|<eos>|<end_of_turn>")


def strip_markers(text: str) -> str:
    return _SPECIAL_MARKERS.sub("", text)


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string (standard format) or a list of messages (conversational format)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(message.get("content", "")) for message in completion if message.get("role") == "assistant")
    raise TypeError(f"reward: unsupported completion type {type(completion).__name__}")


def response_from_query(query: str, prompt: str) -> str:
    """The response part of an OpenRLHF query (= decoded prompt + response), without special-token markers.

    The prompt is cut off when the query starts with it (the usual case); when decoding changed the prompt's text, the
    query is cut after the last occurrence of the prompt's final line, so an instruction such as "put your answer in
    \\boxed{}" inside the prompt can never be taken for the answer.
    """
    if query.startswith(prompt):
        response = query[len(prompt):]
    else:
        tail = prompt.rstrip().splitlines()[-1] if prompt.strip() else ""
        cut = query.rfind(tail) if tail else -1
        response = query[cut + len(tail):] if cut != -1 else query
    return strip_markers(response)


def trl_reward_function(name: str = "math_correctness", options: dict[str, Any] | None = None):
    """TRL reward function for reward `name`; TRL logs it as rewards/<name>."""
    reward = get_reward(name, options)

    def trl_reward(prompts: list, completions: list, answer: list | None = None, **kwargs: Any) -> list[float]:
        if answer is None:
            raise KeyError("reward: the RL dataset has no 'answer' column (TRL passes dataset columns as keywords)")
        batch = reward.score([strip_markers(completion_text(c)) for c in completions], answer)
        log_metric = kwargs.get("log_metric")
        if log_metric is not None and batch.scores:
            log_metric("reward/unjudged_rate", sum(batch.unjudged) / len(batch.scores))
        return batch.scores

    trl_reward.__name__ = name
    return trl_reward


def openrlhf_reward_function(name: str = "math_correctness", options: dict[str, Any] | None = None):
    """OpenRLHF reward function for reward `name` (what the generated reward file exposes as `reward_func`)."""
    reward = get_reward(name, options)

    def reward_func(queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, Any]:
        import torch

        responses = [response_from_query(query, prompt) for query, prompt in zip(queries, prompts, strict=True)]
        batch = reward.score(responses, labels)
        rewards = torch.tensor(batch.scores, dtype=torch.float32)
        unjudged = torch.tensor([float(flag) for flag in batch.unjudged], dtype=torch.float32)
        return {"rewards": rewards, "scores": rewards, "extra_logs": {"unjudged": unjudged}}

    return reward_func


def verl_compute_score(name: str = "math_correctness", options: dict[str, Any] | None = None):
    """verl `compute_score` for reward `name`: one response per call, a dict with `score` and logged extras."""
    reward = get_reward(name, options)

    def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None,
                      **kwargs: Any) -> dict[str, float]:
        batch = reward.score([strip_markers(str(solution_str))], [ground_truth])
        return {"score": batch.scores[0], "acc": float(batch.correct[0]), "unjudged": float(batch.unjudged[0])}

    return compute_score


CHECKER_PATH_ENV = "MIDRL_CHECKER_PYTHONPATH"


def require_checker() -> None:
    """Refuse to score unless the math checker's parser is sound where the checker runs; call before scoring.

    The checker judges in worker processes (`midrl_bench.verify.math_worker`), each of which runs the checker's
    self-test (midrl_bench.verify.selftest) before its first item. In an environment whose own
    antlr4-python3-runtime must stay at 4.9 (verl's Hydra/OmegaConf config stack; measured: Hydra's compose fails
    with antlr4 4.13.2, "Could not deserialize ATN with version 3 (expected 4)"), set `MIDRL_CHECKER_PYTHONPATH`
    to a directory holding antlr4-python3-runtime 4.13.2 (`pip install --no-deps --target DIR
    antlr4-python3-runtime==4.13.2`): it is put first on the workers' PYTHONPATH only, so the trainer keeps 4.9 and
    the checker gets 4.13.2. This function then judges the self-test's known pairs through the real checker and
    raises CheckerSetupError (one line naming the package and version) if the workers' parser is broken.
    """
    from midrl_bench.verify.math import check_answers
    from midrl_bench.verify.selftest import FIX, KNOWN_PAIRS, CheckerSetupError

    extra = os.environ.get(CHECKER_PATH_ENV)
    if extra:
        if not Path(extra).is_dir():
            raise CheckerSetupError(f"{CHECKER_PATH_ENV}={extra}: not a directory")
        current = os.environ.get("PYTHONPATH", "")
        if extra not in current.split(os.pathsep):
            os.environ["PYTHONPATH"] = os.pathsep.join(part for part in (extra, current) if part)
    try:
        verdicts = check_answers([(gold, response) for gold, response, _ in KNOWN_PAIRS])
    except CheckerSetupError as error:
        raise CheckerSetupError(f"{error}; in a trainer environment that must keep antlr4 4.9 (verl), install "
                                f"4.13.2 into a side directory and set {CHECKER_PATH_ENV} to it instead") from None
    for (gold, response, expected), verdict in zip(KNOWN_PAIRS, verdicts, strict=True):
        if verdict.correct is not expected:
            raise CheckerSetupError(f"math checker refuses to score: self-test {gold!r} vs {response!r} gave "
                                    f"{verdict.correct}, expected {expected}; fix: {FIX} (or set {CHECKER_PATH_ENV})")


REWARD_FILE = '''"""{backend} reward file written by midrl-bench: reward {name!r}, options {options_json}.

{how}
The scoring itself is midrl_bench.rewards ({name}), so midrl-bench (and math-verify with
antlr4-python3-runtime 4.13.2) must be importable wherever the trainer's reward workers run.
"""

from midrl_bench.rewards.shims import {factory}, require_checker

require_checker()  # refuse to score in an environment whose math parser is broken (e.g. antlr4 4.9)
{attribute} = {factory}({name!r}, {options!r})
'''

_FILE_KINDS = {  # backend -> (factory, attribute the trainer looks up, how it is loaded)
    "openrlhf": ("openrlhf_reward_function", "reward_func",
                 "OpenRLHF loads it via `--reward.remote_url` and calls `reward_func(queries, prompts, labels)`."),
    "verl": ("verl_compute_score", "compute_score",
             "verl loads it via `reward.custom_reward_function.path` (name `compute_score`) and calls\n"
             "`compute_score(data_source, solution_str, ground_truth, extra_info)` per response."),
}


def write_reward_file(path: str | Path, backend: str, name: str = "math_correctness",
                      options: dict[str, Any] | None = None) -> Path:
    """Write the reward file `backend` ("openrlhf" or "verl") loads; the reward is validated first."""
    get_reward(name, options)  # unknown name / bad options fail here, not inside the trainer
    factory, attribute, how = _FILE_KINDS[backend]
    options = dict(options or {})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REWARD_FILE.format(backend=backend, name=name, options=options, options_json=json.dumps(options),
                                       how=how, factory=factory, attribute=attribute), encoding="utf-8")
    return path
