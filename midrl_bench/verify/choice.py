"""Multiple-choice answer checking for chain-of-thought responses ending in `Answer: <letter>`.

Strict: only the last `Answer: X` line counts (a bold or `Final answer:` variant included), or, failing that, the
last `\\boxed{X}`; the letter must name one of the offered choices. Letters mentioned in the reasoning never count.

>>> check_choice(1, 3, "The butler lied.\\nAnswer: B").correct
True
"""

from __future__ import annotations

import re
import string

from midrl_bench.verify.extract import last_boxed
from midrl_bench.verify.math import Verdict

LETTERS = string.ascii_uppercase
_ANSWER_LINE = re.compile(
    r"^[ \t>*_#]*(?:final\s+)?answer\s*[:：][\s*_(\[]*([A-Za-z])(?![A-Za-z0-9])", re.IGNORECASE | re.MULTILINE
)


def extract_choice(response: str) -> str | None:
    """The chosen letter (upper case), or None."""
    letters = _ANSWER_LINE.findall(response)
    if letters:
        return letters[-1].upper()
    boxed = last_boxed(response)
    if boxed is not None:
        boxed = re.sub(r"\\text\{([^}]*)\}", r"\1", boxed).strip().strip("()").strip()
        if len(boxed) == 1 and boxed.isalpha():
            return boxed.upper()
    return None


def check_choice(answer_index: int, n_choices: int, response: str) -> Verdict:
    letter = extract_choice(response)
    if letter is None:
        return Verdict(False, "no_final_answer")
    index = LETTERS.index(letter)
    if index >= n_choices:
        return Verdict(False, "choice_out_of_range", letter)
    correct = index == answer_index
    return Verdict(correct, "equivalent" if correct else "not_equivalent", letter)
