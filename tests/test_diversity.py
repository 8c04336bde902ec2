"""Vendi scores: the dual form against vendi-score's `score_K`, the n-gram kernel against vendi-score's `score`,
and the offline MiniLM embedder on real sentences."""

from __future__ import annotations

import numpy as np
import pytest
from vendi_score import vendi

from midrl_bench.diversity import (
    embed_texts,
    minilm_dir,
    ngram_counts,
    ngram_vendi,
    vendi_report,
    vendi_score_from_embeddings,
)

# vendi-score 0.0.3 touches the deprecated scipy.sparse.csr namespace on every call
pytestmark = pytest.mark.filterwarnings("ignore:Please import `csr_matrix`:DeprecationWarning")


@pytest.mark.parametrize(
    "n, d",
    [
        (1, 4),  # a single item: score 1
        (6, 3),  # more items than dimensions: the d×d side is decomposed
        (5, 40),  # fewer items than dimensions: the n×n side
        (64, 16),  # a larger n > d case
    ],
)
def test_dual_form_equals_vendi_score_K(n, d):
    raw = np.random.default_rng(n * 100 + d).normal(size=(n, d))
    unit = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    assert vendi_score_from_embeddings(raw) == pytest.approx(vendi.score_K(unit @ unit.T), rel=1e-9)


@pytest.mark.parametrize(
    "rows, expected",
    [
        (np.ones((7, 5)), 1.0),  # identical items: one effective item
        (np.eye(6), 6.0),  # orthogonal items: all distinct
        (np.vstack([np.eye(3), np.eye(3)]), 3.0),  # three items, each twice
    ],
)
def test_dual_form_extremes(rows, expected):
    assert vendi_score_from_embeddings(rows) == pytest.approx(expected)


def test_zero_row_is_rejected():
    with pytest.raises(ValueError, match="row 1 is all zeros"):
        vendi_score_from_embeddings(np.array([[1.0, 0.0], [0.0, 0.0]]))


TEXTS = [
    "Work backwards from the answer: 72 clips means 48 in April and 24 in May.",
    "Draw a figure: the rectangle has sides 6 and 6, so the area is 36.",
    "By symmetry the two cases are equal, so the probability is 1/2.",
    "Work backwards from the answer: 72 clips means 48 in April and 24 in May.",
    "x",
]


def test_ngram_vendi_equals_vendi_score_with_the_same_kernel():
    counts = ngram_counts(TEXTS, n=2).toarray()

    def cosine(i, j):
        return float(counts[i] @ counts[j] / np.linalg.norm(counts[i]) / np.linalg.norm(counts[j]))

    assert ngram_vendi(TEXTS, n=2) == pytest.approx(vendi.score(list(range(len(TEXTS))), cosine), rel=1e-9)


@pytest.mark.parametrize(
    "texts, low, high",
    [
        (["the same solution, step by step"] * 6, 1.0, 1.0),  # identical texts: exactly one
        (TEXTS[:3], 2.9, 3.0),  # three different solutions: close to three
        (TEXTS[:1] * 3 + TEXTS[1:2] * 3, 1.99, 2.0),  # two solutions three times each: two
        (["Answer: 5", "answer : 5"], 1.0, 1.0),  # case and spacing are not diversity
    ],
)
def test_ngram_vendi_behaves(texts, low, high):
    assert low - 1e-9 <= ngram_vendi(texts, n=2) <= high + 1e-9


def test_ngram_vendi_many_texts_uses_the_dual_side():
    texts = [f"solution number {i} uses step {i % 7} then step {i % 11}" for i in range(300)]
    score = ngram_vendi(texts, n=2, dim=64)  # 300 texts > 64 buckets: the 64×64 side
    counts = ngram_counts(texts, n=2, dim=64).toarray()
    unit = counts / np.linalg.norm(counts, axis=1, keepdims=True)
    assert score == pytest.approx(vendi.score_K(unit @ unit.T), rel=1e-8)


def test_minilm_embeddings_are_offline_and_meaningful():
    assert (minilm_dir() / "model.safetensors").is_file()
    vectors = embed_texts(["The answer is five.", "The result equals 5.", "Paris is the capital of France."])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    paraphrase, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert paraphrase > unrelated + 0.2


def test_vendi_report_per_group():
    groups = {"same": [TEXTS[0], TEXTS[0]], "varied": TEXTS[:3], "empty": []}
    report = vendi_report(groups, model="minilm", ngram_n=2)
    assert report["embedder"] == "minilm" and report["ngram_n"] == 2
    same, varied, empty = (report["groups"][name] for name in ("same", "varied", "empty"))
    assert same == {"count": 2, "vendi": pytest.approx(1.0), "ngram_vendi": pytest.approx(1.0)}
    assert 2.0 < varied["vendi"] <= 3.0 and varied["count"] == 3
    assert empty == {"count": 0, "vendi": None, "ngram_vendi": None}
    assert vendi_report(groups, model=None)["groups"]["varied"]["vendi"] is None  # model-free report
