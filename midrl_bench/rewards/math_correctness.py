"""`math_correctness`: 1.0 when the response's final answer is equivalent to the gold answer, else 0.0.

The verdict comes from the project's one math checker (`midrl_bench.verify.math.check_answers`, math-verify in
worker processes with a hard timeout), the same checker the evaluation uses. A verdict of None ("could not judge":
unparseable gold, checker timeout) scores 0.0 and is flagged as unjudged, never silently merged with wrong.

>>> MathCorrectness().score(["so \\\\boxed{4}", "it is \\\\boxed{5}"], ["4", "4"]).scores
[1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from midrl_bench.rewards.base import REWARD_STATS, ScoredBatch, check_lengths

NAME = "math_correctness"


@dataclass(frozen=True)
class Options:
    """No options: the checker's settings are the project's."""


def verdicts(responses: Sequence[str], answers: Sequence[Any]) -> list:
    from midrl_bench.verify.math import check_answers

    check_lengths(responses, answers)
    return check_answers([(str(answer), str(text)) for text, answer in zip(responses, answers, strict=True)])


@dataclass(frozen=True)
class MathCorrectness:
    options: Options = Options()
    name: str = NAME

    def score(self, responses: Sequence[str], answers: Sequence[Any]) -> ScoredBatch:
        found = verdicts(responses, answers)
        batch = ScoredBatch(scores=[1.0 if v.correct is True else 0.0 for v in found],
                            unjudged=[v.correct is None for v in found], correct=[v.correct is True for v in found])
        REWARD_STATS.add(batch)
        return batch


def make(options: Options) -> MathCorrectness:
    return MathCorrectness(options)
