"""Selection of candidates, shard by shard (a shard holds whole problems, so each shard selects on its own).

Per problem x heuristic: among the candidates the checker judged correct, the one with the highest adherence
score; an unscored candidate (None) ranks below every scored one; ties go to the lowest sample index. The
`incorrect` control selects the same way among candidates judged wrong (False; a None verdict is never used as
"wrong", and a wrong candidate must state a final answer). STaR selects, per problem, the lowest-index correct
untargeted sample. Config assembly from the selected rows is in `assemble.py`.
"""

from __future__ import annotations

from typing import Any


def _rank(candidate: dict[str, Any]) -> tuple[float, int]:
    score = candidate.get("adherence")
    return (-(score if score is not None else -1.0), candidate["sample_index"])


def selectable(candidate: dict[str, Any], incorrect_control: bool) -> bool:
    """Whether selection can ever pick this candidate (so whether its adherence needs scoring)."""
    if candidate["heuristic_id"] is None:
        return False
    if candidate["correct"] is True:
        return True
    return incorrect_control and candidate["correct"] is False and candidate.get("extracted") is not None


def select_candidates(candidates: list[dict[str, Any]], verdict: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """Best candidate per (problem_id, heuristic_id) among heuristic-guided candidates with `correct is verdict`.

    A wrong candidate must state a final answer (`extracted`): a truncated or answerless text is not a
    "heuristic-guided wrong answer" and is never used for the control.
    """
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for candidate in candidates:
        if candidate["heuristic_id"] is None or candidate["correct"] is not verdict:
            continue
        if verdict is False and candidate.get("extracted") is None:
            continue
        pair = (candidate["problem_id"], candidate["heuristic_id"])
        if pair not in best or _rank(candidate) < _rank(best[pair]):
            best[pair] = candidate
    return best


def select_star(candidates: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for candidate in candidates:
        if candidate["heuristic_id"] is None and candidate["correct"] is True:
            current = best.get(candidate["problem_id"])
            if current is None or candidate["sample_index"] < current["sample_index"]:
                best[candidate["problem_id"]] = candidate
    return best


def selected_row(problem: dict[str, Any], heuristic: Any, candidate: dict[str, Any], kind: str) -> dict[str, Any]:
    """A selected candidate with everything the published row needs (see `write.ROW_SCHEMA`)."""
    return {"kind": kind, "key": candidate["key"], "problem_id": problem["problem_id"], "source": problem["source"],
            "problem": problem["problem"], "answer": problem["answer"],
            "heuristic_id": candidate["heuristic_id"], "heuristic_name": heuristic.name if heuristic else None,
            "sample_index": candidate["sample_index"],
            "adherence_score": candidate["adherence"] if heuristic else None, "completion": candidate["text"]}


def select_shard(candidates: list[dict[str, Any]], problems: dict[str, dict[str, Any]],
                 heuristics: dict[str, Any]) -> list[dict[str, Any]]:
    """The selected rows of one shard, problem by problem (source order): correct, then incorrect, then star."""
    correct, wrong, star = select_candidates(candidates, True), select_candidates(candidates, False), select_star(candidates)
    rows = []
    for problem_id in dict.fromkeys(c["problem_id"] for c in candidates):
        problem = problems[problem_id]
        for kind, chosen in (("heuristic", correct), ("incorrect", wrong)):
            rows += [selected_row(problem, heuristics[hid], chosen[(problem_id, hid)], kind)
                     for hid in heuristics if (problem_id, hid) in chosen]
        if problem_id in star:
            rows.append(selected_row(problem, None, star[problem_id], "star"))
    return rows
