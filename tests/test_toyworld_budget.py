"""The expected run time printed before a demo starts (`toyworld.budget`): which stages it counts, and workers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from midrl_bench.toyworld import budget
from midrl_bench.toyworld.cli import PRESETS_DIR
from midrl_bench.toyworld.config import load_toy_config


@pytest.fixture(scope="module")
def full():
    return load_toy_config(PRESETS_DIR / "full.yaml")


def test_cached_stages_cost_nothing_and_an_empty_cache_pays_for_pre_training(full):
    cached = budget.estimate(full, arm_count=7, model_cached=True, gate_cached=True)
    empty = budget.estimate(full, arm_count=7, model_cached=False, gate_cached=False)
    assert cached.pretrain_s == cached.gate_s == 0.0 and cached.build_s > 0 and cached.eval_s > 0
    assert empty.pretrain_s == full.pretrain.max_steps * budget.PRETRAIN_STEP_S and empty.gate_s > 0
    assert empty.total_s - cached.total_s == pytest.approx(empty.pretrain_s + empty.gate_s)
    assert "pre-training" in empty.preparation().text() and "evaluation" not in empty.preparation().text()


def test_two_workers_divide_what_follows_the_build(full):
    one = budget.estimate(replace(full, demo=replace(full.demo, workers=1)), 7, True, True)
    two = budget.estimate(replace(full, demo=replace(full.demo, workers=2)), 7, True, True)
    assert one.train_s / two.train_s == pytest.approx(budget.TWO_WORKERS_SPEEDUP)
    assert one.eval_s / two.eval_s == pytest.approx(budget.TWO_WORKERS_SPEEDUP)
    assert two.build_s == one.build_s  # the build runs before the workers, on every thread
