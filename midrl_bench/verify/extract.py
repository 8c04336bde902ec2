"""Find the final answer a person would find in a model's response, and say how it was found (the route).

Routes (`Extraction.route`):
- `boxed`: the last `\\boxed{}` / `\\fbox{}`; several boxes in the closing part that are separated only by
  connectors (`,`, `and`, `\\text{ and }`, `x =` labels) form one answer and are joined: `\\boxed{1},\\boxed{2}` -> `1, 2`;
- `final_answer_phrase`: "the final answer is X", "Final Answer: X", "Answer: X", "#### X", a bold "**Final Answer**"
  heading followed by X, anywhere on a line; X is cut from its prose ("The largest $n$ is 34." -> `34`);
- `last_expression`: the last LaTeX span or number of the closing sentence, if that sentence states a result
  (finished or concluding, and not hedging "I think", asking, or breaking off mid-expression);
- `none`: nothing found.

Precedence: the *final* stated answer wins: of all boxes and answer phrases, the one that starts last counts
(a later "The final answer is 10,455" beats an earlier `\\boxed{255}`). `last_expression` is used only when there
is neither. Policies: `strict` uses boxes and explicit answer statements ("Answer:", "Final Answer", "the final
answer is", "####"); `standard` (the default) also accepts "the answer is X" and the `last_expression` route. Stray
numbers in the body never count under either. A `<think>...</think>` block is skipped when text follows it.
Thousands separators and `\\text{}` units around a number are removed from the answer; decimal commas are not guessed.

>>> extract_answer("Final Answer: The final answer is $14{,}916$. I hope it is correct.")
Extraction(answer='14916', route='final_answer_phrase')
>>> extract_answer("Therefore $x \\\\geq 5$ is the solution.", policy="strict").route
'none'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from midrl_bench.verify.extract_text import (
    MAX_SCAN_CHARS,
    NUMBER,
    Span,
    boxes,
    mask_math,
    math_spans,
    normalize_answer,
    sentence_bounds,
    strip_wrappers,
)

EXTRACTION_VERSION = "2"  # bump on any change that can move a verdict; recorded by checker_settings()
POLICIES = ("strict", "standard")
ROUTES = ("boxed", "final_answer_phrase", "last_expression", "none")


@dataclass(frozen=True)
class Extraction:
    answer: str | None
    route: str


def validate_policy(policy: object) -> str:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    return policy  # type: ignore[return-value]


def extract_answer(text: str, policy: str = "standard") -> Extraction:
    """The final answer of `text` under `policy`, with its route; never raises on any string."""
    validate_policy(policy)
    body = _after_think(str(text))[-MAX_SCAN_CHARS:]
    found = boxes(body)
    boxed = normalize_answer(_joined_boxes(body, found)) if found else ""
    phrase = _last_phrase(body, policy, after=found[-1].start if boxed else -1)
    if phrase:
        return Extraction(phrase, "final_answer_phrase")
    if boxed:
        return Extraction(boxed, "boxed")
    if policy == "standard":
        answer = normalize_answer(_last_expression(body) or "")
        if answer:
            return Extraction(answer, "last_expression")
    return Extraction(None, "none")


def extract_final_answer(text: str, policy: str = "standard") -> tuple[str | None, str]:
    """(answer, route): the tuple form of `extract_answer`."""
    found = extract_answer(text, policy)
    return found.answer, found.route


def last_boxed(text: str) -> str | None:
    """Content of the last closed `\\boxed{...}` or `\\fbox{...}`; None when there is none."""
    found = boxes(text)
    return found[-1].inner if found else None


# ---------------------------------------------------------------------------------------------- think blocks
_END_OF_TURN = re.compile(r"<\|(?:im_start|im_end|eot_id|end_of_text|endoftext|end|user|assistant)\|>|</s>")


def _after_think(text: str) -> str:
    """The part of a response that states its answer: after a closed `<think>` block, before an end-of-turn token."""
    close = text.rfind("</think>")
    if close != -1 and text[close + len("</think>") :].strip():
        text = text[close + len("</think>") :]
    end = _END_OF_TURN.search(text)
    if end is not None and text[: end.start()].strip():  # a model that ran past its turn: the rest is not its answer
        text = text[: end.start()]
    return text


# ---------------------------------------------------------------------------------------------- boxed route
_CONNECTOR = re.compile(
    r"(?:\s|\$|,|;|&|\\[,;:! ]|\\q?quad|\\\\|\\[()\[\]]|\band\b|\bor\b|\\text\{[^{}$]{0,40}\}"
    r"|(?:\\?[A-Za-z]+(?:_\{?\w+\}?)?|\([A-Za-z0-9]\))\s*=)*"
)
MAX_CONNECTOR_CHARS = 60
MAX_PHRASE_CHARS = 2_000  # an answer phrase's content is read from this many characters after it
MAX_PHRASES_TRIED = 8  # the last phrases of a response, tried from the end, until one yields an answer
MAX_COPULAS_TRIED = 4  # "X is Y": copulas of an answer sentence tried, from its start, to find Y


def _joined_boxes(body: str, found: list[Span]) -> str:
    """The last box, joined with the boxes right before it when only connectors separate them."""
    first = len(found) - 1
    while first > 0:
        gap = body[found[first - 1].end : found[first].start]
        if len(gap) > MAX_CONNECTOR_CHARS or not _CONNECTOR.fullmatch(gap):
            break
        first -= 1
    contents = [span.inner for span in found[first:] if span.inner]
    return ", ".join(dict.fromkeys(contents))


# ---------------------------------------------------------------------------------------------- phrase route
_PHRASE = re.compile(
    r"(?P<hash>####)"
    r"|(?P<heading>^[ \t>#*_]*final\s+answer[ \t*_]*$)"
    r"|(?P<colon>(?<![A-Za-z])(?:final\s+)?answer[*_ \t]*[:：])"
    r"|(?P<final>(?<![A-Za-z])final\s+answer\s+(?:is|will\s+be)\b[*_ \t]*:?)"
    r"|(?P<plain>(?<![A-Za-z])answer\s+(?:is|will\s+be|would\s+be)\b[*_ \t]*:?)",
    re.IGNORECASE | re.MULTILINE,
)


def _last_phrase(body: str, policy: str, after: int) -> str | None:
    """The answer of the last phrase starting after `after` that the policy accepts and whose answer can be cut
    from its prose (searched from the end, so a response full of "answer:" costs one cut per phrase at most)."""
    matches = [m for m in _PHRASE.finditer(body) if m.start() > after]
    for match in reversed(matches[-MAX_PHRASES_TRIED:]):
        kind = match.lastgroup
        if kind == "plain" and policy == "strict":
            continue
        content = _phrase_content(body, match.end())
        answer = normalize_answer(cut_answer(content, allow_words=kind in ("colon", "heading", "hash")) or "")
        if answer:
            return answer
    return None


def _phrase_content(body: str, start: int) -> str:
    """The rest of the phrase's line, or the next non-empty line (up to a blank line) when the phrase ends its line."""
    window = body[start : start + MAX_PHRASE_CHARS]
    line_end = window.find("\n")
    rest = window if line_end == -1 else window[:line_end]
    if rest.strip(" \t*_:$") or line_end == -1:
        return rest
    following = window[line_end:].lstrip("\n")
    paragraph = re.split(r"\n[ \t]*\n", following, maxsplit=1)[0]
    return paragraph if paragraph.startswith(("$$", "\\[")) else paragraph.split("\n", 1)[0]


