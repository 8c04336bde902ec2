"""Selection of candidates and assembly of the configs written by a build.

Selection (per problem x heuristic): among the candidates the checker judged correct, the one with the highest
adherence score; an unscored candidate (None) ranks below every scored one; ties go to the lowest sample index.
The `incorrect` control selects the same way among candidates judged wrong (False; a None verdict is never used
as "wrong", and a wrong candidate must state a final answer). STaR selects, per problem, the lowest-index correct untargeted sample.

Configs (all deterministic functions of the selected rows and the build seed):
- `n{k}` for k = 1, 2, 4, ...: each problem's selected solutions are put in a fixed per-problem order (a seeded
  hash of the heuristic id) and `n{k}` takes the first min(k, available) of them, so a problem's n-k set is a
  subset of its n-2k set. The manifest counts how many problems have all k.
- `budget-n{n}-few` / `budget-n{n}-many`: the same number of rows as P problems x n solutions versus P*n
  problems x 1 solution, with P as large as the selected data allow.
- `incorrect-n{k}`: as `n{k}` over the wrong-answer selections (the paper's control).
- `star`: one untargeted correct solution per problem.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from midrl_bench.provenance import sha256_text


def _rank(candidate: dict[str, Any]) -> tuple[float, int]:
    score = candidate.get("adherence")
    return (-(score if score is not None else -1.0), candidate["sample_index"])


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


def powers_of_two(limit: int) -> list[int]:
    ks, k = [], 1
    while k <= limit:
        ks.append(k)
        k *= 2
    return ks


def _order_key(seed: int, *parts: str) -> str:
    return sha256_text(":".join([str(seed), *parts]))


def per_problem_lists(rows: list[dict[str, Any]], problem_order: list[str], seed: int) -> dict[str, list[dict]]:
    """Each problem's rows in its fixed nested order (seeded by problem and heuristic id)."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["problem_id"]].append(row)
    return {pid: sorted(grouped[pid], key=lambda r: _order_key(seed, "nest", pid, r["heuristic_id"]))
            for pid in problem_order if grouped.get(pid)}


def nested_configs(prefix: str, lists: dict[str, list[dict]], ks: list[int]) -> dict[str, dict[str, Any]]:
    configs = {}
    for k in ks:
        rows = [row for pid in lists for row in lists[pid][:k]]
        full = sum(1 for pid in lists if len(lists[pid]) >= k)
        configs[f"{prefix}{k}"] = {"rows": rows, "info": {"problems": len(lists), "problems_with_all_k": full, "k": k}}
    return configs


def fixed_budget_pair(lists: dict[str, list[dict]], n: int, seed: int) -> dict[str, dict[str, Any]]:
    """`budget-n{n}-few` (P problems x n) and `budget-n{n}-many` (P*n problems x 1), equal row counts."""
    pool = sorted(lists, key=lambda pid: _order_key(seed, "budget", str(n), pid))
    eligible = [pid for pid in pool if len(lists[pid]) >= n]
    problems = min(len(eligible), len(pool) // n)
    if problems == 0:
        return {}
    few_ids, many_ids = set(eligible[:problems]), set(pool[:problems * n])
    few = [row for pid in lists if pid in few_ids for row in lists[pid][:n]]
    many = [lists[pid][0] for pid in lists if pid in many_ids]
    return {
        f"budget-n{n}-few": {"rows": few, "info": {"problems": problems, "solutions_per_problem": n}},
        f"budget-n{n}-many": {"rows": many, "info": {"problems": problems * n, "solutions_per_problem": 1}},
    }


def assemble_configs(rows: list[dict[str, Any]], problem_order: list[str], heuristic_count: int,
                     write_spec: Any, seed: int) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """All configs of a build: ({name: {rows, info}}, {name: reason} for configs left out)."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    correct = per_problem_lists(by_kind["heuristic"], problem_order, seed)
    configs = nested_configs("n", correct, powers_of_two(min(write_spec.max_n, heuristic_count)))
    for n in write_spec.fixed_budget:
        configs.update(fixed_budget_pair(correct, n, seed))
    if write_spec.incorrect_max_n:
        wrong = per_problem_lists(by_kind["incorrect"], problem_order, seed)
        configs.update(nested_configs("incorrect-n", wrong, powers_of_two(min(write_spec.incorrect_max_n,
                                                                                 heuristic_count))))
    if write_spec.star:
        position = {pid: i for i, pid in enumerate(problem_order)}
        star_rows = sorted(by_kind["star"], key=lambda r: position[r["problem_id"]])
        configs["star"] = {"rows": star_rows, "info": {"problems": len(star_rows)}}
    skipped = {name: "no rows" for name, config in configs.items() if not config["rows"]}
    skipped.update({f"budget-n{n}-few/many": f"no problem has {n} selected solutions or too few problems"
                    for n in write_spec.fixed_budget if f"budget-n{n}-few" not in configs})
    return {name: c for name, c in configs.items() if c["rows"]}, skipped
