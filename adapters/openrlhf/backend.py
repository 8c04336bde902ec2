"""OpenRLHF backend: SFT with `openrlhf.cli.train_sft`, GRPO with `openrlhf.cli.train_ppo_ray` on Ray + vLLM.

`plan` builds the exact command lines (see `commands.py`) and, when OpenRLHF is installed (CI installs it with
`--no-deps`), checks them with OpenRLHF's own parser and checks (`parser.py`). `prepare` writes the reward file
(`<stage dir>/reward_func.py`, loaded by OpenRLHF via `--reward.remote_url`) and, for a Hub model pinned to a
revision, downloads that snapshot (OpenRLHF has no revision flag). `run` launches the command locally or as a
`ray job submit` job and expects OpenRLHF's final Hugging Face model in `<stage dir>/checkpoint`.
Running needs GPUs with OpenRLHF's full stack (deepspeed, ray, vLLM, flash-attn); planning does not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Literal

from midrl_bench.adapters.openrlhf import commands

from midrl_bench.config import ConfigError, from_dict
from midrl_bench.pipeline import data as pipeline_data
from midrl_bench.pipeline.runner import RunContext, StagePlan, stage_start_model
from midrl_bench.pipeline.spec import PipelineSpec
from midrl_bench.rewards.shims import write_reward_file

REWARD_FILE = "reward_func.py"
SPEC_OWNED = {  # flags set from the recipe; overriding them in backend_options would fork the recipe
    "model.model_name_or_path", "actor.model_name_or_path", "data.dataset", "data.prompt_dataset", "adam.lr",
    "actor.adam.lr", "train.max_epochs", "train.batch_size", "rollout.batch_size", "rollout.n_samples_per_prompt",
    "rollout.max_new_tokens", "data.max_len", "algo.kl.init_coef", "algo.advantage.estimator", "train.seed",
    "reward.remote_url", "ckpt.output_dir", "rollout.temperature", "data.label_key", "data.input_key",
    "actor.eps_clip", "actor.eps_clip_low_high", "actor.loss_agg_mode",
    "algo.advantage.is_correction_level", "actor.adam.betas", "actor.adam.weight_decay", "actor.max_norm",
}


@dataclass(frozen=True)
class OpenRLHFOptions:
    launcher: Literal["local", "ray_job"] = "local"  # ray_job: `ray job submit` to `ray_address`
    ray_address: str = "http://127.0.0.1:8265"
    python: str = "python3"  # interpreter for train_ppo_ray on the head node
    num_nodes: int = 1
    num_gpus_per_node: int = 8
    vllm_num_engines: int | None = None  # None = one engine per tensor-parallel group of GPUs
    vllm_tensor_parallel_size: int = 1
    vllm_gpu_memory_utilization: float = 0.6
    colocate_all: bool = True  # actor and vLLM share the GPUs (sleep mode between phases)
    zero_stage: int = 2
    param_dtype: Literal["bf16", "fp16"] = "bf16"
    attn_implementation: str = "flash_attention_2"
    gradient_checkpointing: bool = True
    adam_offload: bool = False
    packing_samples: bool = False
    sft_launcher: Literal["deepspeed", "torchrun"] = "deepspeed"
    hostfile: str | None = None  # deepspeed, num_nodes > 1: `host slots=N` per line (DeepSpeed starts all nodes)
    master_addr: str | None = None  # num_nodes > 1: node 0's address (deepspeed --master_addr / torchrun rendezvous)
    master_port: int = 29500
    rdzv_id: str = "midrl-openrlhf-sft"  # torchrun, num_nodes > 1: the rendezvous id every node uses
    omp_threads_per_process: int = 4
    sft_args: dict[str, Any] = field(default_factory=dict)  # extra train_sft flags, dotted names without "--"
    ppo_args: dict[str, Any] = field(default_factory=dict)  # extra train_ppo_ray flags

    @property
    def world_size(self) -> int:
        return self.num_nodes * self.num_gpus_per_node


class OpenRLHFBackend:
    name = "openrlhf"

    def __init__(self, spec: PipelineSpec) -> None:
        self.options = from_dict(OpenRLHFOptions, spec.backend_options.openrlhf, where="backend_options.openrlhf")
        for key, extra in (("sft_args", self.options.sft_args), ("ppo_args", self.options.ppo_args)):
            owned = sorted(set(extra) & SPEC_OWNED)
            if owned:
                raise ConfigError(f"backend_options.openrlhf.{key}: {owned} are set by the recipe; change the recipe")
        commands.check_multinode(self.options)

    def plan(self, ctx: RunContext, stages: list[str]) -> list[StagePlan]:
        plans = [self._stage_plan(ctx, stage, stages) for stage in stages]
        from midrl_bench.adapters.openrlhf.parser import openrlhf_installed, parse_and_validate

        if openrlhf_installed():  # the exact flags and OpenRLHF's own cross-field checks
            for plan in plans:
                parse_and_validate(plan.config["kind"], plan.config["argv"])
        return plans

    def _stage_plan(self, ctx: RunContext, stage: str, stages: list[str]) -> StagePlan:
        opts, spec = self.options, ctx.spec
        stage_dir = ctx.stage_dir(stage)
        model_in = stage_start_model(ctx, stage, stages, lambda s: str(ctx.stage_dir(s) / "checkpoint"))
        model_arg = self._model_argument(ctx, model_in)
        checkpoint, logs = str(stage_dir / "checkpoint"), str(stage_dir / "tensorboard")
        if stage == "midtrain":
            kind, launch = "sft", commands.sft_launch(opts)
            values = commands.sft_values(spec, opts, model_arg, str(ctx.data_file(pipeline_data.MIDTRAIN_FILE)),
                                         checkpoint, logs)
        else:
            if spec.model.chat_template is not None and model_in == ctx.base_model:
                raise ConfigError("model.chat_template: OpenRLHF's RL stage reads the template from the model's "
                                  "tokenizer; run the midtrain stage first (it saves the template with the model)")
            kind, launch = "ppo", commands.ppo_launch(opts)
            values = commands.ppo_values(spec, opts, model_arg, str(ctx.data_file(pipeline_data.RL_PROMPTS_FILE)),
                                         str(stage_dir / REWARD_FILE), checkpoint, logs)
        argv = commands.flags(values)
        env = {"OMP_NUM_THREADS": str(opts.omp_threads_per_process)}  # DeepSpeed/Ray workers: no CPU oversubscription
        command = [*launch, *argv]
        if opts.launcher == "ray_job":
            command = commands.ray_job(opts, command, env)
        config = {"kind": kind, "module": launch[-1], "argv": argv, "values": values, "model_revision":
                  ctx.base_revision if model_in == ctx.base_model else None}
        return StagePlan(stage, self.name, model_in, checkpoint, command, config, env=env)

    def _model_argument(self, ctx: RunContext, model_in: str) -> str:
        """OpenRLHF has no revision flag: a pinned Hub model is downloaded to the run dir first (in `prepare`)."""
        if model_in == ctx.base_model and ctx.base_revision:
            return str(ctx.out_dir / "base-model-snapshot")
        return model_in

    def prepare(self, ctx: RunContext, plan: StagePlan) -> None:
        stage_dir = ctx.stage_dir(plan.stage)
        stage_dir.mkdir(parents=True, exist_ok=True)
        if plan.stage == "rl":
            write_reward_file(stage_dir / REWARD_FILE, "openrlhf", ctx.spec.rl.reward, ctx.spec.rl.reward_options)
        if plan.config["model_revision"]:
            from huggingface_hub import snapshot_download

            snapshot_download(plan.model_in, revision=plan.config["model_revision"],
                              local_dir=str(ctx.out_dir / "base-model-snapshot"))

    def run(self, ctx: RunContext, plan: StagePlan) -> dict[str, Any]:
        if shutil.which(plan.command[0]) is None:
            raise RuntimeError(f"openrlhf {plan.stage}: `{plan.command[0]}` not found; running OpenRLHF needs its GPU "
                               "stack (pip install 'openrlhf[vllm]==0.11.*' on a CUDA machine); `--dry-run` does not")
        log = ctx.stage_dir(plan.stage) / "launch.log"
        with log.open("w", encoding="utf-8") as handle:
            done = subprocess.run(plan.command, env={**os.environ, **plan.env}, stdout=handle,
                                  stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"openrlhf {plan.stage}: {plan.config['module']} failed ({done.returncode}); see {log}")
        if not (ctx.stage_dir(plan.stage) / "checkpoint" / "config.json").is_file():
            raise RuntimeError(f"openrlhf {plan.stage}: finished but left no model in {plan.checkpoint}; see {log}")
        return {"checkpoint": plan.checkpoint, "launch_log": str(log), "tensorboard": plan.config["values"].get(
            "logger.tensorboard_dir")}


def make_backend(spec: PipelineSpec) -> OpenRLHFBackend:
    return OpenRLHFBackend(spec)
