"""Vendi score on embeddings: our dual form (d×d) vs vendi-score's `score_K` on the n×n kernel, same inputs.

Inputs are random unit vectors of dimension 384 (the size of all-MiniLM-L6-v2 embeddings); the timing depends only on
the shapes, not on where the vectors come from. Baseline: `K = X @ X.T` then `vendi_score.vendi.score_K(K)` (an n×n
eigendecomposition), as a vendi-score user would do. For every size both scores are computed, checked equal, and the
time ratio printed. The largest size (default 100,000) is run with the dual form only: the n×n kernel would need
80 GB there. Goal: 100k solutions in seconds.

    python benchmarks/vendi_scaling.py [--sizes 500 1000 2000 4000] [--dim 384] [--large 100000]
"""

from __future__ import annotations

import argparse
import time


def unit_vectors(count: int, dim: int, seed: int):
    import numpy as np

    matrix = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def baseline(matrix) -> float:
    import numpy as np
    from vendi_score import vendi

    matrix = matrix.astype(np.float64)
    return float(vendi.score_K(matrix @ matrix.T))


def main(argv: list[str] | None = None) -> int:
    from midrl_bench.diversity import vendi_score_from_embeddings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--large", type=int, default=100_000, help="size run with the dual form only (0 to skip)")
    args = parser.parse_args(argv)

    warm = unit_vectors(16, args.dim, seed=1)  # first calls pay imports and LAPACK set-up; keep them out of timings
    baseline(warm), vendi_score_from_embeddings(warm)
    print(f"{'n':>8} {'dim':>5} {'vendi-score s':>14} {'dual s':>9} {'ratio':>8} {'score':>10}")
    for size in args.sizes:
        matrix = unit_vectors(size, args.dim, seed=size)
        expected, baseline_s = timed(baseline, matrix)
        ours, ours_s = timed(vendi_score_from_embeddings, matrix)
        if abs(ours - expected) > 1e-6 * max(1.0, expected):
            raise SystemExit(f"mismatch at n={size}: dual {ours} vs score_K {expected}")
        print(f"{size:>8} {args.dim:>5} {baseline_s:>14.3f} {ours_s:>9.3f} {baseline_s / ours_s:>7.1f}x {ours:>10.3f}")
    if args.large:
        matrix = unit_vectors(args.large, args.dim, seed=args.large)
        ours, ours_s = timed(vendi_score_from_embeddings, matrix)
        print(f"{args.large:>8} {args.dim:>5} {'(n×n: ' + format(args.large**2 * 8 / 1e9, '.0f') + ' GB)':>14} "
              f"{ours_s:>9.3f} {'-':>8} {ours:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
