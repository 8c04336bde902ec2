"""The engine backends' own logic: GPU mapping through an inherited CUDA_VISIBLE_DEVICES, `n = samples` grouping,
optional seeds, Ray Data LLM rows and windows, and the engine supervisor's ordering, pipelining, crash and timeout
handling (real spawned processes; the worker functions below stand in for the vLLM engine, which needs a GPU).

What these backends emit is also checked with vLLM's and Ray's own classes (`vllm.SamplingParams`,
`vllm.engine.arg_utils.EngineArgs`, `ray.data.llm.vLLMEngineProcessorConfig`) in a subprocess, when they can be
imported on this CPU machine: installed, or `pip install --no-deps --target DIR vllm ray` plus their small pure-Python
dependencies and `MIDRL_ENGINE_SITE=DIR` (CUDA torch is never pulled in).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from midrl_bench.generation.base import GenerationError, GenerationRequest, SamplingParams
from midrl_bench.generation.engines import EngineSupervisor
from midrl_bench.generation.ray_llm import RayLLMOptions, processor_config_kwargs, request_row, to_generation, windows
from midrl_bench.generation.vllm import VLLMOptions, engine_devices, engine_kwargs, sampling_kwargs, split_for_engines

CHAT = [{"role": "user", "content": "What is 2 + 2?"}]
HOT = SamplingParams(temperature=0.8, top_p=0.95, max_new_tokens=32)


def _pair(problem: str, samples: int, seed0: int = 10) -> list[GenerationRequest]:
    """The builder's shape: `samples` consecutive requests for one (problem, heuristic) with their own seeds."""
    messages = [{"role": "user", "content": f"Solve {problem}."}]
    return [GenerationRequest(key=f"{problem}|h|{i}", messages=messages, sampling=HOT, seed=seed0 + i)
            for i in range(samples)]


@pytest.mark.parametrize(("options", "inherited", "expected"), [
    ({"model": "m"}, None, [["0"]]),  # nothing inherited: logical = physical
    ({"model": "m", "tensor_parallel_size": 2, "data_parallel_size": 2}, None, [["0", "1"], ["2", "3"]]),  # 2 x tp2
    ({"model": "m", "data_parallel_size": 2}, "4,5,6,7", [["4"], ["5"]]),  # Slurm gave GPUs 4-7: use 4 and 5
    ({"model": "m", "data_parallel_size": 2, "gpu_ids": [1, 3]}, "4,5,6,7", [["5"], ["7"]]),  # ids index the visible list
    ({"model": "m"}, "GPU-aa11,GPU-bb22", [["GPU-aa11"]]),  # UUIDs pass through unchanged
])
def test_engine_devices_map_logical_ids_through_the_inherited_list(options, inherited, expected):
    assert engine_devices(VLLMOptions(**options), inherited=inherited) == expected


def test_engine_devices_refuse_more_gpus_than_visible():
    with pytest.raises(ValueError, match="CUDA_VISIBLE_DEVICES='4,5' makes only 2 GPU"):
        engine_devices(VLLMOptions(model="m", data_parallel_size=4), inherited="4,5")


def test_vllm_groups_samples_into_n_and_seeds_only_on_request():
    group = _pair("p", 4)
    assert sampling_kwargs(group, per_request_seed=False) == {
        "n": 4, "temperature": 0.8, "top_p": 0.95, "max_tokens": 32, "stop": None, "seed": None}
    assert sampling_kwargs(group, per_request_seed=True)["seed"] == 10  # the pair's first sample's seed
    assert VLLMOptions(model="m").per_request_seed is False  # off by default: vLLM keeps its fast sampler


def test_split_for_engines_deals_whole_pairs_and_covers_every_request_once():
    requests = _pair("a", 3) + _pair("b", 3) + _pair("c", 3)
    slices = split_for_engines(requests, 2)
    assert slices == [[0, 1, 2, 6, 7, 8], [3, 4, 5]]  # pairs a and c on engine 0, pair b on engine 1
    assert sorted(i for positions in slices for i in positions) == list(range(9))


