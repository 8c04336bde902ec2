import itertools
from fractions import Fraction
from math import comb

import pytest

from midrl_bench import stats
from midrl_bench.metrics import (
    avg_at_n,
    maj_at_k,
    mean_and_stderr,
    pass_at_k,
    pass_at_k_table,
    powers_of_two,
    vote_groups,
)


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


# ----------------------------------------------------------------------------------------------- avg@n, maj@k
def brute_force_maj(keys, correct, k):
    """Majority vote over every k-subset, ties to the group ranked first (count, then first position)."""
    groups = vote_groups(keys, correct)
    labels = [i for i, count in enumerate(groups.counts) for _ in range(count)] + [None] * groups.abstain
    wins = total = 0
    for subset in itertools.combinations(range(len(labels)), k):
        votes = {}
        for index in subset:
            if labels[index] is not None:
                votes[labels[index]] = votes.get(labels[index], 0) + 1
        total += 1
        if votes:
            wins += groups.correct[min(votes, key=lambda g: (-votes[g], g))]
    return Fraction(wins, total)


# (answer keys per sample (None: no answer), the right key)
MAJ_CASES = [
    (["a", "a", "b"], "a"),  # a clear majority for the right answer
    (["b", "b", "a"], "a"),  # a clear majority for a wrong answer
    (["a", "b"], "a"),  # 1-1 tie: the group seen first wins
    (["b", "a"], "a"),  # 1-1 tie, wrong answer first
    (["a", None, None, "b", "b"], "a"),  # abstentions never vote
    ([None, None, "a"], "a"),  # a subset of abstentions only has no majority
    (["a", "b", "c", "d", "a", "e", "b"], "a"),  # several wrong groups
    (["x", "y", "z"], "a"),  # no right answer at all: maj@k = 0
    (["a"] * 6 + ["b"] * 3, "a"),  # right answer dominant
    (["b"] * 4 + ["a"] * 3 + ["c"] * 2, "a"),  # right answer second
    (["a", "b", "b", "a", "c", "c", None, "a"], "a"),  # three-way ties in small subsets
]


@pytest.mark.parametrize(("keys", "right"), MAJ_CASES)
def test_maj_at_k_is_the_exact_expectation_over_subsets(keys, right):
    correct = [key == right for key in keys]
    for k in range(1, len(keys) + 1):
        assert maj_at_k(vote_groups(keys, correct), k) == pytest.approx(float(brute_force_maj(keys, correct, k)),
                                                                         abs=1e-12)


def test_maj_at_1_is_the_share_of_right_answers_and_maj_at_n_the_full_vote():
    keys = ["b", "a", "b", "a", "a", None]
    groups = vote_groups(keys, [key == "a" for key in keys])
    assert maj_at_k(groups, 1) == pytest.approx(3 / 6)  # one sample: right with probability 3/6
    assert maj_at_k(groups, 6) == 1.0  # the whole vote: a (3) beats b (2)


def test_vote_groups_merge_every_right_answer_and_count_abstentions():
    # "0.5" and "1/2" are different keys but both judged right: one group; None keys abstain
    groups = vote_groups(["0.5", "1/2", "3", None, "3"], [True, True, False, False, False])
    assert groups.counts == (2, 2) and groups.correct == (True, False) and groups.abstain == 1


def test_maj_at_k_of_64_samples_with_many_groups_is_fast():
    import random
    import time

    rng = random.Random(0)
    keys = [str(rng.randint(0, 30)) for _ in range(64)]
    started = time.perf_counter()
    values = [maj_at_k(vote_groups(keys, [key == "1" for key in keys]), k) for k in powers_of_two(64)]
    assert time.perf_counter() - started < 0.5  # exact, and cheap enough for 2,061 docs x 7 ks
    assert all(0.0 <= value <= 1.0 for value in values)


def test_avg_at_n_and_powers_of_two():
    assert avg_at_n([True, False, None, True]) == 0.5  # None (unjudged) counts as not correct
    assert powers_of_two(64) == [1, 2, 4, 8, 16, 32, 64]
    assert powers_of_two(3) == [1, 2]  # k above n is absent


# ----------------------------------------------------------------------------------------------- intervals, tests
def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = [1.0] * 30 + [0.0] * 70
    low, high = stats.bootstrap_ci(values, iterations=2000, seed=7)
    assert (low, high) == stats.bootstrap_ci(values, iterations=2000, seed=7)  # reruns agree
    assert low < 0.3 < high
    assert high - low == pytest.approx(2 * 1.96 * (0.3 * 0.7 / 100) ** 0.5, rel=0.15)  # ~ the normal interval
    assert stats.bootstrap_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)  # no variation, no width


def test_paired_tests_see_a_real_difference_and_not_a_null_one():
    a = [1.0] * 40 + [0.0] * 10
    b = [1.0] * 20 + [0.0] * 30  # a wins on 20 problems, never loses
    low, high = stats.paired_bootstrap_ci(a, b, seed=3)
    assert 0.2 < low < 0.4 < high < 0.6
    assert stats.paired_permutation_p(a, b, permutations=2000, seed=3) < 0.001
    assert stats.paired_permutation_p(a, a, permutations=200, seed=3) == 1.0  # identical runs: no evidence


def test_paired_tests_reject_unpaired_or_non_finite_input():
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired_bootstrap_ci([1.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        stats.bootstrap_ci([float("nan"), 1.0])
