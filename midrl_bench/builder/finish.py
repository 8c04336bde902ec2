"""The whole-build stages after the shards: diversity report and writing, both streaming problem by problem.

They read the decontamination shards (every selected row with its benchmark hits; kept rows have none) in shard
order, i.e. problems in source order: once to count what each problem kept (`config_plan`), then once per stage.
Memory holds one shard's rows plus a few numbers per problem and config, whatever the build's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from midrl_bench.builder.assemble import ConfigPlan, problem_counts


def shard_problems(ctx: Any, index: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """(problem_id, kept rows) for each problem of shard `index`, in source order (problems with no rows too)."""
    kept = [row for row in ctx.store.read_shard("decontaminate", index) if not row["hits"]]
    grouped = {pid: list(rows) for pid, rows in groupby(kept, key=lambda row: row["problem_id"])}
    return [(pid, grouped.get(pid, [])) for pid in ctx.shard_problem_ids(index)]


def kept_problems(ctx: Any) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for index in range(ctx.shard_count):
        yield from shard_problems(ctx, index)


def config_plan(ctx: Any) -> ConfigPlan:
    counts = [(pid, problem_counts(rows)) for pid, rows in kept_problems(ctx)]
    return ConfigPlan.from_counts(counts, len(ctx.heuristics), ctx.config.write, ctx.config.seed)


def run_diversity(ctx: Any) -> dict[str, Any]:
    from midrl_bench.builder.diversity_report import streamed_report

    plan = config_plan(ctx)

    def batches() -> Iterator[list[dict[str, list[str]]]]:
        for index in range(ctx.shard_count):
            yield [{name: [row["completion"] for row in chosen] for name, chosen in plan.rows_of(pid, rows).items()}
                   for pid, rows in shard_problems(ctx, index)]

    report = streamed_report(batches(), {name: info["rows"] for name, info in plan.info.items()},
                             ctx.config.diversity.embedder, ctx.config.diversity.ngram_n)
    ctx.store.put("diversity", report)
    return {"configs": len(report["configs"]), "embedder": report["embedder"]}


def _heuristic_table(ctx: Any, stats: dict[str, list[float | int]]) -> list[dict[str, Any]]:
    table = []
    for heuristic in ctx.heuristics.values():
        selected, known, total = stats.get(heuristic.id, [0, 0, 0.0])
        table.append({"id": heuristic.id, "name": heuristic.name, "family": heuristic.family,
                      "source": heuristic.source, "selected": selected,
                      "mean_adherence": round(total / known, 4) if known else None})
    return table


def run_write(ctx: Any) -> dict[str, Any]:
    from midrl_bench.builder.decontam import dropped_record
    from midrl_bench.builder.manifest import write_repo_files
    from midrl_bench.builder.write import ConfigWriter, output_row, remove_stale_configs

    plan, out = config_plan(ctx), ctx.store.out
    remove_stale_configs(out, set(plan.info))
    writers = {name: ConfigWriter(out, name, info["rows"], ctx.config.write.rows_per_file)
               for name, info in plan.info.items()}
    stats: dict[str, list[float | int]] = {}  # heuristic id -> [selected, scored, sum of scores]
    dropped: list[dict[str, Any]] = []
    for index in range(ctx.shard_count):
        dropped += [dropped_record(row) for row in ctx.store.read_shard("decontaminate", index) if row["hits"]]
        for pid, rows in shard_problems(ctx, index):
            _add_stats(stats, rows)
            published = {row["key"] + "|" + row["kind"]: output_row(row) for row in rows}
            for name, chosen in plan.rows_of(pid, rows).items():
                for row in chosen:
                    writers[name].add(published[row["key"] + "|" + row["kind"]])
    written = {name: writer.close() for name, writer in writers.items()}
    summary = {name: {**info, "files": written[name][0], "num_bytes": written[name][1],
                      "download_size": sum((out / f).stat().st_size for f in written[name][0])}
               for name, info in plan.info.items()}
    write_repo_files(ctx, summary, plan.skipped, _heuristic_table(ctx, stats), dropped)
    return {"configs": len(summary), "rows": sum(info["rows"] for info in plan.info.values()),
            "skipped": plan.skipped}


def _add_stats(stats: dict[str, list[float | int]], rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["kind"] != "heuristic":
            continue
        entry = stats.setdefault(row["heuristic_id"], [0, 0, 0.0])
        entry[0] += 1
        if row["adherence_score"] is not None:
            entry[1] += 1
            entry[2] += row["adherence_score"]

