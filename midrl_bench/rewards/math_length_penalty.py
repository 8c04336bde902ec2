"""`math_length_penalty`: verified correctness plus a soft overlong penalty on the response length.

    reward = correctness (1.0 / 0.0, as `math_correctness`) + penalty(length)
    penalty = 0                                    if length <= max_chars - ramp_chars
            = -(length - (max_chars - ramp_chars)) / ramp_chars * weight   inside the ramp
            = -weight                              if length > max_chars

This is the shape of DAPO's "soft overlong punishment", measured in characters of the response text rather than
tokens: every backend hands the reward the same decoded text, while token counts depend on how each backend
decodes, so a character budget gives identical rewards on TRL, OpenRLHF and verl. Set `max_chars` to roughly
4 x `rl.max_response_tokens` for English/LaTeX text.

>>> reward = MathLengthPenalty(Options(max_chars=40, ramp_chars=20, weight=1.0))
>>> reward.score(["\\\\boxed{4}", "x" * 21 + "\\\\boxed{4}", "x" * 40 + "\\\\boxed{4}"], ["4"] * 3).scores
[1.0, 0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from midrl_bench.config import ConfigError
from midrl_bench.rewards.base import REWARD_STATS, ScoredBatch
from midrl_bench.rewards.math_correctness import verdicts

NAME = "math_length_penalty"


@dataclass(frozen=True)
class Options:
    max_chars: int = 12_288  # responses longer than this get the full penalty (~3,072 tokens x 4 characters)
    ramp_chars: int = 4_096  # the penalty grows linearly over the last `ramp_chars` before `max_chars`
    weight: float = 1.0  # the full penalty

    def __post_init__(self) -> None:
        if not 0 < self.ramp_chars <= self.max_chars:
            raise ConfigError(f"rl.reward_options: need 0 < ramp_chars <= max_chars, got {self.ramp_chars} and "
                              f"{self.max_chars}")
        if self.weight < 0:
            raise ConfigError(f"rl.reward_options.weight must be >= 0, got {self.weight}")


def length_penalty(length: int, options: Options) -> float:
    start = options.max_chars - options.ramp_chars
    if length <= start:
        return 0.0
    if length > options.max_chars:
        return -options.weight
    return -(length - start) / options.ramp_chars * options.weight


@dataclass(frozen=True)
class MathLengthPenalty:
    options: Options = Options()
    name: str = NAME

    def score(self, responses: Sequence[str], answers: Sequence[Any]) -> ScoredBatch:
        found = verdicts(responses, answers)
        scores = [(1.0 if v.correct is True else 0.0) + length_penalty(len(str(text)), self.options)
                  for v, text in zip(found, responses, strict=True)]
        batch = ScoredBatch(scores=scores, unjudged=[v.correct is None for v in found],
                            correct=[v.correct is True for v in found])
        REWARD_STATS.add(batch)
        return batch


def make(options: Options) -> MathLengthPenalty:
    return MathLengthPenalty(options)
