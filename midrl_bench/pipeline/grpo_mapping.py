"""One GRPO spec, mapped onto each backend: every setting with the exact value each backend receives.

The table is read back from the arguments each backend actually generates (TRL's GRPOConfig fields, OpenRLHF's
train_ppo_ray flags, verl's Hydra overrides), not from the recipe, so it cannot claim a value a backend does not get.
Each cell is `native name = value` plus a meaning in common terms; a row whose meanings differ between backends is
a remaining difference, printed by `midrl train/compare --dry-run` and in `midrl compare`'s report.

>>> from midrl_bench.pipeline.spec import load_spec  # doctest: +SKIP
>>> print(markdown(mapping(load_spec("recipes/paper-llama-3.2-3b.yaml"), ["trl", "openrlhf", "verl"])))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from midrl_bench.pipeline.spec import PipelineSpec

ROWS = (  # key -> label
    ("group_size", "group size (samples per prompt)"),
    ("advantage", "advantage estimator"),
    ("std_norm", "advantage std normalisation"),
    ("std_eps", "advantage std epsilon (library constant)"),
    ("loss_agg", "loss aggregation"),
    ("kl_coef", "KL coefficient"),
    ("kl_where", "KL applied in"),
    ("clip_low", "clip epsilon low"),
    ("clip_high", "clip epsilon high"),
    ("is_correction", "rollout importance-sampling correction"),
    ("temperature", "sampling temperature"),
    ("top_p", "sampling top-p"),
    ("max_prompt", "max prompt tokens"),
    ("max_response", "max response tokens"),
    ("prompts_per_step", "prompts per optimiser step"),
    ("completions_per_step", "completions per optimiser step"),
    ("updates_per_rollout", "optimiser steps per rollout batch"),
    ("micro_batch", "micro batch per device"),
    ("lr", "learning rate"),
    ("schedule", "lr schedule"),
    ("optimizer", "AdamW betas / weight decay / grad clip"),
    ("length", "training length"),
    ("reward", "reward"),
)
PLACEHOLDERS = {"model": "MODEL", "data": "DATA", "reward": "REWARD_FILE", "out": "OUT", "log": "LOG"}


@dataclass(frozen=True)
class Cell:
    native: str  # the backend's own setting(s) and value, e.g. "loss_type=dapo"
    meaning: Any  # the value in common terms; equal meanings = the same setting


def mapping(spec: PipelineSpec, backends: list[str]) -> dict[str, dict[str, Cell]]:
    """backend -> row key -> Cell, from each backend's generated GRPO arguments."""
    builders = {"trl": _trl, "openrlhf": _openrlhf, "verl": _verl}
    return {name: builders[name](spec) for name in backends}


def differences(table: dict[str, dict[str, Cell]]) -> list[str]:
    """One line per row whose meaning differs between backends."""
    lines = []
    for key, label in ROWS:
        meanings = {backend: cells[key].meaning for backend, cells in table.items()}
        if len({repr(value) for value in meanings.values()}) > 1:
            lines.append(f"{label}: " + "; ".join(f"{backend} {table[backend][key].native}"
                                                  for backend in table))
    return lines


def markdown(table: dict[str, dict[str, Cell]]) -> str:
    backends = list(table)
    several = len(backends) > 1
    lines = ["| setting | " + " | ".join(backends) + (" | same |" if several else " |"),
             "|---|" + "---|" * (len(backends) + several)]
    for key, label in ROWS:
        same = len({repr(table[b][key].meaning) for b in backends}) == 1
        cells = [_escape(table[b][key].native) for b in backends]
        lines.append(f"| {label} | " + " | ".join(cells) + (f" | {'yes' if same else '**no**'} |" if several else " |"))
    return "\n".join(lines) + "\n"


def as_json(table: dict[str, dict[str, Cell]]) -> dict[str, Any]:
    return {"rows": [{"key": key, "label": label, **{b: dataclasses.asdict(table[b][key]) for b in table}}
                     for key, label in ROWS], "differences": differences(table)}


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _schedule(name: str, warmup: float, floor: float | None) -> tuple[str, float, float | None]:
    kind = {"constant_with_warmup": "constant", "constant": "constant", "cosine_with_min_lr": "cosine",
            "cosine": "cosine"}.get(name, name)
    return kind, warmup, floor if kind == "cosine" else None