def test_engine_kwargs_carry_parallelism_and_revision():
    kwargs = engine_kwargs(VLLMOptions(model="m", revision="abc", tensor_parallel_size=2, max_model_len=4096))
    assert (kwargs["tensor_parallel_size"], kwargs["revision"], kwargs["max_model_len"]) == (2, "abc", 4096)


def test_ray_rows_windows_and_outputs():
    requests = _pair("p", 2)
    row = request_row(requests[1], 7, per_request_seed=False)
    assert row == {"midrl_position": 7, "messages": requests[1].messages,
                   "sampling_params": {"n": 1, "temperature": 0.8, "top_p": 0.95, "max_tokens": 32}}
    assert request_row(requests[1], 7, per_request_seed=True)["sampling_params"]["seed"] == 11
    shards = [(i, _pair(f"s{i}", 3)) for i in range(5)]
    assert [[index for index, _ in window] for window in windows(shards, 7)] == [[0, 1, 2], [3, 4]]
    done = to_generation(requests[0], {"generated_text": "4 END junk", "num_generated_tokens": 32, "num_input_tokens": 9})
    assert (done.text, done.finish_reason, done.prompt_tokens) == ("4 END junk", "length", 9)  # budget used up
    short = to_generation(requests[0], {"generated_text": "4", "num_generated_tokens": 2, "num_input_tokens": 9})
    assert short.finish_reason == "stop"


def test_ray_processor_config_applies_the_pinned_date_in_its_chat_stage():
    kwargs = processor_config_kwargs(RayLLMOptions(model="m", concurrency=8), {"date_string": "26 Jul 2024"})
    assert kwargs["chat_template_stage"] == {"enabled": True, "chat_template_kwargs": {"date_string": "26 Jul 2024"}}
    assert kwargs["concurrency"] == 8 and kwargs["engine_kwargs"]["enable_prefix_caching"] is True
    assert processor_config_kwargs(RayLLMOptions(model="m"), None)["chat_template_stage"] is False  # raw prompts


# ------------------------------------------------------------------ the supervisor, with real worker processes
def _echo_worker(options, devices, inbox, outbox):
    """Answers each job with one Generation per request; records the order jobs arrived in its first text."""
    from midrl_bench.generation.base import Generation

    outbox.put(("ready", None))
    while (job := inbox.get()) is not None:
        job_id, requests = job
        time.sleep(options.get("delay_s", 0))
        outbox.put((job_id, [Generation(key=r.key, text=f"{devices[0]}:{r.key}", prompt_tokens=1,
                                        completion_tokens=1, finish_reason="stop") for r in requests]))


def _crash_worker(options, devices, inbox, outbox):
    outbox.put(("ready", None))
    inbox.get()
    os._exit(3)  # an engine killed by the OOM killer or a CUDA fault


def _silent_worker(options, devices, inbox, outbox):
    outbox.put(("ready", None))
    inbox.get()
    time.sleep(60)  # a hung engine: never answers


def _broken_worker(options, devices, inbox, outbox):
    outbox.put(("failed", "ValueError: model not found"))


def _supervisor(target, **options):
    return EngineSupervisor(target, options, [["0"], ["1"]], start_timeout_s=60, job_timeout_s=2, jobs_in_flight=2,
                            label="test", stop_grace_s=1)


def test_supervisor_returns_shards_in_order_from_every_engine():
    supervisor = _supervisor(_echo_worker, delay_s=0.05)
    try:
        shards = [(i, _pair(f"s{i}", 2) + _pair(f"t{i}", 2)) for i in range(4)]
        results = list(supervisor.run(iter(shards), split_for_engines))
    finally:
        supervisor.close()
    assert [index for index, _ in results] == [0, 1, 2, 3]
    for (_, generations), (_, requests) in zip(results, shards, strict=True):
        assert [g.key for g in generations] == [r.key for r in requests]
        assert {g.text.split(":")[0] for g in generations} == {"0", "1"}  # both engines worked on every shard


