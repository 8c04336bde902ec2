"""The heuristic library (one YAML per heuristic in `library/`) and the single cue detector.

>>> from midrl_bench.heuristics import load_library
>>> library = load_library()
>>> library.get("working_backwards").family
'polya'
"""

from midrl_bench.heuristics.cues import adherence_score, cue_hits, detect_heuristics
from midrl_bench.heuristics.library import (
    LIBRARY_DIR,
    Exemplar,
    Heuristic,
    HeuristicError,
    HeuristicLibrary,
    load_heuristic,
    load_library,
    validate_directory,
)

__all__ = [
    "LIBRARY_DIR",
    "Exemplar",
    "Heuristic",
    "HeuristicError",
    "HeuristicLibrary",
    "adherence_score",
    "cue_hits",
    "detect_heuristics",
    "load_heuristic",
    "load_library",
    "validate_directory",
]
