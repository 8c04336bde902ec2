"""`math_format`: 1.0 when the response states a final answer in the form the prompt asks for, else 0.0.

The pack's math prompt ends "put your final answer within \\boxed{}"; this reward checks only that the response
has a closed, non-empty `\\boxed{...}` (the last one, as the checker reads it), not whether the answer is right.
It needs no gold answer and no checker call. Use it to teach the output format, or to measure how much of a
correctness reward a model earns by format alone.

>>> MathFormat().score(["so \\\\boxed{5}", "five", "\\\\boxed{}"], ["4", "4", "4"]).scores
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from midrl_bench.rewards.base import REWARD_STATS, ScoredBatch, check_lengths

NAME = "math_format"


@dataclass(frozen=True)
class Options:
    """No options."""


def has_boxed_answer(response: str) -> bool:
    from midrl_bench.verify.extract import last_boxed

    boxed = last_boxed(str(response))
    return boxed is not None and boxed.strip() != ""


@dataclass(frozen=True)
class MathFormat:
    options: Options = Options()
    name: str = NAME

    def score(self, responses: Sequence[str], answers: Sequence[Any]) -> ScoredBatch:
        check_lengths(responses, answers)
        scores = [1.0 if has_boxed_answer(text) else 0.0 for text in responses]
        batch = ScoredBatch(scores=scores, unjudged=[False] * len(scores), correct=[False] * len(scores))
        REWARD_STATS.add(batch)
        return batch


def make(options: Options) -> MathFormat:
    return MathFormat(options)
