"""The generate stage: plan shard i -> generation shard i, through any backend of `midrl_bench.generation`.

Missing shards are fed to the backend as a stream (`generation.base.generate_shards`): engine backends keep the
next shards queued while one finishes, so engines stay full across shard boundaries; each shard is written as
soon as it is complete, in order, so a killed build resumes at the first missing shard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from midrl_bench.builder.prompts import heuristic_messages, untargeted_messages
from midrl_bench.config import to_dict

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


def generation_request(ctx: Any, item: dict[str, Any]) -> Any:
    from midrl_bench.generation.base import GenerationRequest, SamplingParams

    spec = ctx.config.generation
    sampling = SamplingParams(temperature=spec.sampling.temperature, top_p=spec.sampling.top_p,
                              max_new_tokens=spec.sampling.max_new_tokens, stop=list(spec.sampling.stop))
    problem = ctx.problems[item["problem_id"]]["problem"]
    if item["heuristic_id"] is None:
        messages = untargeted_messages(problem)
    else:
        messages = heuristic_messages(ctx.heuristics[item["heuristic_id"]], problem, ctx.config.heuristics.exemplars)
    return GenerationRequest(key=item["key"], messages=messages, sampling=sampling, seed=item["seed"],
                             chat_template_kwargs=dict(spec.chat_template_kwargs))


def open_backend(ctx: Any) -> Any:
    from midrl_bench.generation.base import get_backend

    spec = ctx.config.generation
    backend = get_backend(spec.backend, **resolve_model_alias(spec.options))
    if not ctx.store.has("generator"):
        ctx.store.put("generator", {"backend": spec.backend, "describe": backend.describe(),
                                    "sampling": to_dict(spec.sampling),
                                    "chat_template_kwargs": dict(spec.chat_template_kwargs)})
    return backend


def run_generate(ctx: Any) -> None:
    from midrl_bench.generation.base import generate_shards

    missing = [i for i in ctx.shards if not ctx.store.has_shard("generate", i)]
    if not missing:
        return
    backend = open_backend(ctx)

    def shard_requests() -> Iterator[tuple[int, list[Any]]]:
        for index in missing:
            yield index, [generation_request(ctx, item) for item in ctx.plan_rows(index)]

    try:
        for index, generations in ctx.progress(generate_shards(backend, shard_requests()), len(missing), "generate"):
            keys = [item["key"] for item in ctx.plan_rows(index)]
            if [g.key for g in generations] != keys:
                raise RuntimeError(f"generation backend returned keys out of order in shard {index}")
            ctx.store.write_shard("generate", index, [
                {"key": g.key, "text": g.text, "prompt_tokens": g.prompt_tokens,
                 "completion_tokens": g.completion_tokens, "finish_reason": g.finish_reason} for g in generations])
    finally:
        backend.close()


def generate_counts(ctx: Any) -> dict[str, Any]:
    finish: Counter[str] = Counter()
    generated = tokens = 0
    for row in ctx.store.read_stage("generate", ctx.shard_count):
        generated += 1
        finish[row["finish_reason"]] += 1
        tokens += row["completion_tokens"]
    return {"generated": generated, "finish_reasons": dict(sorted(finish.items())), "completion_tokens": tokens}
