"""Pre-training throughput of the tiny model: length-grouped batches (what `toyworld.model` uses) against TRL's
default random batches, measured in the same run on the same corpus and model.

    OMP_NUM_THREADS=1 python benchmarks/toyworld_pretrain.py [--steps 60]

Prints real (non-padding) training tokens per second for both and the ratio grouped / random. The tagged examples
carry the builder's ~80-token system prompt and the untagged ones do not, so random batches pad heavily.
"""

from __future__ import annotations

import argparse
import time


def _run(sampling: str, steps: int) -> float:
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from midrl_bench.heuristics import load_library
    from midrl_bench.toyworld.config import ToyConfig
    from midrl_bench.toyworld.corpus import pretraining_examples
    from midrl_bench.toyworld.model import _tokenizer, new_model
    from midrl_bench.toyworld.problems import generate_splits

    config = ToyConfig()
    library = load_library(config.world.strategies_dir)
    world = config.world
    problems = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)["pretrain"]
    tokenizer = _tokenizer(config, problems, library)
    examples = pretraining_examples(problems, library, config.pretrain, steps * config.pretrain.batch_size)
    dataset = Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"]} for e in examples])
    torch.manual_seed(0)
    args = SFTConfig(output_dir="/tmp/toyworld-bench", max_steps=steps, per_device_train_batch_size=config.pretrain.batch_size,
                     learning_rate=config.pretrain.learning_rate, report_to=[], use_cpu=True, save_strategy="no",
                     disable_tqdm=True, train_sampling_strategy=sampling, logging_steps=steps)
    trainer = SFTTrainer(model=new_model(config, tokenizer), args=args, train_dataset=dataset, processing_class=tokenizer)
    real_tokens = sum(len(row["input_ids"]) for row in trainer.train_dataset)
    started = time.monotonic()
    trainer.train()
    return real_tokens / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    steps = parser.parse_args().steps
    random_rate = _run("random", steps)
    grouped_rate = _run("group_by_length", steps)
    print(f"random batches (baseline): {random_rate:,.0f} real tokens/s")
    print(f"length-grouped batches:    {grouped_rate:,.0f} real tokens/s")
    print(f"ratio grouped / random:    {grouped_rate / random_rate:.2f}x")


if __name__ == "__main__":
    main()
