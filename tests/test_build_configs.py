"""The three paper-scale builder configs (vLLM offline, `vllm serve` behind `openai`, Ray Data LLM) define the same
dataset: only the generation engine differs, so any of them reproduces the same recipe."""

from pathlib import Path

import pytest

from midrl_bench.builder.config import load_config
from midrl_bench.config import to_dict

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
ENGINES = {  # config file -> (backend, what keeps the GPUs busy)
    "paper-gsm8k-llama-3.2-3b.yaml": ("vllm", "data_parallel_size"),  # offline engines, one per GPU
    "paper-gsm8k-llama-3.2-3b-server.yaml": ("openai", "max_concurrency"),  # a `vllm serve --data-parallel-size` server
    "paper-gsm8k-llama-3.2-3b-ray.yaml": ("ray", "concurrency"),  # Ray Data LLM engines across a cluster
}


def _without_engine(name: str) -> dict:
    data = to_dict(load_config(CONFIGS / name))
    data["generation"].pop("options")
    data["generation"].pop("backend")
    return data


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_paper_configs_differ_only_in_the_engine(name):
    backend, knob = ENGINES[name]
    config = load_config(CONFIGS / name)
    assert config.generation.backend == backend and knob in config.generation.options
    assert _without_engine(name) == _without_engine("paper-gsm8k-llama-3.2-3b.yaml")
    assert config.generation.chat_template_kwargs == {"date_string": "26 Jul 2024"}  # prompts do not change daily
    assert config.adherence.devices == ["auto"]  # the reward model runs on the GPUs


def test_paper_generation_is_unseeded_and_grouped_on_vllm():
    vllm = load_config(CONFIGS / "paper-gsm8k-llama-3.2-3b.yaml").generation.options
    server = load_config(CONFIGS / "paper-gsm8k-llama-3.2-3b-server.yaml").generation.options
    assert vllm["per_request_seed"] is False and server["send_seed"] is False  # vLLM keeps its fast sampler
    assert server["group_samples"] is True  # n = samples_per_pair per request
