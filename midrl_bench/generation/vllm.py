"""`vllm` backend: vLLM's offline engine (`vllm.LLM`), tensor parallel inside an engine, data parallel over engines.

`tensor_parallel_size` GPUs serve one engine; `data_parallel_size` independent engines each get their own slice of GPUs
(`CUDA_VISIBLE_DEVICES` set before vLLM is imported in a spawned worker process) and a round-robin shard of the
requests. With `data_parallel_size == 1` the engine lives in this process. Each request becomes one vLLM request with
`n=1` and its own `seed`, so a sample does not depend on which engine or batch it landed in. Chat requests go through
`LLM.chat` (the model's chat template), raw prompts through `LLM.generate`. Install with `pip install midrl-bench[vllm]`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Literal

from midrl_bench.generation.base import (
    Generation,
    GenerationError,
    GenerationRequest,
    check_unique_keys,
    truncate_at_stop,
)


@dataclass(frozen=True)
class VLLMOptions:
    model: str  # a Hub id or a local folder
    revision: str | None = None
    tensor_parallel_size: int = 1  # GPUs per engine
    data_parallel_size: int = 1  # independent engines, each on its own tensor_parallel_size GPUs
    gpu_ids: list[int] | None = None  # GPUs to use (default: 0 .. tp*dp-1); in-process engines need CUDA untouched
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    enforce_eager: bool = False
    trust_remote_code: bool = False
    engine_seed: int = 0  # the engine's own seed; per-request seeds come from GenerationRequest.seed

    def __post_init__(self) -> None:
        if self.tensor_parallel_size < 1 or self.data_parallel_size < 1:
            raise ValueError("tensor_parallel_size and data_parallel_size must be >= 1")
        if self.gpu_ids is not None and len(self.gpu_ids) != self.tensor_parallel_size * self.data_parallel_size:
            raise ValueError(
                f"gpu_ids: need tensor_parallel_size * data_parallel_size = "
                f"{self.tensor_parallel_size * self.data_parallel_size} ids, got {len(self.gpu_ids)}"
            )
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ValueError(f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}")


def engine_devices(options: VLLMOptions) -> list[list[int]]:
    """The GPU ids of each data-parallel engine: consecutive slices of `tensor_parallel_size` ids."""
    ids = options.gpu_ids or list(range(options.tensor_parallel_size * options.data_parallel_size))
    size = options.tensor_parallel_size
    return [ids[rank * size:(rank + 1) * size] for rank in range(options.data_parallel_size)]


def shard_indices(count: int, shards: int) -> list[list[int]]:
    """Round-robin shards of request positions (balances long and short prompts across engines)."""
    return [list(range(rank, count, shards)) for rank in range(shards)]


def engine_kwargs(options: VLLMOptions) -> dict[str, Any]:
    """Keyword arguments for `vllm.LLM(...)`."""
    kwargs: dict[str, Any] = {
        "model": options.model, "revision": options.revision, "tensor_parallel_size": options.tensor_parallel_size,
        "dtype": options.dtype, "gpu_memory_utilization": options.gpu_memory_utilization,
        "enforce_eager": options.enforce_eager, "trust_remote_code": options.trust_remote_code,
        "seed": options.engine_seed,
    }
    if options.max_model_len is not None:
        kwargs["max_model_len"] = options.max_model_len
    return kwargs


def sampling_kwargs(request: GenerationRequest) -> dict[str, Any]:
    """Keyword arguments for `vllm.SamplingParams(...)` of one request (one sample, its own seed)."""
    params = request.sampling
    return {
        "n": 1, "temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_new_tokens,
        "stop": list(params.stop) or None, "seed": request.seed,
    }


def _run_engine(llm: Any, requests: list[GenerationRequest]) -> list[Generation]:
    """Generate on one engine: chat requests through `LLM.chat`, raw prompts through `LLM.generate`."""
    import vllm

    results: list[Generation | None] = [None] * len(requests)
    chat = [i for i, request in enumerate(requests) if request.messages is not None]
    plain = [i for i, request in enumerate(requests) if request.messages is None]
    for indices, is_chat in ((chat, True), (plain, False)):
        if not indices:
            continue
        params = [vllm.SamplingParams(**sampling_kwargs(requests[i])) for i in indices]
        if is_chat:
            outputs = llm.chat([requests[i].messages for i in indices], params, use_tqdm=True,
                               add_generation_prompt=True)
        else:
            outputs = llm.generate([requests[i].prompt for i in indices], params, use_tqdm=True)
        for i, output in zip(indices, outputs, strict=True):
            results[i] = _to_generation(requests[i], output)
    return results  # type: ignore[return-value]


def _to_generation(request: GenerationRequest, output: Any) -> Generation:
    completion = output.outputs[0]
    text, stopped = truncate_at_stop(completion.text, request.sampling.stop)
    return Generation(
        key=request.key, text=text, prompt_tokens=len(output.prompt_token_ids or []),
        completion_tokens=len(completion.token_ids), finish_reason="length"
        if completion.finish_reason == "length" and not stopped else "stop",
    )


def _worker_main(options: dict[str, Any], devices: list[int], inbox: Any, outbox: Any) -> None:
    """One data-parallel engine in its own process; answers (job_id, requests) with (job_id, generations | error)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(device) for device in devices)
    try:
        import vllm

        llm = vllm.LLM(**engine_kwargs(VLLMOptions(**options)))
        outbox.put(("ready", None))
    except BaseException as error:  # report start-up failures to the parent instead of dying silently
        outbox.put(("failed", f"{type(error).__name__}: {error}"))
        return
    while (job := inbox.get()) is not None:
        job_id, requests = job
        try:
            outbox.put((job_id, _run_engine(llm, requests)))
        except BaseException as error:
            outbox.put((job_id, GenerationError(f"vllm engine on GPUs {devices}: {type(error).__name__}: {error}")))


