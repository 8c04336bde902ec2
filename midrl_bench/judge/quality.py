"""A labeller's measured quality on labelled traces, and the composition rate corrected for it.

- `labeller_quality`: "composed" (>= 2 heuristics) as a binary call against the reference labels — accuracy,
  precision, recall (= sensitivity), specificity, Cohen's kappa, the confusion counts — and per-heuristic
  precision/recall/F1 for every heuristic that the reference or the labeller used.
- `corrected_rate`: the Rogan–Gladen estimate of the true composed share, (raw + Sp - 1) / (Se + Sp - 1), clipped
  to [0, 1], with a percentile bootstrap interval that resamples both the validation items (so Se and Sp vary)
  and the judged traces (so the raw rate varies). When Se + Sp <= 1 the labeller is no better than chance and no
  corrected rate exists; the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from midrl_bench.judge.report import cohens_kappa

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
LEVEL = 0.95


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def composed_confusion(reference: Sequence[tuple[str, ...]], predicted: Sequence[tuple[str, ...]]) -> dict[str, int]:
    pairs = [(len(r) >= 2, len(p) >= 2) for r, p in zip(reference, predicted, strict=True)]
    return {"tp": sum(r and p for r, p in pairs), "fp": sum(p and not r for r, p in pairs),
            "fn": sum(r and not p for r, p in pairs), "tn": sum(not r and not p for r, p in pairs)}


def per_heuristic(reference: Sequence[tuple[str, ...]], predicted: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """Precision, recall and F1 per heuristic seen in the reference or the predictions (support = reference count)."""
    seen = sorted({h for ids in (*reference, *predicted) for h in ids})
    table = {}
    for hid in seen:
        tp = sum(hid in r and hid in p for r, p in zip(reference, predicted, strict=True))
        fp = sum(hid not in r and hid in p for r, p in zip(reference, predicted, strict=True))
        fn = sum(hid in r and hid not in p for r, p in zip(reference, predicted, strict=True))
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = _ratio(2 * tp, 2 * tp + fp + fn)
        table[hid] = {"support": tp + fn, "predicted": tp + fp, "precision": precision, "recall": recall, "f1": f1}
    return table


def labeller_quality(reference: Sequence[tuple[str, ...]], predicted: Sequence[tuple[str, ...] | None],
                     split: str = "test", source: str = "packaged") -> dict[str, Any]:
    """Composed precision/recall/kappa and per-heuristic F1 of `predicted` against `reference` (None: unjudged)."""
    kept = [(r, p) for r, p in zip(reference, predicted, strict=True) if p is not None]
    if not kept:
        raise ValueError("labeller_quality: the labeller judged none of the validation traces")
    ref = [r for r, _ in kept]
    pred = [p for _, p in kept]
    counts = composed_confusion(ref, pred)
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    table = per_heuristic(ref, pred)
    f1s = [row["f1"] for row in table.values() if row["support"] > 0 and row["f1"] is not None]
    return {
        "validation": source, "split": split, "n_items": len(reference), "n_judged": len(kept),
        "composed": {"accuracy": (tp + tn) / len(kept), "precision": _ratio(tp, tp + fp),
                     "recall": _ratio(tp, tp + fn), "sensitivity": _ratio(tp, tp + fn),
                     "specificity": _ratio(tn, tn + fp),
                     "kappa": cohens_kappa([len(r) >= 2 for r in ref], [len(p) >= 2 for p in pred]), **counts},
        "exact_match": sum(r == p for r, p in kept) / len(kept),
        "macro_f1_reference_heuristics": sum(f1s) / len(f1s) if f1s else None,
        "per_heuristic": table,
    }


def rogan_gladen(raw: float, sensitivity: float, specificity: float) -> float | None:
    """True-prevalence estimate from an imperfect test; None when Se + Sp <= 1 (no information).

    >>> round(rogan_gladen(0.5, 0.9, 0.8), 4)
    0.4286
    """
    denominator = sensitivity + specificity - 1.0
    if denominator <= 0:
        return None
    return min(1.0, max(0.0, (raw + specificity - 1.0) / denominator))


def corrected_rate(composed: Sequence[bool], counts: dict[str, int], resamples: int = BOOTSTRAP_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """Raw and Rogan–Gladen-corrected composed share with bootstrap intervals (validation items and traces)."""
    import numpy as np

    if not composed:
        raise ValueError("corrected_rate: no judged traces")
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    raw = float(np.mean(composed))
    result: dict[str, Any] = {"raw": raw, "n_traces": len(composed), "level": LEVEL, "resamples": resamples,
                              "method": "Rogan-Gladen; percentile bootstrap over validation items and traces"}
    rng = np.random.default_rng(seed)
    traces = np.asarray(composed, dtype=float)
    raws = rng.binomial(len(traces), raw, size=resamples) / len(traces)  # == resampling traces with replacement
    result["raw_interval"] = _interval(raws)
    if tp + fn == 0 or tn + fp == 0:
        result.update(corrected=None, corrected_interval=None,
                      reason="the validation split has no composed (or no non-composed) reference traces")
        return result
    sensitivity, specificity = tp / (tp + fn), tn / (tn + fp)
    point = rogan_gladen(raw, sensitivity, specificity)
    result.update(sensitivity=sensitivity, specificity=specificity, corrected=point)
    if point is None:
        result.update(corrected_interval=None, reason="sensitivity + specificity <= 1: the labeller is no better "
                                                      "than chance on the validation split")
        return result
    se = rng.binomial(tp + fn, sensitivity, size=resamples) / (tp + fn)  # resampling the composed items
    sp = rng.binomial(tn + fp, specificity, size=resamples) / (tn + fp)  # resampling the other items
    denominator = se + sp - 1.0
    valid = denominator > 0
    corrected = np.clip((raws[valid] + sp[valid] - 1.0) / denominator[valid], 0.0, 1.0)
    result["corrected_interval"] = _interval(corrected)
    result["resamples_undefined"] = int((~valid).sum())  # resamples where Se + Sp <= 1 (left out)
    return result


def _interval(values: Any) -> list[float] | None:
    import numpy as np

    if len(values) == 0:
        return None
    low, high = np.quantile(values, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return [float(low), float(high)]
