"""Adherence scorers: how well a candidate solution follows the heuristic it was asked to use.

Three interchangeable scorers, each mapping candidates to a score in [0, 1] (None = could not score):
- `rules` (offline default): the library's cue detector, `midrl_bench.heuristics.cues.adherence_score`.
- `reward_model`: an HF sequence-classification reward model (the paper used a Skywork RM) scoring the
  conversation (heuristic instruction + problem, solution); the single logit goes through a sigmoid. It runs
  batched on the configured devices (`adherence.devices`: every visible GPU by default, bf16 there).
- `judge`: an LLM through a generation backend, prompted with a rubric, answering `Score: N` (0..10) -> N/10.
Selection uses the score only to rank a pair's correct candidates, so any monotone map of the RM logit is fine.
"""

from __future__ import annotations

import math
import re
from typing import Any

from midrl_bench.builder.config import PINNED_TEMPLATE_DATE, AdherenceSpec
from midrl_bench.builder.prompts import adherence_query, judge_messages

Candidate = dict[str, Any]  # {key, heuristic (library object), problem, solution, seed}


class RulesScorer:
    name = "rules"

    def describe(self) -> dict[str, Any]:
        return {"scorer": "rules", "detector": "midrl_bench.heuristics.cues.adherence_score"}

    def score(self, candidates: list[Candidate]) -> list[float | None]:
        from midrl_bench.heuristics.cues import adherence_score

        return [float(adherence_score(c["solution"], c["heuristic"])) for c in candidates]

    def close(self) -> None:
        pass


def resolve_devices(devices: list[str]) -> list[str]:
    """`["auto"]` -> every visible GPU (`cuda:0` .. `cuda:k-1`, i.e. logical indices inside an inherited
    CUDA_VISIBLE_DEVICES), or `["cpu"]` without one; explicit devices are kept as given."""
    if devices != ["auto"]:
        return list(devices)
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return [f"cuda:{i}" for i in range(count)] or ["cpu"]


class RewardModelScorer:
    """Batched transformers scoring on the configured devices: one replica per device, each scoring an equal,
    contiguous slice of a shard's candidates in its own thread (torch releases the GIL in kernels). Within a
    replica, candidates are batched by length (less padding); scores come back in input order."""

    name = "reward_model"

    def __init__(self, spec: AdherenceSpec) -> None:
        from transformers import AutoTokenizer

        self.spec = spec
        self.devices = resolve_devices(spec.devices)
        self.tokenizer = AutoTokenizer.from_pretrained(spec.model, revision=spec.revision)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "right"
        self.models = [self._load(device) for device in self.devices]

    def _load(self, device: str) -> Any:
        import torch
        from transformers import AutoModelForSequenceClassification

        dtype = self.spec.dtype if self.spec.dtype != "auto" else ("float32" if device == "cpu" else "bfloat16")
        model = AutoModelForSequenceClassification.from_pretrained(self.spec.model, revision=self.spec.revision,
                                                                   dtype=getattr(torch, dtype))
        if model.config.num_labels != 1:
            raise ValueError(f"adherence.model: {self.spec.model} has {model.config.num_labels} labels; "
                             "a reward model has exactly one")
        model.config.pad_token_id = self.tokenizer.pad_token_id
        return model.to(device).eval()

    def describe(self) -> dict[str, Any]:
        first = self.models[0]
        return {"scorer": "reward_model", "model": self.spec.model, "revision": self.spec.revision,
                "model_commit": getattr(first.config, "_commit_hash", None),
                "max_length_tokens": self.spec.max_length_tokens, "batch_size": self.spec.batch_size,
                "dtype": str(first.dtype).removeprefix("torch."), "replicas": len(self.models)}

    def _text(self, candidate: Candidate) -> str:
        query = adherence_query(candidate["heuristic"], candidate["problem"])
        if getattr(self.tokenizer, "chat_template", None):
            conversation = [{"role": "user", "content": query}, {"role": "assistant", "content": candidate["solution"]}]
            return self.tokenizer.apply_chat_template(conversation, tokenize=False)
        return f"{query}\n\n{candidate['solution']}"

    def _score_on(self, replica: int, texts: list[str]) -> list[float]:
        import torch

        model, size = self.models[replica], self.spec.batch_size
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        scores = [0.0] * len(texts)
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            batch = self.tokenizer([texts[i] for i in chunk], return_tensors="pt", padding=True, truncation=True,
                                   max_length=self.spec.max_length_tokens).to(model.device)
            with torch.inference_mode():
                logits = model(**batch).logits[:, 0].float().tolist()
            for i, value in zip(chunk, logits, strict=True):
                scores[i] = 1.0 / (1.0 + math.exp(-value))
        return scores

    def score(self, candidates: list[Candidate]) -> list[float | None]:
        from concurrent.futures import ThreadPoolExecutor

        texts = [self._text(c) for c in candidates]
        step = -(-len(texts) // len(self.models)) if texts else 1
        slices = [texts[i:i + step] for i in range(0, len(texts), step)]
        if len(slices) <= 1:
            return list(self._score_on(0, texts)) if texts else []
        with ThreadPoolExecutor(max_workers=len(slices)) as pool:
            parts = list(pool.map(self._score_on, range(len(slices)), slices))
        return [score for part in parts for score in part]

    def close(self) -> None:
        self.models = []


_SCORE_PATTERN = re.compile(r"score\s*[:=]\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_judge_score(text: str) -> float | None:
    """The last `Score: N` in the judge's reply as N/10 clipped to [0, 1]; None when absent.

    >>> parse_judge_score("The solution works backwards throughout. Score: 8")
    0.8
    >>> parse_judge_score("I cannot tell.") is None
    True
    """
    matches = _SCORE_PATTERN.findall(text or "")
    if not matches:
        return None
    return min(1.0, max(0.0, float(matches[-1]) / 10.0))


class JudgeScorer:
    name = "judge"

    def __init__(self, spec: AdherenceSpec) -> None:
        from midrl_bench.builder.generate import resolve_model_alias
        from midrl_bench.generation.base import get_backend

        self.spec = spec
        self.backend = get_backend(spec.backend, **resolve_model_alias(spec.options))

    def describe(self) -> dict[str, Any]:
        from midrl_bench.config import to_dict

        return {"scorer": "judge", "backend": self.backend.describe(), "sampling": to_dict(self.spec.sampling)}

    def score(self, candidates: list[Candidate]) -> list[float | None]:
        from midrl_bench.generation.base import GenerationRequest, SamplingParams

        sampling = SamplingParams(temperature=self.spec.sampling.temperature, top_p=self.spec.sampling.top_p,
                                  max_new_tokens=self.spec.sampling.max_new_tokens, stop=list(self.spec.sampling.stop))
        pinned = {"date_string": PINNED_TEMPLATE_DATE}  # judge prompts must not change with the calendar either
        requests = [GenerationRequest(key=f"judge|{c['key']}", sampling=sampling, seed=c["seed"],
                                      messages=judge_messages(c["heuristic"], c["problem"], c["solution"]),
                                      chat_template_kwargs=pinned)
                    for c in candidates]
        return [parse_judge_score(g.text) for g in self.backend.generate(requests)] if requests else []

    def close(self) -> None:
        self.backend.close()


def make_scorer(spec: AdherenceSpec) -> RulesScorer | RewardModelScorer | JudgeScorer:
    if spec.scorer == "reward_model":
        return RewardModelScorer(spec)
    if spec.scorer == "judge":
        return JudgeScorer(spec)
    return RulesScorer()
