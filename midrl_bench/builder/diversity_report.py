"""Per-problem and per-config Vendi scores of a build (the paper reports Vendi per problem, averaged).

For each config, every problem's solutions form one group; its Vendi score is the effective number of distinct
solutions (1 for a single solution, up to the group size). A config's row holds the mean and standard error
over its problems, on sentence embeddings (`embedder`) and on the model-free n-gram kernel. Each distinct text
is embedded once for all configs. Scores are rounded to 6 decimals so reports are byte-stable.

The builder streams (`streamed_report`): one batch of problems (a shard) at a time, each problem with its group
per config, so memory holds one shard's texts and one float per problem and config.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from midrl_bench.metrics import mean_and_stderr

DIGITS = 6


def _groups(rows: list[tuple[str, str]]) -> list[list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for problem_id, text in rows:
        grouped[problem_id].append(text)
    return list(grouped.values())


def _summary(values: list[float]) -> dict[str, float | int]:
    mean, stderr = mean_and_stderr(values) if values else (0.0, 0.0)
    return {"mean": round(float(mean), DIGITS), "stderr": round(float(stderr), DIGITS), "problems": len(values)}


def _embedding_scores(groups_by_config: dict[str, list[list[str]]], embedder: str) -> dict[str, list[float]]:
    from midrl_bench.diversity import embed_texts, vendi_score_from_embeddings

    texts = sorted({text for groups in groups_by_config.values() for group in groups for text in group})
    if not texts:
        return {name: [] for name in groups_by_config}
    vectors = embed_texts(texts, model=embedder)
    position = {text: i for i, text in enumerate(texts)}
    return {name: [float(vendi_score_from_embeddings(vectors[[position[t] for t in group]])) for group in groups]
            for name, groups in groups_by_config.items()}


def diversity_report(configs: dict[str, list[tuple[str, str]]], embedder: str, ngram_n: int) -> dict[str, Any]:
    """`configs`: name -> [(problem_id, solution text)]; returns the report stored in the manifest."""
    from midrl_bench.diversity import ngram_vendi

    groups_by_config = {name: _groups(rows) for name, rows in configs.items()}
    report: dict[str, Any] = {"embedder": embedder, "ngram_n": ngram_n, "configs": {}}
    ngram = {name: [float(ngram_vendi(group, n=ngram_n)) for group in groups]
             for name, groups in groups_by_config.items()}
    embedded = _embedding_scores(groups_by_config, embedder) if embedder != "ngram" else None
    for name in configs:
        entry = {"rows": len(configs[name]), "ngram_vendi": _summary(ngram[name]),
                 "embedding_vendi": _summary(embedded[name]) if embedded is not None else None}
        report["configs"][name] = entry
    return report


def _batch_embeddings(batch: list[dict[str, list[str]]], embedder: str) -> tuple[Any, dict[str, int]]:
    from midrl_bench.diversity import embed_texts

    texts = sorted({text for groups in batch for group in groups.values() for text in group})
    if not texts:
        return None, {}
    return embed_texts(texts, model=embedder), {text: i for i, text in enumerate(texts)}


def streamed_report(batches: Iterable[list[dict[str, list[str]]]], config_rows: dict[str, int], embedder: str,
                    ngram_n: int) -> dict[str, Any]:
    """The report from batches of problems, each problem given as {config: its solution texts in that config}.

    `config_rows`: config -> row count, in report order. Problems must come in the configs' row order.
    """
    from midrl_bench.diversity import ngram_vendi, vendi_score_from_embeddings

    ngram: dict[str, list[float]] = {name: [] for name in config_rows}
    embedded: dict[str, list[float]] | None = {name: [] for name in config_rows} if embedder != "ngram" else None
    for batch in batches:
        vectors, position = _batch_embeddings(batch, embedder) if embedded is not None else (None, {})
        for groups in batch:
            for name, group in groups.items():
                ngram[name].append(float(ngram_vendi(group, n=ngram_n)))
                if embedded is not None:
                    embedded[name].append(float(vendi_score_from_embeddings(vectors[[position[t] for t in group]])))
    report: dict[str, Any] = {"embedder": embedder, "ngram_n": ngram_n, "configs": {}}
    for name, rows in config_rows.items():
        report["configs"][name] = {"rows": rows, "ngram_vendi": _summary(ngram[name]),
                                   "embedding_vendi": _summary(embedded[name]) if embedded is not None else None}
    return report


def format_table(report: dict[str, Any]) -> str:
    """A fixed-width table: config, rows, problems, embedding Vendi (mean ± se), n-gram Vendi (mean ± se)."""
    header = f"{'config':<24} {'rows':>8} {'problems':>9} {'vendi(' + report['embedder'] + ')':>22} " \
             f"{'vendi(' + str(report['ngram_n']) + '-gram)':>22}"
    lines = [header, "-" * len(header)]
    for name, entry in report["configs"].items():
        emb = entry.get("embedding_vendi")
        emb_text = f"{emb['mean']:.3f} ± {emb['stderr']:.3f}" if emb else "-"
        ngram = entry["ngram_vendi"]
        ngram_text = f"{ngram['mean']:.3f} ± {ngram['stderr']:.3f}"
        lines.append(f"{name:<24} {entry['rows']:>8} {ngram['problems']:>9} {emb_text:>22} {ngram_text:>22}")
    return "\n".join(lines)
