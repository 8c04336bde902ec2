"""Labellers: which heuristics of the library a reasoning trace uses.

- `rules` (offline, deterministic): the project's single cue detector, `midrl_bench.heuristics.cues.detect_heuristics`.
- `llm`: a judge model through a generation backend. The rubric lists every heuristic (id, name, one line) and asks
  for exactly `{"heuristics": [ids]}`. A reply that is not that JSON object, or names an unknown id, is answered with
  the reason and asked again (up to `max_attempts`); a trace still without a valid answer gets `ids=None`
  ("could not judge"), which is counted and reported, never folded into "no heuristic".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from midrl_bench.config import ConfigError

if TYPE_CHECKING:
    from midrl_bench.generation.base import GenerationBackend
    from midrl_bench.heuristics.library import HeuristicLibrary
    from midrl_bench.judge.traces import Trace

_FENCE = re.compile(r"^```(?:json)?\s*(?P<body>.*?)\s*```$", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True)
class Label:
    ids: tuple[str, ...] | None  # None: the labeller could not judge this trace
    attempts: int = 1
    error: str | None = None  # why the last attempt was invalid, when ids is None


class InvalidAnswer(ValueError):
    """A judge reply that breaks the answer protocol; the message is sent back to the judge on retry."""


class RulesLabeller:
    name = "rules"

    def __init__(self, library: HeuristicLibrary, min_hits: int = 1) -> None:
        self.library, self.min_hits = library, min_hits

    def describe(self) -> dict[str, Any]:
        return {"labeller": self.name, "min_hits": self.min_hits, "library_hash": self.library.content_hash}

    def label(self, traces: Sequence[Trace]) -> list[Label]:
        from midrl_bench.heuristics.cues import detect_heuristics

        return [Label(tuple(detect_heuristics(t.text, self.library, self.min_hits))) for t in traces]


def one_line(text: str, max_chars: int = 200) -> str:
    """First sentence of a heuristic's instruction, on one line: its description in the rubric."""
    flat = " ".join(text.split())
    first = _SENTENCE_END.split(flat, maxsplit=1)[0]
    return first if len(first) <= max_chars else first[: max_chars - 1].rstrip() + "…"


def rubric_prompt(library: HeuristicLibrary) -> str:
    """The judge's system prompt: the heuristics it may name and the exact answer format."""
    lines = [f"- {h.id}: {h.name}. {one_line(h.instruction)}" for h in library]
    return (
        "You label math solutions with the problem-solving heuristics they use.\n"
        "Heuristics (id: name. description):\n" + "\n".join(lines) + "\n\n"
        "Read the solution the user sends. List every heuristic from the list above that the solution visibly "
        "applies (not merely mentions). Reply with only a JSON object, no other text, in exactly this form:\n"
        '{"heuristics": ["<id>", "<id>"]}\n'
        'Use only ids from the list. Reply {"heuristics": []} when none applies.'
    )


def parse_answer(reply: str, known_ids: frozenset[str]) -> tuple[str, ...]:
    """Validate a judge reply; returns the sorted ids or raises InvalidAnswer saying what is wrong."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced["body"]
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidAnswer("the reply is not a JSON object") from None
    if not isinstance(value, dict) or set(value) != {"heuristics"}:
        raise InvalidAnswer('the reply must be an object with the single key "heuristics"')
    ids = value["heuristics"]
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        raise InvalidAnswer('"heuristics" must be a list of id strings')
    unknown = sorted(set(ids) - known_ids)
    if unknown:
        raise InvalidAnswer(f"unknown heuristic id(s) {unknown}; use only ids from the list")
    if len(set(ids)) != len(ids):
        raise InvalidAnswer("an id is listed twice")
    return tuple(sorted(ids))


@dataclass(frozen=True)
class LLMJudgeSettings:
    max_attempts: int = 3  # first try + retries after an invalid reply
    max_new_tokens: int = 128
    temperature: float = 0.0  # first attempt; retries sample at `retry_temperature` so they can differ
    retry_temperature: float = 0.7
    max_trace_chars: int = 8000  # longer traces keep their head and tail
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"LLMJudgeSettings.max_attempts: must be >= 1, got {self.max_attempts}")
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
        self.rubric = rubric_prompt(library)
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
                    labels[index] = Label(parse_answer(reply, self.known_ids), attempts=attempt)
                except InvalidAnswer as error:
                    errors[index] = str(error)
                    conversations[index] = conversations[index] + [
                        {"role": "assistant", "content": reply},
                        {"role": "user", "content": f"Invalid answer: {error}. Reply again with only the JSON "
                                                    '{"heuristics": [...]} using ids from the list.'},
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
