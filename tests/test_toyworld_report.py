"""The demo's statistics: two-level cluster bootstrap, paired differences, the trend test, verdicts with MDEs, the
gate's checks, and claims computed from per-problem outcomes read in lm-eval's and the judge's file formats."""

from __future__ import annotations

import json
import random

import pytest

from midrl_bench.toyworld.claims import Outcomes, evaluate_claims, load_outcomes
from midrl_bench.toyworld.outcomes import ProblemOutcome
from midrl_bench.toyworld.stats import (
    MDE_FACTOR,
    Estimate,
    arm_position,
    cluster_bootstrap,
    paired,
    ratio_bootstrap,
    trend,
    verdict,
)


def test_cluster_bootstrap_of_a_constant_is_exact():
    estimate = cluster_bootstrap([[0.25] * 10] * 3, resamples=200)
    assert (estimate.mean, estimate.low, estimate.high, estimate.se) == (0.25, 0.25, 0.25, 0.0)
    assert (estimate.problems, estimate.seeds) == (10, 3)


def test_cluster_bootstrap_resamples_problems_then_seeds():
    rng = random.Random(0)
    problems = [rng.gauss(0.0, 1.0) for _ in range(60)]
    same_seeds = [problems, problems, problems]  # seeds agree exactly: only problems vary
    noisy_seeds = [[p + rng.gauss(0.0, 1.0) for p in problems] for _ in range(3)]  # seeds disagree too
    quiet, noisy = cluster_bootstrap(same_seeds, 2000, seed=1), cluster_bootstrap(noisy_seeds, 2000, seed=1)
    assert quiet.low < quiet.mean < quiet.high
    # the problem level alone: about sd/sqrt(P) = 1/sqrt(60)
    assert quiet.se == pytest.approx(1 / 60**0.5, rel=0.25)
    assert noisy.se > quiet.se * 1.1  # disagreement between seeds widens the interval (the second level)
    assert cluster_bootstrap(noisy_seeds, 500, seed=4) == cluster_bootstrap(noisy_seeds, 500, seed=4)  # seeded


@pytest.mark.parametrize("low, high, predicted, expected", [
    (0.02, 0.10, 1, "held"),  # interval above 0, effect predicted positive
    (-0.10, -0.02, 1, "contradicted"),  # interval below 0: the wrong side
    (-0.03, 0.05, 1, "inconclusive"),  # covers 0
    (-0.10, -0.02, -1, "held"),  # a predicted decrease that happened
])
def test_verdicts(low, high, predicted, expected):
    assert verdict(Estimate((low + high) / 2, low, high, 0.02, 50, 1), predicted) == expected


def test_not_testable_wins_and_mde_is_2_8_se():
    estimate = Estimate(0.3, 0.2, 0.4, 0.05, 50, 1)
    assert verdict(estimate, 1, "gate failed") == "not testable: gate failed"
    assert verdict(None) == "not testable: not measured"
    assert estimate.mde == pytest.approx(MDE_FACTOR * 0.05) and MDE_FACTOR == pytest.approx(2.80, abs=0.01)


def test_a_claim_with_no_variation_has_no_mde():
    # claim (d) when no trace mixes strategies before or after RL: every paired difference is 0, the bootstrap
    # interval is [0, 0], and no effect size is "detectable" (printing "MDE 0.0" would say every effect is)
    from midrl_bench.toyworld.report import claims_text
    from midrl_bench.toyworld.stats import cluster_bootstrap

    estimate = cluster_bootstrap([[0.0] * 18], resamples=200)
    assert (estimate.low, estimate.high, estimate.se, estimate.mde) == (0.0, 0.0, 0.0, None)
    assert verdict(estimate) == "inconclusive"
    item = {"claim": "(d) composition rises", "verdict": verdict(estimate), "estimate": estimate.as_dict(),
            "evidence": "n4 after - before RL"}
    assert "MDE not estimable: every paired difference is the same (18 problems x 1 seed(s))" in claims_text([item])


def test_paired_differences_broadcast_the_single_seed_base():
    arm = {0: {"a": 0.5, "b": 0.7}, 1: {"a": 0.6, "b": 0.9}}
    base = {0: {"a": 0.5, "b": 0.5, "c": 0.1}}
    assert paired(arm, base) == [[0.0, pytest.approx(0.2)], [pytest.approx(0.1), pytest.approx(0.4)]]
    with pytest.raises(ValueError, match="no eval problem"):
        paired({0: {"a": 1.0}}, {0: {"z": 1.0}})


def test_trend_uses_every_arm_not_the_end_points():
    assert arm_position("star") == 0 and arm_position("n1") == 1 and arm_position("n4") == 3
    assert arm_position("rl-only") is None
    linear = {"star": {0: {"p": 0.0}}, "n1": {0: {"p": 0.1}}, "n4": {0: {"p": 0.3}}}
    assert trend(linear) == [[pytest.approx(0.1)]]  # 0.1 per position
    # same end points, a middle arm far above the line: the slope changes, which a two-point test would miss
    bent = {"star": {0: {"p": 0.0}}, "n1": {0: {"p": 0.9}}, "n4": {0: {"p": 0.3}}}
    assert trend(bent)[0][0] != pytest.approx(0.1)
    with pytest.raises(ValueError, match="at least two"):
        trend({"n4": {0: {"p": 1.0}}})