@pytest.mark.parametrize(("target", "message"), [
    (_crash_worker, r"engine 0 on GPUs \['0'\] died during shard 0 \(exit code 3\)"),  # crash: reported at once
    (_silent_worker, r"gave no answer within 2 s during shard 0; stopped it"),  # hang: reported after the timeout
])
def test_supervisor_turns_engine_failures_into_errors(target, message):
    supervisor = _supervisor(target)
    started = time.monotonic()
    with pytest.raises(GenerationError, match=message):
        list(supervisor.run(iter([(0, _pair("p", 2))]), split_for_engines))
    assert time.monotonic() - started < 20
    assert supervisor._workers == []  # every engine process was stopped


def test_supervisor_reports_a_failed_start():
    with pytest.raises(GenerationError, match="engine 0 on GPUs .* failed to start: ValueError: model not found"):
        _supervisor(_broken_worker)


# ------------------------------------------------------------------ checked with vLLM's and Ray's own classes
def _engine_site() -> str | None:
    cache = Path(os.environ.get("MIDRL_CACHE_DIR", Path(__file__).resolve().parents[1] / ".ci-cache"))
    site = os.environ.get("MIDRL_ENGINE_SITE") or str(cache / "engine-site")  # where .ci/engine-site puts it
    if Path(site).is_dir() and (Path(site) / ".complete").is_file():
        return site
    found = importlib.util.find_spec("vllm") and importlib.util.find_spec("ray")
    return "" if found else None


VALIDATE = r"""
import dataclasses, json, sys
import vllm
from vllm.engine.arg_utils import EngineArgs
from ray.data.llm import vLLMEngineProcessorConfig
from midrl_bench.generation.base import GenerationRequest, SamplingParams
from midrl_bench.generation import vllm as ours, ray_llm
model = sys.argv[1]
hot = SamplingParams(temperature=0.8, top_p=0.95, max_new_tokens=32, stop=["\n\n"])
group = [GenerationRequest(key=f"k{i}", prompt="p", sampling=hot, seed=5 + i) for i in range(4)]
out = {}
for seeded in (False, True):
    params = vllm.SamplingParams(**ours.sampling_kwargs(group, seeded))
    out[f"sampling_seeded_{seeded}"] = [params.n, params.seed, params.max_tokens, params.stop]
engine = ours.engine_kwargs(ours.VLLMOptions(model=model, tensor_parallel_size=2, data_parallel_size=4))
out["engine_tp"] = EngineArgs(**engine).tensor_parallel_size
ray_options = ray_llm.RayLLMOptions(model=model, tensor_parallel_size=2, concurrency=4, max_model_len=4096)
config = vLLMEngineProcessorConfig(**ray_llm.processor_config_kwargs(ray_options, {"date_string": "26 Jul 2024"}))
out["ray_engine_tp"] = EngineArgs(model=model, **ray_llm.engine_kwargs(ray_options)).tensor_parallel_size
out["ray_concurrency"] = config.concurrency
fields = {f.name for f in dataclasses.fields(EngineArgs)}
out["serve_flags"] = sorted(flag for flag in sys.argv[2:] if flag.lstrip("-").replace("-", "_") not in fields)
print(json.dumps(out))
"""
SERVE_FLAGS = ["--data-parallel-size", "--tensor-parallel-size", "--max-model-len", "--gpu-memory-utilization",
               "--dtype", "--revision", "--seed", "--enable-prefix-caching"]  # the flags docs/gpu.md's `vllm serve` uses


def test_what_we_emit_is_accepted_by_vllm_and_ray():
    site = _engine_site()
    if site is None:
        pytest.skip("vLLM and Ray are not importable here (set MIDRL_ENGINE_SITE to a --no-deps install)")
    from midrl_bench.generation.local_models import smollm2_135m_instruct_dir

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", VALIDATE, str(smollm2_135m_instruct_dir()), *SERVE_FLAGS],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["sampling_seeded_False"] == [4, None, 32, ["\n\n"]]  # one request, n = 4 samples, unseeded
    assert out["sampling_seeded_True"] == [4, 5, 32, ["\n\n"]]
    assert out["engine_tp"] == 2 and out["ray_engine_tp"] == 2 and out["ray_concurrency"] == 4
    assert out["serve_flags"] == []  # every `vllm serve` flag we document is an EngineArgs field
