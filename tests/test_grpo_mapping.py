"""One GRPO spec, three backends: the mapping table's values are the values each library actually parses.

TRL's generated GRPOConfig arguments go through GRPOConfig itself (its __post_init__ derives the generation batch),
OpenRLHF's generated train_ppo_ray flags through OpenRLHF's own parser and checks; verl's overrides are parsed back
by verl's own Hydra composition in tests/test_verl_validation.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from midrl_bench.adapters.openrlhf import commands as openrlhf_commands
from midrl_bench.adapters.openrlhf.backend import OpenRLHFBackend
from midrl_bench.adapters.openrlhf.parser import parse_and_validate
from midrl_bench.adapters.trl.backend import TRLBackend
from midrl_bench.adapters.verl import commands as verl_commands
from midrl_bench.adapters.verl.backend import VerlBackend

from midrl_bench.pipeline import grpo_mapping
from midrl_bench.pipeline.spec import load_spec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
BACKENDS = ["trl", "openrlhf", "verl"]

# (rl field changes, rows expected to differ afterwards) on the paper recipe
VARIANTS = [
    ({}, ["std_eps"]),  # the paper recipe: only the libraries' fixed std epsilons differ
    ({"std_normalization": False}, []),  # mean-only advantages: OpenRLHF needs dr_grpo; no std, so no epsilon row
    ({"clip_epsilon_high": 0.28}, ["std_eps"]),  # DAPO's clip-higher reaches all three
    ({"loss_aggregation": "seq-mean-token-mean"}, ["std_eps"]),  # TRL loss_type grpo
    ({"importance_sampling_correction": True}, ["std_eps", "is_correction"]),  # three different IS schemes
    ({"beta": 0.01}, ["std_eps", "kl_where"]),  # KL in the loss: OpenRLHF and verl clamp k3 to [-10, 10], TRL not
    ({"lr_scheduler": "cosine_with_min_lr", "warmup_ratio": 0.05}, ["std_eps"]),  # schedule maps to verl's cosine
]


def _spec(**changes):
    spec = load_spec(RECIPES / "paper-llama-3.2-3b.yaml")
    return dataclasses.replace(spec, rl=dataclasses.replace(spec.rl, **changes))


def _trl_parsed(spec, tmp_path):
    """GRPOConfig built from the generated arguments (bf16 off: this CPU cannot validate a bf16 setup)."""
    from trl import GRPOConfig

    args = {**TRLBackend(spec).grpo_args(spec), "bf16": False, "use_cpu": True}
    return GRPOConfig(output_dir=str(tmp_path / "trl"), **args)


def _openrlhf_parsed(spec):
    values = openrlhf_commands.ppo_values(spec, OpenRLHFBackend(spec).options, "m", "d.jsonl", "r.py", "o", "l")
    return parse_and_validate("ppo", openrlhf_commands.flags(values))


@pytest.mark.parametrize("changes, differing", VARIANTS)
def test_table_rows_and_remaining_differences(changes, differing):
    table = grpo_mapping.mapping(_spec(**changes), BACKENDS)
    labels = dict(grpo_mapping.ROWS)
    found = grpo_mapping.differences(table)
    assert [line.split(":")[0] for line in found] == [labels[key] for key in differing]
    markdown = grpo_mapping.markdown(table)
    assert len(markdown.strip().splitlines()) == 2 + len(grpo_mapping.ROWS)  # header, rule, one line per setting


@pytest.mark.parametrize("changes, _", VARIANTS)
def test_trl_and_openrlhf_parse_the_tabled_values(changes, _, tmp_path):
    spec = _spec(**changes)
    table = grpo_mapping.mapping(spec, BACKENDS)
    trl, orl = _trl_parsed(spec, tmp_path), _openrlhf_parsed(spec)
    meaning = {backend: {key: cell.meaning for key, cell in cells.items()} for backend, cells in table.items()}
    processes = TRLBackend(spec).options.num_processes

    # group size, clipping, KL coefficient, sampling, lengths, learning rate: the same numbers in both parsers
    assert trl.num_generations == orl.rollout.n_samples_per_prompt == meaning["verl"]["group_size"]
    assert (trl.epsilon, trl.epsilon_high) == tuple(orl.actor.eps_clip_low_high) == (
        meaning["verl"]["clip_low"], meaning["verl"]["clip_high"])
    assert trl.beta == orl.algo.kl.init_coef == meaning["verl"]["kl_coef"]
    assert (trl.temperature, trl.top_p) == (orl.rollout.temperature, orl.rollout.top_p)
    assert trl.max_completion_length == orl.rollout.max_new_tokens == meaning["verl"]["max_response"]
    assert orl.data.max_len - orl.rollout.max_new_tokens == meaning["trl"]["max_prompt"] == spec.rl.max_prompt_tokens
    assert trl.learning_rate == orl.actor.adam.lr == meaning["verl"]["lr"]
    assert (trl.adam_beta1, trl.adam_beta2, trl.weight_decay, trl.max_grad_norm) == (
        *orl.actor.adam.betas, orl.actor.adam.weight_decay, orl.actor.max_norm) == meaning["verl"]["optimizer"]

    # batch: the same completions per optimiser step, and exactly one optimiser step per rollout batch
    completions = trl.per_device_train_batch_size * trl.gradient_accumulation_steps * processes
    assert completions == orl.train.batch_size == orl.rollout.batch_size * orl.rollout.n_samples_per_prompt
    assert completions == meaning["verl"]["completions_per_step"]
    assert trl.steps_per_generation == trl.gradient_accumulation_steps and trl.num_iterations == 1  # TRL's own derivation
    assert orl.train.max_epochs == 1 and meaning["verl"]["updates_per_rollout"] == 1

    # objective: what each library's parsed setting means
    assert (trl.scale_rewards == "group") == (orl.algo.advantage.estimator == "group_norm") == spec.rl.std_normalization
    if not spec.rl.std_normalization:  # OpenRLHF's group_norm always divides by std; mean-only needs dr_grpo
        assert orl.algo.advantage.estimator == "dr_grpo"
    assert {"dapo": "token-mean", "grpo": "seq-mean-token-mean"}[trl.loss_type] == orl.actor.loss_agg_mode \
        == meaning["verl"]["loss_agg"] == spec.rl.loss_aggregation
    assert trl.vllm_importance_sampling_correction == (orl.algo.advantage.is_correction_level != "off") \
        == spec.rl.importance_sampling_correction
    assert orl.algo.kl.use_loss == (spec.rl.beta > 0)


def test_trl_default_importance_sampling_is_overridden_by_the_recipe():
    """TRL 1.16 turns vLLM importance-sampling correction on by default; the generated args always say which."""
    from trl import GRPOConfig

    default = {f.name: f.default for f in dataclasses.fields(GRPOConfig)}["vllm_importance_sampling_correction"]
    assert default is True
    args = TRLBackend(_spec()).grpo_args(_spec())
    assert args["use_vllm"] is True and args["vllm_importance_sampling_correction"] is False


def test_verl_scheduler_outside_its_two_kinds_is_an_error():
    spec = _spec()
    mid = dataclasses.replace(spec.midtrain, lr_scheduler="linear")
    from midrl_bench.config import ConfigError

    with pytest.raises(ConfigError, match=r"midtrain.lr_scheduler: verl supports \['constant_with_warmup', "):
        verl_commands.sft_values(dataclasses.replace(spec, midtrain=mid), VerlBackend(spec).options, "m", "d", "o")


def test_compare_dry_run_prints_the_three_column_table(capsys):
    from midrl_bench.pipeline.compare_cli import main

    assert main(["--spec", str(RECIPES / "paper-llama-3.2-3b.yaml"), "--backends", "trl,openrlhf,verl",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "| setting | trl | openrlhf | verl | same |" in out
    assert "| clip epsilon high | epsilon_high=0.2 | actor.eps_clip_low_high[1]=0.2 | actor.clip_ratio_high=0.2 | yes |" \
        in out
    assert "vllm_importance_sampling_correction=False" in out
    assert "remaining differences:\n  - advantage std epsilon (library constant): trl 1e-4" in out


def test_compare_report_lists_remaining_differences(tmp_path):
    from midrl_bench.pipeline.compare import EvaluatedCheckpoint, write_report

    spec = _spec(importance_sampling_correction=True)
    evaluated = [EvaluatedCheckpoint(f"{b}-rl", b, "rl", "m", {"t": {"pass@1": 0.5, "pass@1_stderr": 0.1}})
                 for b in BACKENDS]
    paths = write_report(spec, evaluated, tmp_path)
    text = paths["markdown"].read_text()
    assert "## GRPO settings that still differ between backends" in text
    assert "- rollout importance-sampling correction: trl vllm_importance_sampling_correction=True" in text
    import json

    payload = json.loads(paths["json"].read_text())
    assert any(line.startswith("rollout importance-sampling correction") for line in
               payload["grpo_mapping"]["differences"])
