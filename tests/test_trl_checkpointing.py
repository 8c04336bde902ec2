"""The TRL adapter sets activation (gradient) checkpointing explicitly: TRL 1.16 turns it on by default, so an
adapter that only ever passed `True` could never turn it off."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from midrl_bench.pipeline.spec import spec_from_dict

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "tiny-cpu.yaml"


def _backend(checkpointing: bool | None):
    from midrl_bench.adapters.trl.backend import TRLBackend

    data = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    if checkpointing is not None:
        data["backend_options"]["trl"]["gradient_checkpointing"] = checkpointing
    spec = spec_from_dict(data, recipe_path=str(RECIPE))
    return TRLBackend(spec), spec


@pytest.mark.parametrize("checkpointing", [None, False, True])
def test_trainer_configs_follow_the_option(tmp_path, checkpointing):
    from trl import GRPOConfig, SFTConfig

    backend, spec = _backend(checkpointing)
    expected = bool(checkpointing)
    sft = SFTConfig(output_dir=str(tmp_path / "sft"), **backend.sft_args(spec))
    grpo = GRPOConfig(output_dir=str(tmp_path / "grpo"), **backend.grpo_args(spec))
    assert sft.gradient_checkpointing is expected
    assert grpo.gradient_checkpointing is expected
