"""A tiny random Llama with a character-level tokenizer and a chat template, built and saved locally.

It stands in for a real model wherever the pipeline must run on a CPU in seconds (tests, `recipes/tiny-cpu.yaml`):
same classes (`LlamaForCausalLM`, `PreTrainedTokenizerFast`), same `save_pretrained` layout, so TRL, OpenRLHF's
dataset classes and lm-eval's `hf` model load it exactly as they would load a Hub checkpoint. The build is
deterministic for a given `TinyModelSpec`.
"""

from __future__ import annotations

import json
import string
from dataclasses import asdict
from pathlib import Path

from midrl_bench.pipeline.spec import TinyModelSpec
from midrl_bench.provenance import sha256_text

SPECIAL_TOKENS = ("<pad>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>")
EOS_TOKEN = "<|end|>"
CHARACTERS = "".join(ch for ch in string.printable if ch not in "\x0b\x0c\r")
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tokenizer():
    """A char-level `PreTrainedTokenizerFast`: one token per printable ASCII character, plus chat special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate((*SPECIAL_TOKENS, *CHARACTERS))}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    core.add_special_tokens(list(SPECIAL_TOKENS))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token=EOS_TOKEN, pad_token="<pad>",
                                        unk_token="<unk>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(spec: TinyModelSpec, out_dir: str | Path) -> Path:
    """Build (or reuse, when the same spec was built there before) the tiny model in `out_dir`."""
    out_dir = Path(out_dir)
    marker = out_dir / "midrl_tiny.json"
    spec_hash = sha256_text(json.dumps(asdict(spec), sort_keys=True))
    if marker.is_file() and json.loads(marker.read_text())["spec_sha256"] == spec_hash:
        return out_dir
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=spec.hidden_size, intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers, num_attention_heads=spec.num_heads, num_key_value_heads=spec.num_heads,
        max_position_embeddings=spec.max_position_embeddings, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
    )
    torch.manual_seed(spec.seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    marker.write_text(json.dumps({"spec": asdict(spec), "spec_sha256": spec_hash}, indent=2) + "\n")
    return out_dir
