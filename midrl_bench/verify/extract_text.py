"""Low-level text scanning for answer extraction: boxes, math spans, sentences, numbers, answer clean-up.

Everything here is linear-time scanning or simple regular expressions without nested quantifiers, so a 1 MB
response cannot make extraction hang; the checker's hard timeout is the second line of defence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOX_COMMANDS = ("\\boxed", "\\fbox")
_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*(?=\{)")
MAX_SCAN_CHARS = 200_000  # extraction looks at the last 200k characters only: answers are stated at the end

# A plain-text number: sign, optional currency, thousands groups (comma, thin/normal space, LaTeX \, or {,}),
# decimals, a simple fraction, a percent sign. Decimal commas are deliberately not recognised.
_SEP = r"(?:,|\{,\}|\\,|\\!|\\ |~|[ \u2009\u202f\u00a0])"
NUMBER = re.compile(
    r"(?<![\w.:])[-−+]?(?:\\\$|\$)?(?:\d{1,3}(?:" + _SEP + r"\d{3})+(?![\d])|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*\\?%|\s*(?:percent|pct)\b)?"
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    inner: str


def boxes(text: str) -> list[Span]:
    """Every closed `\\boxed{...}` / `\\fbox{...}` with brace-matched content, in order of appearance (linear time)."""
    closing = _brace_pairs(text)
    starts = sorted(match.start() for match in _BOX_START.finditer(text))
    found: list[Span] = []
    for start in starts:
        if found and start < found[-1].end:  # inside the previous box: part of its content
            continue
        open_index = text.find("{", start)
        if open_index in closing:
            close = closing[open_index]
            found.append(Span(start, close + 1, text[open_index + 1 : close].strip()))
    return found


def _brace_pairs(text: str) -> dict[int, int]:
    """{index of "{": index of its matching "}"} for every brace that closes, in one pass."""
    pairs, stack = {}, []
    for index, char in enumerate(text):
        if char == "{":
            stack.append(index)
        elif char == "}" and stack:
            pairs[stack.pop()] = index
    return pairs


_MATH_OPENERS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}
_OPENER = re.compile(r"\$\$|\$|\\[\[(]")


def math_spans(text: str) -> list[Span]:
    """Inline and display math (`$..$`, `$$..$$`, `\\(..\\)`, `\\[..\\]`), left to right, not nested.

    A `$` followed by a digit whose "content" reads as prose (`$18 per hour and $20`) is a currency sign, not math.
    """
    spans: list[Span] = []
    index = 0
    unclosed: set[str] = set()  # closers known to be absent from the rest of the text (keeps the scan linear)
    while True:
        candidate = _OPENER.search(text, index)
        if candidate is None:
            return spans
        index = candidate.start()
        if index > 0 and text[index - 1] == "\\":  # an escaped \$ (or \\[) is not an opener
            index += 1
            continue
        opener = candidate.group()
        closer = _MATH_OPENERS[opener]
        close = -1 if closer in unclosed else text.find(closer, index + len(opener))
        while close != -1 and closer == "$" and text[close - 1] == "\\":
            close = text.find(closer, close + 1)
        if close == -1:
            unclosed.add(closer)
            index += len(opener)
            continue
        inner = text[index + len(opener) : close]
        if opener == "$" and _looks_like_currency(inner):
            index += 1
            continue
        spans.append(Span(index, close + len(closer), inner.strip()))
        index = close + len(closer)


def _looks_like_currency(inner: str) -> bool:
    """`$18 per hour and $` or `$12 + $`: a dollar amount followed by prose or by an open operator, not math."""
    if not inner[:1].isdigit():
        return False
    if inner != inner.rstrip() or inner.rstrip()[-1:] in ("=", "+", "-", "*", "/"):
        return True
    prose = re.sub(r"\\text\{[^{}]*\}", "", inner)
    return re.search(r"\s[A-Za-z]{3,}", prose) is not None or "\n" in inner


def mask_math(text: str, spans: list[Span]) -> str:
    """The text with every math span replaced by spaces of equal length (offsets stay valid)."""
    pieces, last = [], 0
    for span in spans:
        pieces.append(text[last : span.start])
        pieces.append(" " * (span.end - span.start))
        last = span.end
    pieces.append(text[last:])
    return "".join(pieces)


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n|\n(?=[ \t]*[A-Z])")  # a line starting with a capital starts one


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; math spans are never split. A blank line, or a line break before a capital
    letter (GSM8K-style lines without periods), ends a sentence unless ':' precedes it."""
    masked = mask_math(text, math_spans(text))
    bounds, start = [], 0
    for match in _SENTENCE_END.finditer(masked):
        if match.group().strip() == "" and masked[start : match.start()].rstrip().endswith(":"):
            continue
        end = match.end() if match.group().strip() else match.start()
        if text[start:end].strip():
            bounds.append((start, end))
        start = match.end()
    if text[start:].strip():
        bounds.append((start, len(text)))
    return bounds