class VLLMBackend:
    name = "vllm"
    Options = VLLMOptions

    def __init__(self, options: VLLMOptions) -> None:
        try:
            import vllm  # noqa: F401  (fail early, here, with an install hint)
        except ImportError as error:
            raise ImportError(f"the vllm backend needs vLLM: pip install 'midrl-bench[vllm]' ({error})") from None
        self.options = options
        self._llm: Any = None
        self._workers: list[tuple[Any, Any, Any]] = []
        if options.data_parallel_size == 1:
            if options.gpu_ids is not None:
                os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(device) for device in options.gpu_ids)
            self._llm = vllm.LLM(**engine_kwargs(options))
        else:
            self._start_workers()

    def _start_workers(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # CUDA cannot be re-initialised in a forked child
        for devices in engine_devices(self.options):
            inbox, outbox = context.Queue(), context.Queue()
            process = context.Process(target=_worker_main, args=(asdict(self.options), devices, inbox, outbox))
            process.start()
            self._workers.append((process, inbox, outbox))
        for rank, (_, _, outbox) in enumerate(self._workers):
            status, detail = outbox.get()
            if status != "ready":
                self.close()
                raise GenerationError(f"vllm: data-parallel engine {rank} failed to start: {detail}")

    def describe(self) -> dict[str, Any]:
        import vllm

        return {"backend": self.name, **asdict(self.options), "engine_devices": engine_devices(self.options),
                "vllm": vllm.__version__, "seeding": "per-request SamplingParams.seed"}

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        check_unique_keys(requests, self.name)
        if self._llm is not None:
            return _run_engine(self._llm, requests)
        if not self._workers:
            raise GenerationError("vllm: backend is closed")
        shards = shard_indices(len(requests), len(self._workers))
        for rank, ((_, inbox, _), indices) in enumerate(zip(self._workers, shards, strict=True)):
            inbox.put((rank, [requests[i] for i in indices]))
        answers = [outbox.get() for _, _, outbox in self._workers]  # drain every engine before raising
        errors = [answer for _, answer in answers if isinstance(answer, Exception)]
        if errors:
            raise errors[0]
        results: list[Generation | None] = [None] * len(requests)
        for (_, answer), indices in zip(answers, shards, strict=True):
            for i, generation in zip(indices, answer, strict=True):
                results[i] = generation
        return results  # type: ignore[return-value]

    def close(self) -> None:
        for process, inbox, _ in self._workers:
            if process.is_alive():
                inbox.put(None)
                process.join(timeout=60)
            if process.is_alive():
                process.terminate()
        self._workers = []
        self._llm = None
