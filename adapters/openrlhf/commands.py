"""The recipe as OpenRLHF 0.11 command lines (dotted flag groups, read from its installed parsers).

Spec -> OpenRLHF:
    midtrain  -> openrlhf.cli.train_sft: --model.model_name_or_path, --data.dataset (jsonl), --data.input_key prompt
                 --data.output_key completion --data.apply_chat_template (loss on the response only),
                 --train.batch_size / --train.micro_batch_size, --train.max_epochs, --adam.lr, --data.max_len
    rl        -> openrlhf.cli.train_ppo_ray: --algo.advantage.estimator group_norm (GRPO; dr_grpo without std), --rollout.n_samples_per_prompt,
                 --rollout.batch_size (prompts) with --train.batch_size = prompts x samples (one optimiser step per
                 rollout batch, like TRL with num_iterations 1), --rollout.max_new_tokens, --data.max_len = prompt +
                 response, --algo.kl.init_coef (0: no reference model), --actor.adam.lr, --reward.remote_url
                 <reward_func.py>, --data.prompt_dataset / --data.input_key prompt / --data.label_key answer,
                 steps -> --data.max_samples = steps x prompts, epochs -> --train.num_episodes
"""

from __future__ import annotations

import json
from typing import Any

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.spec import PipelineSpec


def flags(values: dict[str, Any]) -> list[str]:
    """{"actor.model_name_or_path": "m", "data.apply_chat_template": True} -> ["--actor.model_name_or_path", "m",
    "--data.apply_chat_template"]; False and None leave a flag out; lists give several values."""
    argv: list[str] = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        argv.append(f"--{name}")
        if value is True:
            continue
        argv.extend(str(item) for item in value) if isinstance(value, (list, tuple)) else argv.append(str(value))
    return argv


def sft_values(spec: PipelineSpec, opts: Any, model: str, data_file: str, output_dir: str, log_dir: str
               ) -> dict[str, Any]:
    mid = spec.midtrain
    if not mid.completion_only_loss:
        raise ConfigError("midtrain.completion_only_loss: OpenRLHF's SFT trains on the response only; "
                          "full-sequence loss is not available with prompt/response records")
    if mid.epochs != int(mid.epochs):
        raise ConfigError(f"midtrain.epochs: OpenRLHF needs a whole number of epochs, got {mid.epochs}")
    if mid.batch_size % (mid.micro_batch_size * opts.world_size):
        raise ConfigError(f"midtrain.batch_size: {mid.batch_size} is not a multiple of micro_batch_size x GPUs")
    chat = mid.format == "messages"
    return {
        "model.model_name_or_path": model, "data.dataset": data_file, "data.input_key": "prompt",
        "data.output_key": "completion", "data.apply_chat_template": chat,
        "data.input_template": None if chat else "{}",  # text format: the prompt string as it is
        "data.tokenizer_chat_template": spec.chat_template_text() if chat else None,
        "data.max_len": mid.max_length_tokens, "train.max_epochs": int(mid.epochs),
        "train.batch_size": mid.batch_size, "train.micro_batch_size": mid.micro_batch_size,
        "adam.lr": mid.lr, "lr_scheduler": mid.lr_scheduler, "lr_warmup_ratio": mid.warmup_ratio,
        "min_lr_ratio": mid.min_lr_ratio, "train.seed": spec.seed, "ds.zero_stage": opts.zero_stage,
        "ds.param_dtype": opts.param_dtype, "ds.attn_implementation": opts.attn_implementation,
        "model.gradient_checkpointing_enable": opts.gradient_checkpointing, "ds.adam_offload": opts.adam_offload,
        "ds.packing_samples": opts.packing_samples, "ckpt.output_dir": output_dir, "ckpt.save_steps": -1,
        "logger.logging_steps": 1, "logger.tensorboard_dir": log_dir, **opts.sft_args,
    }


