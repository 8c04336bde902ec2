"""`midrl demo --prepare`: pre-train and gate only (what CI runs on every core before the tests), then stop."""

from __future__ import annotations

import yaml

from midrl_bench.toyworld.cli import PRESETS_DIR


def _tiny_world(tmp_path):
    """The quick preset with a 20-step pre-training and a gate of a few samples (seconds, not the real gate)."""
    data = yaml.safe_load((PRESETS_DIR / "quick.yaml").read_text(encoding="utf-8"))
    data["world"]["pretrain_problems"] = 200
    data["pretrain"]["max_steps"] = 20
    data["gate"].update({"problems_per_subtype": 1, "tagged_samples": 1, "untagged_problems": 5,
                         "untagged_samples": 2})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_prepare_pretrains_and_gates_once_then_reuses_both(tmp_path, monkeypatch, capsys):
    from midrl_bench.cli import main

    monkeypatch.setenv("MIDRL_CACHE_DIR", str(tmp_path / "cache"))
    config = _tiny_world(tmp_path)
    assert main(["demo", "--config", str(config), "--prepare", "--threads", "1", "--out", str(tmp_path / "o")]) == 0
    first = capsys.readouterr()
    expected = next(line for line in first.err.splitlines() if "expected run time" in line)
    assert "pre-training" in expected and "build" not in expected and "evaluation" not in expected  # only its part
    assert "GATE FAILED" in first.out  # 20 steps learn nothing: the gate says so, and preparing still succeeds
    model_dir = next((tmp_path / "cache" / "toyworld").glob("*/pretrain.json")).parent
    assert f"tiny model: {model_dir}" in first.out and len(list(model_dir.glob("gate-*.json"))) == 1
    assert not (tmp_path / "o").exists()  # no demo run: nothing written besides the cache

    assert main(["demo", "--config", str(config), "--prepare"]) == 0
    second = capsys.readouterr()
    assert "pre-training the tiny model" not in second.err and "gate check of" not in second.err  # both reused
    assert "expected run time: nothing to compute (every stage is cached)" in second.err
    assert "GATE FAILED" in second.out


def test_thread_counts(capsys):
    import os

    from midrl_bench.cli import main
    from midrl_bench.toyworld.cli import thread_count

    assert thread_count(None) is None and thread_count("3") == 3
    assert thread_count("all") == len(os.sched_getaffinity(0))  # not OMP_NUM_THREADS (1 in the tests), unlike nproc
    for bad in ("0", "two", "-1"):
        assert main(["demo", "--quick", "--prepare", "--threads", bad]) == 2
        assert capsys.readouterr().err.strip() == f"midrl demo: --threads must be a number >= 1 or `all`, got {bad!r}"
