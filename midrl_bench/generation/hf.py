"""`hf` backend: transformers `generate`, batched with left padding, on CPU or GPU.

Per-request seeds are honoured whatever the batch composition: sampling is done by `_SeededSampler`, a logits processor
that draws each row's next token from that row's own `torch.Generator` (seeded with the request's `seed`) and hands
`generate` a one-hot score row, so `generate` runs in greedy mode and only picks what the sampler drew. The same
request therefore gives the same text whether it is alone or batched with others (up to the float rounding that left
padding can introduce on some GPU kernels). Chat requests go through the tokenizer's chat template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from midrl_bench.generation.base import (
    Generation,
    GenerationError,
    GenerationRequest,
    check_unique_keys,
    progress_bar,
    truncate_at_stop,
)


@dataclass(frozen=True)
class HFOptions:
    model: str  # a Hub id or a local folder
    revision: str | None = None  # pin a Hub commit for published data
    device: str = "auto"  # "auto" (cuda when available), "cpu", "cuda", "cuda:1", ...
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto: bfloat16 on GPU, float32 on CPU
    batch_size: int = 8
    trust_remote_code: bool = False
    # transformers' KV cache. "static" preallocates it for prompt + max_new_tokens and writes in place; the default
    # grows it by concatenation every step, which dominates generation of small models at large batches on a CPU
    # (`benchmarks/generation_cache.py`: 2.4x faster at batch 256, identical samples). Models whose architecture
    # has no static cache need "dynamic".
    cache_implementation: Literal["dynamic", "static"] = "dynamic"

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")


class _SeededSampler:
    """Logits processor: temperature + top-p sampling with one torch.Generator per row (see module doc)."""

    def __init__(self, requests: list[GenerationRequest], device: Any) -> None:
        import torch

        self.requests = requests
        self.generators = [torch.Generator(device=device).manual_seed(request.seed) for request in requests]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        chosen = torch.empty(scores.shape[0], dtype=torch.long, device=scores.device)
        for row, request in enumerate(self.requests):
            chosen[row] = self._draw(scores[row].float(), request, self.generators[row])
        onehot = torch.full_like(scores, float("-inf"))
        onehot.scatter_(1, chosen.unsqueeze(1), 0.0)
        return onehot

    @staticmethod
    def _draw(logits: Any, request: GenerationRequest, generator: Any) -> Any:
        import torch

        params = request.sampling
        if params.greedy:
            return torch.argmax(logits)
        probs = torch.softmax(logits / params.temperature, dim=-1)
        if params.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < params.top_p
            probs = torch.zeros_like(probs).scatter_(0, order[keep], sorted_probs[keep])
        return torch.multinomial(probs, 1, generator=generator)[0]


class HFBackend:
    name = "hf"
    Options = HFOptions

    def __init__(self, options: HFOptions) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.options = options
        device = options.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype_name = options.dtype
        if dtype_name == "auto":
            dtype_name = "float32" if device == "cpu" else "bfloat16"
        self.device, self.dtype_name = device, dtype_name
        common = {"revision": options.revision, "trust_remote_code": options.trust_remote_code}
        self.tokenizer = AutoTokenizer.from_pretrained(options.model, padding_side="left", **common)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(options.model, dtype=getattr(torch, dtype_name), **common)
        self.model.to(device).eval()
        self.eos_ids = self._eos_ids()

    def _eos_ids(self) -> set[int]:
        configured = self.model.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name, "model": self.options.model, "revision": self.options.revision,
            "device": self.device, "dtype": self.dtype_name, "batch_size": self.options.batch_size,
            "cache_implementation": self.options.cache_implementation,
            "sampling": "per-request torch.Generator (temperature, top_p)",
            "model_commit": getattr(self.model.config, "_commit_hash", None),
        }

    def close(self) -> None:
        self.model = None
        self.tokenizer = None

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        if self.model is None:
            raise GenerationError("hf: backend is closed")
        check_unique_keys(requests, self.name)
        results: list[Generation | None] = [None] * len(requests)
        with progress_bar(len(requests), "generate (hf)") as bar:
            for indices in self._batches(requests):
                batch = [requests[i] for i in indices]
                for index, generation in zip(indices, self._generate_batch(batch), strict=True):
                    results[index] = generation
                bar.update(len(batch))
        return results  # type: ignore[return-value]

    def _batches(self, requests: list[GenerationRequest]) -> list[list[int]]:
        """Group by (max_new_tokens, stop) — `generate` takes those per batch — and by prompt length, to pad little."""
        lengths = [len(self._prompt_text(request)) for request in requests]
        groups: dict[tuple, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((request.sampling.max_new_tokens, tuple(request.sampling.stop)), []).append(index)
        size = self.options.batch_size
        batches = []
        for members in groups.values():
            members.sort(key=lambda i: (lengths[i], i))
            batches.extend(members[start:start + size] for start in range(0, len(members), size))
        return batches

    def _prompt_text(self, request: GenerationRequest) -> str:
        if request.messages is None:
            return request.prompt  # type: ignore[return-value]
        if not getattr(self.tokenizer, "chat_template", None):
            raise GenerationError(f"hf: request {request.key!r} has messages but {self.options.model} has no chat template")
        return self.tokenizer.apply_chat_template(request.messages, add_generation_prompt=True, tokenize=False,
                                                  **request.chat_template_kwargs)

    def _encode(self, batch: list[GenerationRequest]) -> Any:
        """Chat-templated texts already carry their special tokens; raw prompts get the tokenizer's usual ones."""
        chat = batch[0].messages is not None
        if any((request.messages is not None) != chat for request in batch):
            return self._encode_mixed(batch)
        texts = [self._prompt_text(request) for request in batch]
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not chat)

    def _encode_mixed(self, batch: list[GenerationRequest]) -> Any:
        ids = [
            self.tokenizer(self._prompt_text(request), add_special_tokens=request.messages is None)["input_ids"]
            for request in batch
        ]
        return self.tokenizer.pad({"input_ids": ids}, return_tensors="pt", padding=True)

    def _generate_batch(self, batch: list[GenerationRequest]) -> list[Generation]:
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        params = batch[0].sampling
        encoded = self._encode(batch).to(self.device)
        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens, do_sample=False, pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=sorted(self.eos_ids), stop_strings=list(params.stop) or None,
            cache_implementation=self.options.cache_implementation,
        )
        sampler = _SeededSampler(batch, self.device)
        with torch.inference_mode():
            output = self.model.generate(
                **encoded, generation_config=config, logits_processor=LogitsProcessorList([sampler]),
                tokenizer=self.tokenizer,
            )
        prompt_width = encoded["input_ids"].shape[1]
        prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
        return [
            self._to_generation(request, output[row, prompt_width:].tolist(), int(prompt_lengths[row]))
            for row, request in enumerate(batch)
        ]

    def _to_generation(self, request: GenerationRequest, new_ids: list[int], prompt_tokens: int) -> Generation:
        """Cut at the first end-of-sequence token (padding follows it), then at the first stop string."""
        pad = self.tokenizer.pad_token_id
        end = next((i for i, token in enumerate(new_ids) if token in self.eos_ids or token == pad), None)
        tokens = new_ids if end is None else new_ids[:end]
        text, stopped = truncate_at_stop(self.tokenizer.decode(tokens, skip_special_tokens=True), request.sampling.stop)
        finished = end is not None or stopped
        completion_tokens = len(tokens) + (1 if end is not None and new_ids[end] in self.eos_ids else 0)
        return Generation(
            key=request.key, text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            finish_reason="stop" if finished else "length",
        )