_COPULA = re.compile(r"\b(?:is|are|was|equals|equal\s+to|becomes|gives)\b|=", re.IGNORECASE)
_FILLER = re.compile(r"^(?:[:\s]|\b(?:then|therefore|thus|so|exactly|just|only|about|approximately|equal\s+to)\b)+",
                     re.IGNORECASE)
_NOT_ANSWERS = {"correct", "right", "wrong", "incorrect", "above", "below", "as follows", "the following", "not",
                "unknown", "yes or no", "clear", "obvious", "the same", "shown", "given", "true or false"}


def cut_answer(content: str, allow_words: bool) -> str | None:
    """The answer expression of `content`'s first sentence, cut from the prose around it.

    Tried in order: the expression the sentence starts with; the one right after a copula ("The largest $n$ is 34");
    a short text answer ("Answer: Evelyn"), only where `allow_words` (explicit answer lines).
    """
    content = content.strip()
    bounds = sentence_bounds(content)
    if not bounds:
        return None
    sentence = content[bounds[0][0] : bounds[0][1]].strip()
    if sentence.endswith("!"):  # prose exclamation ("Answer: 120!"); a factorial is written in math or a box
        sentence = sentence[:-1]
    answer = _leading_answer(sentence)
    if answer is None:
        masked = mask_math(sentence, math_spans(sentence))
        for copula in list(_COPULA.finditer(masked))[:MAX_COPULAS_TRIED]:
            answer = _leading_answer(sentence[copula.end() :])
            if answer is not None:
                break
    if answer is None and allow_words:
        answer = _only_expression(sentence)
    if answer is None and allow_words:
        words = strip_wrappers(sentence)
        if 0 < len(words.split()) <= 4 and words.lower() not in _NOT_ANSWERS:
            answer = words
    return answer


def _only_expression(sentence: str) -> str | None:
    """On an explicit answer line written as prose ("Final Answer: Jane started 3 hours ago."), its one number or
    math span; None when there are several (or none), since then the line does not say which one is the answer."""
    spans = math_spans(sentence)
    numbers = list(NUMBER.finditer(mask_math(sentence, spans)))
    if len(spans) + len(numbers) != 1:
        return None
    return spans[0].inner if spans else numbers[0].group().strip()


def _leading_answer(text: str) -> str | None:
    """The math span(s), bare expression, number or short text that `text` starts with; None if it starts with prose."""
    text = _FILLER.sub("", text).strip().lstrip("*_").strip()
    spans = math_spans(text)
    if spans and spans[0].start == 0:
        return _joined_spans(text, spans)
    body = strip_wrappers(text)
    if not body:
        return None
    if _reads_as_math(body):
        return body  # a bare LaTeX expression or a letter choice
    number = NUMBER.match(body)
    return number.group() if number else None


