"""The tiny model's tokenizer: a small byte-level BPE trained here, digits always split into single tokens.

Digits stay one token each so arithmetic is learnt digit by digit. Everything between digits is one pre-token
(no word splitting), so the world's fixed phrases (", write ", " carry ", a strategy's whole system prompt) merge
into single tokens: about half the tokens per example of word-level BPE and 1.7x the pre-training examples per
second (benchmarks/toyworld_pretrain.py), and shorter generations.
It is wrapped as a `transformers.PreTrainedTokenizerFast` with a chat template (roles `system`, `user`,
`assistant`; each turn ends with `<|end|>`, the EOS token; assistant turns are marked with `{% generation %}` so
trainers can mask everything but the answer) and saved with `save_pretrained`.
"""

from __future__ import annotations

from collections.abc import Iterable

END = "<|end|>"
PAD = "<|pad|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, END, *ROLE_TOKENS)

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "<|{{ message['role'] }}|>\n"
    "{%- if message['role'] == 'assistant' -%}"
    "{% generation %}{{ message['content'] }}<|end|>{% endgeneration %}\n"
    "{%- else -%}"
    "{{ message['content'] }}<|end|>\n"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>\n{%- endif -%}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int, merge_across_words: bool = True):
    """Train the BPE on `texts` (deterministic for the same texts in the same order) and wrap it for transformers.

    `merge_across_words=False` gives ordinary word-level byte BPE (the baseline of benchmarks/toyworld_pretrain.py).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=not merge_across_words)]
    )
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token=END, pad_token=PAD, additional_special_tokens=list(ROLE_TOKENS),
        clean_up_tokenization_spaces=False, model_max_length=1024,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"  # generation batches pad on the left; trainers set their own side
    return tokenizer
