"""The tiny world's configuration: the world, the tiny model, its pre-training, and the demo's budgets.

One strict dataclass tree, loaded from `presets/quick.yaml` / `presets/full.yaml` (or any copy a user edits)
with `load_toy_config(path)`; unknown keys are rejected with their dotted path. `pretrained_key()` hashes exactly
what determines the pre-trained model, so the cache is rebuilt when (and only when) one of those inputs changes.
"""

from __future__ import annotations

import copy
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midrl_bench.config import ConfigError, from_dict, from_yaml, to_dict
from midrl_bench.provenance import sha256_text
from midrl_bench.toyworld.problems import Difficulty

# Bump when the trace format, tokenizer recipe or pre-training mixture code changes: it invalidates cached models.
WORLD_FORMAT_VERSION = 7
STRATEGIES_DIR = Path(__file__).resolve().parent / "strategies"


GATED_FAMILIES = ["mul", "series", "series_long", "composite", "composite"]


@dataclass
class WorldConfig:
    # The gated world (the default): friendly sub-types (the default strategy works), a gated one (only an
    # alternative works) and composites (twice: only a strategy switch works). The classic world: [mul, series, mod].
    families: list[str] = field(default_factory=lambda: list(GATED_FAMILIES))
    seed: int = 0  # the problem generator's seed; fixes every split
    eval_problems: int = 192  # held out: the `midrl_toy` task (its document count follows this)
    rl_problems: int = 384  # GRPO prompts
    train_problems: int = 192  # seed problems of the self-generated mid-training set
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
    default_share: float = 0.45  # untagged problems solved with the default strategy
    tagged_share: float = 0.45  # builder-style strategy prompts (system message naming the strategy) -> that strategy
    combined_share: float = 0.0  # untagged problems solved with one strategy and checked with another (classic: 0.05)
    alternative_share: float = 0.10  # untagged problems solved with a random non-default strategy (classic: 0)
    matched_tags: bool = True  # on a gated sub-type a tag names the strategy it needs (classic: false, any tag)
    max_steps: int = 16000  # optimiser steps (12,000 failed the full gate on friendly products, docs/toyworld.md)
    # Small batches: a tiny model here is limited by updates, not by examples. 8000 x 4 reached 64% on held-out
    # problems where 2000 x 16 (same examples, same time) stayed near chance.
    batch_size: int = 4  # examples per step
    learning_rate: float = 2e-3
    adam_beta2: float = 0.95  # as in small-GPT recipes; 0.999 learnt the copying steps markedly slower here
    seed: int = 5

    def __post_init__(self) -> None:
        shares = (self.default_share, self.tagged_share, self.combined_share, self.alternative_share)
        if min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-6:
            raise ConfigError("pretrain: default_share + tagged_share + combined_share + alternative_share must be 1 "
                              f"(each >= 0), got {sum(shares)}")


# The demo's builder config and pipeline recipe, in their own schemas (configs/*.yaml for `midrl build`,
# recipes/*.yaml for `midrl train`). A toy config holds everything but what the demo fills in per run; these are
# the fill-ins, and `build_config()` / `pipeline_spec()` validate the merged result with the real dataclasses.
BUILD_FILLED = ("name", "version", "sources", "generation.backend", "generation.options.model",
                "generation.options.device", "heuristics.library_dir", "decontamination.benchmarks")
TRAIN_FILLED = ("name", "seed", "model", "midtrain.dataset", "midtrain.config", "rl.prompts", "rl.reward",
                "rl.reward_options")


def default_build() -> dict[str, Any]:
    return {"seed": 0, "description": "Self-generated heuristic-diverse solutions of the embedded tiny world.",
            "heuristics": {"exemplars": 0},
            "generation": {"options": {"batch_size": 256, "cache_implementation": "static"},
                           "sampling": {"temperature": 0.8, "top_p": 1.0, "max_new_tokens": 384},
                           "samples_per_pair": 4, "star_samples": 4, "shard_size": 256},
            "adherence": {"scorer": "rules"}, "decontamination": {"ngram_size": 5}, "diversity": {"embedder": "ngram"},
            "write": {"max_n": 4, "fixed_budget": [4], "incorrect_max_n": 4, "star": True}}


