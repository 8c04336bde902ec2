"""TRL end to end on CPU with the tiny recipe: mid-train (SFTTrainer), GRPO (GRPOTrainer + the real reward), then
`midrl compare` evaluates base / mid-trained / RL checkpoints with the pack through lm-eval's `hf` model.

One test runs the comparison once (about a minute) and then makes each check below; a fixture shared by several
tests would be rebuilt on every pytest-xdist worker that picks one of them up.
"""

import json
from pathlib import Path

import pytest

from midrl_bench.pipeline.compare_cli import main as compare_main

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


@pytest.mark.slow
def test_tiny_recipe_trains_with_trl_and_compares(tmp_path):
    compared = tmp_path / "compare"
    assert compare_main(["--spec", str(RECIPES / "tiny-cpu.yaml"), "--backends", "trl", "--out", str(compared)]) == 0
    check_midtrain_loss_falls_and_grpo_moves_the_weights(compared)
    check_checkpoints_load_and_generate(compared)
    check_run_directory_records_provenance_and_resumes(compared)
    check_compare_writes_table_json_and_plot(compared)


def _losses(stage_dir: Path) -> list[float]:
    history = json.loads((stage_dir / "metrics.json").read_text())["log_history"]
    return [entry["loss"] for entry in history if "loss" in entry]


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def check_midtrain_loss_falls_and_grpo_moves_the_weights(compared: Path) -> None:
    run = compared / "trl"
    losses = _losses(run / "midtrain")
    assert len(losses) >= 10 and sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5  # the loss fell
    base, mid, rl = _weights(run / "base-model"), _weights(run / "midtrain" / "checkpoint"), _weights(
        run / "rl" / "checkpoint")
    assert any(not mid[name].equal(base[name]) for name in base)  # mid-training changed the parameters
    assert any(not rl[name].equal(mid[name]) for name in mid)  # GRPO changed them again
    rl_metrics = json.loads((run / "rl" / "metrics.json").read_text())
    rewarded = [entry for entry in rl_metrics["log_history"] if "reward" in entry]
    assert len(rewarded) == 2 and any(entry["reward_std"] > 0 for entry in rewarded)  # a real learning signal
    counts = rl_metrics["reward_counts"]
    assert counts["scored"] == 2 * 4 * 4 and counts["correct"] > 0  # 2 steps x 4 prompts x 4 samples


def check_checkpoints_load_and_generate(compared: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    for stage in ("midtrain", "rl"):
        path = compared / "trl" / stage / "checkpoint"
        tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is 1 + 2?"}], tokenize=False,
                                               add_generation_prompt=True)
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=8, do_sample=False)
        assert out.shape[1] > ids["input_ids"].shape[1]


def check_run_directory_records_provenance_and_resumes(compared: Path) -> None:
    from midrl_bench.pipeline.runner import run_pipeline
    from midrl_bench.pipeline.spec import load_spec
    from midrl_bench.provenance import sha256_file

    run = compared / "trl"
    record = json.loads((run / "provenance.json").read_text())
    assert record["libraries"]["trl"] and record["seed"] == 0 and record["spec"]["name"] == "tiny-cpu"
    data = record["data"]
    assert data["midtrain"]["file_sha256"] == sha256_file(run / "data" / "midtrain.jsonl")
    assert data["rl"]["sha256"] == sha256_file(RECIPES / "tiny-cpu-data" / "rl_prompts.jsonl")
    assert data["rl"]["kept"] == 16 and data["rl"]["dropped_too_long"] == 0
    assert (run / "spec.yaml").read_text() == (RECIPES / "tiny-cpu.yaml").read_text()
    stamp = (run / "rl" / "metrics.json").stat().st_mtime_ns
    again = run_pipeline(load_spec(RECIPES / "tiny-cpu.yaml"), "trl", "all", run)  # finished stages are kept
    assert (run / "rl" / "metrics.json").stat().st_mtime_ns == stamp
    assert again.checkpoints["rl"] == str(run / "rl" / "checkpoint")


def check_compare_writes_table_json_and_plot(compared: Path) -> None:
    table = (compared / "compare.md").read_text()
    for label in ("base", "trl-midtrain", "trl-rl"):
        assert f"| {label} |" in table
    assert "midrl_math500 pass@1" in table and "midrl_math500 pass@2" in table  # repeats 2 -> k up to 2
    payload = json.loads((compared / "compare.json").read_text())
    assert payload["ks"] == [1, 2]
    for item in payload["checkpoints"]:
        scores = item["scores"]["midrl_math500"]
        assert 0.0 <= scores["pass@1"] <= scores["pass@2"] <= 1.0 and "pass@1_stderr" in scores
        results = json.loads((compared / "eval" / item["label"] / "results.json").read_text())
        assert Path(results["model"]).is_dir()  # evaluated from a local path with lm-eval's hf model
    assert (compared / "passk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_launched_stage_runs_the_stage_file_in_a_subprocess(tmp_path):
    """launcher: python runs `python -m midrl_bench.adapters.trl.train --stage-file ...`, the entry point that
    accelerate / torchrun launch on every process."""
    import yaml

    from midrl_bench.pipeline.runner import run_pipeline
    from midrl_bench.pipeline.spec import load_spec

    data = yaml.safe_load((RECIPES / "tiny-cpu.yaml").read_text())
    data["midtrain"].update(dataset=str(RECIPES / "tiny-cpu-data" / "midtrain.jsonl"), epochs=2)
    data["backend_options"]["trl"]["launcher"] = "python"
    recipe = tmp_path / "launched.yaml"
    recipe.write_text(yaml.safe_dump(data))
    result = run_pipeline(load_spec(recipe), "trl", "midtrain", tmp_path / "run")
    (plan,) = result.plans
    assert plan.command[1:4] == ["-m", "midrl_bench.adapters.trl.train", "--stage-file"] and not plan.in_process
    assert len(_losses(tmp_path / "run" / "midtrain")) == 4  # 32 rows / 16 per step x 2 epochs, logged each step
    assert (tmp_path / "run" / "midtrain" / "checkpoint" / "model.safetensors").is_file()
    assert result.metrics["midtrain"]["global_step"] == 4
