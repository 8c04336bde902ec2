"""Composition statistics of labelled traces, agreement between labellers, and the bar plot.

All shares are over the traces a labeller could judge; traces it could not judge are counted (`n_unjudged`).
Correctness splits count a checker verdict of None as not correct and report how many there were.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from midrl_bench.judge.labellers import Label
from midrl_bench.metrics import mean_and_stderr

SPLITS = ("composed", "single", "none")  # >= 2 heuristics, exactly 1, none


def _split_of(ids: tuple[str, ...]) -> str:
    return "composed" if len(ids) >= 2 else "single" if len(ids) == 1 else "none"


def _rate(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "stderr": None}
    mean, stderr = mean_and_stderr(values)
    return {"mean": mean, "stderr": stderr}


def correctness_split(labels: Sequence[Label], verdicts: Sequence[bool | None]) -> dict[str, dict[str, Any]]:
    """Accuracy of composed / single / no-heuristic traces (mean ± standard error), with counts."""
    split: dict[str, dict[str, Any]] = {}
    for name in SPLITS:
        chosen = [verdict for label, verdict in zip(labels, verdicts, strict=True)
                  if label.ids is not None and _split_of(label.ids) == name]
        split[name] = {"n": len(chosen), "n_correct": sum(v is True for v in chosen),
                       "n_verdict_none": sum(v is None for v in chosen),
                       "accuracy": _rate([1.0 if v is True else 0.0 for v in chosen])}
    return split


def composition_stats(labels: Sequence[Label], verdicts: Sequence[bool | None],
                      heuristic_ids: Sequence[str]) -> dict[str, Any]:
    """Share of traces combining >= 2 heuristics, per-heuristic frequencies, and the correctness split."""
    if len(labels) != len(verdicts):
        raise ValueError(f"{len(labels)} labels but {len(verdicts)} verdicts")
    judged = [label.ids for label in labels if label.ids is not None]
    counts = {hid: sum(hid in ids for ids in judged) for hid in heuristic_ids}
    per_trace: dict[str, int] = {}
    for ids in judged:
        bucket = str(len(ids)) if len(ids) < 3 else "3+"
        per_trace[bucket] = per_trace.get(bucket, 0) + 1
    return {
        "n_traces": len(labels),
        "n_judged": len(judged),
        "n_unjudged": len(labels) - len(judged),
        "composed_share": _rate([1.0 if len(ids) >= 2 else 0.0 for ids in judged]),
        "mean_heuristics_per_trace": _rate([float(len(ids)) for ids in judged]),
        "heuristics_per_trace": dict(sorted(per_trace.items())),
        "frequencies": {hid: (count / len(judged) if judged else None) for hid, count in counts.items()},
        "counts": counts,
        "correctness": correctness_split(labels, verdicts),
    }


def cohens_kappa(first: Sequence[bool], second: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary raters; None when chance agreement is 1 (both raters constant and equal).

    >>> cohens_kappa([True, False, True, False], [True, False, True, False])
    1.0
    >>> cohens_kappa([True, True, False, False], [True, False, True, False])
    0.0
    """
    if len(first) != len(second) or not first:
        raise ValueError("kappa needs two equally long, non-empty rating lists")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p_first, p_second = sum(first) / n, sum(second) / n
    expected = p_first * p_second + (1 - p_first) * (1 - p_second)
    if expected == 1.0:
        return None
    return (observed - expected) / (1 - expected)


def agreement(first: Sequence[Label], second: Sequence[Label], heuristic_ids: Sequence[str]) -> dict[str, Any]:
    """Per-heuristic Cohen's kappa between two labellers over the traces both could judge."""
    both = [(a.ids, b.ids) for a, b in zip(first, second, strict=True) if a.ids is not None and b.ids is not None]
    per_heuristic = {}
    for hid in heuristic_ids:
        a = [hid in ids_a for ids_a, _ in both]
        b = [hid in ids_b for _, ids_b in both]
        per_heuristic[hid] = {"kappa": cohens_kappa(a, b) if both else None,
                              "first_rate": sum(a) / len(both) if both else None,
                              "second_rate": sum(b) / len(both) if both else None}
    composed = cohens_kappa([len(x) >= 2 for x, _ in both], [len(y) >= 2 for _, y in both]) if both else None
    defined = [v["kappa"] for v in per_heuristic.values() if v["kappa"] is not None]
    return {"n_both_judged": len(both), "composed_kappa": composed,
            "mean_kappa": sum(defined) / len(defined) if defined else None, "per_heuristic": per_heuristic}


def disagreement_rows(traces: Sequence[Any], first: str, first_labels: Sequence[Label], second: str,
                      second_labels: Sequence[Label]) -> list[dict[str, Any]]:
    """One reviewable row per trace on which two labellers differ: both label sets, the differences, the text."""
    rows = []
    for trace, a, b in zip(traces, first_labels, second_labels, strict=True):
        if a.ids == b.ids:
            continue
        a_ids, b_ids = set(a.ids or ()), set(b.ids or ())
        rows.append({"key": trace.key, "labellers": [first, second],
                     first: None if a.ids is None else list(a.ids), second: None if b.ids is None else list(b.ids),
                     f"only_{first}": sorted(a_ids - b_ids), f"only_{second}": sorted(b_ids - a_ids),
                     "composed_differs": (len(a_ids) >= 2) != (len(b_ids) >= 2) or (a.ids is None) != (b.ids is None),
                     "text": trace.text})
    return rows


def plot_composition(stats_by_labeller: dict[str, dict[str, Any]], path: str | Path, top_n: int = 25) -> Path:
    """Two panels: heuristics per trace (0, 1, 2, 3+) and the most frequent heuristics, one bar colour per labeller."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labellers = list(stats_by_labeller)
    width = 0.8 / max(1, len(labellers))
    totals: dict[str, float] = {}
    for stats in stats_by_labeller.values():
        for hid, freq in stats["frequencies"].items():
            totals[hid] = totals.get(hid, 0.0) + (freq or 0.0)
    top = [hid for hid, total in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n] if total > 0]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1, 3]})
    buckets = ["0", "1", "2", "3+"]
    for offset, name in enumerate(labellers):
        stats = stats_by_labeller[name]
        judged = max(1, stats["n_judged"])
        left.bar([i + offset * width for i in range(4)],
                 [stats["heuristics_per_trace"].get(b, 0) / judged for b in buckets], width, label=name)
        right.bar([i + offset * width for i in range(len(top))],
                  [stats["frequencies"].get(hid) or 0.0 for hid in top], width, label=name)
    left.set_xticks([i + width * (len(labellers) - 1) / 2 for i in range(4)], buckets)
    left.set_xlabel("heuristics per trace")
    left.set_ylabel("share of judged traces")
    right.set_xticks([i + width * (len(labellers) - 1) / 2 for i in range(len(top))], top, rotation=60, ha="right",
                     fontsize=7)
    right.set_ylabel("share of traces using it")
    shares = ", ".join(f"{name}: {_pct(stats_by_labeller[name]['composed_share']['mean'])}" for name in labellers)
    figure.suptitle(f"Traces combining >= 2 heuristics — {shares}")
    right.legend()
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
