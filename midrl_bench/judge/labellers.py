"""Labellers: which heuristics of the library a reasoning trace uses.

- `rules` (offline, deterministic): `rules.CalibratedRulesLabeller` (cues + structural patterns, fitted on the
  validation dev split) when the library covers the validation labels; otherwise `RulesLabeller` below, the
  project's plain cue detector `midrl_bench.heuristics.cues.detect_heuristics` (`describe()` says which).
- `embed` (offline): `embed.EmbedLabeller`, steps against heuristic descriptions in embedding space.
- `llm`: a judge model through a generation backend, prompted with `prompt.judge_system_prompt` (heuristic cards,
  labelled dev examples, a JSON-schema answer `{"heuristics": [ids], "evidence": {id: quote}}`). A reply that
  breaks the schema or names an unknown id is answered with the reason and asked again (up to `max_attempts`); a
  trace still without a valid answer gets `ids=None` ("could not judge"), which is counted and reported, never
  folded into "no heuristic".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from midrl_bench.config import ConfigError
from midrl_bench.judge.prompt import InvalidAnswer, judge_system_prompt, one_line, parse_answer

__all__ = ["InvalidAnswer", "LLMJudgeSettings", "LLMLabeller", "Label", "RulesLabeller", "one_line", "parse_answer"]

if TYPE_CHECKING:
    from midrl_bench.generation.base import GenerationBackend
    from midrl_bench.heuristics.library import HeuristicLibrary
    from midrl_bench.judge.traces import Trace

@dataclass(frozen=True)
class Label:
    ids: tuple[str, ...] | None  # None: the labeller could not judge this trace
    attempts: int = 1
    error: str | None = None  # why the last attempt was invalid, when ids is None
    evidence: dict[str, str] | None = None  # llm: a quote per labelled heuristic


class RulesLabeller:
    name = "rules"

    def __init__(self, library: HeuristicLibrary, min_hits: int = 1) -> None:
        self.library, self.min_hits = library, min_hits

    def describe(self) -> dict[str, Any]:
        return {"labeller": self.name, "mode": "cues", "min_hits": self.min_hits,
                "library_hash": self.library.content_hash}

    def label(self, traces: Sequence[Trace]) -> list[Label]:
        from midrl_bench.heuristics.cues import detect_heuristics

        return [Label(tuple(detect_heuristics(t.text, self.library, self.min_hits))) for t in traces]


@dataclass(frozen=True)
class LLMJudgeSettings:
    max_attempts: int = 3  # first try + retries after an invalid reply
    max_new_tokens: int = 256  # room for the evidence quotes
    n_examples: int = 3  # labelled dev examples in the prompt (prompt.few_shot_examples)
    temperature: float = 0.0  # first attempt; retries sample at `retry_temperature` so they can differ
    retry_temperature: float = 0.7
    max_trace_chars: int = 8000  # longer traces keep their head and tail
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"LLMJudgeSettings.max_attempts: must be >= 1, got {self.max_attempts}")
        if self.n_examples < 0:
            raise ConfigError(f"LLMJudgeSettings.n_examples: must be >= 0, got {self.n_examples}")
        if self.max_trace_chars < 200:
            raise ConfigError(f"LLMJudgeSettings.max_trace_chars: must be >= 200, got {self.max_trace_chars}")


def clip_trace(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    half = (max_chars - 40) // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters omitted ...]\n{text[-half:]}"


class LLMLabeller:
    name = "llm"

    def __init__(self, backend: GenerationBackend, library: HeuristicLibrary,
                 settings: LLMJudgeSettings = LLMJudgeSettings()) -> None:
        self.backend, self.library, self.settings = backend, library, settings
        self.rubric = judge_system_prompt(library, settings.n_examples)
        self.known_ids = frozenset(library.ids)

    def describe(self) -> dict[str, Any]:
        from midrl_bench.config import to_dict
        from midrl_bench.provenance import sha256_text

        return {"labeller": self.name, "judge": self.backend.describe(), "settings": to_dict(self.settings),
                "rubric_sha256": sha256_text(self.rubric), "library_hash": self.library.content_hash}

    def label(self, traces: Sequence[Trace]) -> list[Label]:
        conversations = [
            [{"role": "system", "content": self.rubric},
             {"role": "user", "content": clip_trace(t.text, self.settings.max_trace_chars)}]
            for t in traces
        ]
        labels: list[Label | None] = [None] * len(traces)
        errors: dict[int, str] = {}
        pending = list(range(len(traces)))
        for attempt in range(1, self.settings.max_attempts + 1):
            replies = self._ask([conversations[i] for i in pending], [traces[i].key for i in pending], attempt)
            still = []
            for index, reply in zip(pending, replies, strict=True):
                try:
                    ids, evidence = parse_answer(reply, self.known_ids)
                    labels[index] = Label(ids, attempts=attempt, evidence=evidence)
                except InvalidAnswer as error:
                    errors[index] = str(error)
                    conversations[index] = conversations[index] + [
                        {"role": "assistant", "content": reply},
                        {"role": "user", "content": f"Invalid answer: {error}. Reply again with only the JSON "
                                                    '{"heuristics": [...], "evidence": {...}} using ids from '
                                                    "the list."},
                    ]
                    still.append(index)
            pending = still
            if not pending:
                break
        for index in pending:
            labels[index] = Label(None, attempts=self.settings.max_attempts, error=errors[index])
        return list(labels)  # every index was set: by a valid reply above or as unjudged here

    def _ask(self, conversations: list[list[dict]], keys: list[str], attempt: int) -> list[str]:
        from midrl_bench.generation.base import GenerationRequest, SamplingParams

        if not conversations:
            return []
        temperature = self.settings.temperature if attempt == 1 else self.settings.retry_temperature
        sampling = SamplingParams(temperature=temperature, max_new_tokens=self.settings.max_new_tokens)
        requests = [
            GenerationRequest(key=f"{key}#attempt{attempt}", messages=messages, sampling=sampling,
                              seed=self.settings.seed + attempt)
            for key, messages in zip(keys, conversations, strict=True)
        ]
        return [generation.text for generation in self.backend.generate(requests)]
