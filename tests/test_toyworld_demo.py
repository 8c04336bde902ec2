"""`midrl demo --quick` end to end: pre-trained tiny model -> `midrl build` (hf backend) -> TRL mid-training + GRPO
-> lm-eval `midrl_toy` -> rules judge -> local leaderboard -> table, plots and claims."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    from midrl_bench.cli import main

    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out


def test_quick_demo_writes_table_plots_and_claims(demo_out):
    summary = (demo_out / "summary.md").read_text()
    assert "| variant |" in summary and "The paper's claims in this run" in summary
    for name in ("pass_at_k_by_n.png", "before_after_rl.png"):
        assert (demo_out / name).stat().st_size > 5_000
    claims = json.loads((demo_out / "claims.json").read_text())
    assert {c["claim"][:3] for c in claims} == {"(a)", "(b)", "(d)"}  # quick runs no fixed-budget pair
    assert all(c["verdict"] in {"held", "did not hold", "inconclusive", "partly held (not monotonic)"} for c in claims)


def test_quick_demo_ran_every_part(demo_out):
    results = json.loads((demo_out / "results.json").read_text())
    assert [run["variant"] for run in results["runs"]] == ["n1", "n4", "incorrect-n4"]
    for run in results["runs"]:
        for phase in ("before_rl", "after_rl"):
            assert set(run[phase]["pass_at_k"]) >= {"pass@1", "pass@8", "pass@16"}
            assert 0.0 <= run[phase]["composed_share"] <= 1.0
        assert run["leaderboard_accepted"] is True  # re-scored and accepted by the leaderboard's validator
    manifest = json.loads((demo_out / "dataset" / "manifest.json").read_text())
    assert manifest["counts"]["generate"]["generated"] > 0 and "n4" in manifest["configs"]
    assert (demo_out / "leaderboard" / "site" / "index.html").is_file()
    # the mid-trained checkpoints really differ from the base model: the TRL stages ran and moved the weights
    midtrain = json.loads((demo_out / "runs" / "n4-seed0" / "midtrain" / "DONE").read_text())
    assert midtrain
