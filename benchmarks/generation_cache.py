"""Sampling throughput of the `hf` generation backend on the tiny world's model: transformers' static KV cache
against its default dynamic cache (the baseline), measured in the same run on the same requests.

    OMP_NUM_THREADS=1 python benchmarks/generation_cache.py [--batch-size 256] [--requests 256] [--tokens 384]

The model is a freshly initialised tiny Llama of the default world's size (`toyworld.model.new_model`) with the
world's tokenizer; it never emits its end token, so every sample runs the full `--tokens` budget, as the default
strategy's traces on long series do. Prints seconds per sample for both caches, the ratio, and whether both caches
drew the same samples (per-request seeds: they must).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _tiny_model(folder: Path) -> None:
    """Save an untrained default-size tiny model and the world's tokenizer into `folder`."""
    import torch

    from midrl_bench.heuristics import load_library
    from midrl_bench.toyworld.config import ToyConfig
    from midrl_bench.toyworld.corpus import tokenizer_texts
    from midrl_bench.toyworld.model import new_model
    from midrl_bench.toyworld.problems import generate_splits
    from midrl_bench.toyworld.tokenizer import train_tokenizer

    config = ToyConfig()
    library = load_library(config.world.strategies_dir)
    world = config.world
    problems = generate_splits(world.families, {**world.sizes(), "pretrain": 400}, world.seed,
                               world.difficulty)["pretrain"]
    tokenizer = train_tokenizer(tokenizer_texts(problems, library), config.model.vocab_size)
    torch.manual_seed(0)
    model = new_model(config, tokenizer)
    model.generation_config.eos_token_id = None  # every sample runs to the budget
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))


def _run(folder: Path, cache: str, batch_size: int, requests: int, tokens: int) -> tuple[float, list[str]]:
    """(seconds per sample, texts) for `requests` seeded samples with one cache implementation."""
    from midrl_bench.generation.base import GenerationRequest, SamplingParams, get_backend

    sampling = SamplingParams(temperature=0.6, top_p=1.0, max_new_tokens=tokens)
    batch = [GenerationRequest(key=str(i), messages=[{"role": "user", "content": f"What is {i}+{2 * i}+{3 * i}?"}],
                               sampling=sampling, seed=i) for i in range(requests)]
    backend = get_backend("hf", model=str(folder), device="cpu", batch_size=batch_size, cache_implementation=cache)
    try:
        started = time.monotonic()
        texts = [generation.text for generation in backend.generate(batch)]
        return (time.monotonic() - started) / requests, texts
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--tokens", type=int, default=384)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="midrl-gen-bench-") as folder:
        _tiny_model(Path(folder))
        dynamic_s, dynamic_texts = _run(Path(folder), "dynamic", args.batch_size, args.requests, args.tokens)
        static_s, static_texts = _run(Path(folder), "static", args.batch_size, args.requests, args.tokens)
    print(f"batch {args.batch_size}, {args.requests} samples of {args.tokens} tokens")
    print(f"dynamic cache (baseline): {dynamic_s:.4f} s/sample")
    print(f"static cache:             {static_s:.4f} s/sample")
    print(f"ratio dynamic / static:   {dynamic_s / static_s:.2f}x faster; same samples: "
          f"{sum(a == b for a, b in zip(dynamic_texts, static_texts, strict=True))} of {args.requests}")


if __name__ == "__main__":
    main()
