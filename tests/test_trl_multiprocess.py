"""A real two-process `accelerate launch` of the TRL mid-training stage, on this CPU machine (DDP over gloo).

`midrl train` writes the stage file and runs the planned command, `accelerate launch --config_file
adapters/trl/accelerate/ddp.yaml --num_processes 2 -m midrl_bench.adapters.trl.train --stage-file ...`; both
processes train and both call `save_model` (a collective under ZeRO-3 / FSDP, which need GPUs). 16 rows with 8 per
device and no accumulation make exactly one optimiser step only when two processes share the batch (one process
alone would take two steps), so `global_step == 1` shows the launch really ran two ranks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


@pytest.mark.slow
@pytest.mark.serial  # binds the launcher's default rendezvous port 29500 on this machine: not beside other tests
def test_two_process_accelerate_launch_trains_and_saves(tmp_path):
    if shutil.which("accelerate") is None:
        pytest.skip("the accelerate launcher is not on PATH")
    from midrl_bench.pipeline.cli import main

    data = yaml.safe_load((RECIPES / "tiny-cpu.yaml").read_text(encoding="utf-8"))
    data["midtrain"].update(epochs=1, limit=16, batch_size=16, micro_batch_size=8,
                            dataset=str(RECIPES / "tiny-cpu-data" / "midtrain.jsonl"))
    data["rl"]["prompts"] = str(RECIPES / "tiny-cpu-data" / "rl_prompts.jsonl")
    data["backend_options"]["trl"].update(launcher="accelerate", num_processes=2, sharding="ddp")
    recipe = tmp_path / "two-process.yaml"
    recipe.write_text(yaml.safe_dump(data), encoding="utf-8")
    run = tmp_path / "run"

    assert main(["--spec", str(recipe), "--backend", "trl", "--stage", "midtrain", "--out", str(run)]) == 0
    stage = json.loads((run / "midtrain" / "stage.json").read_text(encoding="utf-8"))
    assert stage["trainer_args"]["gradient_accumulation_steps"] == 1  # 16 = 8 per device x 2 processes
    metrics = json.loads((run / "midtrain" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["global_step"] == 1, (run / "midtrain" / "launch.log").read_text(encoding="utf-8")[-3000:]
    checkpoint = run / "midtrain" / "checkpoint"
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "tokenizer_config.json").is_file()
    assert (run / "midtrain" / "DONE").is_file()
