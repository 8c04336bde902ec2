"""The tiny world's configuration: the world, the tiny model, its pre-training, and the demo's budgets.

One strict dataclass tree, loaded from `presets/quick.yaml` / `presets/full.yaml` (or any copy a user edits)
with `load_toy_config(path)`; unknown keys are rejected with their dotted path. `pretrained_key()` hashes exactly
what determines the pre-trained model, so the cache is rebuilt when (and only when) one of those inputs changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from midrl_bench.config import ConfigError, from_dict, from_yaml, to_dict
from midrl_bench.provenance import sha256_text
from midrl_bench.toyworld.problems import Difficulty

# Bump when the trace format, tokenizer recipe or pre-training mixture code changes: it invalidates cached models.
WORLD_FORMAT_VERSION = 3
STRATEGIES_DIR = Path(__file__).resolve().parent / "strategies"


@dataclass
class WorldConfig:
    families: list[str] = field(default_factory=lambda: ["mul", "series", "mod"])
    seed: int = 0  # the problem generator's seed; fixes every split
    eval_problems: int = 48  # held out: the `midrl_toy` task
    rl_problems: int = 96  # GRPO prompts
    train_problems: int = 48  # seed problems of the self-generated mid-training set
    pretrain_problems: int = 6000  # problems behind the tiny model's pre-training corpus
    strategies_dir: Path = STRATEGIES_DIR  # a heuristic library directory (same schema as the real library)
    difficulty: Difficulty = field(default_factory=Difficulty)

    def sizes(self) -> dict[str, int]:
        return {"eval": self.eval_problems, "rl": self.rl_problems, "train": self.train_problems,
                "pretrain": self.pretrain_problems}


@dataclass
class ModelConfig:
    vocab_size: int = 1024  # byte-level BPE, digits always single tokens, phrases merged across words
    hidden_size: int = 128
    num_hidden_layers: int = 3  # 3 layers learnt the world as well as 4 (held-out 72% vs 64%), 20% faster
    num_attention_heads: int = 8
    intermediate_size: int = 384
    max_position_embeddings: int = 512  # tokens


@dataclass
class PretrainConfig:
    default_share: float = 0.50  # untagged problems solved with the default strategy
    tagged_share: float = 0.45  # builder-style strategy prompts (system message naming the strategy) -> that strategy
    combined_share: float = 0.05  # untagged problems solved with one strategy and checked with another
    max_steps: int = 8000  # optimiser steps
    # Small batches: a tiny model here is limited by updates, not by examples. 8000 x 4 reached 64% on held-out
    # problems where 2000 x 16 (same examples, same time) stayed near chance.
    batch_size: int = 4  # examples per step
    learning_rate: float = 2e-3
    adam_beta2: float = 0.95  # as in small-GPT recipes; 0.999 learnt the copying steps markedly slower here
    seed: int = 5

    def __post_init__(self) -> None:
        total = self.default_share + self.tagged_share + self.combined_share
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"pretrain: default_share + tagged_share + combined_share must be 1, got {total}")


@dataclass
class DemoConfig:
    seed: int = 0  # seed of the build; run i of `--seeds N` trains with seed + i
    max_n: int = 4  # mid-training configs n1, n2, n4, ... up to the number of strategies
    fixed_budget: bool = True  # also compare few problems x n against many problems x 1 (equal rows)
    samples_per_pair: int = 4  # self-generated candidates per (problem, strategy)
    star_samples: int = 4  # untargeted candidates per problem (the STaR baseline)
    generation_batch_size: int = 64  # sequences per generate() call of the hf backend
    temperature: float = 0.8  # self-generation and GRPO rollouts
    max_new_tokens: int = 128  # tokens per generated solution (generation, rollouts, evaluation)
    midtrain_epochs: float = 3.0
    midtrain_learning_rate: float = 1e-4
    midtrain_batch_size: int = 4  # rows per optimiser step
    rl_steps: int = 20  # GRPO optimiser steps
    rl_group_size: int = 8  # completions per prompt
    rl_prompts_per_step: int = 4
    rl_learning_rate: float = 1e-4
    eval_repeats: int = 64  # samples per eval problem (pass@1..64)
    eval_problems: int | None = None  # evaluate only the first N eval problems (None = all)
    eval_batch_size: int = 64  # lm-eval batch size
    seeds: int = 1  # independent repetitions of mid-training + RL (means and confidence intervals)
    variants: list[str] | None = None  # run only these variants (e.g. [n1, n4, incorrect-n4]); None = all

    def __post_init__(self) -> None:
        for name in ("max_n", "samples_per_pair", "star_samples", "rl_steps", "eval_repeats", "seeds"):
            if getattr(self, name) < 1:
                raise ConfigError(f"demo.{name}: must be >= 1, got {getattr(self, name)}")
        if self.rl_group_size < 2:
            raise ConfigError(f"demo.rl_group_size: GRPO needs a group of >= 2, got {self.rl_group_size}")


@dataclass
class ToyConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)

    def pretrained_key(self, library_hash: str) -> str:
        """Hash of everything that determines the pre-trained model (not the demo's budgets)."""
        payload = {"format": WORLD_FORMAT_VERSION, "world": to_dict(self.world), "model": to_dict(self.model),
                   "pretrain": to_dict(self.pretrain), "library": library_hash}
        payload["world"]["strategies_dir"] = None  # the directory's location does not matter, its content does
        return sha256_text(json.dumps(payload, sort_keys=True))[:16]


def load_toy_config(path: str | Path | None = None) -> ToyConfig:
    """The config at `path`, or the defaults."""
    return ToyConfig() if path is None else from_yaml(ToyConfig, path)


def toy_config_from_dict(data: dict) -> ToyConfig:
    return from_dict(ToyConfig, data, where="toy")
