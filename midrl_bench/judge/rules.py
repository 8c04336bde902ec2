"""The `rules` labeller recalibrated on the validation `dev` split.

Score of heuristic h on a trace = cue_weight × (distinct library cues of h in the trace)
                                 + structure_weight × (structural patterns of h it shows, `structure.py`).
h is labelled when its score reaches the threshold. Fitting (`fit_rules`, deterministic, dev split only): every
(cue_weight, structure_weight) on a small grid and every threshold that a dev score takes; the point with the best
dev composed accuracy (then kappa) is kept. One threshold serves all heuristics: per-heuristic thresholds (each
heuristic's best dev F1; a heuristic without dev labels must out-score every dev trace) fit dev better but
generalise worse — `cross_validate` within dev measures both (docs/judge.md), and `per_heuristic=True` keeps the
alternative available.
The fitted calibration is part of `describe()`, so a report names exactly the labeller that produced it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from midrl_bench.heuristics.library import HeuristicLibrary
    from midrl_bench.judge.traces import Trace
    from midrl_bench.judge.validation_set import ValidationItem

CUE_WEIGHTS = (0.0, 0.5, 1.0)
STRUCTURE_WEIGHTS = (1.0, 2.0, 3.0)
PER_HEURISTIC = False  # one threshold for all heuristics: chosen by 5-fold cross-validation within dev (docs/judge.md)


@dataclass(frozen=True)
class RulesCalibration:
    cue_weight: float
    structure_weight: float
    thresholds: dict[str, float]  # heuristic id -> score needed (math.inf: never labelled)
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"cue_weight": self.cue_weight, "structure_weight": self.structure_weight,
                "thresholds": {h: (None if math.isinf(t) else t) for h, t in sorted(self.thresholds.items())},
                "fitted_on": self.fitted_on}


def feature_counts(text: str, library: HeuristicLibrary) -> dict[str, tuple[int, int]]:
    """heuristic id -> (distinct cue hits, structural patterns shown, `structure.pattern_score`)."""
    from midrl_bench.heuristics.cues import cue_hits
    from midrl_bench.judge.structure import pattern_score

    return {h.id: (len(cue_hits(text, h)), pattern_score(text, h.id)) for h in library}


def _scores(features: dict[str, tuple[int, int]], cue_weight: float, structure_weight: float) -> dict[str, float]:
    return {hid: cue_weight * cues + structure_weight * structs for hid, (cues, structs) in features.items()}


def _best_threshold(scores: Sequence[float], positives: Sequence[bool]) -> float:
    if not any(positives):
        above = [s for s in scores if s > 0]
        return (max(above) + 0.5) if above else math.inf  # out-score every dev trace
    best, best_f1 = math.inf, -1.0
    for threshold in sorted({s for s in scores if s > 0}, reverse=True):
        tp = sum(s >= threshold and p for s, p in zip(scores, positives, strict=True))
        fp = sum(s >= threshold and not p for s, p in zip(scores, positives, strict=True))
        fn = sum(s < threshold and p for s, p in zip(scores, positives, strict=True))
        f1 = 2 * tp / (2 * tp + fp + fn)
        if f1 > best_f1:  # scanning from high to low keeps the higher threshold on ties
            best, best_f1 = threshold, f1
    return best


def _predict(scores: dict[str, float], thresholds: dict[str, float]) -> tuple[str, ...]:
    return tuple(sorted(h for h, s in scores.items() if s > 0 and s >= thresholds[h]))


def _fit(features: Sequence[dict[str, tuple[int, int]]], reference: Sequence[tuple[str, ...]], ids: Sequence[str],
         per_heuristic: bool) -> tuple[tuple[float, float], float, float, dict[str, float]]:
    """((dev accuracy, kappa), cue weight, structure weight, thresholds) of the best grid point."""
    from midrl_bench.judge.quality import labeller_quality

    best = None
    for cue_weight in CUE_WEIGHTS:
        for structure_weight in STRUCTURE_WEIGHTS:
            scores = [_scores(f, cue_weight, structure_weight) for f in features]
            if per_heuristic:
                candidates = [{hid: _best_threshold([s[hid] for s in scores], [hid in r for r in reference])
                               for hid in ids}]
            else:
                candidates = [dict.fromkeys(ids, t) for t in sorted({v for s in scores for v in s.values() if v > 0})]
            for thresholds in candidates:
                composed = labeller_quality(reference, [_predict(s, thresholds) for s in scores])["composed"]
                key = (composed["accuracy"], composed["kappa"] if composed["kappa"] is not None else -1.0)
                if best is None or key > best[0]:
                    best = (key, cue_weight, structure_weight, thresholds)
    return best


def fit_rules(items: Sequence[ValidationItem], library: HeuristicLibrary,
              per_heuristic: bool = PER_HEURISTIC) -> RulesCalibration:
    """Weights and thresholds fitted on `items` (the dev split); see the module doc."""
    if not items:
        raise ValueError("fit_rules: no dev traces to fit on")
    features = [feature_counts(item.text, library) for item in items]
    key, cue_weight, structure_weight, thresholds = _fit(features, [i.heuristics for i in items], library.ids,
                                                         per_heuristic)
    return RulesCalibration(cue_weight, structure_weight, thresholds,
                            {"split": "dev", "n_items": len(items), "per_heuristic_thresholds": per_heuristic,
                             "dev_composed_accuracy": key[0], "dev_composed_kappa": key[1],
                             "library_hash": library.content_hash})


def cross_validate(items: Sequence[ValidationItem], library: HeuristicLibrary, per_heuristic: bool,
                   folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Composed accuracy and kappa of the fitting procedure by k-fold cross-validation within `items` (dev)."""
    import random

    from midrl_bench.judge.quality import labeller_quality

    features = [feature_counts(item.text, library) for item in items]
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    predicted: dict[int, tuple[str, ...]] = {}
    for fold in range(folds):
        held = set(order[fold::folds])
        train = [i for i in order if i not in held]
        _, cue_weight, structure_weight, thresholds = _fit([features[i] for i in train],
                                                           [items[i].heuristics for i in train], library.ids,
                                                           per_heuristic)
        for i in held:
            predicted[i] = _predict(_scores(features[i], cue_weight, structure_weight), thresholds)
    composed = labeller_quality([items[i].heuristics for i in order], [predicted[i] for i in order])["composed"]
    return {"folds": folds, "accuracy": composed["accuracy"], "kappa": composed["kappa"]}


class CalibratedRulesLabeller:
    """`rules` with fitted weights and thresholds (see module doc)."""

    name = "rules"

    def __init__(self, library: HeuristicLibrary, calibration: RulesCalibration) -> None:
        self.library, self.calibration = library, calibration

    def describe(self) -> dict[str, Any]:
        return {"labeller": self.name, "mode": "calibrated", "calibration": self.calibration.to_dict(),
                "library_hash": self.library.content_hash}

    def label_texts(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        calibration = self.calibration
        return [_predict(_scores(feature_counts(text, self.library), calibration.cue_weight,
                                 calibration.structure_weight), calibration.thresholds) for text in texts]

    def label(self, traces: Sequence[Trace]) -> list:
        from midrl_bench.judge.labellers import Label

        return [Label(ids) for ids in self.label_texts([t.text for t in traces])]
