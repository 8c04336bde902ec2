"""Recipe loading: both shipped recipes validate; bad keys and bad values fail with the key's dotted name."""

from pathlib import Path

import pytest
import yaml

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.spec import load_spec

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def test_shipped_recipes_load():
    tiny = load_spec(RECIPES / "tiny-cpu.yaml")
    assert tiny.model.build_tiny is not None and tiny.rl.steps == 2
    assert tiny.resolve_path(tiny.midtrain.dataset).is_file()  # recipe-relative data path
    paper = load_spec(RECIPES / "paper-llama-3.2-3b.yaml")
    # the paper's stated RL settings
    assert (paper.rl.num_generations, paper.rl.max_prompt_tokens, paper.rl.max_response_tokens) == (16, 1024, 3072)
    assert (paper.rl.beta, paper.rl.epochs, paper.rl.prompts) == (0.0, 1, "dapo_math_17k")
    assert paper.model.id_or_path == "meta-llama/Llama-3.2-3B-Instruct"


# (path of the key to change, new value, text the error must contain)
BAD_RECIPES = [
    (("rl", "learning_rat"), 1e-6, ".rl: unknown key(s) ['learning_rat']"),  # a typo: rejected with its dotted place
    (("midtrain", "epochs"), "three", "midtrain.epochs"),  # wrong type
    (("rl", "num_generations"), 1, "rl.num_generations"),  # a group of one cannot be group-normalised
    (("rl", "steps"), 5, "exactly one of `steps` and `epochs`"),  # both steps and epochs given
    (("midtrain", "micro_batch_size"), 5, "midtrain.batch_size"),  # 128 is not a multiple of 5
    (("eval", "checkpoints"), ["final"], "eval.checkpoints[0]"),  # unknown checkpoint name
    (("backend_options", "deepspeed"), {}, "backend_options"),  # unknown backend section
    (("model", "build_tiny"), {"hidden_size": 8}, "exactly one of `id_or_path` and `build_tiny`"),
]


@pytest.mark.parametrize("path, value, message", BAD_RECIPES)
def test_bad_recipe_names_the_field(tmp_path, path, value, message):
    data = yaml.safe_load((RECIPES / "paper-llama-3.2-3b.yaml").read_text())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        load_spec(recipe)
    assert message in str(error.value)
    assert str(recipe) in str(error.value)  # the file is named too


def test_backend_options_are_validated_by_the_backend(tmp_path):
    from midrl_bench.pipeline.runner import plan_pipeline

    data = yaml.safe_load((RECIPES / "tiny-cpu.yaml").read_text())
    recipe = tmp_path / "r.yaml"
    for section, options, message in [
        ("trl", {"launcher": "slurm"}, "backend_options.trl.launcher"),  # not a TRL launcher
        ("trl", {"grpo": {"num_generation": 4}}, "backend_options.trl.grpo.num_generation"),  # not a GRPOConfig field
        ("trl", {"grpo": {"beta": 0.1}}, "set by the recipe"),  # would fork the recipe's rl.beta
        ("openrlhf", {"num_gpu": 4}, "backend_options.openrlhf"),  # unknown option
        ("openrlhf", {"ppo_args": {"rollout.n_samples_per_prompt": 2}}, "set by the recipe"),
    ]:
        data["backend_options"] = {section: options}
        recipe.write_text(yaml.safe_dump(data))
        with pytest.raises(ConfigError) as error:
            plan_pipeline(load_spec(recipe), section, "all", tmp_path / "run")
        assert message in str(error.value), (section, options)
