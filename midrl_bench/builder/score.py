"""The verify and adherence stages: plan shard i + generation shard i -> verdict shard i -> adherence shard i.

Adherence is scored only for candidates selection can pick (`select.selectable`): correct heuristic-guided ones,
plus wrong ones that state an answer when the `incorrect` control is written. Everything else gets `None`, so
the reward model never spends GPU time on a candidate that is thrown away.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from midrl_bench.builder.select import selectable


def run_verify(ctx: Any) -> None:
    from midrl_bench.verify.math import MathChecker

    def process(checker: Any, index: int) -> list[dict[str, Any]]:
        plan, generated = ctx.plan_rows(index), ctx.store.read_shard("generate", index)
        pairs = [(ctx.problems[item["problem_id"]]["answer"], gen["text"])
                 for item, gen in zip(plan, generated, strict=True)]
        verdicts = checker.check_many(pairs)
        return [{"key": gen["key"], "correct": v.correct, "reason": v.reason, "extracted": v.extracted}
                for gen, v in zip(generated, verdicts, strict=True)]

    ctx.run_sharded("verify", lambda: MathChecker(timeout_s=ctx.config.verify.timeout_s), process)


def verify_counts(ctx: Any) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    for item, verdict in zip(ctx.store.read_stage("plan", ctx.shard_count),
                             ctx.store.read_stage("verify", ctx.shard_count), strict=True):
        kind = "untargeted" if item["heuristic_id"] is None else "heuristic"
        label = {True: "correct", False: "incorrect", None: "unjudged"}[verdict["correct"]]
        counts[f"{kind}_{label}"] += 1
    return dict(sorted(counts.items()))


def run_adherence(ctx: Any) -> None:
    from midrl_bench.builder.adherence import make_scorer

    control = ctx.config.write.incorrect_max_n > 0

    def open_scorer() -> Any:
        scorer = make_scorer(ctx.config.adherence)
        if not ctx.store.has("adherence_scorer"):
            ctx.store.put("adherence_scorer", scorer.describe())
        return scorer

    def process(scorer: Any, index: int) -> list[dict[str, Any]]:
        plan = ctx.plan_rows(index)
        generated, verified = ctx.store.read_shard("generate", index), ctx.store.read_shard("verify", index)
        todo = [(item, gen) for item, gen, v in zip(plan, generated, verified, strict=True)
                if selectable({**item, **v}, control)]
        candidates = [{"key": item["key"], "seed": item["seed"], "heuristic": ctx.heuristics[item["heuristic_id"]],
                       "problem": ctx.problems[item["problem_id"]]["problem"], "solution": gen["text"]}
                      for item, gen in todo]
        scores = dict(zip((c["key"] for c in candidates), scorer.score(candidates) if candidates else [], strict=True))
        return [{"key": item["key"], "adherence": scores.get(item["key"])} for item in plan]

    ctx.run_sharded("adherence", open_scorer, process)


def adherence_counts(ctx: Any) -> dict[str, Any]:
    scored = not_scored = 0
    for row in ctx.store.read_stage("adherence", ctx.shard_count):
        scored += row["adherence"] is not None
        not_scored += row["adherence"] is None
    return {"scorer": ctx.config.adherence.scorer, "scored": scored, "not_scored": not_scored}
