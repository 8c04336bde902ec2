"""The verl backend checked by verl 0.9.1 itself, in its own environment (`.verl-venv`, made by .ci/run).

One subprocess runs midrl_bench.adapters.verl.check with the verl environment's Python: Hydra's compose API on
verl's own ppo_trainer.yaml / sft_trainer_engine.yaml with the generated overrides (a misspelt key must fail),
verl's validate_config and config dataclasses, its RLHFDataset / MultiTurnSFTDataset on the generated parquet files,
and the reward file loaded by verl's load_reward_manager and scored by its reward manager from token ids. A second
run without the checker's side directory shows the reward refusing to score with verl's antlr4 4.9.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from _reward_table import ANSWERS, COMPLETIONS, EXPECTED, UNJUDGED
from midrl_bench.adapters.verl import commands
from midrl_bench.adapters.verl.validate import run_verl_check, verl_python

from midrl_bench.pipeline.runner import make_context, plan_pipeline, prepare_stage_data
from midrl_bench.pipeline.spec import load_spec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not verl_python().is_file(),
    reason=f"verl validation environment not found at {verl_python()}: create it as .ci/run does "
           "(python3 -m venv .verl-venv; torch CPU + verl==0.9.1 --no-deps + hydra-core ...) or set MIDRL_VERL_PYTHON")]

TYPOS = [  # (config, overrides verl must reject)
    ("ppo_trainer", ["actor_rollout_ref.actor.clip_ratio_hgh=0.2"]),  # misspelt key
    ("ppo_trainer", ["trainer.nnode=2"]),  # misspelt key one level down
    ("ppo_trainer", ["algorithm.kl_ctrl.kl_coeff=0.1"]),  # misspelt key three levels down
    ("sft_trainer_engine", ["optim.learning_rate=1e-5"]),  # a TRL name in verl's SFT config
]


def _prepared(tmp_path: Path, recipe: Path, stage: str):
    spec = load_spec(recipe)
    ctx, backend, plans = plan_pipeline(spec, "verl", stage, tmp_path / "run")
    ctx = make_context(spec, tmp_path / "run", build=True)
    for plan in plans:
        prepare_stage_data(ctx, plan.stage)
        backend.prepare(ctx, plan)
    return ctx, plans


def _paper_variant(tmp_path: Path, **verl_options) -> Path:
    data = yaml.safe_load((RECIPES / "paper-llama-3.2-3b.yaml").read_text())
    data["backend_options"]["verl"].update(verl_options)
    path = tmp_path / f"paper-{'-'.join(map(str, verl_options.values())) or 'as-is'}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def verl_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verl")
    ctx, plans = _prepared(tmp, RECIPES / "tiny-cpu.yaml", "all")
    sft_plan, rl_plan = plans
    cases = [{"solution_str": c, "ground_truth": g} for c, g in zip(COMPLETIONS, ANSWERS, strict=True)]
    checks = [
        {"name": "tiny-rl", "kind": "ppo", "overrides": commands.overrides(rl_plan.config["values"]),
         "tokenizer": ctx.base_model, "parquet": rl_plan.config["values"]["data.train_files"][0],
         "reward_cases": cases, "skip_sections": ["actor_rollout_ref.model"]},  # its model is built by SFT first
        {"name": "tiny-sft", "kind": "sft", "overrides": commands.overrides(sft_plan.config["values"]),
         "tokenizer": ctx.base_model, "parquet": sft_plan.config["values"]["data.train_files"][0]},
    ]
    for name, recipe in (("paper-rl", RECIPES / "paper-llama-3.2-3b.yaml"),
                         ("paper-rl-4-nodes", _paper_variant(tmp, num_nodes=4, launcher="ray_job"))):
        plan = plan_pipeline(load_spec(recipe), "verl", "all", tmp / name)[2][-1]
        checks.append({"name": name, "kind": "ppo", "overrides": commands.overrides(plan.config["values"]),
                       "skip_sections": ["actor_rollout_ref.model"]})  # a Hub id: no download in CI
    job = {"checks": checks, "must_fail": [{"config": c, "overrides": o} for c, o in TYPOS]}
    return run_verl_check(job), {"rl": rl_plan, "sft": sft_plan, "ctx": ctx, "cases": cases}


def _resolved(config: dict, dotted: str):
    for part in dotted.split("."):
        config = config[part]
    return config


def test_every_generated_override_composes_with_verls_own_config(verl_report):
    report, plans = verl_report
    assert "error" not in report, report.get("error")
    assert report["verl_version"] == "0.9.1"
    for name, plan in (("tiny-rl", plans["rl"]), ("tiny-sft", plans["sft"])):
        resolved = report["checks"][name]["resolved"]
        for key, value in plan.config["values"].items():  # each value arrives where we meant it, unchanged
            assert _resolved(resolved, key) == (list(value) if isinstance(value, tuple) else value), key


def test_paper_recipe_single_and_multi_node_pass_verls_validation(verl_report):
    report, _ = verl_report
    single, multi = report["checks"]["paper-rl"], report["checks"]["paper-rl-4-nodes"]
    assert single["resolved"]["trainer"]["nnodes"] == 1 and single["resolved"]["trainer"]["n_gpus_per_node"] == 4
    assert multi["resolved"]["trainer"]["nnodes"] == 4
    actor = single["dataclasses"]["actor_rollout_ref.actor"]  # verl's own FSDPActorConfig, post-init checks run
    assert (actor["clip_ratio_low"], actor["clip_ratio_high"], actor["loss_agg_mode"]) == (0.2, 0.2, "token-mean")
    assert actor["use_kl_loss"] is False and actor["ppo_epochs"] == 1 and actor["rollout_n"] == 16
    assert single["reference_policy"] is False and single["critic"] is False  # beta 0: no ref model; GRPO: no critic
    assert single["dataclasses"]["algorithm"]["adv_estimator"] == "grpo"


def test_misspelt_keys_are_rejected_by_verls_composition(verl_report):
    report, _ = verl_report
    for (config, overrides), error in zip(TYPOS, report["rejected"], strict=True):
        assert error is not None, f"{config} accepted {overrides}"
        key = overrides[0].split("=")[0]
        assert "Could not override" in error and key in error, error


def test_rl_parquet_read_by_verls_rlhfdataset(verl_report, tmp_path):
    from midrl_bench.jsonl import read_jsonl

    report, plans = verl_report
    records = list(read_jsonl(plans["ctx"].data_file("rl_prompts.jsonl")))
    rows = report["checks"]["tiny-rl"]["rows"]
    assert len(rows) == len(records) == 16
    for index, (row, record) in enumerate(zip(rows, records, strict=True)):
        assert row["raw_prompt"] == record["prompt"]  # chat messages, templated by verl at rollout
        assert row["ground_truth"] == record["answer"] and row["data_source"] == "midrl/rl_prompts"
        assert row["extra_info"] == {"index": index, "id": record["id"], "split": "train"}


def test_sft_parquet_trains_on_assistant_turns_only(verl_report):
    from midrl_bench.jsonl import read_jsonl

    report, plans = verl_report
    records = list(read_jsonl(plans["ctx"].data_file("midtrain.jsonl")))
    rows = report["checks"]["tiny-sft"]["rows"]
    assert len(rows) == len(records) == 32
    for row, record in zip(rows, records, strict=True):
        answer = record["completion"][0]["content"]
        assert row["loss_text"] == answer + "<|end|>"  # verl's loss mask: the assistant turn and its end marker
        assert record["prompt"][0]["content"] in row["text"]


def test_verl_reward_path_gives_the_shared_table(verl_report):
    """The same rewards as TRL's and OpenRLHF's shims (tests/test_pipeline_reward.py) on the shared table."""
    report, _ = verl_report
    rewards = report["checks"]["tiny-rl"]["rewards"]
    assert [item["score"] for item in rewards] == EXPECTED
    assert [bool(item["extra"]["unjudged"]) for item in rewards] == UNJUDGED


def test_reward_refuses_to_score_with_verls_antlr4(tmp_path):
    """Without the checker's side directory the workers inherit verl's antlr4 4.9.3: loading the reward fails."""
    ctx, (plan,) = _prepared(tmp_path, RECIPES / "tiny-cpu.yaml", "rl")
    job = {"checks": [{"name": "rl", "kind": "ppo", "overrides": commands.overrides(plan.config["values"]),
                       "tokenizer": ctx.base_model, "reward_cases": [{"solution_str": "\\boxed{4}",
                                                                     "ground_truth": "4"}]}]}
    report = run_verl_check(job, with_checker_site=False)
    assert "refuses to score" in report["error"] and "antlr4-python3-runtime==4.13.2" in report["error"]
    assert "found 4.9.3" in report["error"] and "MIDRL_CHECKER_PYTHONPATH" in report["error"]


def test_unchanged_spec_fields_are_what_verl_receives():
    """Guard for the mapping: the verl values come from the recipe, not from verl's defaults."""
    spec = load_spec(RECIPES / "paper-llama-3.2-3b.yaml")
    spec = dataclasses.replace(spec, rl=dataclasses.replace(spec.rl, clip_epsilon_high=0.28, std_normalization=False))
    from midrl_bench.adapters.verl.backend import VerlBackend

    values = commands.grpo_values(spec, VerlBackend(spec).options, "m", "d", "r", "o")
    assert values["actor_rollout_ref.actor.clip_ratio_high"] == 0.28
    assert values["algorithm.norm_adv_by_std_in_grpo"] is False