def test_ratio_bootstrap_by_problem():
    accuracy, low, high = ratio_bootstrap({"a": 3, "b": 1}, {"a": 4, "b": 4, "c": 0}, resamples=500)
    assert accuracy == 0.5 and 0.25 <= low <= accuracy <= high <= 0.75
    assert ratio_bootstrap({}, {"a": 0}) is None


def _outcomes(effects: dict[str, float], problems: int = 40, composite_mixed: tuple[float, float] = (0.0, 0.5),
              seeds: int = 2) -> Outcomes:
    """Synthetic per-problem outcomes: arm value = base + effect + noise; half the problems composite."""
    rng = random.Random(3)
    found = Outcomes(k=16)

    def outcome(pid, family, value, mixed_share=0.0):
        o = ProblemOutcome(pid, family, {1: value / 2, 16: value})
        o.traces = [(True, ("pair_terms", "round_adjust") if i < 16 * mixed_share else ("column_method",))
                    for i in range(16)]
        return o

    base_values = {f"p{i}": rng.uniform(0.2, 0.8) for i in range(problems)}
    family = {pid: "composite" if i % 2 else "mul" for i, pid in enumerate(base_values)}
    found.by_arm["base"] = {"after_rl": {0: {p: outcome(p, family[p], v) for p, v in base_values.items()}}}
    for arm, effect in effects.items():
        for phase, mixed_share in (("before_rl", composite_mixed[0]), ("after_rl", composite_mixed[1])):
            for seed in range(seeds):
                values = {p: min(1.0, max(0.0, v + effect + rng.gauss(0, 0.02))) for p, v in base_values.items()}
                found.by_arm.setdefault(arm, {}).setdefault(phase, {})[seed] = {
                    p: outcome(p, family[p], v, mixed_share if family[p] == "composite" else 0.0)
                    for p, v in values.items()}
    return found


def test_claims_from_synthetic_outcomes():
    outcomes = _outcomes({"star": 0.0, "n1": 0.05, "n4": 0.10, "incorrect-n4": 0.15, "budget-n4-few": 0.02,
                          "budget-n4-many": 0.02})
    items = {item["claim"][:3]: item for item in evaluate_claims(outcomes, gate_passed=True, resamples=500)}
    assert items["(a)"]["verdict"] == "held"  # a clear trend star < n1 < n4
    assert "star <= n1 <= n4" in items["(a)"]["claim"]
    assert items["(b)"]["verdict"] == "contradicted"  # incorrect-n4 scored higher than n4 here
    assert items["(c)"]["verdict"] == "inconclusive" and items["(c)"]["estimate"]["mde"] > 0
    assert items["(d)"]["verdict"] == "held"  # mixed traces on composite problems: 0% -> 50%
    assert items["(d)"]["estimate"]["mean"] == pytest.approx(0.5)
    assert items["(d)"]["composed_vs_single"]["mixed"]["accuracy"] == 1.0
    assert items["(d)"]["estimate"]["problems"] == 20  # composite problems only
    assert items["(c)"]["estimate"]["seeds"] == 2


def test_a_failed_gate_makes_every_claim_not_testable():
    outcomes = _outcomes({"star": 0.0, "n4": 0.2, "incorrect-n4": 0.0})
    items = evaluate_claims(outcomes, gate_passed=False, resamples=200)
    claims = [item for item in items if not item["claim"].startswith("(context)")]
    assert {item["verdict"] for item in claims} == {"not testable: gate failed"}
    assert items[0]["estimate"] is not None  # the numbers are still shown


def test_outcomes_are_read_from_lm_eval_samples_and_judge_labels(tmp_path):
    """The demo reads each evaluation in lm-eval's samples format and the judge's labels.jsonl format."""
    eval_dir = tmp_path / "evals" / "n4-seed0-rl"
    (eval_dir / "model").mkdir(parents=True)
    (eval_dir / "judge").mkdir()
    rows = [{"doc_id": i, "doc": {"id": f"toy-eval-{i:05d}", "problem": "x", "answer": "1"}, "pass@1": 0.25 * i,
             "pass@2": 0.5, "filtered_resps": [["a", "b"]]} for i in range(2)]
    (eval_dir / "model" / "samples_midrl_toy_2026-11-30T12-00-00.000001.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
    labels = [{"task": "midrl_toy", "doc_id": 1, "repeat": r, "correct": r == 0,
               "rules": {"ids": ["pair_terms", "round_adjust"] if r == 0 else ["column_method"]}} for r in range(2)]
    (eval_dir / "judge" / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in labels))
    results = {"base": {"eval_dir": str(eval_dir)}, "runs": []}
    outcomes = load_outcomes(results, {"toy-eval-00001": "composite"})
    problems = outcomes.by_arm["base"]["after_rl"][0]
    assert outcomes.k == 2
    assert problems["toy-eval-00001"].pass_at_k == {1: 0.25, 2: 0.5}
    assert problems["toy-eval-00001"].family == "composite" and problems["toy-eval-00000"].family == "unknown"
    assert problems["toy-eval-00001"].mixed_share == 0.5 and problems["toy-eval-00000"].mixed_share is None