def ppo_values(spec: PipelineSpec, opts: Any, model: str, data_file: str, reward_file: str, output_dir: str,
               log_dir: str) -> dict[str, Any]:
    rl = spec.rl
    engines = opts.vllm_num_engines if opts.vllm_num_engines is not None else (
        opts.world_size // opts.vllm_tensor_parallel_size)
    kl_loss = rl.beta > 0
    return {
        "actor.model_name_or_path": model, "reward.remote_url": reward_file,
        "rollout.n_samples_per_prompt": rl.num_generations,
        "rollout.batch_size": rl.batch_prompts, "train.batch_size": rl.batch_prompts * rl.num_generations,
        "rollout.micro_batch_size": rl.micro_batch_size, "train.micro_batch_size": rl.micro_batch_size,
        "train.max_epochs": 1, "train.num_episodes": rl.epochs or 1,
        "data.max_samples": rl.steps * rl.batch_prompts if rl.steps is not None else None,
        "rollout.max_new_tokens": rl.max_response_tokens, "data.max_len": rl.max_prompt_tokens + rl.max_response_tokens,
        "rollout.temperature": rl.temperature, "rollout.top_p": rl.top_p,
        "algo.kl.init_coef": rl.beta, "algo.kl.use_loss": kl_loss, "algo.kl.estimator": "k3" if kl_loss else None,
        **grpo_objective_values(spec), "actor.adam.lr": rl.lr, "actor.lr_scheduler": rl.lr_scheduler,
        "actor.lr_warmup_ratio": rl.warmup_ratio, "actor.min_lr_ratio": rl.min_lr_ratio,
        "data.prompt_dataset": data_file, "data.input_key": "prompt", "data.label_key": "answer",
        "data.apply_chat_template": True, "train.seed": spec.seed,
        "actor.num_nodes": opts.num_nodes, "actor.num_gpus_per_node": opts.num_gpus_per_node,
        "ref.num_nodes": opts.num_nodes if kl_loss else None,
        "ref.num_gpus_per_node": opts.num_gpus_per_node if kl_loss else None,
        "vllm.num_engines": engines, "vllm.tensor_parallel_size": opts.vllm_tensor_parallel_size,
        "vllm.gpu_memory_utilization": opts.vllm_gpu_memory_utilization, "train.colocate_all": opts.colocate_all,
        "vllm.enable_sleep": opts.colocate_all, "ds.enable_sleep": opts.colocate_all,
        "ds.zero_stage": opts.zero_stage, "ds.param_dtype": opts.param_dtype,
        "ds.attn_implementation": opts.attn_implementation, "ds.adam_offload": opts.adam_offload,
        "ds.packing_samples": opts.packing_samples, "actor.gradient_checkpointing_enable": opts.gradient_checkpointing,
        "ckpt.output_dir": output_dir, "ckpt.save_steps": -1, "logger.logging_steps": 1,
        "logger.tensorboard_dir": log_dir, **opts.ppo_args,
    }


def grpo_objective_values(spec: PipelineSpec) -> dict[str, Any]:
    """The recipe's GRPO objective as train_ppo_ray flags, every one explicit (see docs/backends.md).

    Mean-only advantages (std_normalization: false) need the `dr_grpo` estimator: OpenRLHF 0.11's group_norm always
    divides by the group std, and --algo.advantage.no_std_norm only affects the batch whitening of gae / reinforce /
    reinforce_baseline (openrlhf/trainer/ppo_utils/experience_maker.py). Importance-sampling correction, when on,
    is OpenRLHF's sequence-level mask with its default [0.5, 5.0] bounds.
    """
    rl = spec.rl
    high = rl.clip_epsilon_high if rl.clip_epsilon_high is not None else rl.clip_epsilon
    return {
        "actor.eps_clip": rl.clip_epsilon, "actor.eps_clip_low_high": [rl.clip_epsilon, high],
        "algo.advantage.estimator": "group_norm" if rl.std_normalization else "dr_grpo",
        "actor.loss_agg_mode": rl.loss_aggregation,
        "algo.advantage.is_correction_level": "seq" if rl.importance_sampling_correction else "off",
        "actor.adam.betas": list(rl.adam_betas), "actor.adam.weight_decay": rl.weight_decay,
        "actor.max_norm": rl.max_grad_norm,
    }


def sft_launch(opts: Any) -> list[str]:
    """The launcher prefix for train_sft.

    deepspeed, one node: `deepspeed --num_gpus G --module ...`; several nodes: `--hostfile` (one `host slots=G` line
    per node; DeepSpeed starts every node from node 0 over pdsh/ssh) with `--master_addr/--master_port`.
    torchrun, one node: `--standalone`; several nodes: the same command on every node, meeting at a c10d rendezvous
    (`--rdzv_backend c10d --rdzv_endpoint MASTER:PORT --rdzv_id ID`; node ranks are assigned by the rendezvous).
    """
    module = "openrlhf.cli.train_sft"
    gpus = str(opts.num_gpus_per_node)
    if opts.sft_launcher == "torchrun":
        if opts.num_nodes == 1:
            return ["torchrun", "--standalone", "--nproc_per_node", gpus, "-m", module]
        return ["torchrun", "--nnodes", str(opts.num_nodes), "--nproc_per_node", gpus, "--rdzv_backend", "c10d",
                "--rdzv_endpoint", f"{opts.master_addr}:{opts.master_port}", "--rdzv_id", opts.rdzv_id, "-m", module]
    if opts.num_nodes == 1:
        return ["deepspeed", "--num_gpus", gpus, "--module", module]
    return ["deepspeed", "--hostfile", opts.hostfile, "--num_nodes", str(opts.num_nodes), "--num_gpus", gpus,
            "--master_addr", opts.master_addr, "--master_port", str(opts.master_port), "--module", module]


def check_multinode(opts: Any) -> None:
    """Several nodes need a meeting point: node 0's address, and for DeepSpeed's launcher a hostfile."""
    if opts.num_nodes == 1:
        return
    if not opts.master_addr:
        raise ConfigError("backend_options.openrlhf.master_addr: required with num_nodes > 1 (node 0's address)")
    if opts.sft_launcher == "deepspeed" and not opts.hostfile:
        raise ConfigError("backend_options.openrlhf.hostfile: DeepSpeed's launcher needs a hostfile with num_nodes > 1 "
                          "(one `host slots=GPUS` line per node), or use sft_launcher: torchrun")


def ppo_launch(opts: Any) -> list[str]:
    return [opts.python, "-m", "openrlhf.cli.train_ppo_ray"]


def ray_job(opts: Any, entrypoint: list[str], env: dict[str, str]) -> list[str]:
    """Wrap an entrypoint as `ray job submit`; paths in it must be visible to the cluster (shared filesystem)."""
    runtime_env = json.dumps({"env_vars": env}) if env else None
    extra = ["--runtime-env-json", runtime_env] if runtime_env else []
    return ["ray", "job", "submit", "--address", opts.ray_address, *extra, "--", *entrypoint]
