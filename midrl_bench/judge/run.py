"""`judge_samples`: label lm-eval traces, score them, and write the composition report.

Output directory:
- `labels.jsonl`: one row per trace (task, doc_id, repeat, correct, and each labeller's ids / attempts / error);
- `report.json`: the library (name, content hash) and validation set used; per labeller its description, the
  composition statistics, its measured quality on the validation test rows (`measure.py`) and the composed share
  raw and corrected for that quality (`quality.corrected_rate`); agreement (per-heuristic Cohen's kappa) for every
  pair of labellers; the inputs' hashes and provenance;
- `disagreements.jsonl` (two or more labellers): every trace on which a pair of labellers differ, with the text;
- `composition.png`: the bar plot.
Labels are appended to `OUT/.midrl/labels-<labeller>-<fingerprint>.jsonl` chunk by chunk, so an interrupted LLM
run resumes where it stopped (the fingerprint changes with the judge model, rubric, settings or library).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from midrl_bench.jsonl import read_jsonl, write_jsonl
from midrl_bench.judge.labellers import Label
from midrl_bench.judge.report import agreement, composition_stats, disagreement_rows, plot_composition
from midrl_bench.judge.traces import Trace, load_traces, trace_verdicts
from midrl_bench.provenance import provenance_record, sha256_file, sha256_text

CHUNK_TRACES = 64  # labels are saved after every chunk


def _cache_path(out_dir: Path, labeller) -> Path:
    fingerprint = sha256_text(json.dumps(labeller.describe(), sort_keys=True, default=str))[:12]
    return out_dir / ".midrl" / f"labels-{labeller.name}-{fingerprint}.jsonl"


def label_with_resume(labeller, traces: Sequence[Trace], out_dir: Path) -> list[Label]:
    """Labels of every trace, reusing those a previous run with the same labeller saved."""
    cache = _cache_path(out_dir, labeller)
    done: dict[str, Label] = {}
    if cache.is_file():
        for row in read_jsonl(cache):
            done[row["key"]] = Label(None if row["ids"] is None else tuple(row["ids"]), row["attempts"], row["error"],
                                     row.get("evidence"))
    missing = [t for t in traces if t.key not in done]
    cache.parent.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(missing), CHUNK_TRACES):
        chunk = missing[start : start + CHUNK_TRACES]
        labels = labeller.label(chunk)
        with cache.open("a", encoding="utf-8") as handle:
            for trace, label in zip(chunk, labels, strict=True):
                done[trace.key] = label
                row = {"key": trace.key, "ids": None if label.ids is None else list(label.ids),
                       "attempts": label.attempts, "error": label.error, "evidence": label.evidence}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return [done[t.key] for t in traces]


def _label_rows(traces, verdicts, labels_by_name: dict[str, list[Label]]):
    for index, (trace, verdict) in enumerate(zip(traces, verdicts, strict=True)):
        row: dict[str, Any] = {"task": trace.task, "doc_id": trace.doc_id, "repeat": trace.repeat, "correct": verdict}
        for name, labels in labels_by_name.items():
            label = labels[index]
            row[name] = {"ids": None if label.ids is None else list(label.ids), "attempts": label.attempts,
                         "error": label.error}
            if label.evidence:
                row[name]["evidence"] = label.evidence
        yield row


def labeller_figures(labeller, labels: Sequence[Label], verdicts, heuristic_ids, validation, out_dir: Path):
    """Composition statistics, measured quality and the raw + corrected composed share of one labeller."""
    from midrl_bench.judge.measure import measure
    from midrl_bench.judge.quality import corrected_rate

    stats = composition_stats(labels, verdicts, heuristic_ids)
    quality = (measure(labeller, validation, out_dir) if validation is not None
               else {"available": False, "reason": "no validation set given"})
    composed = [len(label.ids) >= 2 for label in labels if label.ids is not None]
    if not composed:
        rate: dict[str, Any] = {"raw": None, "corrected": None, "reason": "no judged traces"}
    elif quality["available"]:
        rate = corrected_rate(composed, {k: quality["composed"][k] for k in ("tp", "fp", "fn", "tn")})
    else:
        rate = {**corrected_rate(composed, {"tp": 0, "fp": 0, "fn": 0, "tn": 0}), "reason": quality["reason"]}
    return {**stats, "quality": quality, "composed_rate": rate}


def _pairwise(labels: dict[str, list[Label]], traces, heuristic_ids, out_dir: Path) -> list[dict[str, Any]] | None:
    names = list(labels)
    if len(names) < 2:
        return None
    pairs, rows = [], []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            pairs.append({"first": first, "second": second,
                          **agreement(labels[first], labels[second], heuristic_ids)})
            rows.extend(disagreement_rows(traces, first, labels[first], second, labels[second]))
    write_jsonl(out_dir / "disagreements.jsonl", rows)
    return pairs


def judge_samples(sample_paths: Sequence[str | Path], labellers: Sequence, out_dir: str | Path,
                  heuristic_ids: Sequence[str], max_docs_per_task: int | None = None, validation=None,
                  library: dict[str, Any] | None = None) -> dict[str, Any]:
    """Label, score and report; returns the report written to `out_dir/report.json`.

    `validation` (`measure.Validation`): where each labeller's quality is measured; `library`: the record of the
    library used (`libraries.library_record`)."""
    if not labellers:
        raise ValueError("judge_samples needs at least one labeller")
    out_dir = Path(out_dir)
    traces = load_traces(sample_paths, max_docs_per_task=max_docs_per_task)
    if not traces:
        raise ValueError(f"no traces in {[str(p) for p in sample_paths]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    verdicts = trace_verdicts(traces)
    labels = {labeller.name: label_with_resume(labeller, traces, out_dir) for labeller in labellers}
    stats = {labeller.name: labeller_figures(labeller, labels[labeller.name], verdicts, heuristic_ids, validation,
                                             out_dir) for labeller in labellers}
    report: dict[str, Any] = {
        "n_traces": len(traces),
        "tasks": sorted({t.task for t in traces}),
        "library": library,
        "validation": None if validation is None else validation.describe(),
        "labellers": {labeller.name: labeller.describe() for labeller in labellers},
        "composition": stats,
        "agreement": _pairwise(labels, traces, heuristic_ids, out_dir),
        "inputs": {str(p): sha256_file(p) for p in sample_paths},
        "provenance": provenance_record(command="midrl judge", max_docs_per_task=max_docs_per_task),
    }
    write_jsonl(out_dir / "labels.jsonl", _label_rows(traces, verdicts, labels))
    plot_composition(stats, out_dir / "composition.png")
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def rules_composition(traces: Sequence[Trace], verdicts: Sequence[bool | None]) -> dict[str, Any]:
    """Composition of one task's traces as `midrl judge --labeller rules` computes it with the library of that task
    (`libraries.py`), with the labeller's measured quality and the corrected rate (the leaderboard's figure)."""
    import tempfile

    from midrl_bench.heuristics import load_library
    from midrl_bench.judge.libraries import library_record, resolve_library
    from midrl_bench.judge.measure import LabellerOptions, load_validation, make_labeller

    name, directory = resolve_library(None, {t.task for t in traces})
    library = load_library(directory)
    validation = load_validation(library)
    labeller = make_labeller("rules", library, validation, LabellerOptions())
    with tempfile.TemporaryDirectory(prefix="midrl-judge-") as scratch:
        figures = labeller_figures(labeller, labeller.label(traces), verdicts, library.ids, validation, Path(scratch))
    figures["quality"].pop("per_item", None)  # the leaderboard keeps the summary, not the validation rows
    return {"labeller": labeller.describe(), "library": library_record(name, library), **figures}
