"""Generation backends behind one protocol (`hf`, `vllm`, `openai`, `file`); see `midrl_bench.generation.base`."""

from midrl_bench.generation.base import (
    BACKENDS,
    Generation,
    GenerationBackend,
    GenerationError,
    GenerationRequest,
    SamplingParams,
    get_backend,
    sample_key,
)

__all__ = [
    "BACKENDS", "Generation", "GenerationBackend", "GenerationError", "GenerationRequest", "SamplingParams",
    "get_backend", "sample_key",
]
