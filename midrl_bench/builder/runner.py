"""Running a build: whole (`build`), one part of a split build (`build(..., part=(i, N))`), and `merge`.

`build(config, out_dir)` runs every stage of `stages.STAGES` not yet recorded as done in `OUT/.midrl/state.json`;
a finished stage is never recomputed and the sharded stages resume at their first missing shard. The output
(`data/`, `README.md`, `manifest.json`, `CHANGELOG.md`) is a pure function of the config, the source rows, the
heuristic library and the generations, so a resumed build gives the same bytes as an uninterrupted one.

A build split over machines: `build(config, PART_i, part=(i, N))` runs the sharded stages (plan .. decontaminate)
for part i's contiguous range of shards (whole problems, `plan.part_shards`); `merge([PART_0..PART_N-1], OUT)`
checks that the parts are one config and cover every shard once, takes their shards into OUT, and runs the same
whole-build stages as an unsharded build — so the merged output is byte-identical to the unsharded one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from midrl_bench.builder import plan as planning
from midrl_bench.builder.config import BuildConfig
from midrl_bench.builder.stages import STAGES, BuildContext
from midrl_bench.builder.store import Store, StoreError
from midrl_bench.config import from_dict, to_dict

LAYOUT = "whole-problems/1"  # shards of whole problems, problem-major plan (plan.py); older stores cannot resume
SMALL_RECORDS = ("problems", "plan", "generator", "adherence_scorer", "decontamination_index")


def _plan_meta(config: BuildConfig, store: Store) -> None:
    problems = planning.load_problems(config)
    library, heuristics = planning.load_heuristics(config)
    store.put("problems", problems)
    origins = {spec.name: planning.resolve_source(spec.name).origin() for spec in config.sources}
    store.put("plan", {"layout": LAYOUT, "heuristic_ids": [h.id for h in heuristics],
                       "library_hash": library.content_hash, "library_size": len(library), "sources": origins})


def open_context(config: BuildConfig, store: Store, part: tuple[int, int] | None = None) -> BuildContext:
    if not store.has("plan"):
        _plan_meta(config, store)
    plan = store.get("plan")
    if plan.get("layout") != LAYOUT:
        raise StoreError(f"{store.out}: started by an older builder (shards of another layout); use a new --out")
    library, heuristics = planning.load_heuristics(config)
    if library.content_hash != plan["library_hash"] or [h.id for h in heuristics] != plan["heuristic_ids"]:
        raise StoreError(f"{store.out}: the heuristic library changed since this build started "
                         f"(hash {plan['library_hash'][:12]} -> {library.content_hash[:12]}); use a new --out")
    problems = {p["problem_id"]: p for p in store.get("problems")}
    per_problem = planning.requests_per_problem(config, len(heuristics))
    layout = planning.shard_layout(len(problems), per_problem, config.generation.shard_size)
    shards = planning.part_shards(len(layout), *part) if part else range(len(layout))
    return BuildContext(config, store, problems, {h.id: h for h in heuristics}, library, layout, shards)


def build(config: BuildConfig, out_dir: str | Path, log=print, part: tuple[int, int] | None = None) -> dict[str, Any]:
    """Run (or resume) a build, or part `part` = (i, N) of one, into `out_dir`; returns the per-stage counts."""
    store = Store(out_dir)
    resumed = store.open(config.config_hash(), to_dict(config), list(part) if part else None)
    what = f"part {part[0]}/{part[1]} of build" if part else "build"
    log(f"{'resuming' if resumed else 'starting'} {what} {config.name} {config.version} in {store.out}")
    ctx = open_context(config, store, part)
    if part:
        log(f"part {part[0]}/{part[1]}: shards {ctx.shards.start}..{ctx.shards.stop - 1} of {ctx.shard_count}")
    for stage in STAGES:
        if store.stage_done(stage.name):
            continue
        if part and not stage.sharded:
            break
        log(f"stage {stage.name} ...")
        result = stage.run(ctx)
        if part:
            result = {"part": list(part), "shards": [ctx.shards.start, ctx.shards.stop]}
        elif stage.sharded:
            result = stage.counts(ctx)
        store.mark_done(stage.name, result)
    return {stage.name: store.stage_counts(stage.name) for stage in STAGES}


def _open_part(directory: str | Path) -> tuple[Store, BuildConfig, list[int]]:
    store = Store(directory)
    if not (store.root / "state.json").is_file():
        raise StoreError(f"{directory}: no build state (.midrl/state.json); not a `midrl build --shard` part")
    part = store.part()
    if part is None:
        raise StoreError(f"{directory}: a whole build, not a `--shard i/N` part")
    unfinished = [s.name for s in STAGES if s.sharded and not store.stage_done(s.name)]
    if unfinished:
        raise StoreError(f"{directory}: part {part[0]}/{part[1]} is unfinished (stages {unfinished}); "
                         f"re-run its `midrl build ... --shard {part[0]}/{part[1]}` first")
    config = from_dict(BuildConfig, store.config_data(), where=f"{store.root / 'config.json'}")
    if config.config_hash() != store.state()["config_hash"]:
        raise StoreError(f"{directory}: config.json does not match its state's config hash")
    return store, config, part


def merge(part_dirs: list[str | Path], out_dir: str | Path, log=print) -> dict[str, Any]:
    """Merge finished parts into `out_dir` and finish the build there (byte-identical to the unsharded build)."""
    parts = [_open_part(directory) for directory in part_dirs]
    config, count = parts[0][1], parts[0][2][1]
    for store, other, (index, total) in parts:
        if other.config_hash() != config.config_hash():
            raise StoreError(f"{store.out}: a part of another config (hash {other.config_hash()[:12]}, "
                             f"first part {config.config_hash()[:12]})")
        if total != count:
            raise StoreError(f"{store.out}: part {index}/{total}, but {part_dirs[0]} is a part of {count}")
    indices = sorted(part[0] for _, _, part in parts)
    if indices != list(range(count)):
        missing = sorted(set(range(count)) - set(indices))
        repeated = sorted({i for i in indices if indices.count(i) > 1})
        raise StoreError(f"merge: need each of parts 0..{count - 1} once (missing {missing}, repeated {repeated})")
    target = Store(out_dir)
    target.open(config.config_hash(), to_dict(config), None)
    for name in SMALL_RECORDS:  # from the first part that has it (a part with no shards may lack some)
        holder = next((store for store, _, _ in parts if store.has(name)), None)
        if holder is not None and not target.has(name):
            target.put(name, holder.get(name))
    ctx = open_context(config, target)
    for store, _, part in parts:
        for stage in STAGES:
            if stage.sharded:
                for index in planning.part_shards(ctx.shard_count, *part):
                    target.adopt_shard(store, stage.name, index)
    log(f"merged {count} parts ({ctx.shard_count} shards) into {target.out}")
    return build(config, out_dir, log=log)