def test_mapping_table_values_are_what_verl_parses(verl_report):
    """The verl column of the GRPO mapping table, read back from verl's own resolved config and dataclasses."""
    from midrl_bench.pipeline.grpo_mapping import mapping

    report, _ = verl_report
    spec = load_spec(RECIPES / "paper-llama-3.2-3b.yaml")
    meaning = {key: cell.meaning for key, cell in mapping(spec, ["verl"])["verl"].items()}
    check = report["checks"]["paper-rl"]
    resolved, actor = check["resolved"], check["dataclasses"]["actor_rollout_ref.actor"]
    optim = resolved["actor_rollout_ref"]["actor"]["optim"]
    rollout = resolved["actor_rollout_ref"]["rollout"]
    assert meaning["group_size"] == rollout["n"] == actor["rollout_n"]
    assert meaning["std_norm"] == resolved["algorithm"]["norm_adv_by_std_in_grpo"]
    assert meaning["loss_agg"] == actor["loss_agg_mode"]
    assert (meaning["clip_low"], meaning["clip_high"]) == (actor["clip_ratio_low"], actor["clip_ratio_high"])
    assert meaning["kl_coef"] == actor["kl_loss_coef"] and meaning["kl_where"] == "off" and not actor["use_kl_loss"]
    assert meaning["is_correction"] == "off" and resolved["algorithm"]["rollout_correction"]["rollout_is"] is None
    assert (meaning["temperature"], meaning["top_p"]) == (rollout["temperature"], rollout["top_p"])
    assert (meaning["max_prompt"], meaning["max_response"]) == (rollout["prompt_length"], rollout["response_length"])
    assert meaning["prompts_per_step"] == actor["ppo_mini_batch_size"] == resolved["data"]["train_batch_size"]
    assert meaning["micro_batch"] == actor["ppo_micro_batch_size_per_gpu"]
    assert meaning["lr"] == optim["lr"]
    assert tuple(meaning["optimizer"]) == (*optim["betas"], optim["weight_decay"], optim["clip_grad"])
    assert meaning["schedule"][0] == optim["lr_scheduler_type"] == "constant"
