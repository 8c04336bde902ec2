"""Per-problem outcomes of one evaluation of the demo: the pack's per-document pass@k and the judge's per-trace labels.

An evaluation directory holds lm-eval's `samples_midrl_toy_<date>.jsonl` (one row per document with the pack's
per-document metrics `pass@k`, written by lm-eval's `--log_samples`) and, under `judge/`, the rules labeller's
`labels.jsonl` (one row per sampled trace: doc_id, repeat, correct, strategy ids). Both are read here and joined by
document, together with the problem's sub-type (its family, from the toy source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ProblemOutcome:
    id: str
    family: str
    pass_at_k: dict[int, float] = field(default_factory=dict)
    traces: list[tuple[bool | None, tuple[str, ...] | None]] = field(default_factory=list)  # (correct, strategies)

    @property
    def judged(self) -> list[tuple[bool | None, tuple[str, ...]]]:
        return [(c, ids) for c, ids in self.traces if ids is not None]

    @property
    def mixed_share(self) -> float | None:
        judged = self.judged
        return sum(len(ids) >= 2 for _, ids in judged) / len(judged) if judged else None


def read_outcomes(eval_dir: Path, families: dict[str, str]) -> dict[str, ProblemOutcome]:
    """{problem id: outcome} of one evaluation; `families` maps problem id -> sub-type."""
    from midrl_bench.jsonl import read_jsonl
    from midrl_bench.tasks.lm_eval_files import parse_metric_key, samples_files

    files = [p for p in samples_files(eval_dir) if "judge" not in p.parts]
    if not files:
        raise ValueError(f"{eval_dir}: no lm-eval samples file (was it run with --log_samples?)")
    by_doc: dict[int, ProblemOutcome] = {}
    for row in read_jsonl(files[-1]):
        problem_id = row["doc"]["id"]
        outcome = ProblemOutcome(problem_id, families.get(problem_id, "unknown"))
        for key, value in row.items():
            parsed = parse_metric_key(f"{key},x")
            if parsed and parsed.family == "pass" and parsed.part == "value" and isinstance(value, (int, float)):
                outcome.pass_at_k[parsed.k] = float(value)
        by_doc[row["doc_id"]] = outcome
    labels = Path(eval_dir) / "judge" / "labels.jsonl"
    if labels.is_file():
        for row in read_jsonl(labels):
            if row.get("doc_id") in by_doc:
                ids = (row.get("rules") or {}).get("ids")
                by_doc[row["doc_id"]].traces.append((row.get("correct"), None if ids is None else tuple(ids)))
    return {outcome.id: outcome for outcome in by_doc.values()}


def eval_families() -> dict[str, str]:
    """Problem id -> family of the active world's eval split (the `midrl_toy` documents)."""
    from midrl_bench.sources.toy import source

    return {row["id"]: row["family"] for row in source("eval").load_rows()}
