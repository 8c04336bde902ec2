"""The one rule-based cue detector: which of a heuristic's cue phrases a text contains.

Used by the builder's `rules` adherence scorer, the judge's offline `rules` labeller and the toy world, so they
all agree. A cue matches case-insensitively, on word boundaries (so "undo" does not match inside "undone"), with
any run of whitespace between its words and typographic apostrophes treated as plain ones.

>>> from midrl_bench.heuristics.library import Heuristic
>>> h = Heuristic("wb", "Working backwards", "polya", "-", "-", ("working backwards", "undo", "start from the end"), ())
>>> cue_hits("Working  backwards: we undo each step.", h)
['working backwards', 'undo']
>>> round(adherence_score("Working backwards: we undo each step.", h), 3)
0.667
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from midrl_bench.heuristics.library import Heuristic

# A trace that shows this many distinct cues of a heuristic counts as fully adherent (score 1.0).
SATURATION_HITS = 3
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@lru_cache(maxsize=4096)
def _cue_pattern(cue: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in cue.translate(_APOSTROPHES).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def cue_hits(text: str, heuristic: Heuristic) -> list[str]:
    """The heuristic's cues found in `text`, in the heuristic's cue order, each at most once."""
    text = text.translate(_APOSTROPHES)
    return [cue for cue in heuristic.cues if _cue_pattern(cue).search(text)]


def adherence_score(text: str, heuristic: Heuristic) -> float:
    """Distinct cue hits / min(SATURATION_HITS, number of cues), capped at 1.0; 0.0 when no cue appears."""
    if not heuristic.cues:
        return 0.0
    needed = min(SATURATION_HITS, len(heuristic.cues))
    return min(1.0, len(cue_hits(text, heuristic)) / needed)


def detect_heuristics(text: str, library: Iterable[Heuristic], min_hits: int = 1) -> list[str]:
    """Ids of the heuristics with at least `min_hits` distinct cues in `text`, ordered by id."""
    if min_hits < 1:
        raise ValueError(f"min_hits must be >= 1, got {min_hits}")
    return sorted(heuristic.id for heuristic in library if len(cue_hits(text, heuristic)) >= min_hits)
