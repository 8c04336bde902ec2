"""`midrl train --dry-run` on the paper recipe: complete commands for both backends, valid for each trainer."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from midrl_bench.pipeline.runner import plan_pipeline
from midrl_bench.pipeline.spec import load_spec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
PAPER = RECIPES / "paper-llama-3.2-3b.yaml"


def _dry_run(backend: str, out: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "midrl_bench", "train", "--spec", str(PAPER), "--backend", backend,
                           "--dry-run", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not out.exists()  # a dry run writes nothing
    return done.stdout


def test_dry_run_openrlhf_prints_both_valid_commands(tmp_path):
    from midrl_bench.adapters.openrlhf.parser import parse_and_validate

    text = _dry_run("openrlhf", tmp_path / "run")
    lines = [shlex.split(line[2:]) for line in text.splitlines() if line.startswith("$ ")]
    commands = [[token for token in line if "=" not in token or token.startswith("--")] for line in lines]  # no env
    assert [c[:5] for c in commands][0] == ["deepspeed", "--num_gpus", "4", "--module", "openrlhf.cli.train_sft"]
    assert commands[1][:3] == ["python3", "-m", "openrlhf.cli.train_ppo_ray"]
    parse_and_validate("sft", commands[0][5:])  # the printed text itself round-trips through OpenRLHF's parser
    parse_and_validate("ppo", commands[1][3:])


def test_dry_run_trl_configs_are_valid_trainer_configs(tmp_path):
    from trl import GRPOConfig, SFTConfig

    text = _dry_run("trl", tmp_path / "run")
    assert text.count("/adapters/trl/accelerate/zero2.yaml --num_processes 4 -m midrl_bench.adapters.trl.train "
                      "--stage-file") == 2  # multi-GPU default: the shipped ZeRO-2 config (tests/test_launch_commands.py)
    _, _, plans = plan_pipeline(load_spec(PAPER), "trl", "all", tmp_path / "run")
    sft_args, grpo_args = (plan.config["trainer_args"] for plan in plans)
    # bf16 is the one setting TrainingArguments checks against this machine's hardware (CPU here, GPUs in use)
    assert sft_args["bf16"] and grpo_args["bf16"]
    sft = SFTConfig(output_dir=str(tmp_path / "o"), **{**sft_args, "bf16": False})
    grpo = GRPOConfig(output_dir=str(tmp_path / "o"), **{**grpo_args, "bf16": False})
    assert sft.gradient_accumulation_steps * sft.per_device_train_batch_size * 4 == 128
    assert grpo.num_generations == 16 and grpo.max_completion_length == 3072 and grpo.beta == 0.0
    assert grpo.generation_batch_size * 4 == 128 * 16  # per-process share of 128 prompts x 16 samples
    assert grpo.use_vllm and grpo.vllm_max_model_length == 1024 + 3072
    assert plans[1].model_in == plans[0].checkpoint  # RL starts from the mid-trained model


@pytest.mark.parametrize("argv, message", [
    (["--spec", str(PAPER), "--backend", "trl", "--stage", "rl", "--dry-run"], None),  # valid: rl only
    (["--spec", "missing.yaml", "--backend", "trl", "--dry-run"], "missing.yaml: file not found"),  # bad path
])
def test_train_cli_errors_name_the_problem(argv, message, capsys, tmp_path):
    from midrl_bench.pipeline.cli import main

    code = main([*argv, "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    if message is None:
        assert code == 0 and "== trl rl:" in captured.out and "midtrain" not in captured.out.split("\n")[0]
        config = captured.out[captured.out.index("{"):]
        assert json.loads(config)["model_path"] == "meta-llama/Llama-3.2-3B-Instruct"  # no midtrain: from base
    else:
        assert code == 2 and message in captured.err
