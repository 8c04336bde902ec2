"""verl backend: GRPO with `verl.trainer.main_ppo`, mid-training with verl's SFT trainer or TRL's (recipe choice).

`plan` builds every command (see `commands.py`): for verl stages the training command with its Hydra overrides,
then `verl.model_merger` to turn verl's FSDP shards into the stage's Hugging Face checkpoint; for several nodes the
Ray cluster start-up lines and `ray job submit` wrappers. `prepare` writes the parquet files verl reads (`data.py`)
and the reward's `compute_score` file (`midrl_bench.rewards.shims`). `run` executes the commands on this machine
(single node, or submission to a running Ray cluster).

verl runs in its own environment (its config stack pins antlr4-python3-runtime 4.9, which degrades math-verify's
parser): `backend_options.verl.python` is that environment's interpreter, and docs/backends.md says how to set it up
so the reward's checker still parses with antlr4 4.13.2. `midtrain_trainer: trl` mid-trains with TRL (as the
paper did; `backend_options.trl` applies) and only GRPO runs on verl.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from midrl_bench.adapters.verl import commands
from midrl_bench.adapters.verl import data as verl_data

from midrl_bench.config import ConfigError, from_dict
from midrl_bench.jsonl import read_jsonl
from midrl_bench.pipeline import data as pipeline_data
from midrl_bench.pipeline.runner import RunContext, StagePlan, stage_start_model
from midrl_bench.pipeline.spec import PipelineSpec
from midrl_bench.rewards.shims import CHECKER_PATH_ENV, write_reward_file

REWARD_FILE = "compute_score.py"
SNAPSHOT_DIR = "base-model-snapshot"  # a Hub model pinned to `model.revision`, downloaded in `prepare`
CHECKPOINT_TRACKER = "latest_checkpointed_iteration.txt"  # written by verl next to its global_step_N folders


@dataclass(frozen=True)
class VerlOptions:
    midtrain_trainer: Literal["verl", "trl"] = "verl"  # trl = TRL's SFTTrainer (the paper's setup)
    launcher: Literal["local", "ray_job"] = "local"  # ray_job: submit to the running cluster at `ray_address`
    python: str = "python3"  # the verl environment's interpreter
    checker_pythonpath: str | None = None  # dir with antlr4-python3-runtime 4.13.2 for the reward's checker workers
    num_nodes: int = 1
    num_gpus_per_node: int = 8
    head_address: str = "HEAD_IP"  # the Ray head node's address as worker nodes reach it (multi-node; printed)
    ray_port: int = 6379
    ray_address: str = "http://127.0.0.1:8265"  # the head's dashboard / job server
    rollout_engine: Literal["vllm", "sglang"] = "vllm"
    rollout_tensor_parallel_size: int = 1
    rollout_gpu_memory_utilization: float = 0.6
    gradient_checkpointing: bool = True
    param_offload: bool = False
    optimizer_offload: bool = False
    ppo_overrides: dict[str, Any] = field(default_factory=dict)  # extra main_ppo overrides (existing keys only)
    sft_overrides: dict[str, Any] = field(default_factory=dict)  # extra sft_trainer overrides

    def __post_init__(self) -> None:
        if self.num_nodes < 1 or self.num_gpus_per_node < 1:
            raise ConfigError("backend_options.verl: num_nodes and num_gpus_per_node must be >= 1")


class VerlBackend:
    name = "verl"

    def __init__(self, spec: PipelineSpec) -> None:
        self.options = from_dict(VerlOptions, spec.backend_options.verl, where="backend_options.verl")
        if spec.model.chat_template is not None:
            raise ConfigError("model.chat_template: the verl backend uses the tokenizer's own template; save the "
                              "template into the model's tokenizer_config.json instead")
        self.spec = spec

    # ------------------------------------------------------------------ plan
    def plan(self, ctx: RunContext, stages: list[str]) -> list[StagePlan]:
        plans = []
        for stage in stages:
            if stage == "midtrain" and self.options.midtrain_trainer == "trl":
                plans.append(self._trl_midtrain_plan(ctx, stages))
            else:
                plans.append(self._stage_plan(ctx, stage, stages))
        return plans

    def _trl_midtrain_plan(self, ctx: RunContext, stages: list[str]) -> StagePlan:
        from midrl_bench.adapters.trl.backend import TRLBackend

        plan = TRLBackend(ctx.spec).plan(ctx, ["midtrain"])[0]
        plan.backend = self.name
        plan.config = {**plan.config, "trainer": "trl (backend_options.verl.midtrain_trainer)"}
        return plan

    def _stage_plan(self, ctx: RunContext, stage: str, stages: list[str]) -> StagePlan:
        opts, stage_dir = self.options, ctx.stage_dir(stage)
        model_in = stage_start_model(ctx, stage, stages, lambda s: str(ctx.stage_dir(s) / "checkpoint"))
        pinned = model_in == ctx.base_model and ctx.base_revision is not None  # verl has no revision setting
        model = str(ctx.out_dir / SNAPSHOT_DIR) if pinned else model_in
        shards = str(stage_dir / "verl_checkpoints")
        if stage == "rl":
            values = commands.grpo_values(ctx.spec, opts, model, str(ctx.data_file(verl_data.RL_PARQUET)),
                                          str(stage_dir / REWARD_FILE), shards)
            command, module = commands.ppo_command(opts, values, self._env()), commands.PPO_MODULE
        else:
            values = commands.sft_values(ctx.spec, opts, model, str(ctx.data_file(verl_data.SFT_PARQUET)), shards)
            command, module = commands.sft_command(opts, values, self._env()), commands.SFT_MODULE
        config = {"trainer": f"verl ({module})", "module": module, "values": values,
                  "model_revision": ctx.base_revision if pinned else None, "checkpoint_shards": shards, "shard_subdir": "actor" if stage == "rl" else "",
                  "merge": commands.merge_command(opts, f"{shards}/global_step_<N>{'/actor' if stage == 'rl' else ''}",
                                                  str(stage_dir / "checkpoint"))}
        if stage == "rl":
            config["reward"] = {"name": ctx.spec.rl.reward, "options": dict(ctx.spec.rl.reward_options),
                                "file": str(stage_dir / REWARD_FILE)}
        if opts.num_nodes > 1 or opts.launcher == "ray_job":
            config["cluster_setup"] = [shlex.join(line) for line in commands.ray_cluster_commands(opts)]
        return StagePlan(stage, self.name, model_in, str(stage_dir / "checkpoint"), command, config,
                         env=self._env())

    def _env(self) -> dict[str, str]:
        """Read by midrl_bench.rewards.shims.require_checker in verl's reward workers (docs/backends.md)."""
        path = self.options.checker_pythonpath
        return {CHECKER_PATH_ENV: path} if path else {}

    # ------------------------------------------------------------------ run
    def prepare(self, ctx: RunContext, plan: StagePlan) -> None:
        stage_dir = ctx.stage_dir(plan.stage)
        stage_dir.mkdir(parents=True, exist_ok=True)
        if plan.config.get("model_revision"):
            from huggingface_hub import snapshot_download

            snapshot_download(plan.model_in, revision=plan.config["model_revision"],
                              local_dir=str(ctx.out_dir / SNAPSHOT_DIR))
        if plan.stage == "midtrain":
            if self.options.midtrain_trainer == "trl":
                from midrl_bench.adapters.trl.backend import TRLBackend

                TRLBackend(ctx.spec).prepare(ctx, plan)
                return
            rows = verl_data.sft_rows(list(read_jsonl(ctx.data_file(pipeline_data.MIDTRAIN_FILE))))
            verl_data.write_parquet(rows, ctx.data_file(verl_data.SFT_PARQUET))
            return
        rows = verl_data.rl_rows(list(read_jsonl(ctx.data_file(pipeline_data.RL_PROMPTS_FILE))),
                                 Path(ctx.spec.rl.prompts).stem)
        verl_data.write_parquet(rows, ctx.data_file(verl_data.RL_PARQUET))
        write_reward_file(stage_dir / REWARD_FILE, "verl", ctx.spec.rl.reward, ctx.spec.rl.reward_options)

    def run(self, ctx: RunContext, plan: StagePlan) -> dict[str, Any]:
        if plan.stage == "midtrain" and self.options.midtrain_trainer == "trl":
            from midrl_bench.adapters.trl.backend import TRLBackend

            return {**TRLBackend(ctx.spec).run(ctx, plan), "trainer": "trl"}
        log = ctx.stage_dir(plan.stage) / "launch.log"
        _run_logged(plan.command, plan.env, log, f"verl {plan.stage}")
        shards = latest_shards(Path(plan.config["checkpoint_shards"]), plan.config["shard_subdir"])
        merge = commands.merge_command(self.options, str(shards), plan.checkpoint)
        _run_logged(merge, {}, ctx.stage_dir(plan.stage) / "merge.log", f"verl {plan.stage} merge")
        if not (Path(plan.checkpoint) / "config.json").is_file():
            raise RuntimeError(f"verl {plan.stage}: the merge left no model in {plan.checkpoint}; see merge.log")
        return {"checkpoint": plan.checkpoint, "trainer": plan.config["trainer"], "launch_log": str(log),
                "shards": str(shards)}


def latest_shards(shard_root: Path, subdir: str) -> Path:
    """The last checkpoint verl saved (`<root>/global_step_<N>[/actor]`, N from verl's tracker file)."""
    tracker = shard_root / CHECKPOINT_TRACKER
    if not tracker.is_file():
        raise RuntimeError(f"verl: training finished without a checkpoint ({tracker} is missing)")
    step = tracker.read_text(encoding="utf-8").strip()
    path = shard_root / f"global_step_{step}" / subdir if subdir else shard_root / f"global_step_{step}"
    if not path.is_dir():
        raise RuntimeError(f"verl: {tracker} names step {step}, but {path} does not exist")
    return path


def _run_logged(command: list[str], env: dict[str, str], log: Path, what: str) -> None:
    if shutil.which(command[0]) is None:
        raise RuntimeError(f"{what}: `{command[0]}` not found; running verl needs its GPU environment "
                           "(docs/backends.md); `--dry-run` does not")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        done = subprocess.run(command, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}); see {log}")


def make_backend(spec: PipelineSpec) -> VerlBackend:
    return VerlBackend(spec)
