"""Solution shapes that a regular expression cannot state, used by `structure.PATTERNS` under their function names.

Each function takes a trace's text and returns what it found (empty: the shape is absent). They look for the order
and reuse of numbers, which is how a heuristic shows when a solution applies it without naming it:

- `descending_stages`: numbered stages counting down ("after day 4 ... after day 3"), stepping back from the end;
- `ascending_instances`: the same noun after three consecutive counts ("4 sides, 2; 5 sides, 5; 6 sides, 9"), the
  first instances of a problem worked one after another;
- `values_then_formula`: a run of computed values followed by a closed form in n ("... so T(n) = 2^n - 1", "the
  sum of the first n odd numbers is n^2"), a rule read off the values;
- `substituted_back`: a value the solution derived (x = 5) put back into an expression whose result is a number the
  trace had stated before deriving it ("7 + 5 = 12 items"), a check against the problem's conditions;
- `subtracted_from_total`: a total the trace counted (3^4 = 81, "16 outcomes") from which a count is subtracted.

Written from errors on the validation `dev` split (docs/judge.md, third revision).
"""

from __future__ import annotations

import re

_F = re.IGNORECASE | re.MULTILINE
_STAGE_WORDS = r"day|step|round|stage|year|hour|minute|week|month|move|turn|level|floor"
_STAGE = re.compile(rf"\b({_STAGE_WORDS})\s+(\d+)\b", re.I)
_STOP = set(f"{_STAGE_WORDS}|case|by|and|or|of|to|is|the|a|an|in|on|at|for|with|from|than|times|are|has|have|was|"
            "were|so|then|gives|leaves|more|less|per|each|every|all|it|this|that|its|be|not|no|only|and|but|if|as|"
            "mod|where|which|digit|digits|number|numbers".split("|"))
_COUNT_NOUN = re.compile(r"(?<![\w.^/])(\d+)\s+([a-z]{3,})\b", re.I)
_NUMBER = re.compile(r"(?<![\w.^/])-?\d+(?:\.\d+)?(?!\w|\.\d)")  # exponents (after ^) left out
_FORMULA = re.compile(r"\b(?:is|are|adds? (?:up )?to|add to|equals?)\s+\(?n\b[^.\n]{0,16}"
                      r"|\b[a-zA-Z]\(n\)\s*=\s*(?![^.\n]*\(\s*n\s*[−-]\s*\d\s*\))[^.\n]*\bn\b"
                      r"|\b[a-zA-Z]_n\s*=\s*(?![^.\n]*_\{?n\s*[−-])[^.\n]*\bn\b", _F)
_SOLVED = re.compile(r"\b[a-z]\s*=\s*(-?\d+(?:\.\d+)?)(?!\w|\^|\.\d|\s*[+*/·×^−-]\s*\w)", re.I)
_EQUATION = re.compile(r"([\d.()|+*/^·×−√ -]*\d[\d.()|+*/^·×−√ -]*)=\s*(-?\d+(?:\.\d+)?)(?!\w|\^|\.\d)")
_OPERATOR = re.compile(r"\d\s*[-+*/^·×−]\s*[\d(|√]|\|")
_TOTAL = re.compile(r"\d+\s*\^\s*\d+\s*=\s*(\d+)\b|\b(\d+)\s+outcomes\b", re.I)


def descending_stages(text: str) -> list[str]:
    """Steps back through numbered stages: "day 4 ... day 3" (same stage word, number one lower, close by)."""
    found = list(_STAGE.finditer(text))
    return [f"{later[1]} {later[2]}" for earlier, later in zip(found, found[1:], strict=False)
            if earlier[1].lower() == later[1].lower() and int(later[2]) == int(earlier[2]) - 1
            and later.start() - earlier.end() <= 120]


def _counted_nouns(text: str) -> list[tuple[int, str, int]]:
    """(position, singular noun, count) for "3 sides" (stage words and small words left out)."""
    found = []
    for match in _COUNT_NOUN.finditer(text):
        noun = match[2].lower().removesuffix("s")
        if noun not in _STOP and noun + "s" not in _STOP:
            found.append((match.start(), noun, int(match[1])))
    return found


def ascending_instances(text: str) -> list[str]:
    """The same noun with three consecutive counts, each within 150 characters of the previous one."""
    found = _counted_nouns(text)
    chains = []
    for index, (position, noun, value) in enumerate(found):
        chain, last = [value], position
        for later_position, later_noun, later_value in found[index + 1:]:
            if later_position - last > 150:
                break
            if later_noun == noun and later_value == chain[-1] + 1:
                chain.append(later_value)
                last = later_position
        if len(chain) >= 3:
            chains.append(f"{noun} {chain[0]}..{chain[-1]}")
    return chains


def values_then_formula(text: str) -> list[str]:
    """A closed form in n (not a recurrence) with at least four numbers in the 250 characters before it."""
    return [match[0] for match in _FORMULA.finditer(text)
            if len(_NUMBER.findall(text[max(0, match.start() - 250):match.start()])) >= 4]


def _derived_values(text: str) -> list[tuple[str, int]]:
    """(value, position) of "x = 5" assignments and of the final answer (where it is first a result, "= 11", else
    where it first occurs). A result followed by a full stop ("= 11.") is not recognised as one and falls back to
    the first occurrence; kept as it was when `test` was evaluated (docs/judge.md)."""
    found = [(m[1], m.start()) for m in _SOLVED.finditer(text)]
    boxed = re.findall(r"\\boxed\{(-?\d+(?:\.\d+)?)\}", text)
    if boxed:
        result = re.search(rf"=\s*{re.escape(boxed[-1])}(?![\w.^]|\.\d)", text)
        first = result or re.search(rf"(?<![\w.^/]){re.escape(boxed[-1])}(?![\w^]|\.\d)", text)
        if first:
            found.append((boxed[-1], first.start()))
    return found


def substituted_back(text: str) -> list[str]:
    """Equations after a derived value's line with the value as an operand and, as result, a number stated before
    the value was derived (and not the value itself)."""
    hits = set()
    for value, position in _derived_values(text):
        before = set(_NUMBER.findall(text[:position])) - {value}
        line_end = text.find("\n", position)
        if line_end < 0:
            continue
        for equation in _EQUATION.finditer(text, line_end):
            left, result = equation[1], equation[2]
            if result in before and result not in ("0", "1") and value in _NUMBER.findall(left) and _OPERATOR.search(left):
                hits.add(equation[0].strip())
    return sorted(hits)


def subtracted_from_total(text: str) -> list[str]:
    """A counted total (the value of a power, 3^4 = 81, or "N outcomes") later followed by "N − k"."""
    hits = []
    for match in _TOTAL.finditer(text):
        total = next(group for group in match.groups() if group)
        later = re.search(rf"(?<![\w.]){total}\s*[−-]\s*\d", text[match.end():])
        if later:
            hits.append(f"{total} − …")
    return hits


FUNCTIONS = {f.__name__: f for f in (descending_stages, ascending_instances, values_then_formula, substituted_back,
                                     subtracted_from_total)}
