"""`toy_correctness`: the paper's correctness reward, plus a log of which strategies the rollouts used.

The score is exactly `math_correctness` (the project's math checker). As a side record, every reward call (one per
rollout batch: one per GRPO step in the demo's recipes, whose micro batch holds the whole batch) appends one JSON
line to `options.log`: the call number, how many rollouts, their accuracy, the share using each strategy of the
library at `options.strategies_dir` (the cue detector; a trace may use several) and the share of mixed traces
(two or more strategies). `midrl demo` plots these shares by step per arm (`toyworld.plots.plot_strategy_shares`).
Any backend that calls the reward in-process or in workers can log (lines are appended, one write per call).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from midrl_bench.rewards.base import ScoredBatch

NAME = "toy_correctness"


@dataclass(frozen=True)
class Options:
    log: str  # JSONL file the strategy shares are appended to
    strategies_dir: str | None = None  # the strategy library (default: the toy world's packaged one)


@dataclass
class ToyCorrectness:
    options: Options
    name: str = NAME
    _calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def score(self, responses: Sequence[str], answers: Sequence[Any]) -> ScoredBatch:
        from midrl_bench.rewards.math_correctness import MathCorrectness

        batch = MathCorrectness().score(responses, answers)
        self._log(responses, batch)
        return batch

    def _log(self, responses: Sequence[str], batch: ScoredBatch) -> None:
        from midrl_bench.heuristics import detect_heuristics, load_library
        from midrl_bench.toyworld.config import STRATEGIES_DIR

        library = load_library(self.options.strategies_dir or STRATEGIES_DIR)
        found = [detect_heuristics(text, library) for text in responses]
        total = max(1, len(responses))
        with self._lock:
            self._calls += 1
            row = {"call": self._calls, "rollouts": len(responses), "accuracy": sum(batch.correct) / total,
                   "shares": {sid: sum(sid in ids for ids in found) / total for sid in library.ids},
                   "mixed": sum(len(ids) >= 2 for ids in found) / total,
                   "none": sum(not ids for ids in found) / total}
            path = Path(self.options.log)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


def make(options: Options) -> ToyCorrectness:
    return ToyCorrectness(options)


def read_shares(path: Path, every: int) -> list[dict[str, Any]]:
    """The log averaged over windows of `every` calls: [{step, shares, mixed, accuracy}] (step = last call)."""
    if not Path(path).is_file():
        return []
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    points = []
    for start in range(0, len(rows), every):
        window = rows[start:start + every]
        points.append({"step": window[-1]["call"],
                       "shares": {sid: sum(r["shares"][sid] for r in window) / len(window) for sid in window[0]["shares"]},
                       "mixed": sum(r["mixed"] for r in window) / len(window),
                       "accuracy": sum(r["accuracy"] for r in window) / len(window)})
    return points
