"""`vllm` backend: vLLM's offline engine (`vllm.LLM`), tensor parallel inside an engine, data parallel over engines.

Each of `data_parallel_size` engines runs in its own spawned process on `tensor_parallel_size` GPUs. GPUs are
*logical* indices into the `CUDA_VISIBLE_DEVICES` this process inherited (Slurm, a shared node), so `gpu_ids:
[0, 1]` under `CUDA_VISIBLE_DEVICES=4,5,6,7` uses physical GPUs 4 and 5; the parent's environment is never
changed. Consecutive requests of one (problem, heuristic) pair become one vLLM request with `n = samples_per_pair`
(`base.group_samples`), so the prompt is processed once per pair.

Shards stream through (`generate_shards`): each engine keeps up to `jobs_in_flight` shard slices queued and
merges whatever is queued into one `LLM.chat` call, so engines never wait for each other and rarely drain; shards
come back in order. An engine that dies is reported at once (its exit code), one that stops answering after
`job_timeout_s` (or does not start within `start_timeout_s`) is stopped and reported — never a silent hang.

Per-request seeds are off by default (`per_request_seed: false`): a seeded request leaves vLLM's batched sampler
for a slower per-request path, and GPU generation is not bit-reproducible anyway (batching and kernels); the
generations themselves are the record. Install with `pip install "midrl-bench[vllm]"`.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from midrl_bench.generation.base import (
    Generation,
    GenerationRequest,
    group_samples,
    truncate_at_stop,
)


@dataclass(frozen=True)
class VLLMOptions:
    model: str  # a Hub id or a local folder
    revision: str | None = None
    tensor_parallel_size: int = 1  # GPUs per engine
    data_parallel_size: int = 1  # independent engines, each on its own tensor_parallel_size GPUs
    gpu_ids: list[int] | None = None  # logical GPU indices (into an inherited CUDA_VISIBLE_DEVICES); default 0..tp*dp-1
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    enforce_eager: bool = False
    trust_remote_code: bool = False
    engine_seed: int = 0  # the engine's own seed
    per_request_seed: bool = False  # pass each request's seed to vLLM (slower sampler); off by default
    jobs_in_flight: int = 2  # shard slices queued per engine, so it never idles between shards
    start_timeout_s: float = 1800.0  # an engine must load its model within this
    job_timeout_s: float = 3600.0  # and answer each queued slice within this after the previous one

    def __post_init__(self) -> None:
        if self.tensor_parallel_size < 1 or self.data_parallel_size < 1 or self.jobs_in_flight < 1:
            raise ValueError("tensor_parallel_size, data_parallel_size and jobs_in_flight must be >= 1")
        if self.gpu_ids is not None and len(self.gpu_ids) != self.tensor_parallel_size * self.data_parallel_size:
            raise ValueError(
                f"gpu_ids: need tensor_parallel_size * data_parallel_size = "
                f"{self.tensor_parallel_size * self.data_parallel_size} ids, got {len(self.gpu_ids)}"
            )
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ValueError(f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}")
        if not (self.start_timeout_s > 0 and self.job_timeout_s > 0):
            raise ValueError("start_timeout_s and job_timeout_s must be > 0")


def engine_devices(options: VLLMOptions, inherited: str | None = None) -> list[list[str]]:
    """The CUDA_VISIBLE_DEVICES entries of each engine: consecutive slices of `tensor_parallel_size` logical ids,
    mapped through the inherited CUDA_VISIBLE_DEVICES (`inherited`, default this process's environment).

    >>> engine_devices(VLLMOptions(model="m", data_parallel_size=2), inherited="4,5,6,7")
    [['4'], ['5']]
    """
    inherited = os.environ.get("CUDA_VISIBLE_DEVICES") if inherited is None else inherited
    count = options.tensor_parallel_size * options.data_parallel_size
    logical = options.gpu_ids if options.gpu_ids is not None else list(range(count))
    visible = [d.strip() for d in inherited.split(",") if d.strip()] if inherited is not None else None
    if visible is not None and any(i < 0 or i >= len(visible) for i in logical):
        raise ValueError(f"gpu_ids {logical}: CUDA_VISIBLE_DEVICES={inherited!r} makes only {len(visible)} GPU(s) "
                         "visible; gpu_ids index into it")
    physical = [visible[i] for i in logical] if visible is not None else [str(i) for i in logical]
    size = options.tensor_parallel_size
    return [physical[rank * size:(rank + 1) * size] for rank in range(options.data_parallel_size)]


def engine_kwargs(options: VLLMOptions) -> dict[str, Any]:
    """Keyword arguments for `vllm.LLM(...)` (= `vllm.engine.arg_utils.EngineArgs` fields)."""
    kwargs: dict[str, Any] = {
        "model": options.model, "revision": options.revision, "tensor_parallel_size": options.tensor_parallel_size,
        "dtype": options.dtype, "gpu_memory_utilization": options.gpu_memory_utilization,
        "enforce_eager": options.enforce_eager, "trust_remote_code": options.trust_remote_code,
        "seed": options.engine_seed,
    }
    if options.max_model_len is not None:
        kwargs["max_model_len"] = options.max_model_len
    return kwargs


def sampling_kwargs(group: list[GenerationRequest], per_request_seed: bool) -> dict[str, Any]:
    """Keyword arguments for `vllm.SamplingParams(...)` of one group of samples of the same prompt (`n = len`)."""
    params = group[0].sampling
    return {
        "n": len(group), "temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_new_tokens,
        "stop": list(params.stop) or None, "seed": group[0].seed if per_request_seed else None,
    }


def split_for_engines(requests: list[GenerationRequest], engines: int) -> list[list[int]]:
    """Positions per engine: whole sample groups dealt round-robin (balances long and short prompts)."""
    slices: list[list[int]] = [[] for _ in range(engines)]
    for number, group in enumerate(group_samples(requests)):
        slices[number % engines].extend(group)
    return slices


def run_engine(llm: Any, requests: list[GenerationRequest], per_request_seed: bool) -> list[Generation]:
    """Generate on one engine: chat requests through `LLM.chat` (one call per chat-template variables), raw
    prompts through `LLM.generate`; each sample group is one request with n outputs."""
    import vllm

    results: list[Generation | None] = [None] * len(requests)
    batches: dict[tuple[bool, str], list[list[int]]] = {}
    for group in group_samples(requests):
        first = requests[group[0]]
        batches.setdefault((first.messages is not None, repr(sorted(first.chat_template_kwargs.items()))), []).append(group)
    for (is_chat, _), groups in batches.items():
        members = [[requests[i] for i in group] for group in groups]
        params = [vllm.SamplingParams(**sampling_kwargs(m, per_request_seed)) for m in members]
        if is_chat:
            outputs = llm.chat([m[0].messages for m in members], params, use_tqdm=False, add_generation_prompt=True,
                               chat_template_kwargs=dict(members[0][0].chat_template_kwargs) or None)
        else:
            outputs = llm.generate([m[0].prompt for m in members], params, use_tqdm=False)
        for group, output in zip(groups, outputs, strict=True):
            completions = sorted(output.outputs, key=lambda c: c.index)
            for i, completion in zip(group, completions, strict=True):
                results[i] = to_generation(requests[i], completion, len(output.prompt_token_ids or []))
    return results  # type: ignore[return-value]


def to_generation(request: GenerationRequest, completion: Any, prompt_tokens: int) -> Generation:
    text, stopped = truncate_at_stop(completion.text, request.sampling.stop)
    return Generation(
        key=request.key, text=text, prompt_tokens=prompt_tokens, completion_tokens=len(completion.token_ids),
        finish_reason="length" if completion.finish_reason == "length" and not stopped else "stop",
    )


def _worker_main(options: dict[str, Any], devices: list[str], inbox: Any, outbox: Any) -> None:
    """One engine in its own process: answers (job_id, requests) with (job_id, generations | error text)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(devices)  # this child's own environment, before vLLM loads
    try:
        import vllm

        parsed = VLLMOptions(**options)
        llm = vllm.LLM(**engine_kwargs(parsed))
        outbox.put(("ready", None))
    except BaseException as error:  # report start-up failures to the parent instead of dying silently
        outbox.put(("failed", f"{type(error).__name__}: {error}"))
        return
    while (job := inbox.get()) is not None:
        jobs = [job]
        while True:  # merge everything already queued into one engine call: bigger batches, no drain between jobs
            try:
                extra = inbox.get_nowait()
            except queue.Empty:
                break
            if extra is None:
                inbox.put(None)
                break
            jobs.append(extra)
        requests = [request for _, job_requests in jobs for request in job_requests]
        try:
            generations = run_engine(llm, requests, parsed.per_request_seed)
        except BaseException as error:
            for job_id, _ in jobs:
                outbox.put((job_id, f"{type(error).__name__}: {error}"))
            continue
        start = 0
        for job_id, job_requests in jobs:
            outbox.put((job_id, generations[start:start + len(job_requests)]))
            start += len(job_requests)


class VLLMBackend:
    name = "vllm"
    Options = VLLMOptions

    def __init__(self, options: VLLMOptions) -> None:
        try:
            import vllm  # noqa: F401  (fail early, here, with an install hint)
        except ImportError as error:
            raise ImportError(f"the vllm backend needs vLLM: pip install 'midrl-bench[vllm]' ({error})") from None
        from midrl_bench.generation.engines import EngineSupervisor

        self.options = options
        self.devices = engine_devices(options)
        self.engines = EngineSupervisor(_worker_main, asdict(options), self.devices, options.start_timeout_s,
                                        options.job_timeout_s, options.jobs_in_flight, label="vllm")

    def describe(self) -> dict[str, Any]:
        import vllm

        return {"backend": self.name, **asdict(self.options), "engine_devices": self.devices,
                "vllm": vllm.__version__, "samples_per_request": "n = consecutive samples of one prompt",
                "seeding": "per-request seed" if self.options.per_request_seed else "unseeded (vLLM default sampler)"}

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return next(iter(self.generate_shards([(0, requests)])))[1]

    def generate_shards(self, shards: Iterable[tuple[int, list[GenerationRequest]]]
                        ) -> Iterator[tuple[int, list[Generation]]]:
        return self.engines.run(shards, split_for_engines)

    def close(self) -> None:
        self.engines.close()
