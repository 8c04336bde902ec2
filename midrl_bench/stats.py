"""Intervals and paired tests over problems (the unit of resampling is the problem, never the sample).

- `bootstrap_ci`: percentile bootstrap 95% interval of a mean of per-problem values.
- `paired_bootstrap_ci`: the same for the mean of per-problem differences between two runs on the same problems.
- `paired_permutation_p`: two-sided sign-flip permutation p-value of the mean paired difference (the null: the
  two runs are exchangeable on every problem), with the +1 correction so that p is never 0.
Every function takes a seed; the same inputs and seed give the same numbers on every machine (numpy PCG64).
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_BOOTSTRAP = 2000
DEFAULT_PERMUTATIONS = 10000
DEFAULT_SEED = 1234
_CHUNK = 256  # resamples drawn at once: bounds memory at CHUNK x problems


def _array(values: Sequence[float]):
    import numpy as np

    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError("need a non-empty list of per-problem values")
    if not np.isfinite(array).all():
        raise ValueError("per-problem values must be finite numbers")
    return array


def _resampled_means(values, iterations: int, seed: int):
    import numpy as np

    if iterations < 1:
        raise ValueError(f"bootstrap iterations must be >= 1, got {iterations}")
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, iterations, _CHUNK):
        size = min(_CHUNK, iterations - start)
        means.append(values[rng.integers(0, values.size, size=(size, values.size))].mean(axis=1))
    return np.concatenate(means)


def bootstrap_ci(values: Sequence[float], iterations: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `values` (one value per problem)."""
    import numpy as np

    array = _array(values)
    means = _resampled_means(array, iterations, seed)
    tail = (1.0 - level) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def paired_bootstrap_ci(a: Sequence[float], b: Sequence[float], iterations: int = DEFAULT_BOOTSTRAP,
                        seed: int = DEFAULT_SEED, level: float = 0.95) -> tuple[float, float]:
    """Interval of mean(a - b) over problems, resampling problems (a[i] and b[i] are the same problem)."""
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    return bootstrap_ci([x - y for x, y in zip(a, b, strict=True)], iterations, seed, level)


def paired_permutation_p(a: Sequence[float], b: Sequence[float], permutations: int = DEFAULT_PERMUTATIONS,
                         seed: int = DEFAULT_SEED) -> float:
    """Two-sided p-value of mean(a - b) under random sign flips of the per-problem differences."""
    import numpy as np

    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    if permutations < 1:
        raise ValueError(f"permutations must be >= 1, got {permutations}")
    diffs = _array([x - y for x, y in zip(a, b, strict=True)])
    observed = abs(diffs.mean())
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, permutations, _CHUNK):
        size = min(_CHUNK, permutations - start)
        signs = rng.integers(0, 2, size=(size, diffs.size)) * 2 - 1
        extreme += int((np.abs((signs * diffs).mean(axis=1)) >= observed - 1e-12).sum())
    return (extreme + 1) / (permutations + 1)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100, linear interpolation) of a non-empty list."""
    import numpy as np

    return float(np.percentile(_array(values), q))
