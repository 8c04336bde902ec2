"""`demo.workers`: arms trained and evaluated in worker processes give the results of one after another."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from midrl_bench.toyworld.cli import PRESETS_DIR

pytestmark = pytest.mark.slow


def _tiny_demo(tmp_path, workers: int):
    """The quick preset shrunk to seconds per stage: a 20-step model, a gate of a few samples, the RL-only arm
    for 2 seeds (a 20-step model writes too few correct solutions for a mid-training config) of 2 GRPO steps each,
    6 eval problems x 2 samples."""
    data = yaml.safe_load((PRESETS_DIR / "quick.yaml").read_text(encoding="utf-8"))
    data["world"]["pretrain_problems"] = 200
    data["pretrain"]["max_steps"] = 20
    data["gate"].update({"problems_per_subtype": 1, "tagged_samples": 1, "untagged_problems": 5,
                         "untagged_samples": 2})
    data["build"]["generation"].update({"samples_per_pair": 1, "star_samples": 1})
    data["build"]["generation"]["sampling"]["max_new_tokens"] = 48
    data["train"]["rl"].update({"steps": 2, "max_response_tokens": 48})
    data["train"]["eval"].update({"repeats": 2, "max_gen_toks": 48})
    data["demo"].update({"arms": ["rl-only"], "seeds": 2, "train_problems": 10, "eval_problems": 6,
                         "bootstrap": 50, "workers": workers})
    path = tmp_path / f"tiny-{workers}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_workers_give_the_results_of_one(tmp_path, monkeypatch, capfd):
    from midrl_bench.cli import main

    monkeypatch.setenv("MIDRL_CACHE_DIR", str(tmp_path / "cache"))
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"demo-{workers}"
        assert main(["demo", "--config", str(_tiny_demo(tmp_path, workers)), "--out", str(out)]) == 0
        outputs[workers] = out
    log = capfd.readouterr().err  # the workers' lines come from other processes: file descriptors, not sys
    assert "the base evaluation and 2 arms, 2 at a time in worker processes" in log
    assert "[rl-only-seed1] [demo] mid-train + GRPO" in log and "[base] [demo] evaluate" in log
    one, two = (json.loads((outputs[w] / "results.json").read_text()) for w in (1, 2))
    assert [(run["variant"], run["seed"]) for run in two["runs"]] == [("rl-only", 0), ("rl-only", 1)]
    assert two["workers"] == 2
    assert two["base"]["pass_at_k"] == one["base"]["pass_at_k"]
    for run_one, run_two in zip(one["runs"], two["runs"], strict=True):
        assert run_two["after_rl"]["pass_at_k"] == run_one["after_rl"]["pass_at_k"]
        assert run_two["leaderboard_accepted"] is True  # submitted by the main process after the workers
        name = f"{run_one['variant']}-seed{run_one['seed']}"
        weights = [_digest(outputs[w] / "runs" / name / "rl" / "checkpoint" / "model.safetensors") for w in (1, 2)]
        assert weights[0] == weights[1], name  # the same GRPO updates on one thread or in a worker
        shares = [(outputs[w] / "runs" / name / "strategy_shares.jsonl").read_text() for w in (1, 2)]
        assert shares[0] == shares[1]
    assert "wall clock of this sitting" in (outputs[2] / "summary.md").read_text()
