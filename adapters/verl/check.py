"""Validate generated verl inputs with verl itself; run with the verl environment's Python.

    <verl-env>/bin/python -m midrl_bench.adapters.verl.check JOB.json

JOB.json lists `checks`, one per generated stage: {"name", "kind": "ppo" | "sft", "overrides": [Hydra override
strings], "tokenizer": dir, "parquet": file, "reward_cases": [{"solution_str", "ground_truth"}], "skip_sections":
[config sections not to build, e.g. a Hub model's `actor_rollout_ref.model` offline]}, and `must_fail`:
[{"config": "ppo_trainer" | "sft_trainer_engine", "overrides": [...]}] that verl's composition has to reject.
Each part goes through verl's own code path, nothing re-implemented:
- composition: Hydra's compose API on verl's `ppo_trainer.yaml` / `sft_trainer_engine.yaml` (an override of a key
  that does not exist fails), then `verl.utils.config.validate_config` (main_ppo's checks) and the config
  dataclasses verl's trainer and workers build, through `omega_conf_to_dataclass` (their __post_init__ checks run);
- data: verl's `RLHFDataset` and `MultiTurnSFTDataset` read the parquet files with the tokenizer;
- reward: `verl.trainer.ppo.reward.load_reward_manager` loads the reward file from the composed config and its
  reward manager's `run_single` scores each case from token ids, as in training.
Prints one JSON object (resolved values, dataset rows, rewards); exits 1 with a one-line error otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any

CONFIG_DIR = ("trainer", "config")


def compose(config_name: str, overrides: list[str]):
    import verl
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    config_dir = os.path.join(os.path.dirname(verl.__file__), *CONFIG_DIR)
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return hydra_compose(config_name=config_name, overrides=overrides)


PPO_SECTIONS = ("algorithm", "actor_rollout_ref.model", "actor_rollout_ref.actor",
                "actor_rollout_ref.rollout", "actor_rollout_ref.rollout.checkpoint_engine")  # as verl's workers build
SFT_SECTIONS = ("model", "engine", "optim", "checkpoint")  # as verl.trainer.sft_trainer builds them


def build_sections(config: Any, sections: tuple[str, ...]) -> dict[str, Any]:
    """The config dataclasses verl's trainer and workers build, through verl's own converter (their checks run)."""
    from omegaconf import OmegaConf
    from verl.utils.config import omega_conf_to_dataclass

    return {section: omega_conf_to_dataclass(OmegaConf.select(config, section)) for section in sections}


def dataclass_fields(built: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Scalar fields of each built dataclass (what the run will actually use), for comparison by the caller."""
    import dataclasses

    out = {}
    for section, obj in built.items():
        fields = {}
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name, None)
            if isinstance(value, (str, int, float, bool, type(None))) or (
                    isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value)):
                fields[field.name] = list(value) if isinstance(value, tuple) else value
        out[section] = fields
    return out


def check_ppo(overrides: list[str], sections: tuple[str, ...] = PPO_SECTIONS) -> tuple[Any, dict[str, Any]]:
    from omegaconf import OmegaConf
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    config = compose("ppo_trainer", overrides)
    OmegaConf.resolve(config)
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    built = build_sections(config, sections)
    return config, {"reference_policy": need_reference_policy(config), "critic": need_critic(config),
                    "dataclasses": dataclass_fields(built), "resolved": OmegaConf.to_container(config)}


def check_sft(overrides: list[str], sections: tuple[str, ...] = SFT_SECTIONS) -> tuple[Any, dict[str, Any]]:
    from omegaconf import OmegaConf

    config = compose("sft_trainer_engine", overrides)
    OmegaConf.resolve(config)
    built = build_sections(config, sections)
    return config, {"dataclasses": dataclass_fields(built), "resolved": OmegaConf.to_container(config)}


def composition_error(config_name: str, overrides: list[str]) -> str | None:
    """The error verl's composition raises for `overrides` (None if it accepts them)."""
    try:
        compose(config_name, overrides)
    except Exception as error:
        return describe(error)
    return None


