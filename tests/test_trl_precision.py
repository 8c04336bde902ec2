"""The TRL path keeps fp32 master weights: one real SFTTrainer step at lr 1e-6 on the tiny model (CPU).

The recipe says `model.dtype: bfloat16` (as the paper recipe does). With the default `master_weights: fp32` the stage
loads the model in float32, so AdamW's ~1e-6 steps land in the weights; with `master_weights: model_dtype` (what
the TRL adapter did before: load in the recipe's bf16) the same step rounds away in almost every weight, because
bf16 keeps 8 significant bits (a relative change below ~2^-9 is lost). The GPU setting (fp32 load + bf16 autocast,
`bf16=True`) is run too: CPU autocast in bf16, same trainer flags as the GPU plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from midrl_bench.pipeline.runner import run_pipeline
from midrl_bench.pipeline.spec import spec_from_dict

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "tiny-cpu.yaml"


def _spec(master_weights: str):
    data = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    data["model"]["dtype"] = "bfloat16"  # the paper recipe's dtype
    data["midtrain"].update(lr=1e-6, epochs=1, limit=16, batch_size=16, micro_batch_size=16)  # exactly one step
    data["backend_options"]["trl"]["master_weights"] = master_weights
    return spec_from_dict(data, recipe_path=str(RECIPE))


def _changed_fraction(run: Path) -> tuple[float, set]:
    from safetensors.torch import load_file

    base = load_file(str(run / "base-model" / "model.safetensors"))
    tuned = load_file(str(run / "midtrain" / "checkpoint" / "model.safetensors"))
    changed = total = 0
    for name, weight in base.items():
        if weight.dim() < 2:  # norms (all ones) and biases: the matrices carry the signal
            continue
        changed += int((tuned[name] != weight.to(tuned[name].dtype)).sum())  # vs the base as the stage loaded it
        total += weight.numel()
    return changed / total, {tensor.dtype for tensor in tuned.values()}


def _one_step(tmp_path: Path, master_weights: str, autocast: bool = False) -> tuple[float, set, dict]:
    import torch

    spec = _spec(master_weights)
    out = tmp_path / master_weights
    if autocast:  # the GPU plan's trainer flags (fp32 load + bf16=True) on this CPU: CPU bf16 autocast
        from midrl_bench.adapters.trl.train import run_stage_file

        from midrl_bench.pipeline.runner import make_context, plan_pipeline, prepare_stage_data

        _, backend, plans = plan_pipeline(spec, "trl", "midtrain", out)
        ctx = make_context(spec, out, build=True)
        prepare_stage_data(ctx, "midtrain")
        plan = plans[0]
        plan.config["trainer_args"]["bf16"] = True
        backend.prepare(ctx, plan)
        run_stage_file(ctx.stage_dir("midtrain") / "stage.json")
        stage = json.loads((ctx.stage_dir("midtrain") / "stage.json").read_text(encoding="utf-8"))
    else:
        result = run_pipeline(spec, "trl", "midtrain", out)
        stage = result.plans[0].config
    metrics = json.loads((out / "midtrain" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["global_step"] == 1
    fraction, dtypes = _changed_fraction(out)
    assert torch.float32 in dtypes or torch.bfloat16 in dtypes
    return fraction, dtypes, stage


@pytest.mark.slow
def test_fp32_master_weights_keep_small_updates_that_bf16_loses(tmp_path):
    import torch

    fraction, dtypes, stage = _one_step(tmp_path, "fp32")
    assert stage["dtype"] == "float32" and stage["precision"]["load_dtype"] == "float32"
    assert dtypes == {torch.float32}  # trained and saved in fp32
    assert fraction > 0.95, f"only {fraction:.1%} of weights moved at lr 1e-6 with fp32 master weights"

    old_fraction, old_dtypes, old_stage = _one_step(tmp_path, "model_dtype")  # the adapter's previous behaviour
    assert old_stage["dtype"] == "bfloat16" and old_dtypes == {torch.bfloat16}
    assert old_fraction < 0.10, f"{old_fraction:.1%} of bf16 weights moved; expected the update to round away"


@pytest.mark.slow
def test_fp32_master_weights_under_bf16_autocast(tmp_path):
    import torch

    fraction, dtypes, stage = _one_step(tmp_path, "fp32", autocast=True)
    assert stage["trainer_args"]["bf16"] and stage["dtype"] == "float32"
    assert dtypes == {torch.float32} and fraction > 0.95


@pytest.mark.parametrize("options, device, load, flags, master", [
    ({}, "cuda", "float32", (True, False), "float32 (fp32 parameters updated by AdamW; bfloat16 compute)"),  # default
    ({}, "cpu", "float32", (False, False), "float32 (fp32 parameters updated by AdamW; float32 compute)"),  # CPU tests
    ({"master_weights": "model_dtype"}, "cuda", "bfloat16", (True, False), "bfloat16 (no fp32 master copy"),  # old
    ({"launcher": "accelerate", "num_processes": 8}, "cuda", "float32", (True, False),
     "float32 (fp32 master weights in DeepSpeed's ZeRO-2 optimizer"),  # multi-GPU default: ZeRO-2
    ({"launcher": "accelerate", "num_processes": 8, "sharding": "fsdp"}, "cuda", "float32", (True, False),
     "float32 (fp32 sharded parameters (FSDP2)"),  # FSDP2 keeps the sharded fp32 parameters
])
def test_precision_plan_states_where_the_master_weights_live(options, device, load, flags, master):
    from midrl_bench.adapters.trl.backend import TRLOptions
    from midrl_bench.adapters.trl.launch import precision_plan

    plan = precision_plan(TRLOptions(**options), "bfloat16", device)
    assert plan["load_dtype"] == load and (plan["trainer_flags"]["bf16"], plan["trainer_flags"]["fp16"]) == flags
    assert plan["master_weights"].startswith(master)
