"""Shared test set-up: one torch thread, the data mirror, and a tiny random Llama built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
_DEFAULT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
if "MIDRL_DATA_DIR" not in os.environ and _DEFAULT_MIRROR.is_dir():
    os.environ["MIDRL_DATA_DIR"] = str(_DEFAULT_MIRROR)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    """A randomly initialised tiny Llama + char-level tokenizer saved with save_pretrained (CPU, seconds).

    The same builder as the `build_tiny` model of pipeline recipes; a long context so MuSR narratives fit.
    """
    from midrl_bench.pipeline.spec import TinyModelSpec
    from midrl_bench.pipeline.tiny import build_tiny_model

    return build_tiny_model(TinyModelSpec(max_position_embeddings=8192), tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def leaderboard_lm_eval_dir(tiny_llama_dir, tmp_path_factory) -> Path:
    """One real lm-eval run of the pack (tests/_leaderboard_fixtures.py), shared by the leaderboard test files."""
    from _leaderboard_fixtures import lm_eval_output

    return lm_eval_output(tiny_llama_dir, tmp_path_factory.mktemp("leaderboard-lm-eval"))


# CI runs `pytest -n 2 --dist loadfile --no-loadscope-reorder` after `midrl demo --quick --prepare` has cached the
# tiny model and its gate: each test file goes whole to one worker, in this order: the demo's file first (the longest,
# about six minutes, so it overlaps the rest instead of running alone at the end), then the model's file, then the
# rest. Without the prepare step the first of them pre-trains and the other waits on its build lock. Not
# `--dist loadgroup`: xdist 3.8 marks groups through `item._nodeid`, which pytest 9 no longer reads, so its groups
# are silently split across workers.
SCHEDULE_FIRST = ("test_toyworld_demo.py", "test_toyworld_model.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: place for place, name in enumerate(SCHEDULE_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SCHEDULE_FIRST)))  # stable: the rest keep their order