def read_rl_dataset(path: str, tokenizer: Any, data_config: Any) -> list[dict[str, Any]]:
    from verl.utils.dataset.rl_dataset import RLHFDataset

    dataset = RLHFDataset(data_files=[path], tokenizer=tokenizer, config=data_config)
    rows = []
    for index in range(len(dataset)):
        item = dataset[index]
        rows.append({"raw_prompt": _plain(item.get("raw_prompt")), "data_source": item["data_source"],
                     "ground_truth": item["reward_model"]["ground_truth"], "extra_info": _plain(item["extra_info"]),
                     "index": int(item["index"]) if "index" in item else None})
    return rows


def read_sft_dataset(path: str, tokenizer: Any, data_config: Any) -> list[dict[str, Any]]:
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    dataset = MultiTurnSFTDataset(parquet_files=[path], tokenizer=tokenizer, config=data_config)
    rows = []
    for index in range(len(dataset)):
        item = dataset[index]
        ids, mask = item["input_ids"].tolist(), item["loss_mask"].tolist()
        rows.append({"text": tokenizer.decode(ids), "loss_text": tokenizer.decode(
            [token for token, keep in zip(ids, mask, strict=True) if keep])})
    return rows


def score_cases(config: Any, tokenizer: Any, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case through verl's reward loading path and its reward manager, from token ids as in training."""
    import numpy as np
    import torch
    from verl import DataProto
    from verl.trainer.ppo.reward import load_reward_manager

    manager = load_reward_manager(config, tokenizer)
    results = []
    for case in cases:
        response = tokenizer(case["solution_str"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        prompt = [tokenizer.pad_token_id] * 2
        data = DataProto.from_dict(
            tensors={"responses": torch.tensor([response]), "prompts": torch.tensor([prompt]),
                     "attention_mask": torch.ones(1, len(prompt) + len(response), dtype=torch.long)},
            non_tensors={"data_source": np.array([case.get("data_source", "midrl/test")], dtype=object),
                         "reward_model": np.array([{"style": "rule", "ground_truth": case["ground_truth"]}],
                                                  dtype=object),
                         "extra_info": np.array([{"index": 0}], dtype=object)})
        out = manager.loop.run_until_complete(manager.run_single(data))  # the loop the manager was built on
        results.append({"score": float(out["reward_score"]), "extra": _plain(out["reward_extra_info"])})
    return results


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_check(item: dict[str, Any]) -> dict[str, Any]:
    """One generated stage through verl: composition + validation, then its data file and reward cases if given."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(item["tokenizer"]) if item.get("tokenizer") else None
    sections = tuple(s for s in (PPO_SECTIONS if item["kind"] == "ppo" else SFT_SECTIONS)
                     if s not in item.get("skip_sections", ()))
    config, report = (check_ppo if item["kind"] == "ppo" else check_sft)(item["overrides"], sections)
    if item.get("parquet"):
        reader = read_rl_dataset if item["kind"] == "ppo" else read_sft_dataset
        report["rows"] = reader(item["parquet"], tokenizer, config.data)
    if item.get("reward_cases") is not None:
        report["rewards"] = score_cases(config, tokenizer, item["reward_cases"])
    return report


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """`checks`: named stage checks (all must pass); `must_fail`: compositions verl has to reject."""
    import verl

    report: dict[str, Any] = {"checks": {item["name"]: run_check(item) for item in job.get("checks", [])}}
    report["rejected"] = [composition_error(item["config"], item["overrides"]) for item in job.get("must_fail", [])]
    report["verl_version"] = verl.__version__
    return report


def describe(error: BaseException) -> str:
    """One line: the error and its causes (verl wraps a reward file's own error in "Error loading module")."""
    parts = []
    while error is not None and len(parts) < 4:
        parts.append(f"{type(error).__name__}: {' '.join(str(error).split())}")
        error = error.__cause__ or error.__context__
    return " <- ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m midrl_bench.adapters.verl.check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("job", help="JSON file naming the generated overrides, files and reward cases")
    args = parser.parse_args(argv)
    with open(args.job, encoding="utf-8") as handle:
        job = json.load(handle)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # verl prints progress; stdout carries only the JSON report
            report = run_job(job)
    except Exception as error:  # verl / Hydra rejected something: one line naming it, for the caller's test
        print(json.dumps({"error": describe(error)}))
        return 1
    print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
