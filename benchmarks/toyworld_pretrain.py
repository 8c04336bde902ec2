"""Pre-training throughput of the tiny model: the world's phrase-level BPE (what `toyworld.model` uses) against an
ordinary word-level byte BPE of the same vocabulary size, measured in the same run on the same corpus and model.

    OMP_NUM_THREADS=1 python benchmarks/toyworld_pretrain.py [--steps 400]

Prints, for both tokenizers, the tokens per pre-training example (prompt + trace), training examples per second,
and the ratio phrase / word. Both runs use the pre-training arguments of `toyworld.model` (the default config's
batch size, learning rate, length-grouped batches); only the tokenizer differs. The phrase-level BPE merges a strategy's whole system prompt and the fixed
words of a trace ("write", "carry") into single tokens while digits stay one token each, so every example is
shorter and each optimiser step is cheaper.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _run(merge_across_words: bool, steps: int) -> tuple[float, float]:
    """(tokens per example, examples per second) of `steps` pre-training steps with one tokenizer kind."""
    import torch
    from datasets import Dataset
    from trl import SFTTrainer

    from midrl_bench.heuristics import load_library
    from midrl_bench.toyworld.config import ToyConfig
    from midrl_bench.toyworld.corpus import pretraining_examples, tokenizer_texts
    from midrl_bench.toyworld.model import new_model, pretraining_args
    from midrl_bench.toyworld.problems import generate_splits
    from midrl_bench.toyworld.tokenizer import train_tokenizer

    config = ToyConfig()
    library = load_library(config.world.strategies_dir)
    world = config.world
    problems = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)["pretrain"]
    tokenizer = train_tokenizer(tokenizer_texts(problems, library), config.model.vocab_size, merge_across_words)
    examples = pretraining_examples(problems, library, config.pretrain, steps * config.pretrain.batch_size)
    dataset = Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"]} for e in examples])
    torch.manual_seed(0)
    args = pretraining_args(config, Path(tempfile.mkdtemp(prefix="toyworld-bench-")), max_steps=steps)
    trainer = SFTTrainer(model=new_model(config, tokenizer), args=args, train_dataset=dataset, processing_class=tokenizer)
    tokens_per_example = sum(len(row["input_ids"]) for row in trainer.train_dataset) / len(trainer.train_dataset)
    started = time.monotonic()
    trainer.train()
    return tokens_per_example, len(examples) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    steps = parser.parse_args().steps
    word_tokens, word_rate = _run(merge_across_words=False, steps=steps)
    phrase_tokens, phrase_rate = _run(merge_across_words=True, steps=steps)
    print(f"word-level BPE (baseline): {word_tokens:6.1f} tokens/example, {word_rate:7.1f} examples/s")
    print(f"phrase-level BPE:          {phrase_tokens:6.1f} tokens/example, {phrase_rate:7.1f} examples/s")
    print(f"ratio phrase / word:       {phrase_rate / word_rate:.2f}x examples/s, "
          f"{phrase_tokens / word_tokens:.2f}x tokens/example")


if __name__ == "__main__":
    main()
