"""Assembly of the configs a build writes, one problem at a time (bounded memory).

All configs are deterministic functions of the kept (selected, decontaminated) rows and the build seed:
- `n{k}` for k = 1, 2, 4, ...: each problem's correct solutions are put in a fixed per-problem order (a seeded
  hash of the heuristic id) and `n{k}` takes the first min(k, available) of them, so a problem's n-k set is a
  subset of its n-2k set. The manifest counts how many problems have all k.
- `budget-n{n}-few` / `budget-n{n}-many`: the same number of rows as P problems x n solutions versus P*n
  problems x 1 solution, with P as large as the selected data allow.
- `incorrect-n{k}`: as `n{k}` over the wrong-answer selections (the paper's control).
- `star`: one untargeted correct solution per problem.

Two passes over the kept rows: `ConfigPlan.from_counts` needs only how many rows of each kind every problem kept
(a few integers per problem); `ConfigPlan.rows_of(problem rows)` then gives, for one problem, the rows it adds to
each config. Configs list problems in source order, so streaming problems in that order writes every config.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from midrl_bench.provenance import sha256_text


def powers_of_two(limit: int) -> list[int]:
    ks, k = [], 1
    while k <= limit:
        ks.append(k)
        k *= 2
    return ks


def order_key(seed: int, *parts: str) -> str:
    return sha256_text(":".join([str(seed), *parts]))


def nested_order(rows: list[dict[str, Any]], problem_id: str, seed: int) -> list[dict[str, Any]]:
    """One problem's rows in its fixed nested order (seeded by problem and heuristic id)."""
    return sorted(rows, key=lambda row: order_key(seed, "nest", problem_id, row["heuristic_id"]))


def problem_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(row["kind"] for row in rows)
    return {kind: counts.get(kind, 0) for kind in ("heuristic", "incorrect", "star")}


@dataclass
class ConfigPlan:
    seed: int
    nested_ks: list[int]
    incorrect_ks: list[int]
    star: bool
    budget: dict[int, tuple[set[str], set[str]]] = field(default_factory=dict)  # n -> (few problem ids, many ids)
    info: dict[str, dict[str, Any]] = field(default_factory=dict)  # config -> info (rows, problems, ...)
    skipped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_counts(cls, counts: list[tuple[str, dict[str, int]]], heuristic_count: int, write_spec: Any,
                    seed: int) -> ConfigPlan:
        """`counts`: (problem_id, {kind: kept rows}) for every problem, in source order."""
        incorrect = powers_of_two(min(write_spec.incorrect_max_n, heuristic_count)) if write_spec.incorrect_max_n else []
        plan = cls(seed, powers_of_two(min(write_spec.max_n, heuristic_count)), incorrect, write_spec.star)
        correct = {pid: c["heuristic"] for pid, c in counts if c["heuristic"]}
        wrong = {pid: c["incorrect"] for pid, c in counts if c["incorrect"]}
        plan._nested_info("n", correct, plan.nested_ks)
        for n in write_spec.fixed_budget:
            plan._budget(correct, n)
        plan._nested_info("incorrect-n", wrong, plan.incorrect_ks)
        if plan.star:
            plan.info["star"] = {"problems": sum(1 for _, c in counts if c["star"]), "rows": 0}
            plan.info["star"]["rows"] = plan.info["star"]["problems"]
        plan.skipped = {name: "no rows" for name, info in plan.info.items() if not info["rows"]}
        plan.skipped.update({f"budget-n{n}-few/many": f"no problem has {n} selected solutions or too few problems"
                             for n in write_spec.fixed_budget if n not in plan.budget})
        plan.info = {name: info for name, info in plan.info.items() if info["rows"]}
        return plan

    def _nested_info(self, prefix: str, lists: dict[str, int], ks: list[int]) -> None:
        for k in ks:
            self.info[f"{prefix}{k}"] = {"problems": len(lists), "problems_with_all_k": sum(c >= k for c in lists.values()),
                                         "k": k, "rows": sum(min(k, c) for c in lists.values())}

    def _budget(self, lists: dict[str, int], n: int) -> None:
        pool = sorted(lists, key=lambda pid: order_key(self.seed, "budget", str(n), pid))
        eligible = [pid for pid in pool if lists[pid] >= n]
        problems = min(len(eligible), len(pool) // n)
        if problems == 0:
            return
        self.budget[n] = (set(eligible[:problems]), set(pool[:problems * n]))
        self.info[f"budget-n{n}-few"] = {"problems": problems, "solutions_per_problem": n, "rows": problems * n}
        self.info[f"budget-n{n}-many"] = {"problems": problems * n, "solutions_per_problem": 1, "rows": problems * n}

    def rows_of(self, problem_id: str, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The rows one problem contributes to each written config (configs it is absent from are omitted)."""
        by_kind: dict[str, list[dict[str, Any]]] = {"heuristic": [], "incorrect": [], "star": []}
        for row in rows:
            by_kind[row["kind"]].append(row)
        out: dict[str, list[dict[str, Any]]] = {}
        correct = nested_order(by_kind["heuristic"], problem_id, self.seed)
        wrong = nested_order(by_kind["incorrect"], problem_id, self.seed)
        for k in self.nested_ks:
            out[f"n{k}"] = correct[:k]
        for n, (few, many) in self.budget.items():
            out[f"budget-n{n}-few"] = correct[:n] if problem_id in few else []
            out[f"budget-n{n}-many"] = correct[:1] if problem_id in many else []
        for k in self.incorrect_ks:
            out[f"incorrect-n{k}"] = wrong[:k]
        if self.star:
            out["star"] = by_kind["star"][:1]
        return {name: chosen for name, chosen in out.items() if chosen and name in self.info}


def assemble_configs(rows: list[dict[str, Any]], problem_order: list[str], heuristic_count: int,
                     write_spec: Any, seed: int) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """All configs of a build in memory ({name: {rows, info}}, {name: reason} for configs left out).

    For small inputs and tests; the builder streams the same `ConfigPlan` problem by problem.
    """
    grouped: dict[str, list[dict[str, Any]]] = {pid: [] for pid in problem_order}
    for row in rows:
        grouped[row["problem_id"]].append(row)
    plan = ConfigPlan.from_counts([(pid, problem_counts(grouped[pid])) for pid in problem_order],
                                  heuristic_count, write_spec, seed)
    configs = {name: {"rows": [], "info": {k: v for k, v in info.items() if k != "rows"}}
               for name, info in plan.info.items()}
    for pid in problem_order:
        for name, chosen in plan.rows_of(pid, grouped[pid]).items():
            configs[name]["rows"].extend(chosen)
    return configs, plan.skipped
