"""The build's stages, in one ordered list (`STAGES`), and the context they share.

A stage is either *sharded* — plan shard i -> its own shard i under `OUT/.midrl/<stage>/`, run for the shards
this process owns (all of them, or one `--shard i/N` part), skipping shards already written — or *whole*, run
once over every shard after all of them exist (in the unsharded build, or after `midrl build merge`). A sharded
stage's counts are summed over all shards when the whole build is assembled, so they do not depend on how the
work was split. Expensive resources (a model, a checker pool) are opened only when a stage has work left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from midrl_bench.builder import plan as planning
from midrl_bench.builder.config import BuildConfig
from midrl_bench.builder.store import Store


@dataclass
class BuildContext:
    config: BuildConfig
    store: Store
    problems: dict[str, dict[str, Any]]  # problem_id -> {problem_id, source, problem, answer}, in source order
    heuristics: dict[str, Any]  # heuristic_id -> Heuristic, ordered by id
    library: Any
    layout: list[tuple[int, int]]  # problem index range [start, end) of every shard
    shards: range  # the shards this process works on

    @property
    def shard_count(self) -> int:
        return len(self.layout)

    def shard_problem_ids(self, index: int) -> list[str]:
        start, end = self.layout[index]
        return list(self.problems)[start:end]

    def plan_rows(self, index: int) -> list[dict[str, Any]]:
        return self.store.read_shard("plan", index)

    def progress(self, items: Iterable[Any], total: int, stage: str) -> Iterable[Any]:
        from tqdm.auto import tqdm

        return tqdm(items, total=total, desc=f"{stage} shards", unit="shard", disable=None)

    def run_sharded(self, stage: str, open_worker: Callable[[], Any],
                    process: Callable[[Any, int], list[dict[str, Any]]]) -> None:
        """Run `process(worker, shard)` for every missing shard of `stage`; the worker is opened only if needed."""
        missing = [i for i in self.shards if not self.store.has_shard(stage, i)]
        if not missing:
            return
        worker = open_worker()
        try:
            for index in self.progress(missing, len(missing), stage):
                self.store.write_shard(stage, index, process(worker, index))
        finally:
            close = getattr(worker, "close", None)
            if close is not None:
                close()


def run_plan(ctx: BuildContext) -> None:
    """Write the plan shards of this process's shards (a pure function of the config)."""
    heuristic_ids = list(ctx.heuristics)
    for index in ctx.shards:
        if not ctx.store.has_shard("plan", index):
            items = [item.to_dict() for pid in ctx.shard_problem_ids(index)
                     for item in planning.problem_plan(ctx.config, pid, heuristic_ids)]
            ctx.store.write_shard("plan", index, items)


def plan_counts(ctx: BuildContext) -> dict[str, Any]:
    heuristic = len(ctx.problems) * len(ctx.heuristics) * ctx.config.generation.samples_per_pair
    total = len(ctx.problems) * planning.requests_per_problem(ctx.config, len(ctx.heuristics))
    return {"problems": len(ctx.problems), "heuristics": len(ctx.heuristics), "shards": ctx.shard_count,
            "requests": total, "heuristic_requests": heuristic, "untargeted_requests": total - heuristic}


def run_select(ctx: BuildContext) -> None:
    from midrl_bench.builder.select import select_shard

    def process(_: Any, index: int) -> list[dict[str, Any]]:
        candidates = [{**item, "text": gen["text"], "correct": verdict["correct"], "extracted": verdict["extracted"],
                       "adherence": adherence["adherence"]}
                      for item, gen, verdict, adherence in zip(
                          ctx.plan_rows(index), ctx.store.read_shard("generate", index),
                          ctx.store.read_shard("verify", index), ctx.store.read_shard("adherence", index), strict=True)]
        return select_shard(candidates, ctx.problems, ctx.heuristics)

    ctx.run_sharded("select", lambda: None, process)


def select_counts(ctx: BuildContext) -> dict[str, Any]:
    kinds = {"heuristic": 0, "incorrect": 0, "star": 0}
    for row in ctx.store.read_stage("select", ctx.shard_count):
        kinds[row["kind"]] += 1
    pairs = len(ctx.problems) * len(ctx.heuristics)
    return {"pairs": pairs, "pairs_with_correct": kinds["heuristic"], "pairs_without_correct": pairs - kinds["heuristic"],
            "pairs_with_incorrect": kinds["incorrect"], "star_problems_with_correct": kinds["star"],
            "star_problems_without_correct": (len(ctx.problems) - kinds["star"]) if ctx.config.generation.star_samples else 0}


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[BuildContext], Any]  # sharded: returns None; whole: returns the stage's counts
    counts: Callable[[BuildContext], dict[str, Any]] | None  # sharded stages only: counts over every shard

    @property
    def sharded(self) -> bool:
        return self.counts is not None


def _lazy(module: str, name: str) -> Callable[[BuildContext], Any]:
    def call(ctx: BuildContext) -> Any:
        import importlib

        return getattr(importlib.import_module(f"midrl_bench.builder.{module}"), name)(ctx)

    call.__name__ = name
    return call


STAGES: tuple[Stage, ...] = (
    Stage("plan", run_plan, plan_counts),
    Stage("generate", _lazy("generate", "run_generate"), _lazy("generate", "generate_counts")),
    Stage("verify", _lazy("score", "run_verify"), _lazy("score", "verify_counts")),
    Stage("adherence", _lazy("score", "run_adherence"), _lazy("score", "adherence_counts")),
    Stage("select", run_select, select_counts),
    Stage("decontaminate", _lazy("decontam", "run_decontaminate"), _lazy("decontam", "decontaminate_counts")),
    Stage("diversity", _lazy("finish", "run_diversity"), None),
    Stage("write", _lazy("finish", "run_write"), None),
)
