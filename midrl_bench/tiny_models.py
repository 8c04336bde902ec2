"""Tiny Llama-architecture models built locally (no Hub): for tests, the CPU recipe and as a starting point.

`build_tiny_llama(out_dir)` trains a byte-level BPE tokenizer on a small corpus, wraps it as a transformers
PreTrainedTokenizerFast with a chat template, initialises a LlamaForCausalLM with a fixed seed and saves both with
`save_pretrained`. Any text round-trips through a byte-level tokenizer, so lm-eval, TRL and the builder can run
on it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]
DEFAULT_CORPUS = (
    "Please reason step by step, and put your final answer within \\boxed{}.",
    "Answer: A B C D E. The answer is 42. Let x = 3, then 2x + 1 = 7.",
    "0123456789 + - * / = ( ) [ ] { } \\frac \\sqrt ^ _ $ , . ; : ! ? ' \"",
    "def solution(numbers):\n    return sum(numbers)\n",
)


def build_tokenizer(corpus: Iterable[str] = DEFAULT_CORPUS, vocab_size: int = 512):
    """A byte-level BPE tokenizer with the project's chat template."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(corpus), vocab_size=vocab_size, min_frequency=1, special_tokens=SPECIAL_TOKENS,
                            show_progress=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, pad_token="<|pad|>", bos_token="<|bos|>", eos_token="<|end|>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_llama(out_dir: str | Path, *, hidden_size: int = 64, layers: int = 2, heads: int = 4,
                     max_positions: int = 2048, seed: int = 0, corpus: Iterable[str] = DEFAULT_CORPUS) -> Path:
    """Save a randomly initialised tiny Llama + tokenizer to `out_dir` and return the path."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out_dir = Path(out_dir)
    tokenizer = build_tokenizer(corpus)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=max_positions, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
