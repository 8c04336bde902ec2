"""Every few-shot exemplar is right (checked by the project's math checker), uses its heuristic, and is not benchmark text.

Contamination check: problems are normalised (lowercase, alphanumerics only, single spaces). An exemplar problem is
contaminated when its normalised text equals a benchmark text, when at least half of its word 8-grams occur in the
benchmarks, or, for problems shorter than 8 words, when it occurs as a whole inside a benchmark text. The benchmark
texts are read once per session from every JSONL file under $MIDRL_DATA_DIR/benchmarks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from midrl_bench.heuristics import cue_hits, load_library
from midrl_bench.paths import data_dir
from midrl_bench.verify.math import check_answers

NGRAM_WORDS = 8
MAX_NGRAM_OVERLAP = 0.5  # share of an exemplar's 8-grams that may occur in the benchmarks
MIN_TEXT_CHARS = 30  # shorter string fields (ids, answers, subjects) are not benchmark text
CHECK_TIMEOUT_S = 60.0  # generous: the CI machine is shared, and a timeout is a None verdict, not a pass
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _normalise(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def _ngrams(words: list[str]) -> set[int]:
    return {hash(tuple(words[i : i + NGRAM_WORDS])) for i in range(len(words) - NGRAM_WORDS + 1)}


@dataclass(frozen=True)
class BenchmarkIndex:
    files: tuple[Path, ...]
    texts: frozenset[str]  # normalised benchmark texts
    corpus: str  # all normalised texts joined by " | ", for whole-text search of short problems
    grams: frozenset[int]  # hashed word 8-grams of all texts

    def overlap(self, problem: str) -> float:
        words = _normalise(problem).split()
        grams = _ngrams(words)
        return len(grams & self.grams) / len(grams) if grams else 0.0

    def contaminated(self, problem: str) -> bool:
        text = _normalise(problem)
        if text in self.texts:
            return True
        if len(text.split()) < NGRAM_WORDS:
            return f" {text} " in self.corpus
        return self.overlap(problem) >= MAX_NGRAM_OVERLAP


def _benchmark_texts(path: Path) -> set[str]:
    texts = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                texts.update(v for v in row.values() if isinstance(v, str) and len(v) >= MIN_TEXT_CHARS)
    return texts


@cache
def benchmark_index() -> BenchmarkIndex:
    root = data_dir()
    if root is None:
        pytest.skip("MIDRL_DATA_DIR is not set: no benchmark mirror to check exemplars against")
    files = tuple(sorted((root / "benchmarks").rglob("*.jsonl")))
    assert files, f"no benchmark files under {root / 'benchmarks'}"
    texts = {_normalise(text) for path in files for text in _benchmark_texts(path)}
    grams: set[int] = set()
    for text in texts:
        grams |= _ngrams(text.split())
    return BenchmarkIndex(files, frozenset(texts), " | " + " | ".join(sorted(texts)) + " | ", frozenset(grams))


def _benchmark_problem(name: str) -> str:
    root = data_dir()
    if root is None:
        pytest.skip("MIDRL_DATA_DIR is not set")
    with (root / "benchmarks" / name / "test.jsonl").open(encoding="utf-8") as handle:
        return json.loads(handle.readline())["problem"]


def _all_exemplars():
    return [(heuristic, index, exemplar) for heuristic in load_library() for index, exemplar in
            enumerate(heuristic.exemplars)]  # fmt: skip


# ------------------------------------------------------------------------------------------ correctness
def test_every_exemplar_boxed_answer_is_verified_by_the_math_checker():
    exemplars = _all_exemplars()
    verdicts = check_answers([(e.answer, e.solution) for _, _, e in exemplars], timeout_s=CHECK_TIMEOUT_S)
    failures = [
        f"{h.id} exemplar {i}: answer {e.answer!r}, verdict {v.correct} ({v.reason}, extracted {v.extracted!r})"
        for (h, i, e), v in zip(exemplars, verdicts, strict=True)
        if v.correct is not True
    ]
    assert not failures, "\n".join(failures)
    assert len(exemplars) >= 128


def test_every_exemplar_solution_uses_its_own_heuristics_cues():
    unused = [f"{h.id} exemplar {i}" for h, i, e in _all_exemplars() if not cue_hits(e.solution, h)]
    assert not unused, f"solutions that contain none of their heuristic's cues: {unused}"


def test_exemplar_problems_are_distinct():
    seen: dict[str, str] = {}
    for heuristic, index, exemplar in _all_exemplars():
        key = _normalise(exemplar.problem)
        assert key not in seen, f"{heuristic.id} exemplar {index} repeats {seen[key]}"
        seen[key] = f"{heuristic.id} exemplar {index}"


# ------------------------------------------------------------------------------------------ contamination
def test_the_contamination_check_catches_benchmark_text():
    index = benchmark_index()
    gsm8k = _benchmark_problem("gsm8k")
    math500 = _benchmark_problem("math500")
    words = gsm8k.split()
    cases = [
        (gsm8k, True),  # a benchmark problem verbatim
        (math500.upper() + "  ", True),  # the same text with other case and spacing
        (" ".join(words[: len(words) * 3 // 4]) + " How many are left in total?", True),  # a truncated, re-ended copy
        ("Zorblat the purple walrus juggles 17 turnips while reciting sonnets to 3 confused lighthouses.", False),
    ]
    for text, expected in cases:
        assert index.contaminated(text) is expected, text


def test_no_exemplar_problem_appears_in_any_benchmark():
    index = benchmark_index()
    assert {path.parent.name for path in index.files} >= {"gsm8k", "math500", "aime24", "aime25", "amc23"}
    hits = [
        f"{h.id} exemplar {i} (8-gram overlap {index.overlap(e.problem):.2f}): {e.problem[:80]}"
        for h, i, e in _all_exemplars()
        if index.contaminated(e.problem)
    ]
    assert not hits, "exemplar problems found in benchmarks:\n" + "\n".join(hits)
