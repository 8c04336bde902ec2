"""What every reward shares: the scored batch, the process-wide counters, and the recipe's reward choice.

A reward maps (response texts, gold answers) to one score per response plus a could-not-judge flag per response.
Responses are plain text: each backend's shim (`midrl_bench.rewards.shims`) turns its own calling convention into
that text first, so the same reward gives the same score on TRL, OpenRLHF and verl.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ScoredBatch:
    scores: list[float]
    unjudged: list[bool]  # the checker could not judge (unparseable gold, timeout): scored 0.0, counted, logged
    correct: list[bool]  # verified correct (False for rewards that do not check the answer)


class Reward(Protocol):
    name: str

    def score(self, responses: Sequence[str], answers: Sequence[Any]) -> ScoredBatch: ...


@dataclass
class RewardStats:
    """Running counts over every reward call in this process (thread-safe: OpenRLHF and verl call from threads)."""

    scored: int = 0
    correct: int = 0
    unjudged: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, batch: ScoredBatch) -> None:
        with self._lock:
            self.scored += len(batch.scores)
            self.correct += sum(batch.correct)
            self.unjudged += sum(batch.unjudged)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"scored": self.scored, "correct": self.correct, "unjudged": self.unjudged}


REWARD_STATS = RewardStats()


def check_lengths(responses: Sequence[str], answers: Sequence[Any]) -> None:
    if len(responses) != len(answers):
        raise ValueError(f"reward: {len(responses)} responses but {len(answers)} gold answers")
