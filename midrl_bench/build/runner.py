"""The builder: plan -> generate -> verify -> adherence -> select -> decontaminate -> diversity -> write.

`build(config, out_dir)` runs every stage not yet recorded as done in `OUT/.midrl/state.json`; a finished
stage is never recomputed, and the sharded stages resume at their first missing shard (see `store.py`). The
final output (`data/`, `README.md`, `manifest.json`, `CHANGELOG.md`) is a pure function of the config, the
source rows, the heuristic library and the generations, so a resumed build gives the same bytes as an
uninterrupted one and the same config + seed gives the same dataset hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from midrl_bench.build import plan as planning
from midrl_bench.build.config import BuildConfig
from midrl_bench.build.select import assemble_configs, select_candidates, select_star
from midrl_bench.build.stages import BuildContext, joined_candidates, run_adherence, run_generate, run_verify
from midrl_bench.build.store import Store, StoreError
from midrl_bench.config import to_dict

STAGES = ("plan", "generate", "verify", "adherence", "select", "decontaminate", "diversity", "write")


def _run_plan(config: BuildConfig, store: Store) -> dict[str, Any]:
    problems = planning.load_problems(config)
    library, heuristics = planning.load_heuristics(config)
    items = planning.make_plan(config, problems, [h.id for h in heuristics])
    ranges = planning.shard_ranges(len(items), config.generation.shard_size)
    for index, (start, end) in enumerate(ranges):
        store.write_shard("plan", index, [item.to_dict() for item in items[start:end]])
    store.put("problems", problems)
    origins = {spec.name: planning.resolve_source(spec.name).origin() for spec in config.sources}
    store.put("plan", {"shard_count": len(ranges), "heuristic_ids": [h.id for h in heuristics],
                       "library_hash": library.content_hash, "library_size": len(library), "sources": origins})
    return {"problems": len(problems), "heuristics": len(heuristics), "shards": len(ranges),
            "requests": len(items), "heuristic_requests": sum(i.heuristic_id is not None for i in items),
            "untargeted_requests": sum(i.heuristic_id is None for i in items)}


def open_context(config: BuildConfig, store: Store) -> BuildContext:
    if not store.stage_done("plan"):
        store.mark_done("plan", _run_plan(config, store))
    plan = store.get("plan")
    library, heuristics = planning.load_heuristics(config)
    if library.content_hash != plan["library_hash"] or [h.id for h in heuristics] != plan["heuristic_ids"]:
        raise StoreError(f"{store.out}: the heuristic library changed since this build started "
                         f"(hash {plan['library_hash'][:12]} -> {library.content_hash[:12]}); use a new --out")
    problems = {p["problem_id"]: p for p in store.get("problems")}
    return BuildContext(config, store, problems, {h.id: h for h in heuristics}, library, plan["shard_count"])


def _row(ctx: BuildContext, candidate: dict[str, Any], kind: str) -> dict[str, Any]:
    problem = ctx.problems[candidate["problem_id"]]
    heuristic = ctx.heuristics.get(candidate["heuristic_id"]) if candidate["heuristic_id"] else None
    return {"kind": kind, "key": candidate["key"], "problem_id": problem["problem_id"], "source": problem["source"],
            "problem": problem["problem"], "answer": problem["answer"],
            "heuristic_id": candidate["heuristic_id"], "heuristic_name": heuristic.name if heuristic else None,
            "sample_index": candidate["sample_index"],
            "adherence_score": candidate["adherence"] if heuristic else None, "completion": candidate["text"]}


def run_select(ctx: BuildContext) -> dict[str, Any]:
    candidates = list(joined_candidates(ctx))
    correct, wrong, star = select_candidates(candidates, True), select_candidates(candidates, False), select_star(candidates)
    rows = ([_row(ctx, c, "heuristic") for c in correct.values()] + [_row(ctx, c, "incorrect") for c in wrong.values()]
            + [_row(ctx, c, "star") for c in star.values()])
    ctx.store.put("selected", rows)
    pairs = len(ctx.problems) * len(ctx.heuristics)
    return {"pairs": pairs, "pairs_with_correct": len(correct), "pairs_without_correct": pairs - len(correct),
            "pairs_with_incorrect": len(wrong), "star_problems_with_correct": len(star),
            "star_problems_without_correct": (len(ctx.problems) - len(star)) if ctx.config.generation.star_samples else 0}


def run_decontaminate(ctx: BuildContext) -> dict[str, Any]:
    from midrl_bench.build.decontam import build_index, decontaminate

    spec = ctx.config.decontamination
    index, origins = build_index(spec.benchmarks, spec.ngram_size)
    kept, dropped = decontaminate(ctx.store.get("selected"), index, spec.min_shared_ngrams)
    ctx.store.put("decontaminated", {"kept": kept, "dropped": dropped, "benchmarks": origins,
                                     "benchmark_items": index.items})
    by_kind: dict[str, int] = {}
    for item in dropped:
        by_kind[item["kind"]] = by_kind.get(item["kind"], 0) + 1
    return {"checked": len(kept) + len(dropped), "kept": len(kept), "dropped": len(dropped),
            "dropped_by_kind": dict(sorted(by_kind.items())), "benchmark_items": index.items}


def current_configs(ctx: BuildContext) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    kept = ctx.store.get("decontaminated")["kept"]
    order = [p["problem_id"] for p in ctx.store.get("problems")]
    return assemble_configs(kept, order, len(ctx.heuristics), ctx.config.write, ctx.config.seed)


def run_diversity(ctx: BuildContext) -> dict[str, Any]:
    from midrl_bench.build.diversity_report import diversity_report

    configs, _ = current_configs(ctx)
    texts = {name: [(row["problem_id"], row["completion"]) for row in c["rows"]] for name, c in configs.items()}
    report = diversity_report(texts, ctx.config.diversity.embedder, ctx.config.diversity.ngram_n)
    ctx.store.put("diversity", report)
    return {"configs": len(report["configs"]), "embedder": report["embedder"]}


def run_write(ctx: BuildContext) -> dict[str, Any]:
    from midrl_bench.build.write import remove_stale_configs, write_config
    from midrl_bench.publish.layout import write_repo_files

    configs, skipped = current_configs(ctx)
    remove_stale_configs(ctx.store.out, set(configs))
    written = {name: write_config(ctx.store.out, name, c["rows"], ctx.config.write.rows_per_file)
               for name, c in configs.items()}
    summary = {name: {**c["info"], "rows": len(c["rows"]), "files": written[name][0], "num_bytes": written[name][1],
                      "download_size": sum((ctx.store.out / f).stat().st_size for f in written[name][0])}
               for name, c in configs.items()}
    write_repo_files(ctx, summary, skipped)
    return {"configs": len(configs), "rows": sum(len(c["rows"]) for c in configs.values()), "skipped": skipped}


STAGE_FUNCTIONS = {"generate": run_generate, "verify": run_verify, "adherence": run_adherence, "select": run_select,
                   "decontaminate": run_decontaminate, "diversity": run_diversity, "write": run_write}


def build(config: BuildConfig, out_dir: str | Path, log=print) -> dict[str, Any]:
    """Run (or resume) a build into `out_dir`; returns the per-stage counts."""
    store = Store(out_dir)
    resumed = store.open(config.config_hash(), to_dict(config))
    log(f"{'resuming' if resumed else 'starting'} build {config.name} {config.version} in {store.out}")
    ctx = open_context(config, store)
    for stage in STAGES[1:]:
        if store.stage_done(stage):
            continue
        log(f"stage {stage} ...")
        store.mark_done(stage, STAGE_FUNCTIONS[stage](ctx))
    return {stage: store.stage_counts(stage) for stage in STAGES}
