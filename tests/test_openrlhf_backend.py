"""OpenRLHF backend without a GPU: every generated command line goes through OpenRLHF 0.11's own parser and checks
(run from its installed CLI files), and the data files render through its own SFTDataset / PromptDataset."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from midrl_bench.adapters.openrlhf.parser import OpenRLHFArgsError, known_options, parse_and_validate

from midrl_bench.pipeline.runner import make_context, plan_pipeline, prepare_stage_data
from midrl_bench.pipeline.spec import load_spec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def _validated(recipe: str, tmp_path: Path, stage: str = "all"):
    _, _, plans = plan_pipeline(load_spec(RECIPES / recipe), "openrlhf", stage, tmp_path / "run")
    return {plan.stage: (plan, parse_and_validate(plan.config["kind"], plan.config["argv"])) for plan in plans}


def test_paper_recipe_commands_are_complete_and_parser_valid(tmp_path):
    plans = _validated("paper-llama-3.2-3b.yaml", tmp_path)
    sft_plan, sft = plans["midtrain"]
    assert sft_plan.command[:5] == ["deepspeed", "--num_gpus", "4", "--module", "openrlhf.cli.train_sft"]
    assert sft.model.model_name_or_path == "meta-llama/Llama-3.2-3B-Instruct"
    assert (sft.data.input_key, sft.data.output_key, sft.data.apply_chat_template) == ("prompt", "completion", True)
    assert (sft.train.batch_size, sft.train.micro_batch_size, sft.train.max_epochs) == (128, 4, 3)
    assert sft.data.dataset.endswith("data/midtrain.jsonl") and sft.ckpt.output_dir.endswith("midtrain/checkpoint")

    ppo_plan, ppo = plans["rl"]
    assert ppo_plan.command[:3] == ["python3", "-m", "openrlhf.cli.train_ppo_ray"]
    assert ppo.actor.model_name_or_path.endswith("midtrain/checkpoint")  # RL starts from the mid-trained model
    assert ppo.algo.advantage.estimator == "group_norm"  # GRPO
    assert ppo.rollout.n_samples_per_prompt == 16 and ppo.rollout.max_new_tokens == 3072
    assert ppo.data.max_len == 1024 + 3072
    assert ppo.algo.kl.init_coef == 0.0 and not ppo.algo.kl.use_loss  # no KL term, no reference model
    assert ppo.critic.model_name_or_path is None  # group_norm needs no critic (set by OpenRLHF's own checks)
    assert ppo.reward.remote_url == [str(tmp_path / "run" / "rl" / "reward_func.py")]
    assert (ppo.rollout.batch_size, ppo.train.batch_size) == (128, 128 * 16)  # one optimiser step per rollout
    assert (ppo.data.input_key, ppo.data.label_key, ppo.data.apply_chat_template) == ("prompt", "answer", True)
    assert ppo.actor.adam.lr == 1e-6 and ppo.train.num_episodes == 1
    assert ppo.vllm.num_engines == 4 and ppo.train.colocate_all


def test_ray_job_launcher_wraps_the_same_valid_command(tmp_path):
    import yaml

    data = yaml.safe_load((RECIPES / "paper-llama-3.2-3b.yaml").read_text())
    data["backend_options"]["openrlhf"].update(launcher="ray_job", ray_address="http://head:8265")
    recipe = tmp_path / "ray.yaml"
    recipe.write_text(yaml.safe_dump(data))
    _, _, plans = plan_pipeline(load_spec(recipe), "openrlhf", "rl", tmp_path / "run")
    command = plans[0].command
    assert command[:5] == ["ray", "job", "submit", "--address", "http://head:8265"]
    entry = command[command.index("--") + 1:]
    assert entry[:3] == ["python3", "-m", "openrlhf.cli.train_ppo_ray"]
    parse_and_validate("ppo", entry[3:])


# (kind, argv, text of OpenRLHF's complaint)
REJECTED = [
    ("ppo", ["--actor.model_name_or_pat", "m"], "unknown option"),  # a prefix argparse would silently accept
    ("ppo", ["--rollout.n_samples_per_prompt", "four"], "invalid int value"),  # OpenRLHF's parser type check
    ("ppo", ["--actor.model_name_or_path", "m", "--reward.remote_url", "r.py",
             "--algo.advantage.estimator", "group_norm"], "requires n_samples_per_prompt > 1"),  # its own assert
    ("sft", ["--ds.param_dtype", "fp32"], "invalid choice"),  # not one of bf16/fp16
]


@pytest.mark.parametrize("kind, argv, message", REJECTED)
def test_openrlhf_parser_rejects(kind, argv, message):
    with pytest.raises(OpenRLHFArgsError, match=message):
        parse_and_validate(kind, argv)


def test_parser_is_openrlhfs_own():
    # flags named in OpenRLHF 0.11's docs exist exactly as spelled; old flat names are gone
    ppo = known_options("ppo")
    assert {"--actor.model_name_or_path", "--algo.advantage.estimator", "--rollout.n_samples_per_prompt",
            "--reward.remote_url", "--data.prompt_dataset"} <= ppo
    assert "--pretrain" not in ppo and "--n_samples_per_prompt" not in ppo
    assert "--model.model_name_or_path" in known_options("sft")


def _strategy(args):
    """What OpenRLHF's dataset classes use of the DeepSpeed strategy: its parsed args, print and rank-0 test."""
    return SimpleNamespace(args=args, print=lambda *a, **k: None, is_rank_0=lambda: True)


def test_data_files_render_through_openrlhf_datasets(tmp_path):
    from openrlhf.datasets import PromptDataset, SFTDataset
    from openrlhf.datasets.utils import blending_datasets
    from transformers import AutoTokenizer

    spec = load_spec(RECIPES / "tiny-cpu.yaml")
    ctx = make_context(spec, tmp_path / "run", build=True)
    plans = _validated("tiny-cpu.yaml", tmp_path)
    prepare_stage_data(ctx, "midtrain")
    prepare_stage_data(ctx, "rl")
    tokenizer = AutoTokenizer.from_pretrained(ctx.base_model)

    sft_args = plans["midtrain"][1]
    rows = blending_datasets(sft_args.data.dataset, None, _strategy(sft_args), dataset_split="train")
    sft = SFTDataset(rows, tokenizer, sft_args.data.max_len, _strategy(sft_args),
                     input_template=sft_args.data.input_template, num_processors=1)
    assert len(sft) == 32
    first = rows[0]
    assert sft.prompts[0] == tokenizer.apply_chat_template(first["prompt"], tokenize=False, add_generation_prompt=True)
    assert sft.responses[0] == first["completion"][0]["content"] + "<|end|>"  # the solution and its end-of-turn
    input_ids, _, loss_mask = sft[0]
    response_tokens = len(tokenizer(sft.responses[0], add_special_tokens=False)["input_ids"])
    assert int(loss_mask.sum()) == response_tokens  # loss on the completion only

    ppo_args = plans["rl"][1]
    prompt_rows = blending_datasets(ppo_args.data.prompt_dataset, None, _strategy(ppo_args), dataset_split="train")
    prompts = PromptDataset(prompt_rows, tokenizer, _strategy(ppo_args), input_template=ppo_args.data.input_template)
    _, prompt, label, _ = prompts[0]
    assert prompt.startswith("<|user|>What is 1 + 1?") and prompt.endswith("<|assistant|>")
    assert "\\boxed{}" in prompt  # the pack's instruction, one definition for training and evaluation
    assert label == "2" and len(prompts) == 16
