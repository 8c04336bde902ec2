"""The tiny model: a Llama-architecture causal LM of ~1-2M parameters pre-trained here, cached by config hash.

`pretrained_model(config)` returns the folder of a `save_pretrained` model + tokenizer in
`cache_dir("toyworld", <key>)`, building it when absent: problems -> BPE tokenizer -> corpus -> TRL `SFTTrainer`
(completion-only loss) on CPU. Same config -> same corpus, same initial weights, same data order, same model.
The build happens in a temporary folder that is renamed into place, so a killed build never leaves a broken cache.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from midrl_bench.paths import cache_dir
from midrl_bench.provenance import provenance_record
from midrl_bench.toyworld.config import ToyConfig


def pretrained_model(config: ToyConfig, rebuild: bool = False, log=print) -> Path:
    """The cached pre-trained model folder for `config` (built now when missing or when `rebuild`).

    Concurrent callers (pytest-xdist workers, two demos) serialise on a lock file: one builds, the others wait and
    then reuse its model instead of training the same model again.
    """
    from midrl_bench.heuristics import load_library

    library = load_library(config.world.strategies_dir)
    key = config.pretrained_key(library.content_hash)
    root = cache_dir("toyworld")
    final = root / key
    if (final / "pretrain.json").is_file() and not rebuild:
        return final
    with build_lock(root / f".{key}.lock"):
        if (final / "pretrain.json").is_file() and not rebuild:
            return final  # built by another process while this one waited
        staging = root / f".{key}.building"
        shutil.rmtree(staging, ignore_errors=True)
        log(f"[toyworld] pre-training the tiny model (cache key {key}) ...")
        record = build_pretrained(config, library, staging)
        (staging / "pretrain.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if final.exists():
            from midrl_bench.safe_dirs import remove_owned_dir

            remove_owned_dir(final, marker="pretrain.json")  # a model this function built (rebuild=True)
        staging.rename(final)
    log(f"[toyworld] pre-trained in {record['train_seconds']:.0f} s -> {final}")
    return final


@contextmanager
def build_lock(path: Path):
    import fcntl

    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_model(config: ToyConfig, tokenizer):
    """A freshly initialised Llama sized by `config.model`, its vocabulary matched to the tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    sizes = config.model
    model_config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=sizes.hidden_size, num_hidden_layers=sizes.num_hidden_layers,
        num_attention_heads=sizes.num_attention_heads, num_key_value_heads=sizes.num_attention_heads,
        intermediate_size=sizes.intermediate_size, max_position_embeddings=sizes.max_position_embeddings,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(model_config)


def build_pretrained(config: ToyConfig, library, out_dir: Path) -> dict:
    """Pre-train into `out_dir` (model + tokenizer via save_pretrained); returns the provenance record."""
    import torch
    from datasets import Dataset
    from trl import SFTTrainer

    from midrl_bench.toyworld.corpus import pretraining_examples
    from midrl_bench.toyworld.problems import generate_splits

    world = config.world
    splits = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)
    problems = splits["pretrain"]
    tokenizer = _tokenizer(config, problems, library)
    torch.manual_seed(config.pretrain.seed)
    model = new_model(config, tokenizer)
    count = config.pretrain.max_steps * config.pretrain.batch_size
    examples = pretraining_examples(problems, library, config.pretrain, count)
    dataset = Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"]} for e in examples])
    args = pretraining_args(config, out_dir / "trainer")
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    started = time.monotonic()
    result = trainer.train()
    seconds = time.monotonic() - started
    trainer.save_model(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    shutil.rmtree(out_dir / "trainer", ignore_errors=True)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    kinds = {kind: sum(e["kind"].startswith(kind) for e in examples) for kind in ("default", "tagged", "combined",
                                                                                 "alternative")}
    return provenance_record(
        artefact="toyworld-pretrained-model", config=_plain(config), library_hash=library.content_hash,
        parameters=sum(p.numel() for p in model.parameters()), examples=len(examples), example_kinds=kinds,
        train_seconds=seconds, train_loss=result.training_loss, loss_curve=losses,
        tokens_per_second=_tokens_per_second(trainer, seconds),
    )


def pretraining_args(config: ToyConfig, output_dir: Path, max_steps: int | None = None):
    """The TRL `SFTConfig` of pre-training (`max_steps` overrides the config's, for benchmarks)."""
    from trl import SFTConfig

    pretrain = config.pretrain
    steps = max_steps or pretrain.max_steps
    return SFTConfig(
        output_dir=str(output_dir), max_steps=steps, per_device_train_batch_size=pretrain.batch_size,
        learning_rate=pretrain.learning_rate, lr_scheduler_type="cosine", warmup_steps=max(1, steps // 20),
        weight_decay=0.01, adam_beta2=pretrain.adam_beta2, logging_steps=max(1, steps // 10), save_strategy="no",
        report_to=[], use_cpu=True, seed=pretrain.seed, data_seed=pretrain.seed,
        max_length=config.model.max_position_embeddings, dataloader_num_workers=0, disable_tqdm=False,
        train_sampling_strategy="group_by_length",
        activation_checkpointing=False,  # TRL turns it on by default; recomputing the forward only costs time here
    )


def _tokenizer(config: ToyConfig, problems, library):
    from midrl_bench.toyworld.corpus import tokenizer_texts
    from midrl_bench.toyworld.tokenizer import train_tokenizer

    return train_tokenizer(tokenizer_texts(problems, library), config.model.vocab_size)


def _tokens_per_second(trainer, seconds: float) -> float | None:
    tokens = getattr(trainer.state, "num_input_tokens_seen", 0) or 0
    return tokens / seconds if tokens and seconds > 0 else None


def _plain(config: ToyConfig) -> dict:
    from midrl_bench.config import to_dict

    return to_dict(config)
