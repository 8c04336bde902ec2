"""The pipeline recipe: one YAML file describing mid-training, GRPO and evaluation, read by every backend.

Loaded strictly (`midrl_bench.config.from_yaml`): an unknown key fails with its dotted name, e.g.
`recipes/x.yaml.rl.learning_rat`. Paths in a recipe are relative to the recipe file. Backend-specific knobs live under
`backend_options.<backend>` and are validated by that backend against the parameters it knows.

>>> spec = spec_from_dict({"name": "t", "model": {"id_or_path": "org/model"},
...                        "midtrain": {"dataset": "d.jsonl"}, "rl": {"prompts": "p.jsonl", "steps": 2}})
>>> spec.rl.num_generations, spec.rl.beta
(16, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from midrl_bench.config import ConfigError, from_dict, load_yaml

STAGES = ("midtrain", "rl")


@dataclass(frozen=True)
class TinyModelSpec:
    """A randomly initialised Llama and a character-level tokenizer, built locally (CPU tests, the tiny recipe)."""

    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 128
    max_position_embeddings: int = 1024  # tokens (= characters for the char-level tokenizer)
    seed: int = 0


@dataclass(frozen=True)
class ModelSpec:
    id_or_path: str | None = None  # a Hub id or a local directory; None only with `build_tiny`
    revision: str | None = None  # Hub commit sha or tag; pin a sha for published numbers
    chat_template: str | None = None  # override: a .jinja file (relative to the recipe) or the template text
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    build_tiny: TinyModelSpec | None = None

    def __post_init__(self) -> None:
        if (self.id_or_path is None) == (self.build_tiny is None):
            raise ConfigError("model: give exactly one of `id_or_path` and `build_tiny`")


@dataclass(frozen=True)
class MidtrainSpec:
    dataset: str  # a built dataset dir (`midrl build`), a .jsonl/.parquet file, or a Hub repo id
    config: str | None = None  # dataset config, e.g. "n16"
    revision: str | None = None  # Hub revision of `dataset`
    split: str = "train"
    limit: int | None = None  # use the first N rows
    format: Literal["messages", "text"] = "messages"  # chat `messages` column, or raw `prompt`/`completion` strings
    epochs: float = 1.0
    lr: float = 1e-5
    batch_size: int = 32  # sequences per optimiser step, over all devices
    micro_batch_size: int = 1  # sequences per device per forward pass (grad accumulation is derived)
    max_length_tokens: int = 4096  # prompt + completion; longer rows are truncated (TRL) or dropped (OpenRLHF)
    completion_only_loss: bool = True  # loss on the assistant completion only
    warmup_ratio: float = 0.03
    lr_scheduler: str = "cosine_with_min_lr"  # a transformers scheduler name, understood by both backends
    min_lr_ratio: float = 0.1  # floor of cosine_with_min_lr, as a fraction of lr

    def __post_init__(self) -> None:
        _positive(self, "midtrain", ("epochs", "lr", "batch_size", "micro_batch_size", "max_length_tokens"))
        if self.batch_size % self.micro_batch_size:
            raise ConfigError("midtrain.batch_size must be a multiple of midtrain.micro_batch_size")
        _fraction(self.warmup_ratio, "midtrain.warmup_ratio")


@dataclass(frozen=True)
class RLSpec:
    prompts: str  # a source in midrl_bench.sources (e.g. "dapo_math_17k") or a .jsonl file with problem/answer
    limit: int | None = None  # use the first N prompts
    num_generations: int = 16  # GRPO group size: samples per prompt
    max_prompt_tokens: int = 1024  # longer prompts are dropped (counted in the run's provenance)
    max_response_tokens: int = 3072
    beta: float = 0.0  # KL coefficient; 0 = no KL term and no reference model
    lr: float = 1e-6
    batch_prompts: int = 128  # prompts per rollout batch = per optimiser step
    micro_batch_size: int = 1  # sequences per device per forward pass
    steps: int | None = None  # optimiser steps; exactly one of steps / epochs
    epochs: int | None = None  # passes over the prompts
    temperature: float = 1.0
    top_p: float = 1.0
    clip_epsilon: float = 0.2  # PPO ratio clip (lower bound: ratio >= 1 - clip_epsilon)
    clip_epsilon_high: float | None = None  # upper bound (ratio <= 1 + clip_epsilon_high); None = clip_epsilon
    lr_scheduler: Literal["constant_with_warmup", "cosine_with_min_lr"] = "constant_with_warmup"  # all 3 backends
    warmup_ratio: float = 0.0
    min_lr_ratio: float = 0.1  # floor of cosine_with_min_lr, as a fraction of lr
    weight_decay: float = 0.0  # AdamW (TRL and OpenRLHF default 0.0; verl's default 0.01 is overridden)
    adam_betas: tuple[float, float] = (0.9, 0.999)  # (TRL and verl default; OpenRLHF's 0.9, 0.95 is overridden)
    max_grad_norm: float = 1.0
    # GRPO objective, stated once and mapped onto every backend (`midrl compare --dry-run` prints the mapping):
    std_normalization: bool = True  # advantage = (r - group mean) / group std; False = Dr. GRPO (mean only)
    loss_aggregation: Literal["token-mean", "seq-mean-token-mean"] = "token-mean"  # token-mean = DAPO's
    importance_sampling_correction: bool = False  # rollout-vs-trainer logprob correction (TRL 1.16 default: on)
    reward: str = "math_correctness"  # a reward in midrl_bench.rewards (one file per reward)
    reward_options: dict[str, Any] = field(default_factory=dict)  # validated by the reward's Options

    def __post_init__(self) -> None:
        _positive(self, "rl", ("num_generations", "max_prompt_tokens", "max_response_tokens", "lr", "batch_prompts",
                               "micro_batch_size", "temperature", "max_grad_norm"))
        if self.clip_epsilon_high is not None and self.clip_epsilon_high <= 0:
            raise ConfigError(f"rl.clip_epsilon_high must be > 0, got {self.clip_epsilon_high!r}")
        if self.weight_decay < 0:
            raise ConfigError(f"rl.weight_decay must be >= 0, got {self.weight_decay!r}")
        from midrl_bench.rewards import get_reward

        get_reward(self.reward, self.reward_options)  # unknown name -> the known ones; bad options -> their field
        if self.num_generations < 2:
            raise ConfigError("rl.num_generations must be >= 2 (group-normalised advantages need a group)")
        if (self.steps is None) == (self.epochs is None):
            raise ConfigError("rl: give exactly one of `steps` and `epochs`")
        if self.beta < 0:
            raise ConfigError("rl.beta must be >= 0")
        _fraction(self.warmup_ratio, "rl.warmup_ratio")


@dataclass(frozen=True)
class EvalSpec:
    tasks: list[str] = field(default_factory=lambda: ["midrl"])  # pack tasks or groups
    repeats: int = 64  # samples per problem (pass@k up to k = repeats)
    limit: int | None = None  # problems per task (smoke runs only)
    max_gen_toks: int = 3072
    batch_size: int | Literal["auto"] = 1  # "auto": lm-eval sizes batches (vllm: the engine batches everything)
    checkpoints: list[Literal["base", "midtrain", "rl"]] = field(default_factory=lambda: ["base", "midtrain", "rl"])
    # How lm-eval runs the model (midrl_bench/pipeline/evaluate.py maps these onto lm-eval's model_args):
    model: Literal["hf", "vllm", "server"] = "hf"  # hf: transformers, one device; vllm: offline vLLM; server: an
    #                                               OpenAI-compatible server (`vllm serve CKPT`) you started
    tensor_parallel_size: int = 1  # vllm: GPUs per engine
    data_parallel_size: int = 1  # vllm: engines (lm-eval runs them as Ray workers)
    gpu_memory_utilization: float = 0.9  # vllm
    max_prompt_tokens: int = 2048  # prompt budget; context = max_prompt_tokens + max_gen_toks (vllm, local-completions)
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "bfloat16"  # on GPU (CPU evaluation uses float32)
    server_url: str | None = None  # server: e.g. http://127.0.0.1:8000/v1 (the /chat/completions path is added)
    server_api: Literal["chat", "completions"] = "chat"  # lm-eval's local-chat-completions | local-completions
    num_concurrent: int = 64  # server: requests in flight
    max_retries: int = 3  # server
    # hf: transformers' KV cache. `static` preallocates it and draws the same samples; on a CPU it is 2.4x faster for
    # the tiny world's model at batch 256 (benchmarks/generation_cache.py), where `dynamic` copies the cache per token.
    cache_implementation: Literal["dynamic", "static"] = "dynamic"

    def __post_init__(self) -> None:
        _positive(self, "eval", ("repeats", "max_gen_toks", "tensor_parallel_size", "data_parallel_size",
                                 "max_prompt_tokens", "num_concurrent"))
        if self.batch_size != "auto" and self.batch_size <= 0:
            raise ConfigError(f"eval.batch_size must be > 0 or \"auto\", got {self.batch_size!r}")
        if not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise ConfigError(f"eval.gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization!r}")
        if (self.model == "server") != (self.server_url is not None):
            raise ConfigError("eval.server_url: give it exactly when eval.model is \"server\"")
        if self.model != "vllm" and (self.tensor_parallel_size > 1 or self.data_parallel_size > 1):
            raise ConfigError(f"eval.tensor_parallel_size / data_parallel_size: only for eval.model vllm, "
                              f"not {self.model!r}")
        if self.model != "hf" and self.cache_implementation != "dynamic":
            raise ConfigError(f"eval.cache_implementation: only for eval.model hf, not {self.model!r}")

    def gen_kwargs(self) -> dict[str, Any]:
        """lm-eval's `--gen_kwargs` of this evaluation (what a leaderboard submission declares)."""
        extra = {} if self.cache_implementation == "dynamic" else {"cache_implementation": self.cache_implementation}
        return {"max_gen_toks": self.max_gen_toks, **extra}


