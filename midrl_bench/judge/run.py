"""`judge_samples`: label lm-eval traces, score them, and write the composition report.

Output directory:
- `labels.jsonl`: one row per trace (task, doc_id, repeat, correct, and each labeller's ids / attempts / error);
- `report.json`: per labeller the composition statistics, agreement (Cohen's kappa) when two labellers ran, the
  inputs' hashes and provenance;
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
from midrl_bench.judge.report import agreement, composition_stats, plot_composition
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
            done[row["key"]] = Label(None if row["ids"] is None else tuple(row["ids"]), row["attempts"], row["error"])
    missing = [t for t in traces if t.key not in done]
    cache.parent.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(missing), CHUNK_TRACES):
        chunk = missing[start : start + CHUNK_TRACES]
        labels = labeller.label(chunk)
        with cache.open("a", encoding="utf-8") as handle:
            for trace, label in zip(chunk, labels, strict=True):
                done[trace.key] = label
                row = {"key": trace.key, "ids": None if label.ids is None else list(label.ids),
                       "attempts": label.attempts, "error": label.error}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return [done[t.key] for t in traces]


def _label_rows(traces, verdicts, labels_by_name: dict[str, list[Label]]):
    for index, (trace, verdict) in enumerate(zip(traces, verdicts, strict=True)):
        row: dict[str, Any] = {"task": trace.task, "doc_id": trace.doc_id, "repeat": trace.repeat, "correct": verdict}
        for name, labels in labels_by_name.items():
            label = labels[index]
            row[name] = {"ids": None if label.ids is None else list(label.ids), "attempts": label.attempts,
                         "error": label.error}
        yield row


def judge_samples(sample_paths: Sequence[str | Path], labellers: Sequence, out_dir: str | Path,
                  heuristic_ids: Sequence[str], max_docs_per_task: int | None = None) -> dict[str, Any]:
    """Label, score and report; returns the report written to `out_dir/report.json`."""
    if not labellers:
        raise ValueError("judge_samples needs at least one labeller")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    traces = load_traces(sample_paths, max_docs_per_task=max_docs_per_task)
    if not traces:
        raise ValueError(f"no traces in {[str(p) for p in sample_paths]}")
    verdicts = trace_verdicts(traces)
    labels = {labeller.name: label_with_resume(labeller, traces, out_dir) for labeller in labellers}
    stats = {name: composition_stats(found, verdicts, heuristic_ids) for name, found in labels.items()}
    report: dict[str, Any] = {
        "n_traces": len(traces),
        "tasks": sorted({t.task for t in traces}),
        "labellers": {labeller.name: labeller.describe() for labeller in labellers},
        "composition": stats,
        "agreement": None,
        "inputs": {str(p): sha256_file(p) for p in sample_paths},
        "provenance": provenance_record(command="midrl judge", max_docs_per_task=max_docs_per_task),
    }
    if len(labels) == 2:
        (first, first_labels), (second, second_labels) = labels.items()
        report["agreement"] = {"first": first, "second": second,
                               **agreement(first_labels, second_labels, heuristic_ids)}
    write_jsonl(out_dir / "labels.jsonl", _label_rows(traces, verdicts, labels))
    plot_composition(stats, out_dir / "composition.png")
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def rules_composition(traces: Sequence[Trace], verdicts: Sequence[bool | None]) -> dict[str, Any]:
    """Composition statistics of traces with the offline `rules` labeller and the packaged library (leaderboard)."""
    from midrl_bench.heuristics import load_library
    from midrl_bench.judge.labellers import RulesLabeller

    library = load_library()
    labeller = RulesLabeller(library)
    stats = composition_stats(labeller.label(traces), verdicts, library.ids)
    return {"labeller": labeller.describe(), **stats}
