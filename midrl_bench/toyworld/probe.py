"""Quick probes of a tiny-model checkpoint, through the project's own parts: the `hf` generation backend, the math
checker and the cue detector. Used by the tests (the pre-trained model solves a share of eval problems and follows
strategy tags) and by the demo's report (which strategies the base model uses when prompted with each tag).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from midrl_bench.toyworld.corpus import bare_messages, tagged_messages
from midrl_bench.toyworld.problems import Problem


@dataclass(frozen=True)
class ProbeResult:
    tag: str | None  # strategy id in the prompt, None for the bare problem
    samples: int
    correct: int
    unjudged: int
    detected: dict[str, int]  # strategy id -> samples in which the cue detector found it

    @property
    def accuracy(self) -> float:
        return self.correct / self.samples if self.samples else 0.0

    def share_using(self, strategy: str) -> float:
        return self.detected.get(strategy, 0) / self.samples if self.samples else 0.0


@dataclass(frozen=True)
class SampleRow:
    """One sampled solution: which prompt, which problem, whether it is right, which strategies it shows."""

    tag: str | None
    problem: Problem
    correct: bool | None
    strategies: tuple[str, ...]  # cue detector's finding (two or more on a composite problem: a mixed trace)


def sample_rows(model_dir: Path, items: list[tuple[str | None, Problem, list[dict[str, str]]]], library,
                samples_per_item: int, temperature: float, max_new_tokens: int, seed: int = 0,
                batch_size: int = 64, cache_implementation: str = "dynamic") -> list[SampleRow]:
    """Sample each (tag, problem, messages) item `samples_per_item` times with the hf backend; check and detect."""
    from midrl_bench.generation.base import GenerationRequest, SamplingParams, get_backend
    from midrl_bench.heuristics import detect_heuristics
    from midrl_bench.verify.math import check_answers

    sampling = SamplingParams(temperature=temperature, top_p=1.0, max_new_tokens=max_new_tokens)
    requests, index = [], []
    for tag, problem, messages in items:
        for sample in range(samples_per_item):
            key = f"{problem.id}|{tag or 'none'}|{len(requests)}|{sample}"
            requests.append(GenerationRequest(key=key, messages=messages, sampling=sampling,
                                              seed=seed * 1_000_003 + len(requests)))
            index.append((tag, problem))
    backend = get_backend("hf", model=str(model_dir), device="cpu", batch_size=batch_size,
                          cache_implementation=cache_implementation)
    try:
        generations = backend.generate(requests)
    finally:
        backend.close()
    verdicts = check_answers([(str(problem.answer), g.text) for (_, problem), g in zip(index, generations, strict=True)])
    return [SampleRow(tag, problem, verdict.correct, tuple(detect_heuristics(generation.text, library)))
            for (tag, problem), generation, verdict in zip(index, generations, verdicts, strict=True)]


def probe(model_dir: Path, problems: list[Problem], library, tags: list[str | None], samples_per_problem: int = 1,
          temperature: float = 1.0, max_new_tokens: int = 160, seed: int = 0, batch_size: int = 32) -> list[ProbeResult]:
    """Sample every problem under every tag (None: the bare problem); score correctness and detect strategies."""
    items = [(tag, problem, bare_messages(problem) if tag is None else tagged_messages(problem, library.get(tag)))
             for tag in tags for problem in problems]
    rows = sample_rows(model_dir, items, library, samples_per_problem, temperature, max_new_tokens, seed, batch_size)
    return [summarise([row for row in rows if row.tag == tag], tag) for tag in tags]


def summarise(rows: list[SampleRow], tag: str | None) -> ProbeResult:
    detected: dict[str, int] = {}
    for row in rows:
        for strategy in row.strategies:
            detected[strategy] = detected.get(strategy, 0) + 1
    return ProbeResult(tag=tag, samples=len(rows), correct=sum(r.correct is True for r in rows),
                       unjudged=sum(r.correct is None for r in rows), detected=detected)