@dataclass(frozen=True)
class BackendOptions:
    trl: dict[str, Any] = field(default_factory=dict)
    openrlhf: dict[str, Any] = field(default_factory=dict)
    verl: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    model: ModelSpec
    midtrain: MidtrainSpec
    rl: RLSpec
    eval: EvalSpec = field(default_factory=EvalSpec)
    seed: int = 0
    backend_options: BackendOptions = field(default_factory=BackendOptions)
    recipe_path: str | None = None  # set by load_spec; relative paths resolve against its directory

    def resolve_path(self, value: str) -> Path:
        """A recipe-relative path made absolute (absolute paths pass through)."""
        path = Path(value).expanduser()
        if not path.is_absolute() and self.recipe_path:
            path = Path(self.recipe_path).resolve().parent / path
        return path

    def local_path(self, value: str) -> Path | None:
        """`value` as an existing local file or directory, or None when it names something else (a Hub id)."""
        path = self.resolve_path(value)
        return path if path.exists() else None

    def chat_template_text(self) -> str | None:
        value = self.model.chat_template
        if value is None:
            return None
        if "{%" in value or "{{" in value:
            return value
        path = self.resolve_path(value)
        if not path.is_file():
            raise ConfigError(f"model.chat_template: file not found: {path}")
        return path.read_text(encoding="utf-8")


def _positive(obj: Any, where: str, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(obj, name) <= 0:
            raise ConfigError(f"{where}.{name} must be > 0, got {getattr(obj, name)!r}")


def _fraction(value: float, where: str) -> None:
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{where} must be in [0, 1), got {value!r}")


def spec_from_dict(data: dict[str, Any], where: str = "spec", recipe_path: str | None = None) -> PipelineSpec:
    if isinstance(data, dict) and "recipe_path" in data:
        raise ConfigError(f"{where}: unknown key(s) ['recipe_path']")
    spec = from_dict(PipelineSpec, data, where=where)
    if recipe_path is not None:
        spec = _replace(spec, recipe_path=str(Path(recipe_path).resolve()))
    return spec


def load_spec(path: str | Path) -> PipelineSpec:
    """Read and validate a recipe; the error names the file and the dotted key."""
    data = load_yaml(path)
    try:
        return spec_from_dict(data if data is not None else {}, where=str(path), recipe_path=str(path))
    except ConfigError as error:  # cross-field checks name the key but not the file
        message = str(error)
        raise ConfigError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def _replace(spec: PipelineSpec, **changes: Any) -> PipelineSpec:
    import dataclasses

    return dataclasses.replace(spec, **changes)
