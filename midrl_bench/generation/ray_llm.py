"""`ray` backend: Ray Data LLM — vLLM engines as one streaming Ray Data stage, across every GPU of a Ray cluster.

`concurrency` engine replicas (Ray actors) of `tensor_parallel_size x pipeline_parallel_size` GPUs each pull
batches of `batch_size` rows from a streaming dataset; Ray schedules them on any node of the cluster (start it
with `ray start --head` / `ray start --address=HEAD:6379` and run the build on the head node, or set
`ray_address`). The builder's shards are streamed in windows of about `window_requests` requests: inside a
window engines never wait on each other; each shard is handed back (and written, so resumable) as soon as its
window is done. The chat template (with the pinned date) is applied by Ray's own chat-template stage.

Ray Data LLM returns only a request's first output, so each sample is its own row (`n = 1`); vLLM's prefix
cache still computes a pair's shared prompt once. Per-request seeds are off by default (`per_request_seed`):
seeded requests leave vLLM's batched fast sampler, and GPU generation is not bit-reproducible either way.
Needs `pip install "ray[data]" vllm` on the GPU nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from midrl_bench.generation.base import (
    Generation,
    GenerationError,
    GenerationRequest,
    check_unique_keys,
    truncate_at_stop,
)


@dataclass(frozen=True)
class RayLLMOptions:
    model: str  # Hub id or a folder every node can read
    revision: str | None = None
    tensor_parallel_size: int = 1  # GPUs per engine
    pipeline_parallel_size: int = 1  # pipeline stages per engine (for models larger than one node)
    concurrency: int = 1  # engine replicas (Ray actors) across the cluster, e.g. 32 for 4 nodes x 8 GPUs at tp=1
    batch_size: int = 64  # rows per batch handed to an engine
    max_concurrent_batches: int = 8  # batches in flight per engine (keeps vLLM's scheduler full)
    accelerator_type: str | None = None  # e.g. "H100": schedule engines only on such GPUs
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    per_request_seed: bool = False  # send each request's seed to vLLM (slower sampler; off by default)
    window_requests: int = 65536  # requests per streamed dataset (bounded driver memory)
    ray_address: str | None = None  # None: RAY_ADDRESS or a running local cluster, else a new local one
    engine_kwargs: dict[str, Any] = field(default_factory=dict)  # further vLLM engine arguments

    def __post_init__(self) -> None:
        for name in ("tensor_parallel_size", "pipeline_parallel_size", "concurrency", "batch_size",
                     "max_concurrent_batches", "window_requests"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ValueError(f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}")


def engine_kwargs(options: RayLLMOptions) -> dict[str, Any]:
    """Arguments of each vLLM engine (`vllm.engine.arg_utils.EngineArgs` fields)."""
    kwargs: dict[str, Any] = {
        "revision": options.revision, "tensor_parallel_size": options.tensor_parallel_size,
        "pipeline_parallel_size": options.pipeline_parallel_size, "dtype": options.dtype,
        "gpu_memory_utilization": options.gpu_memory_utilization, "enable_prefix_caching": True,
    }
    if options.max_model_len is not None:
        kwargs["max_model_len"] = options.max_model_len
    return {**kwargs, **options.engine_kwargs}


def processor_config_kwargs(options: RayLLMOptions, chat_template_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """Keyword arguments of `ray.data.llm.vLLMEngineProcessorConfig` (chat stage on for chat requests)."""
    chat_stage: dict[str, Any] | bool = False
    if chat_template_kwargs is not None:
        chat_stage = {"enabled": True, "chat_template_kwargs": dict(chat_template_kwargs) or None}
    return {
        "model_source": options.model, "engine_kwargs": engine_kwargs(options), "concurrency": options.concurrency,
        "batch_size": options.batch_size, "max_concurrent_batches": options.max_concurrent_batches,
        "accelerator_type": options.accelerator_type, "chat_template_stage": chat_stage,
        "tokenize_stage": True, "detokenize_stage": True,
    }


def request_row(request: GenerationRequest, position: int, per_request_seed: bool) -> dict[str, Any]:
    """One dataset row: the prompt, vLLM sampling parameters, and where the answer goes back."""
    params = request.sampling
    sampling: dict[str, Any] = {"n": 1, "temperature": params.temperature, "top_p": params.top_p,
                                "max_tokens": params.max_new_tokens}
    if params.stop:
        sampling["stop"] = list(params.stop)
    if per_request_seed:
        sampling["seed"] = request.seed
    row: dict[str, Any] = {"midrl_position": position, "sampling_params": sampling}
    if request.messages is not None:
        row["messages"] = request.messages
    else:
        row["prompt"] = request.prompt
    return row


def to_generation(request: GenerationRequest, row: dict[str, Any]) -> Generation:
    """Ray's output row -> Generation; Ray reports no finish reason, so "length" means the token budget was used."""
    text, stopped = truncate_at_stop(row.get("generated_text") or "", request.sampling.stop)
    tokens = int(row.get("num_generated_tokens") or 0)
    finish = "length" if tokens >= request.sampling.max_new_tokens and not stopped else "stop"
    return Generation(key=request.key, text=text, prompt_tokens=int(row.get("num_input_tokens") or 0),
                      completion_tokens=tokens, finish_reason=finish)