# ---------------------------------------------------------------------------------------------- answer clean-up
_UNIT_TEXT = re.compile(r"\\(?:text|textrm|mathrm|mbox|textbf)\{\s*([^{}]*?)\s*\}")
_PERCENT_WORD = re.compile(r"^(\S*\d)\$?\s*(?:percent|per\s+cent|pct)\.?$", re.IGNORECASE)
_WORDS_AFTER_NUMBER = re.compile(r"^(" + NUMBER.pattern + r")\s*(?:[A-Za-z][A-Za-z.\s]{0,40})$")


_LEADING = ("\\[", "\\(", "\\displaystyle", "$", "*", "_")
_TRAILING = ("\\]", "\\)", "$", "*", "_", ".", ",", ";", ":")  # not "!": 5! is a factorial
_LEADING_CHARS = frozenset("$*_ \t\n\r")  # single-character wrappers, skipped in a tight loop
_TRAILING_CHARS = frozenset("$*_.,;: \t\n\r")


def strip_wrappers(answer: str) -> str:
    """Remove math delimiters, markdown emphasis and trailing punctuation around an answer (linear time)."""
    start, end = 0, len(answer)
    changed = True
    while changed and start < end:
        changed = False
        while start < end and answer[start] in _LEADING_CHARS:
            start += 1
        while end > start and answer[end - 1] in _TRAILING_CHARS:
            end -= 1
        for token in _LEADING:
            if answer.startswith(token, start, end):
                start, changed = start + len(token), True
        for token in _TRAILING:
            if end - len(token) >= start and answer.startswith(token, end - len(token), end):
                end, changed = end - len(token), True
    return answer[start:end].strip()


def normalize_answer(answer: str) -> str:
    """Thousands separators removed, `\\text{}` units around a number dropped; anything else is left to math-verify."""
    answer = strip_wrappers(answer)
    unit = _UNIT_TEXT.fullmatch(answer)
    if unit and NUMBER.match(unit.group(1)):  # \text{15 cm}
        answer = unit.group(1)
    number_then_unit = re.fullmatch(r"(.*?\d)(?:\\[,;! ]|~|\s)*" + _UNIT_TEXT.pattern, answer)
    if number_then_unit and re.fullmatch(r"[A-Za-z.\s^0-9]*", number_then_unit.group(2)):  # 15\text{ cm}
        answer = number_then_unit.group(1)
    answer = _PERCENT_WORD.sub(r"\1\\%", answer)  # 28 percent, $28$ percent -> 28\%
    words = _WORDS_AFTER_NUMBER.fullmatch(answer)
    if words:  # 18 dollars
        answer = words.group(1)
    return _drop_thousands_separators(answer.strip())


_UNAMBIGUOUS_GROUPS = re.compile(r"(?<=\d)(?:\{,\}|\\,|\\!|\\ |[\u2009\u202f\u00a0])(?=\d{3}(?!\d))")
_SINGLE_NUMBER = re.compile(r"[-−+]?(?:\\\$|\$)?\d{1,3}(?:(?:,| )\d{3})+(?:\.\d+)?(?:\\?%)?")


def _drop_thousands_separators(answer: str) -> str:
    """`1{,}000`, `1\\,000`, thin spaces: anywhere; plain `1,000` / `1 000`: only when the answer is that one number."""
    answer = _UNAMBIGUOUS_GROUPS.sub("", answer)
    if _SINGLE_NUMBER.fullmatch(answer):
        answer = answer.replace(",", "").replace(" ", "")
    return answer
