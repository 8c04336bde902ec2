"""Adherence scorers: how well a candidate solution follows the heuristic it was asked to use.

Three interchangeable scorers, each mapping candidates to a score in [0, 1] (None = could not score):
- `rules` (offline default): the library's cue detector, `midrl_bench.heuristics.cues.adherence_score`.
- `reward_model`: an HF sequence-classification reward model (the paper used a Skywork RM) scoring the
  conversation (heuristic instruction + problem, solution); the single logit goes through a sigmoid.
- `judge`: an LLM through a generation backend, prompted with a rubric, answering `Score: N` (0..10) -> N/10.
Selection uses the score only to rank a pair's correct candidates, so any monotone map of the RM logit is fine.
"""

from __future__ import annotations

import math
import re
from typing import Any

from midrl_bench.build.config import AdherenceSpec
from midrl_bench.build.prompts import adherence_query, judge_messages

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


class RewardModelScorer:
    name = "reward_model"

    def __init__(self, spec: AdherenceSpec) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.spec = spec
        self.tokenizer = AutoTokenizer.from_pretrained(spec.model, revision=spec.revision)
        self.model = AutoModelForSequenceClassification.from_pretrained(spec.model, revision=spec.revision)
        self.model.eval()
        if self.model.config.num_labels != 1:
            raise ValueError(f"adherence.model: {spec.model} has {self.model.config.num_labels} labels; "
                             "a reward model has exactly one")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.tokenizer.padding_side = "right"

    def describe(self) -> dict[str, Any]:
        return {"scorer": "reward_model", "model": self.spec.model, "revision": self.spec.revision,
                "model_commit": getattr(self.model.config, "_commit_hash", None),
                "max_length_tokens": self.spec.max_length_tokens}

    def _text(self, candidate: Candidate) -> str:
        query = adherence_query(candidate["heuristic"], candidate["problem"])
        if getattr(self.tokenizer, "chat_template", None):
            conversation = [{"role": "user", "content": query}, {"role": "assistant", "content": candidate["solution"]}]
            return self.tokenizer.apply_chat_template(conversation, tokenize=False)
        return f"{query}\n\n{candidate['solution']}"

    def score(self, candidates: list[Candidate]) -> list[float | None]:
        import torch

        scores: list[float | None] = []
        size = self.spec.batch_size
        for start in range(0, len(candidates), size):
            texts = [self._text(c) for c in candidates[start:start + size]]
            batch = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                                   max_length=self.spec.max_length_tokens)
            with torch.no_grad():
                logits = self.model(**batch).logits[:, 0].float().tolist()
            scores.extend(1.0 / (1.0 + math.exp(-value)) for value in logits)
        return scores

    def close(self) -> None:
        del self.model


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
        from midrl_bench.build.stages import resolve_model_alias
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
        requests = [GenerationRequest(key=f"judge|{c['key']}", sampling=sampling, seed=c["seed"],
                                      messages=judge_messages(c["heuristic"], c["problem"], c["solution"]))
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
