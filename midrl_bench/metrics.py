"""Per-problem metrics of n sampled responses: pass@k by the unbiased estimator (Chen et al., 2021), avg@n, and
maj@k as the exact expectation of a majority vote over k-subsets; standard errors of means.

Intervals and paired tests over problems are in `midrl_bench.stats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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


def powers_of_two(n: int) -> list[int]:
    """The ks reported for n samples per problem: 1, 2, 4, ... up to n."""
    return [1 << i for i in range(n.bit_length()) if 1 << i <= n]


def avg_at_n(correct: Sequence[bool | None]) -> float:
    """Mean per-sample accuracy over all n samples (None counts as not correct); equals pass@1's estimate."""
    if not correct:
        raise ValueError("no samples")
    return sum(1 for value in correct if value is True) / len(correct)


@dataclass(frozen=True)
class VoteGroups:
    """The n answers of one problem grouped for majority voting.

    `counts[i]` samples gave an answer of group i; groups are ranked by count (descending), then by the position
    of their first sample, and a tie in a vote goes to the higher-ranked group. `correct[i]` says whether group i
    is the right answer; `abstain` samples had no extractable answer and never vote.
    """

    counts: tuple[int, ...]
    correct: tuple[bool, ...]
    abstain: int

    @property
    def n(self) -> int:
        return sum(self.counts) + self.abstain


def vote_groups(keys: Sequence[str | None], correct: Sequence[bool | None]) -> VoteGroups:
    """Group samples by answer key (None: no answer); every group holding a correct sample is the one right answer.

    Keys are canonical forms of the extracted answers (`midrl_bench.verify.math.canonical_answers`, a letter, a
    normalised program), so grouping costs one canonicalisation per distinct answer, never a check per pair.
    """
    right_keys = {key for key, ok in zip(keys, correct, strict=True) if ok is True and key is not None}
    first: dict[str, int] = {}
    counts: dict[str, int] = {}
    for index, (key, ok) in enumerate(zip(keys, correct, strict=True)):
        if key is None and ok is not True:
            continue
        group = "\0correct" if ok is True or key in right_keys else key
        first.setdefault(group, index)
        counts[group] = counts.get(group, 0) + 1
    order = sorted(counts, key=lambda g: (-counts[g], first[g]))
    return VoteGroups(tuple(counts[g] for g in order), tuple(g == "\0correct" for g in order),
                      len(keys) - sum(counts.values()))


def _multiply(a, b, degree: int):
    """Product of two coefficient arrays, cut at x^degree."""
    import numpy as np

    return np.convolve(a, b)[: degree + 1]


def _power(base, exponent: int, degree: int):
    """base(x)^exponent cut at x^degree (square-and-multiply)."""
    import numpy as np

    out = np.ones(1)
    while exponent:
        if exponent & 1:
            out = _multiply(out, base, degree)
        exponent >>= 1
        if exponent:
            base = _multiply(base, base, degree)
    return out


def _losers(groups: VoteGroups, right: int, j: int, rest: int):
    """Coefficient of x^i: the ways to fill i places with abstentions and votes for the other groups, none of
    which may beat the right group's j votes (groups ranked above it need fewer than j, those below at most j)."""
    import numpy as np

    free, capped = groups.abstain, {}
    for index, count in enumerate(groups.counts):
        if index != right:
            cap = j - 1 if index < right else j
            if count <= cap:
                free += count  # never reaches its cap: an unconstrained binomial, merged with the abstentions
            else:
                capped[(count, cap)] = capped.get((count, cap), 0) + 1
    poly = np.array([float(math.comb(free, i)) for i in range(min(free, rest) + 1)])
    for (count, cap), multiplicity in capped.items():
        base = np.array([float(math.comb(count, i)) for i in range(min(cap, rest) + 1)])
        poly = _multiply(poly, _power(base, multiplicity, rest), rest)
    return poly


def maj_at_k(groups: VoteGroups, k: int) -> float:
    """Exact expected majority-vote accuracy over all C(n, k) subsets of k samples (no sampling, no seed).

    The right group wins a subset when it holds j >= 1 of its k samples, every group ranked above it holds fewer
    than j and every group ranked below holds at most j; abstentions fill the rest. Summing C(m, j) times the
    number of such fillings (a product of truncated binomial polynomials, `_losers`) over j gives the count of
    winning subsets. A subset of abstentions only has no majority and counts as wrong.
    """
    n = groups.n
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if True not in groups.correct:
        return 0.0
    right = groups.correct.index(True)
    m = groups.counts[right]
    winning = 0.0
    for j in range(1, min(m, k) + 1):
        poly = _losers(groups, right, j, k - j)
        if len(poly) > k - j:
            winning += math.comb(m, j) * float(poly[k - j])
    return min(1.0, winning / math.comb(n, k))
