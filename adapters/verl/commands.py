"""The recipe as verl 0.9 Hydra overrides and launch commands.

Spec -> verl (`verl.trainer.main_ppo`, config `ppo_trainer.yaml`):
    rl.num_generations        -> actor_rollout_ref.rollout.n           algorithm.adv_estimator=grpo
    rl.std_normalization      -> algorithm.norm_adv_by_std_in_grpo     rl.loss_aggregation -> actor.loss_agg_mode
    rl.clip_epsilon(_high)    -> actor.clip_ratio_low / clip_ratio_high
    rl.beta                   -> actor.use_kl_loss + kl_loss_coef (k3, verl's `low_var_kl`); never in the reward
    rl.importance_sampling_correction -> algorithm.rollout_correction.rollout_is (sequence-level, verl's bounds)
    rl.batch_prompts          -> data.train_batch_size = actor.ppo_mini_batch_size (one optimiser step per rollout
                                 batch, ppo_epochs 1, as TRL with num_iterations 1 and OpenRLHF with one train batch)
    rl.max_prompt/response_tokens -> data.max_prompt_length / data.max_response_length
    rl.lr / lr_scheduler / warmup_ratio / min_lr_ratio -> actor.optim.lr / lr_scheduler_type (constant | cosine) /
                                 lr_warmup_steps_ratio / min_lr_ratio; weight_decay, betas, clip_grad likewise
    rl.steps | rl.epochs      -> trainer.total_training_steps | trainer.total_epochs
    reward                    -> reward.custom_reward_function.path (a compute_score file, see rewards/shims.py)
Every override names an existing key (no `+`): verl's Hydra composition rejects an unknown or misspelled one.
SFT (`verl.trainer.sft_trainer`, config `sft_trainer_engine.yaml`) reads a parquet `messages` column and trains on
the assistant turns only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.spec import PipelineSpec

PPO_MODULE = "verl.trainer.main_ppo"
SFT_MODULE = "verl.trainer.sft_trainer"
SFT_RAY_MODULE = "verl.trainer.sft_trainer_ray"  # same config, workers placed by Ray across nodes
SAVE_AT_END_ONLY = 1_000_000_000  # verl saves when step % save_freq == 0 or at the last step (save_freq > 0)
_SCHEDULERS = {"constant_with_warmup": "constant", "cosine_with_min_lr": "cosine"}
_BARE = re.compile(r"[A-Za-z0-9_./~+\-:@]+")


def hydra_value(value: Any) -> str:
    """A Python value in Hydra's override grammar: null, true/false, numbers, [lists], quoted strings if needed."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(item) for item in value) + "]"
    text = str(value)
    if _BARE.fullmatch(text) and text.lower() not in ("null", "true", "false") and not _looks_numeric(text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def overrides(values: dict[str, Any]) -> list[str]:
    return [f"{key}={hydra_value(value)}" for key, value in values.items()]


def _scheduler(name: str, where: str) -> str:
    if name not in _SCHEDULERS:
        raise ConfigError(f"{where}: verl supports {sorted(_SCHEDULERS)}, got {name!r}")
    return _SCHEDULERS[name]


def grpo_values(spec: PipelineSpec, opts: Any, model: str, train_file: str, reward_file: str, out_dir: str
                ) -> dict[str, Any]:
    """Every `main_ppo` override, dotted key -> value."""
    rl = spec.rl
    kl_loss = rl.beta > 0
    actor, rollout = "actor_rollout_ref.actor", "actor_rollout_ref.rollout"
    values = {
        "algorithm.adv_estimator": "grpo", "algorithm.norm_adv_by_std_in_grpo": rl.std_normalization,
        "algorithm.use_kl_in_reward": False,
        "algorithm.rollout_correction.rollout_is": "sequence" if rl.importance_sampling_correction else None,
        "data.train_files": [train_file], "data.val_files": [train_file], "data.prompt_key": "prompt",
        "data.max_prompt_length": rl.max_prompt_tokens, "data.max_response_length": rl.max_response_tokens,
        "data.train_batch_size": rl.batch_prompts, "data.train_max_samples": (
            rl.steps * rl.batch_prompts if rl.steps is not None else -1),
        "data.filter_overlong_prompts": False, "data.truncation": "error", "data.shuffle": True, "data.seed": spec.seed,
        "actor_rollout_ref.model.path": model,
        "actor_rollout_ref.model.enable_gradient_checkpointing": opts.gradient_checkpointing,
        f"{actor}.optim.lr": rl.lr, f"{actor}.optim.lr_scheduler_type": _scheduler(rl.lr_scheduler, "rl.lr_scheduler"),
        f"{actor}.optim.lr_warmup_steps_ratio": rl.warmup_ratio,
        f"{actor}.optim.min_lr_ratio": rl.min_lr_ratio if rl.lr_scheduler == "cosine_with_min_lr" else 0.0,
        f"{actor}.optim.weight_decay": rl.weight_decay, f"{actor}.optim.betas": list(rl.adam_betas),
        f"{actor}.optim.clip_grad": rl.max_grad_norm,
        f"{actor}.ppo_mini_batch_size": rl.batch_prompts, f"{actor}.ppo_micro_batch_size_per_gpu": rl.micro_batch_size,
        f"{actor}.ppo_epochs": 1, f"{actor}.clip_ratio_low": rl.clip_epsilon,
        f"{actor}.clip_ratio_high": rl.clip_epsilon_high if rl.clip_epsilon_high is not None else rl.clip_epsilon,
        f"{actor}.loss_agg_mode": rl.loss_aggregation, f"{actor}.entropy_coeff": 0,
        f"{actor}.use_kl_loss": kl_loss, f"{actor}.kl_loss_coef": rl.beta, f"{actor}.kl_loss_type": "low_var_kl",
        f"{actor}.fsdp_config.param_offload": opts.param_offload,
        f"{actor}.fsdp_config.optimizer_offload": opts.optimizer_offload,
        f"{rollout}.name": opts.rollout_engine, f"{rollout}.n": rl.num_generations,
        f"{rollout}.temperature": rl.temperature, f"{rollout}.top_p": rl.top_p, f"{rollout}.seed": spec.seed,
        f"{rollout}.tensor_model_parallel_size": opts.rollout_tensor_parallel_size,
        f"{rollout}.gpu_memory_utilization": opts.rollout_gpu_memory_utilization,
        f"{rollout}.log_prob_micro_batch_size_per_gpu": rl.micro_batch_size,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": rl.micro_batch_size,
        "reward.custom_reward_function.path": reward_file, "reward.custom_reward_function.name": "compute_score",
        "reward.reward_manager.name": "naive",
        "trainer.total_epochs": rl.epochs if rl.epochs is not None else 1,
        "trainer.total_training_steps": rl.steps, "trainer.nnodes": opts.num_nodes,
        "trainer.n_gpus_per_node": opts.num_gpus_per_node, "trainer.device": "cuda",
        "trainer.project_name": "midrl", "trainer.experiment_name": spec.name, "trainer.logger": ["console"],
        "trainer.default_local_dir": out_dir, "trainer.save_freq": SAVE_AT_END_ONLY, "trainer.resume_mode": "auto",
        "trainer.val_before_train": False, "trainer.test_freq": -1,
    }
    return {**values, **_extra(opts.ppo_overrides, values, "ppo_overrides")}


def sft_values(spec: PipelineSpec, opts: Any, model: str, train_file: str, out_dir: str) -> dict[str, Any]:
    """Every `sft_trainer` override (verl's own SFT trainer), dotted key -> value."""
    mid = spec.midtrain
    if not mid.completion_only_loss:
        raise ConfigError("midtrain.completion_only_loss: verl's SFT trainer trains on assistant turns only")
    if mid.format != "messages":
        raise ConfigError("midtrain.format: verl's SFT trainer reads chat `messages`; use format: messages "
                          "or backend_options.verl.midtrain_trainer: trl")
    if mid.epochs != int(mid.epochs):
        raise ConfigError(f"midtrain.epochs: verl needs a whole number of epochs, got {mid.epochs}")
    values = {
        "data.train_files": [train_file], "data.val_files": None, "data.messages_key": "messages",
        "data.train_batch_size": mid.batch_size, "data.micro_batch_size_per_gpu": mid.micro_batch_size,
        "data.use_dynamic_bsz": False, "data.max_length": mid.max_length_tokens, "data.truncation": "right",
        "model.path": model, "model.enable_gradient_checkpointing": opts.gradient_checkpointing,
        "optim.lr": mid.lr, "optim.lr_scheduler_type": _scheduler(mid.lr_scheduler, "midtrain.lr_scheduler"),
        "optim.lr_warmup_steps_ratio": mid.warmup_ratio,
        "optim.min_lr_ratio": mid.min_lr_ratio if mid.lr_scheduler == "cosine_with_min_lr" else 0.0,
        "trainer.total_epochs": int(mid.epochs), "trainer.seed": spec.seed, "trainer.default_local_dir": out_dir,
        "trainer.project_name": "midrl", "trainer.experiment_name": f"{spec.name}-midtrain",
        "trainer.logger": ["console"], "trainer.save_freq": -1, "trainer.nnodes": opts.num_nodes,
        "trainer.n_gpus_per_node": opts.num_gpus_per_node, "trainer.device": "cuda",
    }
    return {**values, **_extra(opts.sft_overrides, values, "sft_overrides")}


def _extra(extra: dict[str, Any], values: dict[str, Any], where: str) -> dict[str, Any]:
    owned = sorted(set(extra) & set(values))
    if owned:
        raise ConfigError(f"backend_options.verl.{where}: {owned} are set by the recipe; change the recipe instead")
    return extra


def ppo_command(opts: Any, values: dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    """Single node: main_ppo starts its own Ray; several nodes: `ray job submit` to the head node's cluster."""
    entry = [opts.python, "-m", PPO_MODULE, *overrides(values)]
    if opts.num_nodes == 1 and opts.launcher == "local":
        return entry
    return ray_submit(opts, entry, env or {})


def sft_command(opts: Any, values: dict[str, Any], env: dict[str, str] | None = None) -> list[str]:
    """Single node: torchrun over the node's GPUs; several nodes: verl's Ray SFT trainer submitted to the cluster."""
    if opts.num_nodes == 1 and opts.launcher == "local":
        return ["torchrun", "--standalone", "--nnodes", "1", "--nproc_per_node", str(opts.num_gpus_per_node),
                "-m", SFT_MODULE, *overrides(values)]
    return ray_submit(opts, [opts.python, "-m", SFT_RAY_MODULE, *overrides(values)], env or {})


def ray_submit(opts: Any, entry: list[str], env: dict[str, str]) -> list[str]:
    """`ray job submit`; the environment variables travel in the job's runtime env to every node's workers."""
    runtime = ["--runtime-env-json", json.dumps({"env_vars": env}, sort_keys=True)] if env else []
    return ["ray", "job", "submit", "--address", opts.ray_address, *runtime, "--", *entry]


def ray_cluster_commands(opts: Any) -> list[list[str]]:
    """Start the Ray cluster a multi-node GRPO run is submitted to: the head node first, then every worker."""
    return [["ray", "start", "--head", "--port", str(opts.ray_port), "--dashboard-host", "0.0.0.0",
             "--num-gpus", str(opts.num_gpus_per_node)],
            ["ray", "start", "--address", f"{opts.head_address}:{opts.ray_port}",
             "--num-gpus", str(opts.num_gpus_per_node)]]


def merge_command(opts: Any, checkpoint_dir: str, target_dir: str) -> list[str]:
    """verl's FSDP shards -> one Hugging Face model directory (verl.model_merger)."""
    return [opts.python, "-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir", checkpoint_dir,
            "--target_dir", target_dir]
