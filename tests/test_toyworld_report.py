"""The demo report's verdicts: a claim holds only when the predicted difference exceeds the combined interval."""

from __future__ import annotations

import pytest

from midrl_bench.toyworld.report import _compare, aggregate, claims, interval, summary_table, table_ks


@pytest.mark.parametrize("a, b, expected", [
    ((0.50, 0.05), (0.30, 0.05), "held"),  # difference 0.20 > combined half-width 0.07
    ((0.30, 0.05), (0.50, 0.05), "did not hold"),  # the opposite direction, beyond the noise
    ((0.40, 0.10), (0.35, 0.10), "inconclusive"),  # a 0.05 edge inside 0.14 of noise is not support
    ((0.40, 0.0), (0.40, 0.0), "inconclusive"),  # equal numbers without noise
    (None, (0.3, 0.1), "not measured"),  # a variant that was not run
])
def test_compare(a, b, expected):
    assert _compare(a, b) == expected


def test_interval_uses_t_over_seeds_and_stderr_for_one_seed():
    mean, half = interval([0.2, 0.4, 0.6])
    assert mean == pytest.approx(0.4) and half == pytest.approx(4.303 * 0.2 / 3**0.5)
    assert interval([0.5], single_stderr=0.1) == (0.5, pytest.approx(0.196))


def _run(variant, before, after, comp_before, comp_after, seed=0):
    def phase(p, c):
        return {"pass_at_k": {"pass@1": p / 4, "pass@8": p / 2, "pass@16": p, "pass@16_stderr": 0.01},
                "composed_share": c, "composed_share_stderr": 0.01}

    run = {"variant": variant, "seed": seed, "after_rl": phase(after, comp_after)}
    if before is not None:
        run["before_rl"] = phase(before, comp_before)
    return run


def test_claims_from_a_synthetic_run():
    results = {
        "base": _run("base", None, 0.30, 0.0, 0.0)["after_rl"],
        "runs": [_run("n1", 0.35, 0.40, 0.02, 0.03), _run("n2", 0.38, 0.50, 0.05, 0.10),
                 _run("n4", 0.40, 0.60, 0.05, 0.20), _run("incorrect-n4", 0.20, 0.25, 0.05, 0.05),
                 _run("budget-n4-few", 0.3, 0.45, 0, 0), _run("budget-n4-many", 0.3, 0.44, 0, 0),
                 _run("rl-only", None, 0.35, 0, 0)],
    }
    assert table_ks(results) == (1, 8, 16)  # 16 samples per problem: pass@16 stands in for pass@64
    table = aggregate(results)
    verdicts = {claim[:3]: verdict for claim, verdict, _ in claims(table)}
    assert verdicts == {"(a)": "held", "(b)": "held", "(c)": "inconclusive", "(d)": "held"}
    text = summary_table(table)
    assert "| n4 |" in text and "after RL pass@16" in text and "| rl-only |" in text
