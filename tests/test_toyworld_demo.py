"""`midrl demo --quick` end to end: pre-trained tiny model -> gate check -> `midrl build` (hf backend) -> TRL
mid-training + GRPO (strategy shares logged per step) -> lm-eval `midrl_toy` (world and size through lm-eval
metadata) -> rules judge -> local leaderboard -> gate, tables, per-sub-type tables and paired claims."""

from __future__ import annotations

import json

import pytest

# scheduled first (tests/conftest.py): the longest file, so it overlaps the rest; CI has cached its model and gate
# before pytest starts (`midrl demo --quick --prepare`)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    from midrl_bench.cli import main

    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    return out


def test_quick_demo_reports_gate_tables_and_paired_claims(demo_out):
    summary = (demo_out / "summary.md").read_text()
    for heading in ("## Gate", "## Arms", "## By sub-type", "The paper's claims in this run",
                    "## Strategy shares during GRPO"):
        assert heading in summary, heading
    assert "Gate PASSED" in summary or "GATE FAILED" in summary
    for name in ("pass_at_k_by_n.png", "before_after_rl.png", "strategy_shares.png"):
        assert (demo_out / name).stat().st_size > 5_000, name
    claims = {c["claim"][:3]: c for c in json.loads((demo_out / "claims.json").read_text())}
    assert set(claims) == {"(a)", "(b)", "(c)", "(d)", "(co"}
    gate = json.loads((demo_out / "results.json").read_text())["gate"]
    allowed = {"held", "contradicted", "inconclusive"} if gate["passed"] else {"not testable: gate failed"}
    assert claims["(a)"]["verdict"] in allowed and "star <= n1 <= n4" in claims["(a)"]["claim"]
    estimate = claims["(a)"]["estimate"]  # a trend over three arms, paired by problem
    assert estimate["problems"] == 48 and estimate["ci95"][0] <= estimate["mean"] <= estimate["ci95"][1]
    assert estimate["mde"] > 0
    assert claims["(b)"]["verdict"].startswith("not testable")  # quick runs no incorrect-n4 ...
    assert claims["(c)"]["verdict"].startswith("not testable")  # ... and no fixed-budget pair
    from midrl_bench.toyworld.config import load_toy_config
    from midrl_bench.toyworld.problems import generate_splits

    world = load_toy_config(demo_out / "toy.yaml").world
    first_48 = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)["eval"][:48]
    composites = sum(problem.family == "composite" for problem in first_48)
    assert composites == 18 and claims["(d)"]["estimate"]["problems"] == composites  # composite problems only
    tables = json.loads((demo_out / "tables.json").read_text())
    assert set(tables["by_subtype"]["n4"]) == {"composite", "mul", "series", "series_long"}


def test_quick_demo_ran_every_part(demo_out):
    results = json.loads((demo_out / "results.json").read_text())
    assert [run["variant"] for run in results["runs"]] == ["star", "n1", "n4"]
    assert [("before_rl" in run) for run in results["runs"]] == [False, False, True]  # demo.before_rl: [n4]
    for run in results["runs"]:
        assert set(run["after_rl"]["pass_at_k"]) >= {"pass@1", "pass@8", "pass@16"}
        assert run["leaderboard_accepted"] is True  # re-scored and accepted by the leaderboard's validator
        shares = [json.loads(line) for line in open(run["strategy_shares"])]
        assert [row["call"] for row in shares] == list(range(1, 17))  # one row per GRPO step (16 steps)
        assert {row["rollouts"] for row in shares} == {32}  # 4 prompts x a group of 8 per step
        assert all(0.0 <= value <= 1.0 for row in shares for value in [*row["shares"].values(), row["mixed"]])
    manifest = json.loads((demo_out / "dataset" / "manifest.json").read_text())
    assert manifest["counts"]["generate"]["generated"] > 0 and "n4" in manifest["configs"]
    assert (demo_out / "leaderboard" / "site" / "index.html").is_file()
    # lm-eval got the world through its metadata: the results file records toy_config and the size
    from midrl_bench.tasks.lm_eval_files import results_files

    config = json.loads(results_files(demo_out / "evals" / "base")[-1].read_text())["configs"]["midrl_toy"]
    assert config["metadata"]["toy_config"] == str(demo_out / "toy.yaml") and config["metadata"]["size"] == 192
    recipe = (demo_out / "runs" / "n4-seed0.yaml").read_text()
    assert "reward: toy_correctness" in recipe  # an ordinary `midrl train` recipe
