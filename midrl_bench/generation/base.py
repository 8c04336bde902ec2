"""The one protocol every generation backend implements, and `get_backend` to pick one by name.

A caller (the builder's generate stage, the judge, the toy world) builds `GenerationRequest`s — each with a stable
`key`, either chat `messages` or a raw `prompt`, `SamplingParams` and a per-request `seed` — and gets back one
`Generation` per request, in the same order. Backends:

- `hf`: transformers `generate`, batched with left padding, CPU or GPU (`midrl_bench.generation.hf`);
- `vllm`: vLLM's offline engine, tensor parallel inside an engine, data parallel over engines (`.vllm`);
- `openai`: any OpenAI-compatible HTTP server (vLLM, SGLang, `transformers serve`), one request per sample (`.openai_compat`);
- `ray`: Ray Data LLM (vLLM engines as one streaming Ray Data stage over a cluster) (`.ray_llm`);
- `file`: completions produced elsewhere, read from JSONL keyed by `key` (`.file`).

Batches of many shards go through `generate_shards(iterable of (shard, requests))`, which yields `(shard, generations)`
in shard order. The default runs the shards one after the other; the engine backends (`vllm`, `openai`, `ray`)
override it to keep the next shards queued while one finishes, so engines never drain between shards.

Heavy libraries are imported only inside the backend that needs them; importing this module is cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from midrl_bench.config import ConfigError, from_dict

FINISH_REASONS = ("stop", "length")


class GenerationError(RuntimeError):
    """A backend could not produce a generation; the message names the backend and the request key."""


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    stop: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ConfigError(f"SamplingParams.temperature: must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"SamplingParams.top_p: must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ConfigError(f"SamplingParams.max_new_tokens: must be >= 1, got {self.max_new_tokens}")
        if any(not isinstance(item, str) or not item for item in self.stop):
            raise ConfigError(f"SamplingParams.stop: must be non-empty strings, got {self.stop!r}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass(frozen=True)
class GenerationRequest:
    key: str
    messages: list[dict] | None = None
    prompt: str | None = None
    sampling: SamplingParams = field(default_factory=SamplingParams)
    seed: int = 0
    # extra variables for the chat template (e.g. {"date_string": "26 Jul 2024"}); ignored for raw prompts
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ConfigError(f"GenerationRequest.key: must be a non-empty string, got {self.key!r}")
        if (self.messages is None) == (self.prompt is None):
            raise ConfigError(f"GenerationRequest[{self.key}]: give exactly one of messages or prompt")
        if self.messages is not None:
            for index, message in enumerate(self.messages):
                if not isinstance(message, dict) or set(message) != {"role", "content"}:
                    raise ConfigError(
                        f"GenerationRequest[{self.key}].messages[{index}]: must be {{role, content}}, got {message!r}"
                    )
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"GenerationRequest[{self.key}].seed: must be an int >= 0, got {self.seed!r}")


@dataclass(frozen=True)
class Generation:
    key: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (EOS or a stop string) or "length" (max_new_tokens reached)


@runtime_checkable
class GenerationBackend(Protocol):
    name: str

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        """One Generation per request, in the same order (a progress bar on long runs)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Model id, revision, dtype, endpoint, ... — everything a provenance record needs to reproduce the run."""
        ...

    def close(self) -> None:
        """Release models, processes and connections; safe to call twice."""
        ...


# name -> (module, class); the module is imported only when the backend is asked for.
BACKENDS: dict[str, tuple[str, str]] = {
    "hf": ("midrl_bench.generation.hf", "HFBackend"),
    "vllm": ("midrl_bench.generation.vllm", "VLLMBackend"),
    "openai": ("midrl_bench.generation.openai_compat", "OpenAIBackend"),
    "file": ("midrl_bench.generation.file", "FileBackend"),
    "ray": ("midrl_bench.generation.ray_llm", "RayLLMBackend"),
}


def backend_class(name: str, where: str = "backend") -> Any:
    if name not in BACKENDS:
        raise ConfigError(f"{where}: unknown generation backend {name!r}; choose one of {sorted(BACKENDS)}")
    module_name, class_name = BACKENDS[name]
    return getattr(importlib.import_module(module_name), class_name)


def validate_backend_options(name: str, options: dict[str, Any], where: str) -> Any:
    """The backend's `Options` built from `options` (unknown keys and bad values rejected, naming `where`).

    Cheap: backend modules import their engines only when a backend is constructed, so configs are checked at
    load time, before any model is loaded.
    """
    return from_dict(backend_class(name, where).Options, options, where=where)


def generate_shards_sequentially(backend: Any, shards: Iterable[tuple[int, list[GenerationRequest]]]
                                 ) -> Iterator[tuple[int, list[Generation]]]:
    """The default `generate_shards`: one `generate` call per shard, in order."""
    for index, requests in shards:
        yield index, backend.generate(requests)


def generate_shards(backend: Any, shards: Iterable[tuple[int, list[GenerationRequest]]]
                    ) -> Iterator[tuple[int, list[Generation]]]:
    """`backend.generate_shards(shards)` when the backend pipelines shards, else one `generate` per shard."""
    method = getattr(backend, "generate_shards", None)
    return method(shards) if method is not None else generate_shards_sequentially(backend, shards)


def group_samples(requests: list[GenerationRequest]) -> list[list[int]]:
    """Positions of consecutive requests that differ only in key and seed: one engine request with `n = len(group)`.

    The builder plans `samples_per_pair` consecutive requests per (problem, heuristic) with the same prompt and
    sampling, so each group is one pair and the engine samples its candidates together (prefix shared once).
    """
    groups: list[list[int]] = []
    for index, request in enumerate(requests):
        if groups and _same_prompt(requests[groups[-1][0]], request):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def _same_prompt(a: GenerationRequest, b: GenerationRequest) -> bool:
    return (a.messages, a.prompt, a.sampling, a.chat_template_kwargs) == \
        (b.messages, b.prompt, b.sampling, b.chat_template_kwargs)


def get_backend(name: str, **options: Any) -> GenerationBackend:
    """Build backend `name` from keyword options, validated by its `Options` dataclass (unknown keys rejected)."""
    return backend_class(name)(validate_backend_options(name, options, where=f"backend.{name}"))


def truncate_at_stop(text: str, stop: Iterable[str]) -> tuple[str, bool]:
    """Cut `text` before the earliest stop string; (text, whether a stop string was found)."""
    cut = min((position for item in stop if (position := text.find(item)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def progress_bar(total: int, desc: str) -> Any:
    """A tqdm progress bar over requests (hidden when stderr is not a terminal); use as a context manager."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="req", disable=None)


def sample_key(problem_id: str, heuristic_id: str, sample_index: int) -> str:
    """The conventional request key of one sample: `problem|heuristic|sample` (problem ids may contain '/')."""
    return f"{problem_id}|{heuristic_id}|{sample_index}"


def check_unique_keys(requests: list[GenerationRequest], backend: str) -> None:
    """Keys identify results across stages and files; duplicates would silently overwrite each other."""
    seen: set[str] = set()
    for request in requests:
        if request.key in seen:
            raise GenerationError(f"{backend}: duplicate request key {request.key!r}")
        seen.add(request.key)
