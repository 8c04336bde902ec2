"""TRL stage runner: SFTTrainer (mid-training) or GRPOTrainer (RL) from a stage file written by the TRL backend.

The backend writes one JSON stage file per stage (model, data file, output dir, the full SFTConfig/GRPOConfig
keyword arguments); this module runs it either in the calling process or as the entry point of a launched job:

    accelerate launch --num_processes 8 -m midrl_bench.adapters.trl.train --stage-file RUN/midtrain/stage.json

The trainer config is built before the model is loaded (under ZeRO-3 that lets transformers load the weights
sharded). The model is loaded in the stage file's `dtype` (float32 for fp32 master weights; the trainer's bf16 flag
adds autocast). The final model is saved by `trainer.save_model` in `<stage dir>/checkpoint` on every rank (under
ZeRO-3 and FSDP gathering the weights is a collective; the trainer writes the files on the main process only), and
the trainer's log history in `<stage dir>/metrics.json`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

CHECKPOINT_DIR = "checkpoint"
METRICS_FILE = "metrics.json"


def load_model_and_tokenizer(model_path: str, revision: str | None, dtype: str, chat_template: str | None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(model_path, revision=revision, dtype=torch_dtype)
    tokenizer = AutoTokenizer.from_pretrained(model_path, revision=revision)
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def _dataset(data_file: str):
    import datasets

    return datasets.load_dataset("json", data_files=data_file, split="train")


def run_sft(stage: dict[str, Any]) -> dict[str, Any]:
    """Mid-training with TRL's SFTTrainer; completion-only loss on prompt-completion records."""
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(output_dir=str(Path(stage["stage_dir"]) / "trainer"), **stage["trainer_args"])
    model, tokenizer = load_model_and_tokenizer(stage["model_path"], stage.get("revision"), stage["dtype"],
                                                stage.get("chat_template"))
    trainer = SFTTrainer(model=model, args=args, train_dataset=_dataset(stage["data_file"]),
                         processing_class=tokenizer)
    trainer.train()
    return _finish(trainer, tokenizer, stage)


def run_grpo(stage: dict[str, Any]) -> dict[str, Any]:
    """GRPO with TRL's GRPOTrainer and the recipe's reward (`rl.reward`, midrl_bench.rewards)."""
    from trl import GRPOConfig, GRPOTrainer

    from midrl_bench.rewards import REWARD_STATS
    from midrl_bench.rewards.shims import trl_reward_function

    args = GRPOConfig(output_dir=str(Path(stage["stage_dir"]) / "trainer"), **stage["trainer_args"])
    model, tokenizer = load_model_and_tokenizer(stage["model_path"], stage.get("revision"), stage["dtype"],
                                                stage.get("chat_template"))
    trl_reward = trl_reward_function(stage["reward"]["name"], stage["reward"]["options"])
    trainer = GRPOTrainer(model=model, reward_funcs=[trl_reward], args=args,
                          train_dataset=_dataset(stage["data_file"]), processing_class=tokenizer)
    before = REWARD_STATS.as_dict()  # process-wide counts: report this run's share only
    trainer.train()
    counts = {key: value - before[key] for key, value in REWARD_STATS.as_dict().items()}
    return _finish(trainer, tokenizer, stage, reward_counts=counts)


def _finish(trainer: Any, tokenizer: Any, stage: dict[str, Any], **extra: Any) -> dict[str, Any]:
    stage_dir = Path(stage["stage_dir"])
    checkpoint = stage_dir / CHECKPOINT_DIR
    metrics = {"log_history": trainer.state.log_history, "global_step": trainer.state.global_step, **extra}
    trainer.save_model(str(checkpoint))  # every rank: a collective under ZeRO-3 / FSDP (files: main process only)
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(checkpoint))
        (stage_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2, default=str) + "\n", encoding="utf-8")
    trainer.accelerator.wait_for_everyone()
    return {"checkpoint": str(checkpoint), **metrics}


RUNNERS = {"midtrain": run_sft, "rl": run_grpo}


def run_stage_file(path: str | Path) -> dict[str, Any]:
    stage = json.loads(Path(path).read_text(encoding="utf-8"))
    return RUNNERS[stage["stage"]](stage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m midrl_bench.adapters.trl.train", description=__doc__)
    parser.add_argument("--stage-file", required=True, help="stage JSON written by the TRL backend")
    args = parser.parse_args(argv)
    run_stage_file(args.stage_file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
