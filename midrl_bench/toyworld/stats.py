"""Paired statistics of the tiny world: two-level cluster bootstrap over problems and seeds, verdicts with MDEs.

Every claim is a mean of per-(seed, problem) values `D[s, p]` (a paired difference between two arms on the same
eval problem and training seed, or a trend slope across arms). Its 95% interval comes from a two-level cluster
bootstrap: draw P problems with replacement, then within each drawn problem draw S seeds with replacement, and
average; the 2.5th/97.5th percentiles of 'resamples' such averages are the interval, their standard deviation the
standard error. Problems are the outer cluster because the eval set is a sample of the world's problems; seeds sit
inside because each seed's model answers the same problems.

Verdicts: `held` (the interval is on the predicted side of 0), `contradicted` (on the other side), `inconclusive`
(it covers 0; the minimum detectable effect MDE = (z_0.975 + z_0.80) x SE = 2.80 x SE is printed: a true effect of
that size would be found 80% of the time), `not testable` (gate failed, or the run has no route to the claim).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MDE_FACTOR = 1.959964 + 0.841621  # two-sided 5% test, 80% power
_CHUNK = 128


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    se: float
    problems: int
    seeds: int

    @property
    def mde(self) -> float | None:
        """None when every paired difference is the same value (SE 0): no effect size can be said to be detectable,
        e.g. claim (d) when no trace mixes strategies before or after RL."""
        return MDE_FACTOR * self.se if self.se > 0 else None

    def as_dict(self) -> dict:
        return {"mean": self.mean, "ci95": [self.low, self.high], "se": self.se, "mde": self.mde,
                "problems": self.problems, "seeds": self.seeds,
                "interval": "two-level cluster bootstrap 95% (problems, then seeds within problems)"}


def cluster_bootstrap(values: Sequence[Sequence[float]], resamples: int = 2000, seed: int = 0) -> Estimate:
    """Mean of `values[s][p]` (S seeds x P problems) with its two-level cluster bootstrap interval."""
    import numpy as np

    matrix = np.asarray(values, dtype=float)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError("cluster_bootstrap needs a non-empty seeds x problems table")
    if not np.isfinite(matrix).all():
        raise ValueError("cluster_bootstrap: values must be finite")
    if resamples < 2:
        raise ValueError(f"cluster_bootstrap: resamples must be >= 2, got {resamples}")
    seeds, problems = matrix.shape
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        drawn_problems = rng.integers(0, problems, size=(size, problems))
        drawn_seeds = rng.integers(0, seeds, size=(size, problems, seeds))
        picked = matrix[drawn_seeds, drawn_problems[:, :, None]]
        means.append(picked.mean(axis=(1, 2)))
    means = np.concatenate(means)
    low, high = np.quantile(means, [0.025, 0.975])
    return Estimate(float(matrix.mean()), float(low), float(high), float(means.std(ddof=1)), problems, seeds)


def verdict(estimate: Estimate | None, predicted: int = 1, why_not: str | None = None) -> str:
    """held / contradicted / inconclusive for a predicted sign (+1: positive), or 'not testable: <why>'."""
    if why_not:
        return f"not testable: {why_not}"
    if estimate is None:
        return "not testable: not measured"
    low, high = (estimate.low, estimate.high) if predicted > 0 else (-estimate.high, -estimate.low)
    if low > 0:
        return "held"
    if high < 0:
        return "contradicted"
    return "inconclusive"


def paired(a: dict[int, dict[str, float]], b: dict[int, dict[str, float]]) -> list[list[float]]:
    """D[s][p] = a - b over the seeds and problems both have; an arm with one seed (the base) pairs with every seed."""
    if len(b) == 1 and len(a) > 1:
        seeds = sorted(a)
    elif len(a) == 1 and len(b) > 1:
        seeds = sorted(b)
    else:
        seeds = sorted(set(a) & set(b)) or (sorted(a) if len(b) == 1 else [])
    if not seeds:
        raise ValueError("paired: the two arms share no training seed")

    def row(table: dict[int, dict[str, float]], s: int) -> dict[str, float]:
        return table[s] if s in table else next(iter(table.values()))

    problems = sorted(set.intersection(*(set(row(t, s)) for t in (a, b) for s in seeds)))
    if not problems:
        raise ValueError("paired: the two arms share no eval problem")
    return [[row(a, s)[p] - row(b, s)[p] for p in problems] for s in seeds]


def arm_position(name: str) -> float | None:
    """Position of an arm on the strategy-diversity axis: star 0 (unimodal), n{k} 1 + log2(k); else None."""
    if name == "star":
        return 0.0
    if name.startswith("n") and name[1:].isdigit():
        return 1.0 + math.log2(int(name[1:]))
    return None


def trend(arms: dict[str, dict[int, dict[str, float]]]) -> list[list[float]]:
    """Per-(seed, problem) least-squares slope of the value over the arms' positions (star, n1, n2, n4, ...).

    Uses every arm, not only the two end points; a positive mean slope is (a)'s prediction.
    """
    placed = sorted((arm_position(name), name) for name in arms if arm_position(name) is not None)
    if len(placed) < 2:
        raise ValueError("trend: needs at least two of star, n1, n2, n4, ...")
    xs = [x for x, _ in placed]
    centre = sum(xs) / len(xs)
    weights = [(x - centre) / sum((v - centre) ** 2 for v in xs) for x in xs]
    seeds = sorted(set.intersection(*(set(arms[name]) for _, name in placed)))
    problems = sorted(set.intersection(*(set(arms[name][s]) for _, name in placed for s in seeds)))
    if not seeds or not problems:
        raise ValueError("trend: the arms share no seed or no eval problem")
    return [[sum(w * arms[name][s][p] for w, (_, name) in zip(weights, placed, strict=True)) for p in problems]
            for s in seeds]


def ratio_bootstrap(numerators: dict[str, float], denominators: dict[str, float], resamples: int = 2000,
                    seed: int = 0) -> tuple[float, float, float] | None:
    """sum(num)/sum(den) over problems with a bootstrap-by-problem 95% interval; None when den is 0."""
    import numpy as np

    keys = sorted(k for k in denominators if denominators[k] > 0)
    if not keys:
        return None
    num = np.array([numerators.get(k, 0.0) for k in keys])
    den = np.array([denominators[k] for k in keys])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(keys), size=(resamples, len(keys)))
    totals = den[draws].sum(axis=1)
    ratios = num[draws].sum(axis=1)[totals > 0] / totals[totals > 0]
    low, high = np.quantile(ratios, [0.025, 0.975])
    return float(num.sum() / den.sum()), float(low), float(high)
