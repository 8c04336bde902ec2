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