def default_train() -> dict[str, Any]:
    return {"midtrain": {"epochs": 3.0, "lr": 1e-4, "batch_size": 4, "micro_batch_size": 4, "max_length_tokens": 512,
                         "warmup_ratio": 0.0},
            "rl": {"num_generations": 8, "max_prompt_tokens": 256, "max_response_tokens": 384, "beta": 0.0,
                   "lr": 1e-4, "batch_prompts": 4, "micro_batch_size": 32, "steps": 60, "temperature": 0.8},
            "eval": {"tasks": ["midrl_toy"], "repeats": 64, "max_gen_toks": 384, "batch_size": 256,
                     "cache_implementation": "static"},
            "backend_options": {"trl": {"device": "cpu", "launcher": "in_process", "logging_steps": 5,
                                           "grpo": {"cache_implementation": "static"}}}}


@dataclass
class DemoConfig:
    """What only the demo has: which arms, how many seeds, what to evaluate, the statistics' settings."""

    seed: int = 0  # training seed of the first run; run i of `--seeds N` trains with seed + i
    seeds: int = 1  # independent repetitions of mid-training + RL (paired per seed in the statistics)
    arms: list[str] | None = None  # run only these arms (e.g. [star, n1, n4]); None = all
    before_rl: list[str] | None = None  # arms also evaluated after mid-training, before RL; None = every arm
    eval_problems: int | None = None  # evaluate only the first N eval problems (lm-eval --limit); None = all
    train_problems: int | None = None  # build from the first N train problems (the builder's sources.limit); None = all
    share_log_every: int = 5  # GRPO steps per point of the strategy-share curve (plot per arm)
    bootstrap: int = 2000  # resamples of the two-level cluster bootstrap (problems, then seeds within them)
    # jobs run at once after the build (the base model's evaluation; each arm's training, evaluations and judging),
    # each in a process of its own with 1/workers of the torch threads (the samples and weights do not depend on
    # it); 1 = one after another in this process. Small-batch sampling is bound by per-token overhead, not
    # arithmetic, so two jobs on one core each beat one job on two (docs/toyworld.md)
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("seeds", "share_log_every", "bootstrap", "workers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"demo.{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("eval_problems", "train_problems"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"demo.{name}: must be >= 1, got {getattr(self, name)}")


@dataclass
class GateConfig:
    """The gate check run right after pre-training (cached with the model): does this world test the claims?

    Per sample at the pack's temperature, on eval problems: on each gated sub-type the tagged default solves at most
    `gated_default_max` and the tagged matching alternative at least `gated_alternative_min`; on each friendly
    sub-type the tagged default solves at least `friendly_default_min`; untagged (the pack's prompt) pass@k at the
    largest k lies in [pass_at_k_min, pass_at_k_max]; and under `mixed_max` of untagged composite traces mix
    strategies. A world without gated sub-types (classic) has no gate: `enabled: false`.
    """

    enabled: bool = True
    problems_per_subtype: int = 16  # eval problems per sub-type for the tagged probes
    tagged_samples: int = 4  # samples per (problem, tag)
    untagged_problems: int = 96  # the first N eval problems (every sub-type, round-robin) for untagged pass@k
    untagged_samples: int = 64  # samples per problem: pass@k up to this k
    temperature: float = 0.6  # the pack's evaluation temperature
    gated_default_max: float = 0.10
    gated_alternative_min: float = 0.50
    friendly_default_min: float = 0.80
    pass_at_k_min: float = 0.40
    pass_at_k_max: float = 0.75
    mixed_max: float = 0.01

    def __post_init__(self) -> None:
        for name in ("problems_per_subtype", "tagged_samples", "untagged_problems", "untagged_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"gate.{name}: must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.pass_at_k_min <= self.pass_at_k_max <= 1:
            raise ConfigError("gate: need 0 <= pass_at_k_min <= pass_at_k_max <= 1")


@dataclass
class ToyConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    gate: GateConfig = field(default_factory=GateConfig)
    build: dict[str, Any] = field(default_factory=default_build)  # a builder config (configs/*.yaml), minus BUILD_FILLED
    train: dict[str, Any] = field(default_factory=default_train)  # a pipeline recipe (recipes/*.yaml), minus TRAIN_FILLED
    demo: DemoConfig = field(default_factory=DemoConfig)

    def __post_init__(self) -> None:
        self.build_config({"model": "MODEL"})  # validate both sections now, with the real schemas
        self.pipeline_spec({"model": "MODEL", "dataset": "DATASET", "config": "n1", "prompts": "PROMPTS",
                            "reward_log": "LOG"})

    def build_config(self, fill: dict[str, str]):
        """The `midrl build` config of the demo: this file's `build` section plus the demo's fill-ins."""
        from midrl_bench.builder.config import BuildConfig

        _reject_filled(self.build, BUILD_FILLED, "build")
        data = _merge(self.build, {
            "name": "midrl-toy-heuristic", "version": "0.1.0",
            "sources": [{"name": "toy_train", "limit": self.demo.train_problems}],
            "generation": {"backend": "hf", "options": {"model": fill["model"], "device": "cpu"}},
            "heuristics": {"library_dir": str(self.world.strategies_dir)},
            "decontamination": {"benchmarks": ["toy_eval"]}})
        with _prefixed("toy.build"):
            return from_dict(BuildConfig, data, where="toy.build")

    def pipeline_spec(self, fill: dict[str, str]):
        """The `midrl train` recipe of one arm: this file's `train` section plus the demo's fill-ins."""
        from midrl_bench.pipeline.spec import spec_from_dict

        _reject_filled(self.train, TRAIN_FILLED, "train")
        data = _merge(self.train, {
            "name": fill.get("name", "toy"), "seed": int(fill.get("seed", 0)), "model": {"id_or_path": fill["model"]},
            "midtrain": {"dataset": fill["dataset"], "config": fill["config"]},
            "rl": {"prompts": fill["prompts"], "reward": "toy_correctness",
                   "reward_options": {"log": fill["reward_log"], "strategies_dir": str(self.world.strategies_dir)}}})
        with _prefixed("toy.train"):
            return spec_from_dict(data, where="toy.train")

    @property
    def eval_spec(self):
        return self.pipeline_spec({"model": "M", "dataset": "D", "config": "n1", "prompts": "P", "reward_log": "L"}).eval

    def pretrained_key(self, library_hash: str) -> str:
        """Hash of everything that determines the pre-trained model (not the demo's budgets)."""
        payload = {"format": WORLD_FORMAT_VERSION, "world": to_dict(self.world), "model": to_dict(self.model),
                   "pretrain": to_dict(self.pretrain), "library": library_hash}
        payload["world"]["strategies_dir"] = None  # the directory's location does not matter, its content does
        return sha256_text(json.dumps(payload, sort_keys=True))[:16]


@contextmanager
def _prefixed(where: str):
    """Cross-field errors of the builder/recipe schemas name the key but not the section: add it."""
    try:
        yield
    except ConfigError as error:
        message = str(error)
        raise ConfigError(message if message.startswith(where) else f"{where}.{message}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` merged in, dicts recursively (the demo's fill-ins never overwrite a user's key)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _reject_filled(section: dict[str, Any], filled: tuple[str, ...], where: str) -> None:
    if not isinstance(section, dict):
        raise ConfigError(f"toy.{where}: must be a mapping")
    for dotted in filled:
        node: Any = section
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            raise ConfigError(f"toy.{where}.{dotted}: set by midrl demo for each run; remove it from the file")


def load_toy_config(path: str | Path | None = None) -> ToyConfig:
    """The config at `path`, or the defaults."""
    return ToyConfig() if path is None else from_yaml(ToyConfig, path)


def toy_config_from_dict(data: dict) -> ToyConfig:
    return from_dict(ToyConfig, data, where="toy")
