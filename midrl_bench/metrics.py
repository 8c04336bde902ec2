"""pass@k by the unbiased estimator (Chen et al., 2021) and standard errors of means."""

from __future__ import annotations

import math
from collections.abc import Sequence

PASS_AT_K = (1, 2, 4, 8, 16, 32, 64)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n (c correct) is correct.

    1 - C(n-c, k) / C(n, k), computed as a stable product.

    >>> pass_at_k(4, 1, 1)
    0.25
    >>> pass_at_k(4, 0, 4), pass_at_k(4, 4, 1)
    (0.0, 1.0)
    """
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k} (a k above the samples drawn has no estimate)")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def pass_at_k_table(correct: Sequence[bool | None], ks: Sequence[int] = PASS_AT_K) -> dict[str, float]:
    """pass@k for every k <= number of samples; None verdicts count as not correct (reported separately)."""
    n = len(correct)
    c = sum(1 for value in correct if value is True)
    return {f"pass@{k}": pass_at_k(n, c, k) for k in ks if k <= n}


def mean_and_stderr(values: Sequence[float]) -> tuple[float, float]:
    """Sample mean and its standard error (0 for fewer than two values)."""
    if not values:
        raise ValueError("no values")
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))