def windows(shards: Iterable[tuple[int, list[GenerationRequest]]], limit: int
            ) -> Iterator[list[tuple[int, list[GenerationRequest]]]]:
    """Consecutive shards grouped until a group holds at least `limit` requests."""
    window: list[tuple[int, list[GenerationRequest]]] = []
    for shard in shards:
        window.append(shard)
        if sum(len(requests) for _, requests in window) >= limit:
            yield window
            window = []
    if window:
        yield window


class RayLLMBackend:
    name = "ray"
    Options = RayLLMOptions

    def __init__(self, options: RayLLMOptions) -> None:
        try:
            import ray
            from ray.data.llm import build_processor, vLLMEngineProcessorConfig  # noqa: F401
        except ImportError as error:
            raise ImportError(f"the ray backend needs Ray Data LLM: pip install 'ray[data]' vllm ({error})") from None
        self.options = options
        if not ray.is_initialized():
            ray.init(address=options.ray_address, ignore_reinit_error=True)

    def describe(self) -> dict[str, Any]:
        import ray

        from midrl_bench.config import to_dict

        return {"backend": self.name, **to_dict(self.options), "ray": ray.__version__,
                "cluster_gpus": ray.cluster_resources().get("GPU", 0),
                "seeding": "per-request seed" if self.options.per_request_seed else "unseeded (vLLM default sampler)"}

    def close(self) -> None:
        """The Ray cluster belongs to the user; engines end with their dataset."""

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return next(iter(self.generate_shards([(0, requests)])))[1]

    def generate_shards(self, shards: Iterable[tuple[int, list[GenerationRequest]]]
                        ) -> Iterator[tuple[int, list[Generation]]]:
        for window in windows(shards, self.options.window_requests):
            requests = [request for _, shard in window for request in shard]
            generations = self._run(requests)
            start = 0
            for index, shard in window:
                yield index, generations[start:start + len(shard)]
                start += len(shard)

    def _run(self, requests: list[GenerationRequest]) -> list[Generation]:
        import ray
        from ray.data.llm import build_processor, vLLMEngineProcessorConfig

        check_unique_keys(requests, self.name)
        chat = {request.messages is not None for request in requests}
        kwargs = {repr(sorted(request.chat_template_kwargs.items())) for request in requests}
        if len(chat) > 1 or len(kwargs) > 1:
            raise GenerationError("ray: one window mixes chat and raw prompts or chat-template variables")
        template_kwargs = requests[0].chat_template_kwargs if requests[0].messages is not None else None
        config = vLLMEngineProcessorConfig(**processor_config_kwargs(self.options, template_kwargs))
        processor = build_processor(config, postprocess=_postprocess)
        rows = [request_row(r, i, self.options.per_request_seed) for i, r in enumerate(requests)]
        results: list[Generation | None] = [None] * len(requests)
        try:
            for row in processor(ray.data.from_items(rows)).iter_rows():
                position = int(row["midrl_position"])
                results[position] = to_generation(requests[position], row)
        except Exception as error:  # an engine actor died or raised: surface it, with the key range
            raise GenerationError(f"ray: Ray Data LLM failed on requests {requests[0].key!r}..{requests[-1].key!r}: "
                                  f"{type(error).__name__}: {error}") from None
        missing = [requests[i].key for i, result in enumerate(results) if result is None]
        if missing:
            raise GenerationError(f"ray: {len(missing)} request(s) came back without output, e.g. {missing[0]!r}")
        return results  # type: ignore[return-value]


def _postprocess(row: dict[str, Any]) -> dict[str, Any]:
    return {"midrl_position": row["midrl_position"], "generated_text": row.get("generated_text"),
            "num_generated_tokens": row.get("num_generated_tokens"), "num_input_tokens": row.get("num_input_tokens")}
