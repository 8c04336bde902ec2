"""The verl backend's plan without verl: commands, launchers, data files, reward file and errors (fast, main venv).
What verl itself makes of these is tested in tests/test_verl_validation.py."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml
from midrl_bench.adapters.verl import commands
from midrl_bench.adapters.verl.backend import latest_shards

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.runner import make_context, plan_pipeline, prepare_stage_data
from midrl_bench.pipeline.spec import load_spec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def _recipe(tmp_path: Path, base: str = "paper-llama-3.2-3b.yaml", **verl_options) -> Path:
    data = yaml.safe_load((RECIPES / base).read_text())
    data["backend_options"].setdefault("verl", {}).update(verl_options)
    for section, key in (("midtrain", "dataset"), ("rl", "prompts")):  # the copy lives elsewhere: absolute paths
        if (RECIPES / data[section][key]).is_file():
            data[section][key] = str(RECIPES / data[section][key])
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _plans(recipe: Path, tmp_path: Path, stage: str = "all"):
    return {plan.stage: plan for plan in plan_pipeline(load_spec(recipe), "verl", stage, tmp_path / "run")[2]}


def test_paper_recipe_midtrains_on_trl_and_runs_grpo_on_verl(tmp_path):
    plans = _plans(RECIPES / "paper-llama-3.2-3b.yaml", tmp_path)
    mid, rl = plans["midtrain"], plans["rl"]
    assert mid.command[:2] == ["accelerate", "launch"]  # the paper: SFT on TRL, ZeRO-2 by default on 4 GPUs
    assert mid.command[3].endswith("zero2.yaml") and mid.command[4:6] == ["--num_processes", "4"]
    assert mid.config["trainer"].startswith("trl") and mid.backend == "verl"
    assert rl.command[:3] == ["python3", "-m", "verl.trainer.main_ppo"]
    overrides = rl.command[3:]
    assert "algorithm.adv_estimator=grpo" in overrides and "actor_rollout_ref.rollout.n=16" in overrides
    assert "data.max_prompt_length=1024" in overrides and "data.max_response_length=3072" in overrides
    assert f"reward.custom_reward_function.path={tmp_path / 'run' / 'rl' / 'compute_score.py'}" in overrides
    assert f"actor_rollout_ref.model.path={tmp_path / 'run' / 'midtrain' / 'checkpoint'}" in overrides
    assert "trainer.nnodes=1" in overrides and "trainer.n_gpus_per_node=4" in overrides
    assert not any(item.startswith("+") for item in overrides)  # only existing keys: verl rejects typos
    assert rl.config["merge"][:5] == ["python3", "-m", "verl.model_merger", "merge", "--backend"]


def test_verl_sft_and_multi_node_commands(tmp_path):
    recipe = _recipe(tmp_path, midtrain_trainer="verl", num_nodes=4, head_address="10.0.0.1",
                     ray_address="http://10.0.0.1:8265", checker_pythonpath="/opt/checker-site")
    plans = _plans(recipe, tmp_path)
    for stage, module in (("midtrain", "verl.trainer.sft_trainer_ray"), ("rl", "verl.trainer.main_ppo")):
        command = plans[stage].command
        assert command[:5] == ["ray", "job", "submit", "--address", "http://10.0.0.1:8265"]
        runtime = json.loads(command[command.index("--runtime-env-json") + 1])  # reaches every node's workers
        assert runtime["env_vars"]["MIDRL_CHECKER_PYTHONPATH"] == "/opt/checker-site"
        entry = command[command.index("--") + 1:]
        assert entry[:3] == ["python3", "-m", module] and "trainer.nnodes=4" in entry
        assert plans[stage].config["cluster_setup"] == [
            "ray start --head --port 6379 --dashboard-host 0.0.0.0 --num-gpus 4",
            "ray start --address 10.0.0.1:6379 --num-gpus 4"]
    single = _plans(_recipe(tmp_path, midtrain_trainer="verl"), tmp_path)["midtrain"].command
    assert single[:7] == ["torchrun", "--standalone", "--nnodes", "1", "--nproc_per_node", "4", "-m"]
    assert single[7] == "verl.trainer.sft_trainer" and "data.messages_key=messages" in single


# (value, Hydra override text)
HYDRA_VALUES = [
    (None, "null"),  # None -> null
    (True, "true"),  # booleans lower-case
    (1e-06, "1e-06"),  # floats as Python writes them
    ("/runs/x/data.parquet", "/runs/x/data.parquet"),  # plain paths stay bare
    (["/a.parquet"], "[/a.parquet]"),  # lists in brackets
    ("has space", "'has space'"),  # anything outside the bare set is quoted
    ("null", "'null'"),  # a string that would read as null stays a string
    ("1.5", "'1.5'"),  # a numeric-looking string stays a string
    ("it's", "'it\\'s'"),  # quotes escaped
]


@pytest.mark.parametrize("value, text", HYDRA_VALUES)
def test_hydra_value(value, text):
    assert commands.hydra_value(value) == text


def test_dry_run_cli_prints_commands_config_and_grpo_settings(capsys, tmp_path):
    from midrl_bench.pipeline.cli import main

    assert main(["--spec", str(RECIPES / "paper-llama-3.2-3b.yaml"), "--backend", "verl", "--dry-run",
                 "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "== verl midtrain:" in out and "== verl rl:" in out
    rl_line = next(line for line in out.splitlines() if "verl.trainer.main_ppo" in line and line.startswith("$"))
    assert "actor_rollout_ref.actor.clip_ratio_high=0.2" in shlex.split(rl_line)
    assert '"verl.model_merger"' in out  # the merge step is part of the printed plan
    assert '"rollout importance-sampling correction": "algorithm.rollout_correction.rollout_is=None"' in out


def test_prepare_writes_verl_parquet_and_reward_file(tmp_path):
    import pyarrow.parquet as pq

    spec = load_spec(_recipe(tmp_path, base="tiny-cpu.yaml", midtrain_trainer="verl"))
    ctx, backend, plans = plan_pipeline(spec, "verl", "all", tmp_path / "run")
    ctx = make_context(spec, tmp_path / "run", build=True)
    for plan in plans:
        prepare_stage_data(ctx, plan.stage)
        backend.prepare(ctx, plan)
    rl = pq.read_table(ctx.data_file("rl_prompts.verl.parquet")).to_pylist()
    assert rl[0]["prompt"][0]["role"] == "user" and rl[0]["reward_model"] == {"style": "rule", "ground_truth": "2"}
    assert rl[0]["data_source"] == "midrl/rl_prompts" and rl[0]["extra_info"]["index"] == 0
    sft = pq.read_table(ctx.data_file("midtrain.verl.parquet")).to_pylist()
    assert [m["role"] for m in sft[0]["messages"]] == ["user", "assistant"]
    reward_file = (tmp_path / "run" / "rl" / "compute_score.py").read_text()
    assert "compute_score = verl_compute_score('math_correctness', {})" in reward_file
    assert "require_checker()" in reward_file


# (verl backend option or recipe change, error text)
ERRORS = [
    ({"ppo_overrides": {"actor_rollout_ref.rollout.n": 8}}, "ppo_overrides: ['actor_rollout_ref.rollout.n'] are set "
                                                            "by the recipe"),  # would fork the recipe
    ({"num_nodes": 0}, "num_nodes and num_gpus_per_node must be >= 1"),  # impossible cluster
    ({"midtrain_trainer": "deepspeed"}, "backend_options.verl.midtrain_trainer: 'deepspeed' is not one of"),  # typo
    ({"rollout_engne": "vllm"}, "backend_options.verl: unknown key(s) ['rollout_engne']"),  # misspelt option
]


@pytest.mark.parametrize("options, message", ERRORS)
def test_bad_options_name_the_field(options, message, tmp_path):
    with pytest.raises(ConfigError) as error:
        _plans(_recipe(tmp_path, **options), tmp_path)
    assert message in str(error.value)


def test_verl_sft_needs_whole_epochs_and_messages(tmp_path):
    data = yaml.safe_load((RECIPES / "paper-llama-3.2-3b.yaml").read_text())
    data["backend_options"]["verl"]["midtrain_trainer"] = "verl"
    data["midtrain"]["epochs"] = 1.5
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="midtrain.epochs: verl needs a whole number of epochs, got 1.5"):
        _plans(tmp_path / "r.yaml", tmp_path)


def test_latest_shards_follows_verls_tracker(tmp_path):
    root = tmp_path / "verl_checkpoints"
    (root / "global_step_7" / "actor").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="without a checkpoint"):
        latest_shards(root, "actor")
    (root / "latest_checkpointed_iteration.txt").write_text("7")
    assert latest_shards(root, "actor") == root / "global_step_7" / "actor"
    (root / "latest_checkpointed_iteration.txt").write_text("9")
    with pytest.raises(RuntimeError, match="names step 9"):
        latest_shards(root, "actor")


def test_run_without_verl_says_what_is_missing(tmp_path, monkeypatch):
    spec = load_spec(_recipe(tmp_path, base="tiny-cpu.yaml", python="/nonexistent/python3"))
    ctx, backend, plans = plan_pipeline(spec, "verl", "rl", tmp_path / "run")
    ctx = make_context(spec, tmp_path / "run", build=True)
    with pytest.raises(RuntimeError, match="`/nonexistent/python3` not found; running verl needs its GPU environment"):
        backend.run(ctx, plans[0])