def test_gate_checks_and_text():
    from midrl_bench.toyworld.cli import PRESETS_DIR
    from midrl_bench.toyworld.config import load_toy_config
    from midrl_bench.toyworld.gate import _check, gate_result, gate_text, wilson

    low, high = wilson(5, 10)
    assert low < 0.5 < high and wilson(0, 0) == (0.0, 1.0)
    ok = _check("x: tagged column_method per-sample accuracy", 1, 64, "<=", 0.10)
    bad = _check("y: tagged pair_terms per-sample accuracy", 20, 64, ">=", 0.50)
    assert ok["passed"] and not bad["passed"] and bad["value"] == pytest.approx(20 / 64)
    text = gate_text({"enabled": True, "passed": False, "checks": [ok, bad]})
    assert "GATE FAILED" in text and "not testable: gate failed" in text and "| FAIL |" in text
    classic = load_toy_config(PRESETS_DIR / "classic.yaml")
    assert gate_result(classic, PRESETS_DIR)["enabled"] is False  # no gated sub-types: no gate, nothing measured


def test_toy_reward_scores_like_math_correctness_and_logs_strategy_shares(tmp_path):
    from midrl_bench.rewards import get_reward
    from midrl_bench.toyworld.problems import Problem
    from midrl_bench.toyworld.reward import read_shares
    from midrl_bench.toyworld.traces import composite_trace, write_trace

    log = tmp_path / "shares.jsonl"
    reward = get_reward("toy_correctness", {"log": str(log)})  # by name, as a recipe's rl.reward selects it
    product = Problem("p", "mul_near1000", (47, 98), 47 * 98)
    composite = Problem("c", "composite", (47, 98, 3, 5, 7, 9, 11, 13, 15, 17), 47 * 98 + 80)
    responses = [write_trace(product, "round_adjust"), write_trace(product, "column_method").replace("4606}", "1}"),
                 composite_trace(composite, ["round_adjust", "pair_terms"]), "no idea"]
    batch = reward.score(responses, [product.answer, product.answer, composite.answer, product.answer])
    assert batch.scores == [1.0, 0.0, 1.0, 0.0]  # the math checker's verdicts, as math_correctness gives
    reward.score(responses[:2], [product.answer] * 2)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["call"] for r in rows] == [1, 2]
    assert rows[0]["shares"]["round_adjust"] == 0.5 and rows[0]["shares"]["pair_terms"] == 0.25
    assert rows[0]["mixed"] == 0.25 and rows[0]["none"] == 0.25 and rows[0]["accuracy"] == 0.5
    points = read_shares(log, every=2)
    assert len(points) == 1 and points[0]["step"] == 2
    assert points[0]["shares"]["column_method"] == pytest.approx((0.25 + 0.5) / 2)


def test_demo_recipes_use_the_recipe_schema_and_log_shares():
    from midrl_bench.toyworld.config import ToyConfig

    spec = ToyConfig().pipeline_spec({"model": "m", "dataset": "d", "config": "n4", "prompts": "p.jsonl",
                                      "reward_log": "runs/x/strategy_shares.jsonl", "name": "toy-n4", "seed": "2"})
    assert spec.rl.reward == "toy_correctness" and spec.rl.reward_options["log"].endswith("strategy_shares.jsonl")
    assert spec.rl.steps == 60 and spec.midtrain.config == "n4" and spec.seed == 2  # the default preset's budget


def test_a_resumed_demo_keeps_entries_its_store_already_accepted(tmp_path):
    from midrl_bench.leaderboard.store import ENTRIES_DIR

    from midrl_bench.toyworld.config import ToyConfig
    from midrl_bench.toyworld.demo import DemoContext, Variant, submission, submit_entry

    ctx = DemoContext(config=ToyConfig(), out=tmp_path / "demo")
    payload = submission(ctx, Variant("n4", "n4"), seed=0, parameters=800_000)
    assert payload["generation"] == {"max_gen_toks": 384, "cache_implementation": "static"}  # evaluate()'s kwargs
    eval_dir = tmp_path / "demo" / "evals" / "n4-seed0-rl"
    eval_dir.mkdir(parents=True)
    assert submit_entry(ctx, eval_dir, payload) is False  # no lm-eval files: the real validator rejects it
    accepted = ctx.out / "leaderboard" / "store" / ENTRIES_DIR / "midrl-toy--n4-seed0-rl--local"
    accepted.mkdir(parents=True)
    (accepted / "entry.json").write_text("{}", encoding="utf-8")  # what an interrupted earlier run left
    assert submit_entry(ctx, eval_dir, payload) is True
