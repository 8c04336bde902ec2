"""RL rewards by name: one module per reward, chosen by `rl.reward` (+ `rl.reward_options`) in the recipe.

    math_correctness     1.0 / 0.0 verified correctness of the final answer (the paper's reward)
    math_format          1.0 when the response has a closed, non-empty \\boxed{} final answer (format only)
    math_length_penalty  correctness + a soft overlong penalty on the response length (DAPO's shape, characters)
    toy_correctness      math_correctness, logging the strategies the rollouts use (the tiny world, `midrl demo`)

Every backend scores through the same `Reward.score(responses, answers)`; `shims.py` adapts it to TRL's reward
functions, OpenRLHF's reward file and verl's `compute_score` file. Adding a reward = adding a module with `NAME`,
an `Options` dataclass and `make(options)`, and one line in `REWARDS`.
"""

from __future__ import annotations

import importlib
from typing import Any

from midrl_bench.config import ConfigError, from_dict
from midrl_bench.rewards.base import REWARD_STATS, Reward, RewardStats, ScoredBatch

REWARDS = {  # name -> module
    "math_correctness": "midrl_bench.rewards.math_correctness",
    "math_format": "midrl_bench.rewards.math_format",
    "math_length_penalty": "midrl_bench.rewards.math_length_penalty",
    "toy_correctness": "midrl_bench.toyworld.reward",  # math_correctness + a strategy-share log (midrl demo)
}

__all__ = ["REWARDS", "REWARD_STATS", "Reward", "RewardStats", "ScoredBatch", "get_reward", "known_rewards"]


def known_rewards() -> list[str]:
    return sorted(REWARDS)


def get_reward(name: str, options: dict[str, Any] | None = None) -> Reward:
    """The reward called `name`, with `options` validated against its Options dataclass (unknown keys fail)."""
    if name not in REWARDS:
        raise ConfigError(f"rl.reward: unknown reward {name!r}; known: {known_rewards()}")
    module = importlib.import_module(REWARDS[name])
    return module.make(from_dict(module.Options, dict(options or {}), where="rl.reward_options"))
