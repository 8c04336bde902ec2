"""The generation protocol's data types, `get_backend` validation, sample grouping, and the vLLM backend up to its
import (the engine backends' own logic is in tests/test_generation_engines.py)."""

from __future__ import annotations

import importlib.util

import pytest

from midrl_bench.config import ConfigError, from_dict
from midrl_bench.generation import GenerationBackend, get_backend
from midrl_bench.generation.base import (
    GenerationError,
    GenerationRequest,
    SamplingParams,
    check_unique_keys,
    sample_key,
    truncate_at_stop,
)

CHAT = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": -0.1}, "temperature"),  # negative temperature
        ({"top_p": 0.0}, "top_p"),  # top_p must be > 0
        ({"top_p": 1.5}, "top_p"),  # and <= 1
        ({"max_new_tokens": 0}, "max_new_tokens"),  # at least one token
        ({"stop": [""]}, "stop"),  # an empty stop string would cut everything
    ],
)
def test_sampling_params_reject_bad_values(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SamplingParams(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"key": "k"}, "exactly one of messages or prompt"),  # neither
        ({"key": "k", "prompt": "p", "messages": CHAT}, "exactly one"),  # both
        ({"key": "", "prompt": "p"}, "key"),  # empty key
        ({"key": "k", "messages": [{"role": "user"}]}, r"messages\[0\]"),  # message without content
        ({"key": "k", "prompt": "p", "seed": -1}, "seed"),  # negative seed
    ],
)
def test_request_validation_names_the_field(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        GenerationRequest(**kwargs)


def test_sampling_params_load_from_config_mapping():
    params = from_dict(SamplingParams, {"temperature": 0, "max_new_tokens": 4, "stop": ["\n\n"]})
    assert params.greedy and params.temperature == 0.0 and params.stop == ["\n\n"]
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(SamplingParams, {"temprature": 0.5})


@pytest.mark.parametrize(
    "text, stop, expected",
    [
        ("a\n\nb", ["\n\n"], ("a", True)),  # cut before the stop string
        ("abc", ["x"], ("abc", False)),  # no stop string present
        ("one. two! three", ["!", "."], ("one", True)),  # the earliest of several wins
        ("abc", [], ("abc", False)),  # no stop strings at all
    ],
)
def test_truncate_at_stop(text, stop, expected):
    assert truncate_at_stop(text, stop) == expected


def test_sample_key_keeps_slashes_of_problem_ids():
    assert sample_key("train/algebra/1.json", "working_backwards", 3) == "train/algebra/1.json|working_backwards|3"


def test_duplicate_keys_are_rejected():
    requests = [GenerationRequest(key="same", prompt="a"), GenerationRequest(key="same", prompt="b")]
    with pytest.raises(GenerationError, match="duplicate request key 'same'"):
        check_unique_keys(requests, "hf")


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("nope", {}, "unknown generation backend 'nope'"),  # unknown backend name
        ("file", {"paths": ["x.jsonl"], "colour": 1}, r"backend\.file: unknown key\(s\) \['colour'\]"),  # typo'd option
        ("openai", {"model": "m"}, "missing required key 'base_url'"),  # required option absent
        ("openai", {"base_url": "127.0.0.1:8000", "model": "m"}, "http://"),  # url without scheme
        ("file", {"paths": []}, "at least one"),  # nothing to read
    ],
)
def test_get_backend_validates_options(name, options, message):
    with pytest.raises(ConfigError, match=message):
        get_backend(name, **options)


def test_file_backend_satisfies_the_protocol(tmp_path):
    assert isinstance(get_backend("file", paths=[str(tmp_path / "c.jsonl")]), GenerationBackend)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_backend_without_vllm_gives_install_hint():
    with pytest.raises(ImportError, match=r"midrl-bench\[vllm\]"):
        get_backend("vllm", model="m")


@pytest.mark.parametrize(
    "requests, expected",
    [
        # samples of one prompt with the same sampling: one group (one engine request with n = 3)
        ([("a|h|0", "q1"), ("a|h|1", "q1"), ("a|h|2", "q1")], [[0, 1, 2]]),
        # a new prompt starts a new group, even when an earlier one comes back later (only consecutive ones merge)
        ([("a|h|0", "q1"), ("a|g|0", "q2"), ("a|h|1", "q1")], [[0], [1], [2]]),
        # nothing to group
        ([], []),
    ],
)
def test_group_samples_merges_consecutive_samples_of_one_prompt(requests, expected):
    from midrl_bench.generation.base import group_samples

    built = [GenerationRequest(key=key, messages=[{"role": "user", "content": text}], seed=i)
             for i, (key, text) in enumerate(requests)]
    assert group_samples(built) == expected


def test_group_samples_splits_on_other_sampling_or_template_variables():
    from midrl_bench.generation.base import group_samples

    hot, cold = SamplingParams(temperature=1.0), SamplingParams(temperature=0.5)
    built = [GenerationRequest(key="0", prompt="p", sampling=hot), GenerationRequest(key="1", prompt="p", sampling=cold),
             GenerationRequest(key="2", messages=CHAT, chat_template_kwargs={"date_string": "1 Jan 2024"}),
             GenerationRequest(key="3", messages=CHAT, chat_template_kwargs={"date_string": "2 Jan 2024"})]
    assert group_samples(built) == [[0], [1], [2], [3]]
