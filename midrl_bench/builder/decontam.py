"""N-gram decontamination against the evaluation benchmarks.

Text is lower-cased, reduced to runs of letters and digits (so LaTeX markup and punctuation do not hide a
copy), and cut into word n-grams. A row (its problem and its solution together) is contaminated when it shares at
least `min_shared_ngrams` distinct n-grams with one benchmark item; it is dropped and listed with the benchmark
item it hit. Texts shorter than n words contribute their whole word sequence as a single n-gram, so a short
benchmark problem copied verbatim is still caught.

>>> index = NgramIndex(ngram_size=4)
>>> index.add("bench", "b-1", "Natalia sold clips to 48 of her friends in April")
>>> index.hits("She sold clips to 48 of her friends.", min_shared=1)[0]["benchmark_id"]
'b-1'

The stage runs shard by shard: selection shard i -> decontamination shard i (every selected row with its `hits`,
empty when kept); the benchmark index is built once per process and described in the store for the manifest.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")
BENCHMARK_TEXT_FIELDS = ("problem", "question", "narrative", "prompt")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    tokens = words(text)
    if not tokens:
        return set()
    if len(tokens) < n:
        return {tuple(tokens)}
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


class NgramIndex:
    """n-gram -> the benchmark items containing it."""

    def __init__(self, ngram_size: int) -> None:
        self.ngram_size = ngram_size
        self.index: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self.items = 0

    def add(self, benchmark: str, item_id: str, text: str) -> None:
        self.items += 1
        for gram in ngrams(text, self.ngram_size):
            self.index.setdefault(gram, []).append((benchmark, item_id))

    def hits(self, text: str, min_shared: int) -> list[dict[str, Any]]:
        """Benchmark items sharing >= min_shared distinct n-grams with `text`, most shared first."""
        shared: Counter[tuple[str, str]] = Counter()
        for gram in ngrams(text, self.ngram_size):
            for owner in set(self.index.get(gram, ())):
                shared[owner] += 1
        found = [{"benchmark": b, "benchmark_id": i, "shared_ngrams": count}
                 for (b, i), count in shared.items() if count >= min_shared]
        return sorted(found, key=lambda hit: (-hit["shared_ngrams"], hit["benchmark"], hit["benchmark_id"]))


def benchmark_text(row: dict[str, Any]) -> str:
    return "\n".join(str(row[f]) for f in BENCHMARK_TEXT_FIELDS if row.get(f))


def build_index(benchmarks: list[str], ngram_size: int) -> tuple[NgramIndex, dict[str, Any]]:
    """Index every benchmark's items; returns (index, {benchmark: origin} for the manifest)."""
    from midrl_bench.builder.plan import resolve_source

    index = NgramIndex(ngram_size)
    origins: dict[str, Any] = {}
    for name in benchmarks:
        source = resolve_source(name)
        for position, row in enumerate(source.load_rows()):
            index.add(name, str(row.get("id", position)), benchmark_text(row))
        origins[name] = source.origin()
    return index, origins


def decontaminate(rows: list[dict[str, Any]], index: NgramIndex, min_shared: int
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split rows (with `problem`, `completion`) into (kept, dropped); a dropped row lists its hits."""
    kept, dropped = [], []
    problem_hits: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["problem_id"] not in problem_hits:
            problem_hits[row["problem_id"]] = index.hits(row["problem"], min_shared)
        hits = problem_hits[row["problem_id"]] or index.hits(f"{row['problem']}\n{row['completion']}", min_shared)
        if hits:
            dropped.append({"kind": row["kind"], "problem_id": row["problem_id"], "heuristic_id": row["heuristic_id"],
                            "sample_index": row["sample_index"], "hits": hits[:5]})
        else:
            kept.append(row)
    return kept, dropped


def run_decontaminate(ctx: Any) -> None:
    spec = ctx.config.decontamination

    def open_index() -> NgramIndex:
        index, origins = build_index(spec.benchmarks, spec.ngram_size)
        if not ctx.store.has("decontamination_index"):
            ctx.store.put("decontamination_index", {"benchmarks": origins, "benchmark_items": index.items})
        return index

    def process(index: NgramIndex, shard: int) -> list[dict[str, Any]]:
        rows = ctx.store.read_shard("select", shard)
        kept, dropped = decontaminate(rows, index, spec.min_shared_ngrams)
        hits = {(d["problem_id"], d["heuristic_id"], d["sample_index"], d["kind"]): d["hits"] for d in dropped}
        return [{**row, "hits": hits.get((row["problem_id"], row["heuristic_id"], row["sample_index"], row["kind"]), [])}
                for row in rows]

    ctx.run_sharded("decontaminate", open_index, process)


def dropped_record(row: dict[str, Any]) -> dict[str, Any]:
    return {"kind": row["kind"], "problem_id": row["problem_id"], "heuristic_id": row["heuristic_id"],
            "sample_index": row["sample_index"], "hits": row["hits"]}


def decontaminate_counts(ctx: Any) -> dict[str, Any]:
    kept = 0
    by_kind: Counter[str] = Counter()
    for row in ctx.store.read_stage("decontaminate", ctx.shard_count):
        if row["hits"]:
            by_kind[row["kind"]] += 1
        else:
            kept += 1
    dropped = sum(by_kind.values())
    return {"checked": kept + dropped, "kept": kept, "dropped": dropped, "dropped_by_kind": dict(sorted(by_kind.items())),
            "benchmark_items": ctx.store.get("decontamination_index")["benchmark_items"]}
