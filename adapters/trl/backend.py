"""TRL backend: the recipe as SFTConfig/GRPOConfig arguments, run in-process or under accelerate / torchrun.

Spec -> TRL (1.16) names:
    midtrain.lr/epochs/max_length_tokens      -> learning_rate / num_train_epochs / max_length
    midtrain.batch_size, micro_batch_size     -> per_device_train_batch_size = micro, gradient_accumulation_steps
                                                 = batch_size / (micro * processes)
    midtrain.completion_only_loss             -> completion_only_loss (prompt-completion records)
    rl.num_generations / max_response_tokens  -> num_generations / max_completion_length
    rl.max_prompt_tokens                      -> enforced on the data (TRL 1.16 has no prompt limit); vLLM's
                                                 vllm_max_model_length = prompt + response
    rl.beta / lr / temperature / clip_epsilon -> beta / learning_rate / temperature / epsilon
    rl.batch_prompts                          -> completions per step = batch_prompts * num_generations
    rl.steps | rl.epochs                      -> max_steps | num_train_epochs
The GRPO objective (loss aggregation, std normalisation, clip low/high, importance-sampling correction) comes from
the recipe via `grpo_objective_args`, so TRL, OpenRLHF and verl optimise the same objective (see docs/backends.md). `backend_options.trl` (see `TRLOptions`) chooses the launcher, vLLM and extra trainer fields.
Launch, sharding and precision (fp32 master weights, bf16 autocast; DDP / ZeRO-2 / ZeRO-3 / FSDP; one or several
nodes) are in `launch.py`; every stage plan states them under `precision`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from midrl_bench.adapters.trl import launch

from midrl_bench.config import ConfigError, from_dict
from midrl_bench.pipeline import data as pipeline_data
from midrl_bench.pipeline.runner import RunContext, StagePlan, stage_start_model
from midrl_bench.pipeline.spec import PipelineSpec

ENTRY_MODULE = "midrl_bench.adapters.trl.train"


@dataclass(frozen=True)
class TRLOptions:
    launcher: Literal["in_process", "python", "accelerate", "torchrun"] = "in_process"
    num_processes: int = 1  # processes (GPUs) per machine (accelerate / torchrun)
    num_machines: int = 1  # nodes; > 1 needs main_process_ip; each node's rank comes from MIDRL_MACHINE_RANK
    main_process_ip: str | None = None  # node 0's address (accelerate --main_process_ip / torchrun rendezvous)
    main_process_port: int = 29500
    sharding: Literal["auto", "ddp", "zero2", "zero3", "fsdp"] = "auto"  # shipped accelerate config; auto = zero2
    #                                                                     for more than one process
    accelerate_config: str | None = None  # your own accelerate config file instead (recipe-relative)
    master_weights: Literal["fp32", "model_dtype"] = "fp32"  # fp32: load float32, bf16/fp16 autocast
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto = cuda when available
    use_vllm: bool | None = None  # None = on when training on cuda
    vllm_mode: Literal["colocate", "server"] = "colocate"
    vllm_gpu_memory_utilization: float = 0.3
    gradient_checkpointing: bool = False
    logging_steps: int = 1
    save_strategy: Literal["no", "steps", "epoch"] = "no"  # intermediate checkpoints; the final one is always saved
    sft: dict[str, Any] = field(default_factory=dict)  # extra SFTConfig fields
    grpo: dict[str, Any] = field(default_factory=dict)  # extra GRPOConfig fields


SPEC_OWNED = {  # trainer fields set from the spec; overriding them in backend_options would fork the recipe
    "learning_rate", "num_train_epochs", "max_steps", "max_length", "per_device_train_batch_size",
    "gradient_accumulation_steps", "seed", "num_generations", "max_completion_length", "beta", "temperature",
    "top_p", "epsilon", "completion_only_loss", "use_cpu", "bf16", "use_vllm", "output_dir", "epsilon_high",
    "scale_rewards", "loss_type", "vllm_importance_sampling_correction", "num_iterations", "fp16",
}


class TRLBackend:
    name = "trl"

    def __init__(self, spec: PipelineSpec) -> None:
        self.options = from_dict(TRLOptions, spec.backend_options.trl, where="backend_options.trl")
        for name in ("num_processes", "num_machines", "main_process_port"):
            if getattr(self.options, name) <= 0:
                raise ConfigError(f"backend_options.trl.{name} must be > 0, got {getattr(self.options, name)!r}")
        launch.check_launch_options(self.options)
        _check_extra_fields(self.options)

    # ------------------------------------------------------------------ plan
    def plan(self, ctx: RunContext, stages: list[str]) -> list[StagePlan]:
        plans = []
        for stage in stages:
            stage_dir = ctx.stage_dir(stage)
            model_in = stage_start_model(ctx, stage, stages, lambda s: str(ctx.stage_dir(s) / "checkpoint"))
            args = self.sft_args(ctx.spec) if stage == "midtrain" else self.grpo_args(ctx.spec)
            data_name = pipeline_data.MIDTRAIN_FILE if stage == "midtrain" else pipeline_data.RL_PROMPTS_FILE
            precision = launch.precision_plan(self.options, ctx.spec.model.dtype, self._device())
            config = {
                "stage": stage, "stage_dir": str(stage_dir), "model_path": model_in,
                "revision": ctx.base_revision if model_in == ctx.base_model else None,
                "dtype": precision["load_dtype"], "chat_template": ctx.spec.chat_template_text(),
                "data_file": str(ctx.data_file(data_name)), "trainer_args": args, "precision": precision,
            }
            if self.options.num_machines > 1:  # what every node runs (node r: MIDRL_MACHINE_RANK=r midrl train ...)
                config["node_commands"] = [self.command(stage_dir / "stage.json", ctx.spec, rank)
                                           for rank in range(self.options.num_machines)]
            if stage == "rl":
                config["reward"] = {"name": ctx.spec.rl.reward, "options": dict(ctx.spec.rl.reward_options)}
            plans.append(StagePlan(stage, self.name, model_in, str(stage_dir / "checkpoint"),
                                   self.command(stage_dir / "stage.json", ctx.spec), config,
                                   in_process=self.options.launcher == "in_process",
                                   env={"OMP_NUM_THREADS": "1"} if self._device() == "cpu" else {}))
        return plans

    def command(self, stage_file: Path, spec: PipelineSpec, rank: int | None = None) -> list[str]:
        """The launch command for node `rank` (default: this node, MIDRL_MACHINE_RANK)."""
        entry = ["-m", ENTRY_MODULE, "--stage-file", str(stage_file)]
        rank = launch.machine_rank(self.options) if rank is None else rank
        return launch.node_command(self.options, entry, spec.resolve_path, sys.executable, rank,
                                   f"midrl-{spec.name}-{stage_file.parent.name}")

    def _device(self) -> str:
        if self.options.device != "auto":
            return self.options.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def _common_args(self, spec: PipelineSpec) -> dict[str, Any]:
        cpu = self._device() == "cpu"
        flags = launch.precision_plan(self.options, spec.model.dtype, self._device())["trainer_flags"]
        args = {"seed": spec.seed, "use_cpu": cpu, **flags, "report_to": "none",
                "logging_steps": self.options.logging_steps, "save_strategy": self.options.save_strategy}
        # Always explicit: TRL 1.16's SFTConfig and GRPOConfig turn it on by default, which on a CPU-sized model
        # only recomputes the forward pass. `activation_checkpointing` is transformers 5's name for it.
        args["activation_checkpointing"] = self.options.gradient_checkpointing
        return args

    def sft_args(self, spec: PipelineSpec) -> dict[str, Any]:
        mid = spec.midtrain
        args = {
            **self._common_args(spec), "learning_rate": mid.lr, "num_train_epochs": mid.epochs,
            "per_device_train_batch_size": mid.micro_batch_size,
            "gradient_accumulation_steps": _accumulation(mid.batch_size, mid.micro_batch_size,
                                                         launch.world_size(self.options), "midtrain.batch_size"),
            "max_length": mid.max_length_tokens, "completion_only_loss": mid.completion_only_loss,
            "lr_scheduler_type": mid.lr_scheduler, "warmup_steps": mid.warmup_ratio,
        }
        if mid.lr_scheduler == "cosine_with_min_lr":
            args["lr_scheduler_kwargs"] = {"min_lr_rate": mid.min_lr_ratio}
        return {**args, **self.options.sft}

    def grpo_args(self, spec: PipelineSpec) -> dict[str, Any]:
        rl = spec.rl
        completions = rl.batch_prompts * rl.num_generations
        use_vllm = self.options.use_vllm if self.options.use_vllm is not None else self._device() == "cuda"
        args = {
            **self._common_args(spec), "learning_rate": rl.lr, "beta": rl.beta,
            "num_generations": rl.num_generations, "max_completion_length": rl.max_response_tokens,
            "temperature": rl.temperature, "top_p": rl.top_p, "per_device_train_batch_size": rl.micro_batch_size,
            "gradient_accumulation_steps": _accumulation(completions, rl.micro_batch_size,
                                                         launch.world_size(self.options), "rl.batch_prompts"),
            "num_iterations": 1, "lr_scheduler_type": rl.lr_scheduler, "warmup_steps": rl.warmup_ratio,
            "use_vllm": use_vllm, **grpo_objective_args(spec),
        }
        args.update({"max_steps": rl.steps} if rl.steps is not None else {"num_train_epochs": rl.epochs})
        if rl.lr_scheduler == "cosine_with_min_lr":
            args["lr_scheduler_kwargs"] = {"min_lr_rate": rl.min_lr_ratio}
        if use_vllm:
            args.update(vllm_mode=self.options.vllm_mode,
                        vllm_max_model_length=rl.max_prompt_tokens + rl.max_response_tokens)
            if self.options.vllm_mode == "colocate":
                args["vllm_gpu_memory_utilization"] = self.options.vllm_gpu_memory_utilization
        return {**args, **self.options.grpo}

    # ------------------------------------------------------------------ run
    def prepare(self, ctx: RunContext, plan: StagePlan) -> None:
        stage_dir = ctx.stage_dir(plan.stage)
        stage_dir.mkdir(parents=True, exist_ok=True)
        (stage_dir / "stage.json").write_text(json.dumps(plan.config, indent=2) + "\n", encoding="utf-8")

    def run(self, ctx: RunContext, plan: StagePlan) -> dict[str, Any]:
        from midrl_bench.adapters.trl.train import METRICS_FILE, run_stage_file

        stage_file = ctx.stage_dir(plan.stage) / "stage.json"
        if plan.in_process:
            return run_stage_file(stage_file)
        if shutil.which(plan.command[0]) is None:
            raise RuntimeError(f"trl {plan.stage}: launcher `{plan.command[0]}` not found on PATH")
        log = ctx.stage_dir(plan.stage) / "launch.log"
        with log.open("w", encoding="utf-8") as handle:
            done = subprocess.run(plan.command, env={**os.environ, **plan.env}, stdout=handle, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"trl {plan.stage}: `{' '.join(plan.command)}` failed ({done.returncode}); see {log}")
        metrics = json.loads((ctx.stage_dir(plan.stage) / METRICS_FILE).read_text(encoding="utf-8"))
        return {"checkpoint": plan.checkpoint, **metrics}


def grpo_objective_args(spec: PipelineSpec) -> dict[str, Any]:
    """The recipe's GRPO objective in GRPOConfig names, every field explicit (no TRL default is relied on).

    loss_type "dapo" = token-level mean over the accumulated batch (token-mean); "grpo" = mean over sequences of
    per-sequence token means (seq-mean-token-mean). scale_rewards "group" divides by the group's std. TRL 1.16
    turns vLLM importance-sampling correction on by default; the recipe decides.
    """
    rl = spec.rl
    return {
        "epsilon": rl.clip_epsilon,
        "epsilon_high": rl.clip_epsilon_high if rl.clip_epsilon_high is not None else rl.clip_epsilon,
        "scale_rewards": "group" if rl.std_normalization else "none",
        "loss_type": "dapo" if rl.loss_aggregation == "token-mean" else "grpo",
        "vllm_importance_sampling_correction": rl.importance_sampling_correction,
        "weight_decay": rl.weight_decay, "adam_beta1": rl.adam_betas[0], "adam_beta2": rl.adam_betas[1],
        "max_grad_norm": rl.max_grad_norm,
    }


def _accumulation(total: int, micro: int, processes: int, where: str) -> int:
    per_step = micro * processes
    if total % per_step:
        raise ConfigError(f"{where}: {total} sequences per step is not a multiple of micro_batch_size x processes "
                          f"= {per_step}")
    return total // per_step


def _check_extra_fields(options: TRLOptions) -> None:
    """Extra trainer fields must exist in TRL's config classes and must not override the spec's own settings."""
    from trl import GRPOConfig, SFTConfig

    for key, cls, extra in (("sft", SFTConfig, options.sft), ("grpo", GRPOConfig, options.grpo)):
        known = {f.name for f in dataclasses.fields(cls)}
        for name in extra:
            if name not in known:
                raise ConfigError(f"backend_options.trl.{key}.{name}: not a {cls.__name__} field")
            if name in SPEC_OWNED:
                raise ConfigError(f"backend_options.trl.{key}.{name}: set by the recipe; change the recipe instead")


def make_backend(spec: PipelineSpec) -> TRLBackend:
    return TRLBackend(spec)
