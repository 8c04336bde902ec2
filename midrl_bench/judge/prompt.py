"""The `llm` judge prompt: a documented template with heuristic cards, labelled dev examples and a JSON answer.

System message (TEMPLATE below, filled by `judge_system_prompt`):
1. the task and the labelling rule of the validation set (a heuristic counts when it shapes the solution's steps,
   not when its name or a cue word merely appears; routine arithmetic and solving a given equation count as none);
2. one card per library heuristic: `- <id>: <name>. <first sentence of its instruction>`;
3. the answer format and its JSON schema (ANSWER_SCHEMA): `{"heuristics": [ids], "evidence": {id: quote}}`,
   where evidence holds, for every listed id, a short quote of the step that applies it;
4. up to `n_examples` labelled traces of the validation `dev` split whose labels the library covers (the first
   composed, single and no-heuristic traces by id, under 700 characters), each with its answer; an example's
   evidence quotes the step where the `rules` patterns or cues of that heuristic fire (else its first step).
User message: the trace (head and tail kept when long). Replies are validated by `parse_answer` and retried with
the reason (`labellers.LLMLabeller`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from midrl_bench.heuristics.library import HeuristicLibrary

_FENCE = re.compile(r"^```(?:json)?\s*(?P<body>.*?)\s*```$", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
MAX_EXAMPLE_CHARS = 700
MAX_EVIDENCE_CHARS = 300

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "heuristics": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "evidence": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
    },
    "required": ["heuristics", "evidence"],
    "additionalProperties": False,
}

TEMPLATE = """You label math solutions with the problem-solving heuristics that shape them.
A heuristic counts only when the solution's steps apply it (cases actually split, a pattern actually found and used,
an answer actually substituted back into the conditions). A heuristic's name or one of its words appearing in
passing does not count, and routine computation (arithmetic, solving a given equation, applying a formula) counts
as no heuristic.

Heuristics (id: name. description):
{cards}

Reply with only one JSON object, no other text, matching this JSON schema:
{schema}
"heuristics" lists the ids of the heuristics the solution applies (use only ids from the list; [] when none);
"evidence" maps every listed id to a short quote (at most {max_evidence} characters) of the step that applies it.
{examples}"""


class InvalidAnswer(ValueError):
    """A judge reply that breaks the answer protocol; the message is sent back to the judge on retry."""


def one_line(text: str, max_chars: int = 200) -> str:
    """First sentence of a heuristic's instruction, on one line: its description on the card."""
    flat = " ".join(text.split())
    first = _SENTENCE_END.split(flat, maxsplit=1)[0]
    return first if len(first) <= max_chars else first[: max_chars - 1].rstrip() + "…"


def _example_evidence(text: str, heuristic_ids: tuple[str, ...], library: HeuristicLibrary) -> dict[str, str]:
    from midrl_bench.heuristics.cues import cue_hits
    from midrl_bench.judge.embed import trace_steps
    from midrl_bench.judge.structure import structural_hits

    steps = trace_steps(text)
    evidence = {}
    for hid in heuristic_ids:
        heuristic = library.get(hid)
        hits = [s for s in steps if structural_hits(s, hid) or cue_hits(s, heuristic)]
        evidence[hid] = (hits or steps)[0][:MAX_EVIDENCE_CHARS]
    return evidence


def few_shot_examples(library: HeuristicLibrary, n_examples: int = 3) -> list[dict[str, Any]]:
    """Dev examples (id, text, answer) covered by the library: composed, single and none in turn."""
    from midrl_bench.judge.validation_set import load_packaged, of_split

    known = set(library.ids)
    usable = [item for item in of_split(load_packaged(), "dev")
              if set(item.heuristics) <= known and len(item.text) <= MAX_EXAMPLE_CHARS]
    pools = [[i for i in usable if len(i.heuristics) >= 2], [i for i in usable if len(i.heuristics) == 1],
             [i for i in usable if not i.heuristics]]
    chosen, round_index = [], 0
    while len(chosen) < n_examples and any(len(pool) > round_index for pool in pools):
        chosen.extend(pool[round_index] for pool in pools if len(pool) > round_index)
        round_index += 1
    return [{"id": item.id, "text": item.text,
             "answer": {"heuristics": list(item.heuristics),
                        "evidence": _example_evidence(item.text, item.heuristics, library)}}
            for item in chosen[:n_examples]]


def judge_system_prompt(library: HeuristicLibrary, n_examples: int = 3) -> str:
    cards = "\n".join(f"- {h.id}: {h.name}. {one_line(h.instruction)}" for h in library)
    examples = few_shot_examples(library, n_examples) if n_examples else []
    shown = "".join(f"\nExample solution ({example['id']}):\n{example['text']}\nAnswer:\n"
                    f"{json.dumps(example['answer'], ensure_ascii=False)}\n" for example in examples)
    return TEMPLATE.format(cards=cards, schema=json.dumps(ANSWER_SCHEMA), max_evidence=MAX_EVIDENCE_CHARS,
                           examples=("\nLabelled examples:" + shown) if shown else "")


def parse_answer(reply: str, known_ids: frozenset[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Validate a judge reply against ANSWER_SCHEMA and the library; returns (sorted ids, evidence)."""
    text = reply.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced["body"]
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidAnswer("the reply is not a JSON object") from None
    if not isinstance(value, dict) or set(value) != {"heuristics", "evidence"}:
        raise InvalidAnswer('the reply must be an object with exactly the keys "heuristics" and "evidence"')
    ids, evidence = value["heuristics"], value["evidence"]
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        raise InvalidAnswer('"heuristics" must be a list of id strings')
    unknown = sorted(set(ids) - known_ids)
    if unknown:
        raise InvalidAnswer(f"unknown heuristic id(s) {unknown}; use only ids from the list")
    if len(set(ids)) != len(ids):
        raise InvalidAnswer("an id is listed twice")
    if not isinstance(evidence, dict) or not all(isinstance(v, str) and v.strip() for v in evidence.values()):
        raise InvalidAnswer('"evidence" must map ids to non-empty quotes')
    if set(evidence) != set(ids):
        raise InvalidAnswer('"evidence" must have one quote for every listed id, and no other key')
    return tuple(sorted(ids)), {hid: evidence[hid][:MAX_EVIDENCE_CHARS] for hid in sorted(ids)}
