"""The RL reward: verified correctness of the final answer, by the project's one math checker.

`correctness_rewards(completions, answers)` is the reward; the two functions below it are thin shims that adapt it to
each trainer's calling convention and nothing else, so TRL and OpenRLHF runs are scored identically:

- TRL (`GRPOTrainer(reward_funcs=[trl_reward])`): `(prompts, completions, **kwargs) -> list[float]`; the gold answers
  arrive as the dataset's `answer` column in `kwargs`, completions are strings or `[{"role": "assistant", ...}]` lists.
- OpenRLHF (`--reward.remote_url reward_func.py`): OpenRLHF 0.11 loads the file with `importlib` and calls
  `reward_func(queries, prompts, labels)` (`openrlhf/utils/agent.py`, `SingleTurnAgentExecutor`), where a query is
  the decoded prompt + response (special tokens kept) and a label is the dataset's `--data.label_key` value; it reads
  `rewards` / `scores` / `extra_logs` from the returned dict.

A verdict of None ("could not judge": unparseable gold, checker timeout) scores 0.0, is counted in `REWARD_STATS`
and is logged (`reward/unjudged_rate` in TRL, `unjudged` in OpenRLHF's extra logs), never silently merged with wrong.

>>> correctness_rewards(["so \\\\boxed{4}", "it is \\\\boxed{5}"], ["4", "4"])
[1.0, 0.0]
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midrl_bench.verify.math import Verdict, check_answers

REWARD_NAMES = ("math_correctness",)


@dataclass
class RewardStats:
    """Running counts over every reward call in this process (thread-safe: OpenRLHF calls from threads)."""

    scored: int = 0
    correct: int = 0
    unjudged: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, verdicts: Sequence[Verdict]) -> None:
        with self._lock:
            self.scored += len(verdicts)
            self.correct += sum(verdict.correct is True for verdict in verdicts)
            self.unjudged += sum(verdict.correct is None for verdict in verdicts)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"scored": self.scored, "correct": self.correct, "unjudged": self.unjudged}


REWARD_STATS = RewardStats()


def score(verdict: Verdict) -> float:
    """1.0 for a verified-correct answer; 0.0 for wrong and for could-not-judge (None)."""
    return 1.0 if verdict.correct is True else 0.0


def correctness_verdicts(completions: Sequence[str], answers: Sequence[Any]) -> list[Verdict]:
    if len(completions) != len(answers):
        raise ValueError(f"reward: {len(completions)} completions but {len(answers)} gold answers")
    verdicts = check_answers([(str(answer), str(text)) for text, answer in zip(completions, answers, strict=True)])
    REWARD_STATS.add(verdicts)
    return verdicts


def correctness_rewards(completions: Sequence[str], answers: Sequence[Any]) -> list[float]:
    """One reward per completion: 1.0 if its final answer is equivalent to the gold answer, else 0.0."""
    return [score(verdict) for verdict in correctness_verdicts(completions, answers)]


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string (standard format) or a list of messages (conversational format)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(message.get("content", "")) for message in completion if message.get("role") == "assistant")
    raise TypeError(f"reward: unsupported completion type {type(completion).__name__}")


def trl_reward(prompts: list, completions: list, answer: list | None = None, **kwargs: Any) -> list[float]:
    """TRL reward-function shim. `answer` is the RL dataset's gold-answer column."""
    if answer is None:
        raise KeyError("reward: the RL dataset has no 'answer' column (TRL passes dataset columns as keyword arguments)")
    verdicts = correctness_verdicts([completion_text(c) for c in completions], answer)
    log_metric = kwargs.get("log_metric")
    if log_metric is not None and verdicts:
        log_metric("reward/unjudged_rate", sum(v.correct is None for v in verdicts) / len(verdicts))
    return [score(verdict) for verdict in verdicts]


trl_reward.__name__ = "math_correctness"  # TRL logs each reward as rewards/<function name>


# End-of-turn / end-of-sequence markers of common chat templates (Llama 3 <|eot_id|>, Qwen <|im_end|>, Mistral
# </s>, Gemma <end_of_turn>/<eos>, DeepSeek <｜end▁of▁sentence｜>). OpenRLHF decodes queries with special tokens
# kept, TRL without; removing them makes an `Answer: 12<|eot_id|>` line read the same in both.
_SPECIAL_MARKERS = re.compile(r"<\|[^<>|\s]{1,40}\|>|<｜[^<>｜\s]{1,40}｜>|</s>|<eos>|<end_of_turn>")


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
    return _SPECIAL_MARKERS.sub("", response)


def openrlhf_reward_func(queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, Any]:
    """OpenRLHF reward-function shim (what the generated `reward_func.py` exposes as `reward_func`)."""
    import torch

    responses = [response_from_query(query, prompt) for query, prompt in zip(queries, prompts, strict=True)]
    verdicts = correctness_verdicts(responses, labels)
    rewards = torch.tensor([score(verdict) for verdict in verdicts], dtype=torch.float32)
    unjudged = torch.tensor([float(verdict.correct is None) for verdict in verdicts], dtype=torch.float32)
    return {"rewards": rewards, "scores": rewards, "extra_logs": {"unjudged": unjudged}}


OPENRLHF_REWARD_FILE = '''"""OpenRLHF reward file written by midrl-bench ({name}); pass it as `--reward.remote_url`.

OpenRLHF loads this file and calls `reward_func(queries, prompts, labels)`. The scoring itself is
midrl_bench.pipeline.reward.openrlhf_reward_func (verified math correctness), so midrl-bench must be installed
wherever OpenRLHF's rollout workers run.
"""

from midrl_bench.pipeline.reward import openrlhf_reward_func as reward_func  # noqa: F401
'''


def write_openrlhf_reward_file(path: str | Path, reward_name: str = "math_correctness") -> Path:
    """Write the reward file OpenRLHF loads; returns its path."""
    if reward_name not in REWARD_NAMES:
        raise ValueError(f"rl.reward: unknown reward {reward_name!r}; known: {list(REWARD_NAMES)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(OPENRLHF_REWARD_FILE.format(name=reward_name), encoding="utf-8")
    return path
