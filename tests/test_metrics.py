from fractions import Fraction
from math import comb

import pytest

from midrl_bench.metrics import mean_and_stderr, pass_at_k, pass_at_k_table


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


# (n, c, k): samples drawn, correct among them, k
CASES = [
    (1, 0, 1),  # single wrong sample
    (1, 1, 1),  # single right sample
    (4, 1, 1),  # pass@1 is the plain accuracy c/n
    (4, 1, 2),
    (4, 1, 4),  # k = n: any correct sample means success
    (10, 0, 5),  # c = 0 is always 0
    (10, 10, 5),  # c = n is always 1
    (10, 3, 7),  # n - c < k: certain success
    (64, 1, 64),
    (64, 5, 8),
    (64, 32, 16),
    (100, 7, 50),
]


@pytest.mark.parametrize(("n", "c", "k"), CASES)
def test_pass_at_k_matches_exact_combinatorics(n, c, k):
    assert pass_at_k(n, c, k) == pytest.approx(float(exact_pass_at_k(n, c, k)), abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(4, 5, 1), (4, -1, 1), (4, 1, 0), (4, 1, 5)])
def test_pass_at_k_rejects_impossible_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_table_reports_only_k_up_to_the_samples_drawn():
    table = pass_at_k_table([True, False, None, False, False])
    assert set(table) == {"pass@1", "pass@2", "pass@4"}  # pass@8 and up are absent, not faked
    assert table["pass@1"] == pytest.approx(0.2)  # None counts as not correct


def test_mean_and_stderr():
    mean, stderr = mean_and_stderr([1.0, 0.0, 1.0, 0.0])
    assert mean == 0.5
    assert stderr == pytest.approx((1 / 3) ** 0.5 / 2)
    assert mean_and_stderr([0.7]) == (0.7, 0.0)