def _reads_as_math(text: str) -> bool:
    """No word of two or more letters outside LaTeX commands and `\\text{}`, and something to read."""
    words = re.sub(r"\\[A-Za-z]+|\\text\{[^{}]*\}", "", text)
    return not re.search(r"[A-Za-z]{2,}", words) and re.search(r"[\dA-Za-z\\]", text) is not None


_SPAN_GLUE = re.compile(r"(?:\s|,|;|\band\b|\bor\b)*")


def _joined_spans(text: str, spans: list[Span]) -> str:
    """`$a = 2$, $b = 3$` -> `a = 2, b = 3`: consecutive spans separated only by commas/and/or form one answer."""
    parts = [spans[0].inner]
    for previous, span in zip(spans, spans[1:], strict=False):
        if not _SPAN_GLUE.fullmatch(text[previous.end : span.start]):
            break
        parts.append(span.inner)
    return ", ".join(part for part in parts if part)


# ---------------------------------------------------------------------------------------------- last expression
_PLEASANTRY = re.compile(
    r"(?:i\s+hope\s+(?:it|this|that)\b|hope\s+this\s+helps|let\s+me\s+know\b|feel\s+free\b|good\s+luck\b"
    r"|if\s+you\s+have\s+any\b|thank\s+you\b|thanks\b)", re.IGNORECASE,
)
_CUE = re.compile(
    r"\b(?:therefore|thus|hence|so|consequently|finally|in\s+total|total|altogether|in\s+all|overall|answer|result"
    r"|solution|we\s+get|we\s+find|we\s+obtain|gives?|yields?|equals?|is\s+equal)\b|=|\\therefore",
    re.IGNORECASE,
)


_HEDGE = re.compile(
    r"\b(?:i\s+think|i\s+believe|maybe|perhaps|might|guess|probably|possibly|not\s+sure|let\s+me|let's|let\s+us"
    r"|wait(?=\s*[,.!:])|suppose|assume|try|check)\b", re.IGNORECASE,
)
HEDGE_WINDOW_CHARS = 160  # hedges ("let me", "maybe") count in the closing clause's last this-many characters
_UNFINISHED = re.compile(r"(?:\b(?:is|are|equals|of|to|and|or|the|by|plus|minus)|[=+\-*/^(,:])\s*$", re.IGNORECASE)


def _last_expression(body: str) -> str | None:
    """The last LaTeX span or number of the closing sentence, when that sentence states a result.

    The closing sentence (trailing pleasantries skipped) counts when it is finished (ends with '.'/'!'), concludes
    ("therefore", "=", "in total", ...) or is pure math, and does not hedge, ask, or break off mid-expression.
    """
    sentences = sentence_bounds(body)
    while sentences and _PLEASANTRY.search(body[sentences[-1][0] : sentences[-1][1]]):
        sentences.pop()
    if not sentences:
        return None
    sentence = body[sentences[-1][0] : sentences[-1][1]].strip()
    spans = math_spans(sentence)
    masked = mask_math(sentence, spans)
    if _reads_as_math(sentence) and sentence.count("{") == sentence.count("}"):  # bare LaTeX such as \frac{10}{9}
        return sentence.rstrip(" .")
    prose = re.sub(r"[\W\d_]+", " ", masked).strip()
    short_reply = len(sentences) == 1 and len(sentence.split()) <= 6  # the whole response is one short statement
    finished = sentence.endswith((".", "!")) or _CUE.search(masked) is not None or short_reply
    tail = len(sentence.rstrip(" .!\n"))
    ends_in_math = bool(spans) and spans[-1].end >= tail
    clause = re.split(r"[:;\n]", masked)[-1][-HEDGE_WINDOW_CHARS:]  # the closing clause of a long run-on sentence
    if sentence.endswith("?") or _HEDGE.search(clause) or (not ends_in_math and _UNFINISHED.search(masked[:tail])):
        return None
    if "\\boxed" in sentence or "\\fbox" in sentence:  # a box that never closed: the response broke off
        return None
    if prose and not finished:
        return None
    numbers = list(NUMBER.finditer(masked))
    last_span = spans[-1] if spans else None
    if numbers and (last_span is None or numbers[-1].start() > last_span.end):
        return _stated_number(masked, numbers)
    return last_span.inner if last_span else None


def _stated_number(masked: str, numbers: list[re.Match]) -> str:
    """The number a sentence states as its result: the first one after its last '=' ("45/5 = 9 boxes for all 45
    muffins"), else after its last copula ("6:07 is 7 minutes after 6:00"), else its last number ("She makes 18
    dollars per day")."""
    for anchors in ([m.end() for m in re.finditer("=", masked)], [m.end() for m in _COPULA.finditer(masked)]):
        after = [n for n in numbers if anchors and n.start() >= anchors[-1]]
        if after:
            return after[0].group().strip()
    return numbers[-1].group().strip()