# ------------------------------------------------------------------------------------------------ TRL (1.16)
def _trl(spec: PipelineSpec) -> dict[str, Cell]:
    from trl import GRPOConfig

    from midrl_bench.adapters.trl.backend import TRLBackend

    backend = TRLBackend(spec)
    args = {**{f.name: f.default for f in dataclasses.fields(GRPOConfig)}, **backend.grpo_args(spec)}
    processes = backend.options.num_processes
    completions = args["per_device_train_batch_size"] * args["gradient_accumulation_steps"] * processes
    n = args["num_generations"]
    loss = {"dapo": "token-mean", "grpo": "seq-mean-token-mean"}.get(args["loss_type"], args["loss_type"])
    is_on = bool(args["use_vllm"] and args["vllm_importance_sampling_correction"])
    is_meaning = (f"{args['vllm_importance_sampling_mode']}, ratio in [{args['vllm_importance_sampling_clip_min']}, "
                  f"{args['vllm_importance_sampling_clip_max']}]") if is_on else "off"
    beta = args["beta"]
    length = f"max_steps={args['max_steps']}" if args.get("max_steps", -1) > 0 else \
        f"num_train_epochs={args['num_train_epochs']}"
    floor = (args.get("lr_scheduler_kwargs") or {}).get("min_lr_rate")
    return {
        "group_size": Cell(f"num_generations={n}", n),
        "advantage": Cell("GRPO (built in): r - group mean", "group mean baseline"),
        "std_norm": Cell(f"scale_rewards={args['scale_rewards']}", args["scale_rewards"] == "group"),
        "std_eps": Cell("1e-4 (grpo_trainer.py, fixed)" if args["scale_rewards"] != "none" else "n/a (no std)",
                        1e-4 if args["scale_rewards"] != "none" else None),
        "loss_agg": Cell(f"loss_type={args['loss_type']}", loss),
        "kl_coef": Cell(f"beta={beta}", beta),
        "kl_where": Cell("loss (k3, not clamped)" if beta > 0 else "off (beta=0, no reference model)",
                         "loss/k3" if beta > 0 else "off"),
        "clip_low": Cell(f"epsilon={args['epsilon']}", args["epsilon"]),
        "clip_high": Cell(f"epsilon_high={args['epsilon_high']}", args["epsilon_high"]),
        "is_correction": Cell(f"vllm_importance_sampling_correction={args['vllm_importance_sampling_correction']}"
                              + (f" ({is_meaning})" if is_on else "" if args["use_vllm"] else " (no vLLM)"),
                              is_meaning),
        "temperature": Cell(f"temperature={args['temperature']}", args["temperature"]),
        "top_p": Cell(f"top_p={args['top_p']}", args["top_p"]),
        "max_prompt": Cell(f"{spec.rl.max_prompt_tokens} (longer prompts dropped from the data)",
                           spec.rl.max_prompt_tokens),
        "max_response": Cell(f"max_completion_length={args['max_completion_length']}", args["max_completion_length"]),
        "prompts_per_step": Cell(f"{completions // n} (= completions / num_generations)", completions // n),
        "completions_per_step": Cell(f"per_device_train_batch_size={args['per_device_train_batch_size']} x "
                                     f"gradient_accumulation_steps={args['gradient_accumulation_steps']} x "
                                     f"{processes} processes = {completions}", completions),
        "updates_per_rollout": Cell(f"num_iterations={args['num_iterations']} (steps_per_generation = grad. accum.)",
                                    args["num_iterations"]),
        "micro_batch": Cell(f"per_device_train_batch_size={args['per_device_train_batch_size']}",
                            args["per_device_train_batch_size"]),
        "lr": Cell(f"learning_rate={args['learning_rate']}", args["learning_rate"]),
        "schedule": Cell(f"lr_scheduler_type={args['lr_scheduler_type']}, warmup_steps={args['warmup_steps']}"
                         + (f", min_lr_rate={floor}" if floor is not None else ""),
                         _schedule(args["lr_scheduler_type"], args["warmup_steps"], floor)),
        "optimizer": Cell(f"adam_beta1/2={args['adam_beta1']}/{args['adam_beta2']}, weight_decay="
                          f"{args['weight_decay']}, max_grad_norm={args['max_grad_norm']}",
                          (args["adam_beta1"], args["adam_beta2"], args["weight_decay"], args["max_grad_norm"])),
        "length": Cell(length, spec.rl.steps if args.get("max_steps", -1) > 0 else f"{spec.rl.epochs} epoch(s)"),
        "reward": Cell(f"reward_funcs=[{spec.rl.reward}]", spec.rl.reward),
    }


# ------------------------------------------------------------------------------------------------ OpenRLHF (0.11)
def _openrlhf(spec: PipelineSpec) -> dict[str, Cell]:
    from midrl_bench.adapters.openrlhf import commands
    from midrl_bench.adapters.openrlhf.backend import OpenRLHFBackend

    p = PLACEHOLDERS
    v = commands.ppo_values(spec, OpenRLHFBackend(spec).options, p["model"], p["data"], p["reward"], p["out"],
                            p["log"])
    n, batch = v["rollout.n_samples_per_prompt"], v["train.batch_size"]
    low, high = v["actor.eps_clip_low_high"]
    level = v["algo.advantage.is_correction_level"]
    kl_on = bool(v["algo.kl.use_loss"])
    scheduler = v["actor.lr_scheduler"]
    floor = v["actor.min_lr_ratio"] if scheduler == "cosine_with_min_lr" else None
    length = f"data.max_samples={v['data.max_samples']}" if v["data.max_samples"] else \
        f"train.num_episodes={v['train.num_episodes']}"
    betas = tuple(v["actor.adam.betas"])
    return {
        "group_size": Cell(f"rollout.n_samples_per_prompt={n}", n),
        "advantage": Cell(f"algo.advantage.estimator={v['algo.advantage.estimator']}", "group mean baseline"),
        "std_norm": Cell(f"algo.advantage.estimator={v['algo.advantage.estimator']}"
                         + (" (divides by group std)" if v["algo.advantage.estimator"] == "group_norm" else
                            " (group mean only)"), v["algo.advantage.estimator"] == "group_norm"),
        "std_eps": Cell("1e-9 (experience_maker.py, fixed)" if v["algo.advantage.estimator"] == "group_norm" else
                        "n/a (no std)", 1e-9 if v["algo.advantage.estimator"] == "group_norm" else None),
        "loss_agg": Cell(f"actor.loss_agg_mode={v['actor.loss_agg_mode']}", v["actor.loss_agg_mode"]),
        "kl_coef": Cell(f"algo.kl.init_coef={v['algo.kl.init_coef']}", v["algo.kl.init_coef"]),
        "kl_where": Cell(f"loss (algo.kl.use_loss, {v['algo.kl.estimator']} clamped to [-10, 10])" if kl_on else
                         "off (init_coef=0, no reference model)", "loss/k3 clamped" if kl_on else "off"),
        "clip_low": Cell(f"actor.eps_clip_low_high[0]={low}", low),
        "clip_high": Cell(f"actor.eps_clip_low_high[1]={high}", high),
        "is_correction": Cell(f"algo.advantage.is_correction_level={level}"
                              + (" (mode mask, ratio in [0.5, 5.0])" if level != "off" else ""),
                              "sequence_mask, ratio in [0.5, 5.0]" if level == "seq" else "off"),
        "temperature": Cell(f"rollout.temperature={v['rollout.temperature']}", v["rollout.temperature"]),
        "top_p": Cell(f"rollout.top_p={v['rollout.top_p']}", v["rollout.top_p"]),
        "max_prompt": Cell(f"data.max_len - rollout.max_new_tokens = {v['data.max_len'] - v['rollout.max_new_tokens']}",
                           v["data.max_len"] - v["rollout.max_new_tokens"]),
        "max_response": Cell(f"rollout.max_new_tokens={v['rollout.max_new_tokens']}", v["rollout.max_new_tokens"]),
        "prompts_per_step": Cell(f"rollout.batch_size={v['rollout.batch_size']}", batch // n),
        "completions_per_step": Cell(f"train.batch_size={batch}", batch),
        "updates_per_rollout": Cell(f"rollout.batch_size x n / train.batch_size x train.max_epochs="
                                    f"{v['train.max_epochs']}",
                                    v["rollout.batch_size"] * n // batch * v["train.max_epochs"]),
        "micro_batch": Cell(f"train.micro_batch_size={v['train.micro_batch_size']}", v["train.micro_batch_size"]),
        "lr": Cell(f"actor.adam.lr={v['actor.adam.lr']}", v["actor.adam.lr"]),
        "schedule": Cell(f"actor.lr_scheduler={scheduler}, lr_warmup_ratio={v['actor.lr_warmup_ratio']}"
                         + (f", min_lr_ratio={floor}" if floor is not None else ""),
                         _schedule(scheduler, v["actor.lr_warmup_ratio"], floor)),
        "optimizer": Cell(f"actor.adam.betas={betas[0]}/{betas[1]}, weight_decay={v['actor.adam.weight_decay']}, "
                          f"max_norm={v['actor.max_norm']}",
                          (betas[0], betas[1], v["actor.adam.weight_decay"], v["actor.max_norm"])),
        "length": Cell(length, spec.rl.steps if v["data.max_samples"] else f"{spec.rl.epochs} epoch(s)"),
        "reward": Cell(f"reward.remote_url=reward_func.py ({spec.rl.reward})", spec.rl.reward),
    }


# ------------------------------------------------------------------------------------------------ verl (0.9)
def _verl(spec: PipelineSpec) -> dict[str, Cell]:
    from midrl_bench.adapters.verl import commands
    from midrl_bench.adapters.verl.backend import VerlBackend

    p = PLACEHOLDERS
    v = commands.grpo_values(spec, VerlBackend(spec).options, p["model"], p["data"], p["reward"], p["out"])
    a, r, o = "actor_rollout_ref.actor.", "actor_rollout_ref.rollout.", "actor_rollout_ref.actor.optim."
    n, prompts = v[r + "n"], v["data.train_batch_size"]
    kl_on = bool(v[a + "use_kl_loss"])
    is_level = v["algorithm.rollout_correction.rollout_is"]
    scheduler = v[o + "lr_scheduler_type"]
    floor = v[o + "min_lr_ratio"] if scheduler == "cosine" else None
    steps = v["trainer.total_training_steps"]
    betas = tuple(v[o + "betas"])
    return {
        "group_size": Cell(f"rollout.n={n}", n),
        "advantage": Cell(f"algorithm.adv_estimator={v['algorithm.adv_estimator']}", "group mean baseline"),
        "std_norm": Cell(f"algorithm.norm_adv_by_std_in_grpo={v['algorithm.norm_adv_by_std_in_grpo']}",
                         v["algorithm.norm_adv_by_std_in_grpo"]),
        "std_eps": Cell("1e-6 (core_algos.py, fixed)" if v["algorithm.norm_adv_by_std_in_grpo"] else "n/a (no std)",
                        1e-6 if v["algorithm.norm_adv_by_std_in_grpo"] else None),
        "loss_agg": Cell(f"actor.loss_agg_mode={v[a + 'loss_agg_mode']}", v[a + "loss_agg_mode"]),
        "kl_coef": Cell(f"actor.kl_loss_coef={v[a + 'kl_loss_coef']}", v[a + "kl_loss_coef"]),
        "kl_where": Cell(f"loss (actor.use_kl_loss, {v[a + 'kl_loss_type']}: k3 clamped to [-10, 10])" if kl_on else
                         "off (use_kl_loss=false, use_kl_in_reward=false)", "loss/k3 clamped" if kl_on else "off"),
        "clip_low": Cell(f"actor.clip_ratio_low={v[a + 'clip_ratio_low']}", v[a + "clip_ratio_low"]),
        "clip_high": Cell(f"actor.clip_ratio_high={v[a + 'clip_ratio_high']}", v[a + "clip_ratio_high"]),
        "is_correction": Cell(f"algorithm.rollout_correction.rollout_is={is_level}"
                              + (" (weights truncated at 2.0)" if is_level else ""),
                              "sequence weights, truncated at 2.0" if is_level else "off"),
        "temperature": Cell(f"rollout.temperature={v[r + 'temperature']}", v[r + "temperature"]),
        "top_p": Cell(f"rollout.top_p={v[r + 'top_p']}", v[r + "top_p"]),
        "max_prompt": Cell(f"data.max_prompt_length={v['data.max_prompt_length']}", v["data.max_prompt_length"]),
        "max_response": Cell(f"data.max_response_length={v['data.max_response_length']}",
                             v["data.max_response_length"]),
        "prompts_per_step": Cell(f"actor.ppo_mini_batch_size={v[a + 'ppo_mini_batch_size']}",
                                 v[a + "ppo_mini_batch_size"]),
        "completions_per_step": Cell(f"ppo_mini_batch_size x rollout.n = {v[a + 'ppo_mini_batch_size'] * n}",
                                     v[a + "ppo_mini_batch_size"] * n),
        "updates_per_rollout": Cell(f"data.train_batch_size / ppo_mini_batch_size x ppo_epochs={v[a + 'ppo_epochs']}",
                                    prompts // v[a + "ppo_mini_batch_size"] * v[a + "ppo_epochs"]),
        "micro_batch": Cell(f"actor.ppo_micro_batch_size_per_gpu={v[a + 'ppo_micro_batch_size_per_gpu']}",
                            v[a + "ppo_micro_batch_size_per_gpu"]),
        "lr": Cell(f"actor.optim.lr={v[o + 'lr']}", v[o + "lr"]),
        "schedule": Cell(f"optim.lr_scheduler_type={scheduler}, lr_warmup_steps_ratio={v[o + 'lr_warmup_steps_ratio']}"
                         + (f", min_lr_ratio={floor}" if floor is not None else ""),
                         _schedule(scheduler, v[o + "lr_warmup_steps_ratio"], floor)),
        "optimizer": Cell(f"optim.betas={betas[0]}/{betas[1]}, weight_decay={v[o + 'weight_decay']}, "
                          f"clip_grad={v[o + 'clip_grad']}", (betas[0], betas[1], v[o + "weight_decay"],
                                                               v[o + "clip_grad"])),
        "length": Cell(f"trainer.total_training_steps={steps}" if steps else
                       f"trainer.total_epochs={v['trainer.total_epochs']}",
                       steps if steps else f"{spec.rl.epochs} epoch(s)"),
        "reward": Cell(f"custom_reward_function=compute_score.py ({spec.rl.reward})", spec.rl.reward),
    }


def report_section(spec: PipelineSpec, backends: list[str]) -> tuple[str, dict[str, Any]]:
    """(markdown, json) for `midrl compare`'s report: the remaining GRPO differences next to the results."""
    if not backends:
        return "", {}
    table = mapping(spec, backends)
    found = differences(table)
    lines = [f"- {line}" for line in found] or ["- none: every tabled GRPO setting has the same meaning"]
    text = ("\n## GRPO settings that still differ between backends\n\n" + "\n".join(lines) +
            "\n\nFull mapping: `midrl compare --backends " + ",".join(backends) + " --dry-run` (docs/backends.md).\n")
    return text, as_json(table)


def plan_settings(spec: PipelineSpec, backend: str) -> dict[str, str]:
    """setting label -> `native = value` for one backend (printed in `midrl train --dry-run`'s RL plan)."""
    cells = mapping(spec, [backend])[backend]
    return {label: cells[key].native for key, label in ROWS}


def dry_run_text(spec: PipelineSpec, backends: list[str]) -> str:
    """The mapping table and the remaining differences, as `--dry-run` prints them."""
    table = mapping(spec, backends)
    found = differences(table)
    text = (f"GRPO settings of {spec.name} as each backend receives them (read back from the generated arguments):"
            f"\n\n{markdown(table)}")
    if len(table) == 1:
        return text + "\ncompare backends: midrl compare --backends trl,openrlhf,verl --dry-run"
    tail = "\n".join(f"  - {line}" for line in found) if found else "  none: every setting has the same meaning"
    return f"{text}\nremaining differences:\n{tail}"
