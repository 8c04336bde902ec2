"""The one protocol every generation backend implements, and `get_backend` to pick one by name.

A caller (the builder's generate stage, the judge, the toy world) builds `GenerationRequest`s — each with a stable
`key`, either chat `messages` or a raw `prompt`, `SamplingParams` and a per-request `seed` — and gets back one
`Generation` per request, in the same order. Backends:

- `hf`: transformers `generate`, batched with left padding, CPU or GPU (`midrl_bench.generation.hf`);
- `vllm`: vLLM's offline engine, tensor parallel inside an engine, data parallel over engines (`.vllm`);
- `openai`: any OpenAI-compatible HTTP server (vLLM, SGLang, `transformers serve`), one request per sample (`.openai_compat`);
- `file`: completions produced elsewhere, read from JSONL keyed by `key` (`.file`).

Heavy libraries are imported only inside the backend that needs them; importing this module is cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
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
}


def get_backend(name: str, **options: Any) -> GenerationBackend:
    """Build backend `name` from keyword options, validated by its `Options` dataclass (unknown keys rejected)."""
    if name not in BACKENDS:
        raise ConfigError(f"backend: unknown generation backend {name!r}; choose one of {sorted(BACKENDS)}")
    module_name, class_name = BACKENDS[name]
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(from_dict(backend_class.Options, options, where=f"backend.{name}"))


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
