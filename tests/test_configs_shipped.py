"""Every shipped builder config loads strictly, and its backend options are ones the backend accepts."""

from pathlib import Path

import pytest

from midrl_bench.builder.config import load_config
from midrl_bench.config import from_dict

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_builder_config_loads(path):
    config = load_config(path)
    assert config.config_hash() == load_config(path).config_hash()  # canonical, deterministic


def test_paper_config_matches_the_paper_recipe():
    from midrl_bench.generation.vllm import VLLMOptions
    from midrl_bench.heuristics import load_library

    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "paper-gsm8k-llama-3.2-3b.yaml")
    options = from_dict(VLLMOptions, config.generation.options)  # the vllm backend accepts every option
    assert options.model == "meta-llama/Llama-3.2-3B-Instruct"  # the generator is the model later trained
    assert [s.name for s in config.sources] == ["gsm8k_train"]  # the paper's seed set
    assert config.heuristics.ids is None and len(load_library()) >= 64  # n reaches 64
    assert config.adherence.scorer == "reward_model" and config.write.max_n == 64
