"""The single cue detector (builder `rules` adherence, judge `rules` labeller, toy world) on hand-written traces."""

from __future__ import annotations

import pytest

from midrl_bench.heuristics import Heuristic, adherence_score, cue_hits, detect_heuristics, load_library


def _heuristic(cues: tuple[str, ...], heuristic_id: str = "h") -> Heuristic:
    return Heuristic(heuristic_id, heuristic_id, "test", "-", "-", cues, ())


BACKWARDS = _heuristic(("working backwards", "undo", "start from the end", "step 1", "inventor's paradox"))

CUE_CASES = [
    # (text, expected hits in cue order); comment = what the row pins down
    ("We undo the last step.", ["undo"]),  # a plain single-word cue
    ("WORKING BACKWARDS we see it.", ["working backwards"]),  # case-insensitive
    ("working\n   backwards", ["working backwards"]),  # any whitespace run between the words of a cue
    ("The work is undone.", []),  # word boundary at the end: "undo" is not inside "undone"
    ("Restart from the end.", []),  # word boundary at the start: "start from the end" is not inside "restart ..."
    ("(undo) and undo, again: undo.", ["undo"]),  # punctuation around a cue; each cue reported once
    ("Step 10: add them.", []),  # "step 1" does not match inside "step 10"
    ("Step 1: add them.", ["step 1"]),  # a cue ending in a digit
    ("By the inventor\u2019s paradox ...", ["inventor's paradox"]),  # a typographic apostrophe counts as a plain one
    ("Start from the end, then undo; working backwards.", ["working backwards", "undo", "start from the end"]),
    ("", []),  # empty text
]


@pytest.mark.parametrize(("text", "expected"), CUE_CASES)
def test_cue_hits(text, expected):
    assert cue_hits(text, BACKWARDS) == expected


SCORE_CASES = [
    # (cues, text, expected score)
    (("a1", "b2", "c3", "d4", "e5"), "nothing here", 0.0),  # no hit
    (("a1", "b2", "c3", "d4", "e5"), "a1", 1 / 3),  # one hit; three distinct hits saturate
    (("a1", "b2", "c3", "d4", "e5"), "a1 b2", 2 / 3),
    (("a1", "b2", "c3", "d4", "e5"), "a1 b2 c3", 1.0),
    (("a1", "b2", "c3", "d4", "e5"), "a1 b2 c3 d4 e5", 1.0),  # capped at 1
    (("a1", "b2", "c3", "d4", "e5"), "a1 a1 a1", 1 / 3),  # repeating one cue does not raise the score
    (("a1", "b2"), "b2", 0.5),  # fewer cues than the saturation count: all of them are needed
    ((), "anything", 0.0),  # a heuristic without cues never adheres
]


@pytest.mark.parametrize(("cues", "text", "expected"), SCORE_CASES)
def test_adherence_score(cues, text, expected):
    assert adherence_score(text, _heuristic(cues)) == pytest.approx(expected)


TRACE_BACKWARDS = """We work backwards from the final amount of $50. Undo the last purchase: before it she had 50 + 20 = 70.
One step before that she had doubled her money, so in reverse order we halve: 70 / 2 = 35. \\boxed{35}"""
TRACE_EQUATIONS_AND_CHECK = """Let a be the number of adult tickets and set up a system of equations: a + c = 10,
5a + 2c = 35. Solve for a: a = 5. Check the result by substituting back: 5 + 5 = 10 and 25 + 10 = 35. \\boxed{5}"""
TRACE_PLAIN = "12 + 30 = 42. \\boxed{42}"

DETECT_CASES = [
    # (trace, min_hits, expected ids among SUBSET)
    (TRACE_BACKWARDS, 1, ["working_backwards"]),  # one heuristic used
    (TRACE_BACKWARDS, 3, ["working_backwards"]),  # it shows many cues, so it survives a stricter threshold
    (TRACE_EQUATIONS_AND_CHECK, 1, ["check_the_result", "setting_up_equations"]),  # two combined, ordered by id
    (TRACE_EQUATIONS_AND_CHECK, 3, ["setting_up_equations"]),  # only the one with >= 3 distinct cues
    (TRACE_PLAIN, 1, []),  # arithmetic only: no heuristic
]
SUBSET = ("working_backwards", "setting_up_equations", "check_the_result", "draw_a_figure", "analogy")


@pytest.mark.parametrize(("trace", "min_hits", "expected"), DETECT_CASES)
def test_detect_heuristics_on_hand_written_traces(trace, min_hits, expected):
    library = load_library()
    subset = [library.get(heuristic_id) for heuristic_id in SUBSET]
    assert detect_heuristics(trace, subset, min_hits=min_hits) == expected


def test_detect_heuristics_over_the_whole_library_finds_the_used_heuristic():
    library = load_library()
    assert "working_backwards" in detect_heuristics(TRACE_BACKWARDS, library, min_hits=3)
    assert detect_heuristics(TRACE_PLAIN, library) == []


def test_every_exemplar_scores_as_adherent_to_its_own_heuristic():
    for heuristic in load_library():
        for exemplar in heuristic.exemplars:
            assert heuristic.id in detect_heuristics(exemplar.solution, [heuristic])
            assert adherence_score(exemplar.solution, heuristic) > 0.0


def test_min_hits_below_one_is_rejected():
    with pytest.raises(ValueError, match="min_hits"):
        detect_heuristics("text", [BACKWARDS], min_hits=0)
