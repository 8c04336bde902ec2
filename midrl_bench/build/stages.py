"""The sharded stages of a build: generate -> verify -> score adherence.

Each stage maps plan shard i to its own shard i under `OUT/.midrl/<stage>/`, skipping shards already written,
so a killed build resumes at the first missing shard. Expensive resources (a model, a checker pool) are opened
only when a stage has work left, and their description is recorded once for the manifest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from midrl_bench.build.config import BuildConfig
from midrl_bench.build.prompts import heuristic_messages, untargeted_messages
from midrl_bench.build.store import Store
from midrl_bench.config import to_dict


@dataclass
class BuildContext:
    config: BuildConfig
    store: Store
    problems: dict[str, dict[str, Any]]  # problem_id -> {problem_id, source, problem, answer}
    heuristics: dict[str, Any]  # heuristic_id -> Heuristic, ordered by id
    library: Any
    shard_count: int

    def plan_rows(self, index: int) -> list[dict[str, Any]]:
        return self.store.read_shard("plan", index)


def _progress(items: list[int], desc: str):
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="shard", disable=None)


def run_sharded(ctx: BuildContext, stage: str, open_worker: Callable[[], Any],
                process: Callable[[Any, int], list[dict[str, Any]]]) -> None:
    """Run `process(worker, shard)` for every missing shard of `stage`; the worker is opened only if needed."""
    missing = [i for i in range(ctx.shard_count) if not ctx.store.has_shard(stage, i)]
    if not missing:
        return
    worker = open_worker()
    try:
        for index in _progress(missing, desc=f"{stage} shards"):
            ctx.store.write_shard(stage, index, process(worker, index))
    finally:
        close = getattr(worker, "close", None)
        if close is not None:
            close()


# ------------------------------------------------------------------------------------------------ generate
def generation_request(ctx: BuildContext, item: dict[str, Any]):
    from midrl_bench.generation.base import GenerationRequest, SamplingParams

    spec = ctx.config.generation.sampling
    sampling = SamplingParams(temperature=spec.temperature, top_p=spec.top_p, max_new_tokens=spec.max_new_tokens,
                              stop=list(spec.stop))
    problem = ctx.problems[item["problem_id"]]["problem"]
    if item["heuristic_id"] is None:
        messages = untargeted_messages(problem)
    else:
        messages = heuristic_messages(ctx.heuristics[item["heuristic_id"]], problem, ctx.config.heuristics.exemplars)
    return GenerationRequest(key=item["key"], messages=messages, sampling=sampling, seed=item["seed"])


LOCAL_MODELS = {"local:smollm2-135m-instruct": "smollm2_135m_instruct_dir"}  # alias -> local_models function


def resolve_model_alias(options: dict[str, Any]) -> dict[str, Any]:
    """Backend options with a `model: local:<name>` alias replaced by the folder of that offline model."""
    model = options.get("model")
    if not isinstance(model, str) or not model.startswith("local:"):
        return dict(options)
    if model not in LOCAL_MODELS:
        raise ValueError(f"generation.options.model: unknown local model {model!r}; known: {sorted(LOCAL_MODELS)}")
    from midrl_bench.generation import local_models

    return {**options, "model": str(getattr(local_models, LOCAL_MODELS[model])())}


def run_generate(ctx: BuildContext) -> dict[str, Any]:
    def open_backend():
        from midrl_bench.generation.base import get_backend

        spec = ctx.config.generation
        backend = get_backend(spec.backend, **resolve_model_alias(spec.options))
        if not ctx.store.has("generator"):
            ctx.store.put("generator", {"backend": spec.backend, "describe": backend.describe(),
                                        "sampling": to_dict(spec.sampling)})
        return backend

    def process(backend, index: int) -> list[dict[str, Any]]:
        requests = [generation_request(ctx, item) for item in ctx.plan_rows(index)]
        generations = backend.generate(requests)
        if [g.key for g in generations] != [r.key for r in requests]:
            raise RuntimeError(f"generation backend returned keys out of order in shard {index}")
        return [{"key": g.key, "text": g.text, "prompt_tokens": g.prompt_tokens,
                 "completion_tokens": g.completion_tokens, "finish_reason": g.finish_reason} for g in generations]

    run_sharded(ctx, "generate", open_backend, process)
    rows = list(ctx.store.read_stage("generate", ctx.shard_count))
    return {"generated": len(rows), "finish_reasons": dict(sorted(Counter(r["finish_reason"] for r in rows).items())),
            "completion_tokens": sum(r["completion_tokens"] for r in rows)}


# ------------------------------------------------------------------------------------------------ verify
def run_verify(ctx: BuildContext) -> dict[str, Any]:
    from midrl_bench.verify.math import MathChecker

    def process(checker, index: int) -> list[dict[str, Any]]:
        plan, generated = ctx.plan_rows(index), ctx.store.read_shard("generate", index)
        pairs = [(ctx.problems[item["problem_id"]]["answer"], gen["text"])
                 for item, gen in zip(plan, generated, strict=True)]
        verdicts = checker.check_many(pairs)
        return [{"key": gen["key"], "correct": v.correct, "reason": v.reason, "extracted": v.extracted}
                for gen, v in zip(generated, verdicts, strict=True)]

    run_sharded(ctx, "verify", lambda: MathChecker(timeout_s=ctx.config.verify.timeout_s), process)
    counts: Counter[str] = Counter()
    for item, verdict in zip(ctx.store.read_stage("plan", ctx.shard_count),
                             ctx.store.read_stage("verify", ctx.shard_count), strict=True):
        kind = "untargeted" if item["heuristic_id"] is None else "heuristic"
        label = {True: "correct", False: "incorrect", None: "unjudged"}[verdict["correct"]]
        counts[f"{kind}_{label}"] += 1
    return dict(sorted(counts.items()))


# ------------------------------------------------------------------------------------------------ adherence
def run_adherence(ctx: BuildContext) -> dict[str, Any]:
    from midrl_bench.build.adherence import make_scorer

    def open_scorer():
        scorer = make_scorer(ctx.config.adherence)
        if not ctx.store.has("adherence_scorer"):
            ctx.store.put("adherence_scorer", scorer.describe())
        return scorer

    def process(scorer, index: int) -> list[dict[str, Any]]:
        plan = ctx.plan_rows(index)
        generated, verified = ctx.store.read_shard("generate", index), ctx.store.read_shard("verify", index)
        todo = [(item, gen) for item, gen, v in zip(plan, generated, verified, strict=True)
                if item["heuristic_id"] is not None and v["correct"] is not None]
        candidates = [{"key": item["key"], "seed": item["seed"], "heuristic": ctx.heuristics[item["heuristic_id"]],
                       "problem": ctx.problems[item["problem_id"]]["problem"], "solution": gen["text"]}
                      for item, gen in todo]
        scores = dict(zip((c["key"] for c in candidates), scorer.score(candidates), strict=True))
        return [{"key": item["key"], "adherence": scores.get(item["key"])} for item in plan]

    run_sharded(ctx, "adherence", open_scorer, process)
    scored = [r["adherence"] for r in ctx.store.read_stage("adherence", ctx.shard_count)]
    return {"scorer": ctx.config.adherence.scorer, "scored": sum(s is not None for s in scored),
            "not_scored": sum(s is None for s in scored)}


def joined_candidates(ctx: BuildContext):
    """Every planned item with its generation, verdict and adherence score, in plan order."""
    for index in range(ctx.shard_count):
        for item, gen, verdict, adherence in zip(ctx.plan_rows(index), ctx.store.read_shard("generate", index),
                                                 ctx.store.read_shard("verify", index),
                                                 ctx.store.read_shard("adherence", index), strict=True):
            yield {**item, "text": gen["text"], "correct": verdict["correct"],
                   "extracted": verdict["extracted"], "adherence": adherence["adherence"]}
