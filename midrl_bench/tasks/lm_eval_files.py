"""The pack's one boundary with lm-eval's files: the names of `results_*`/`samples_*` files and the keys of metrics.

lm-eval (`--output_path DIR --log_samples`) writes, per invocation, `results_<date>.json` and one
`samples_<task>_<date>.jsonl` per task, where `<date>` is `datetime.now().isoformat()` with `:` replaced by `-`
(e.g. `2026-11-30T12-42-23.123456`), usually under `DIR/<model_name_sanitized>/`. The date pairs a samples file
with its results file. A metric in a results file is keyed `<metric>,<filter>` and its standard error
`<metric>_stderr,<filter>`; the pack's metrics are `pass@k`, `maj@k`, `avg@n`, their `_ci95_lo`/`_ci95_hi`
bounds, and the rates and length percentiles of `midrl_bench.metrics` (see the pack README).

The judge, the leaderboard, `midrl runs` and the pipeline read lm-eval's files only through this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_DATE = r"\d{4}-\d{2}-\d{2}T[0-9:.\-]+"
SAMPLES_NAME = re.compile(rf"^samples_(?P<task>.+?)_(?P<date>{_DATE})\.jsonl$")
RESULTS_NAME = re.compile(rf"^results_(?P<date>{_DATE})\.json$")
_METRIC_KEY = re.compile(
    r"^(?P<metric>(?P<family>pass|maj|avg)@(?P<k>[0-9]+|n)|[A-Za-z0-9_]+?)"
    r"(?P<suffix>_stderr|_ci95_lo|_ci95_hi)?,(?P<filter>.+)$"
)


@dataclass(frozen=True)
class MetricKey:
    """One parsed results key: `pass@8_ci95_lo,all` -> metric "pass@8", family "pass", k 8, part "ci95_lo"."""

    metric: str  # "pass@8", "avg@n", "no_answer_rate", ...
    filter: str
    part: str  # "value" | "stderr" | "ci95_lo" | "ci95_hi"
    family: str | None  # "pass" | "maj" | "avg" | None (a rate or other metric)
    k: int | None  # the k of pass@k / maj@k; None for avg@n and other metrics

    @property
    def key(self) -> str:
        suffix = "" if self.part == "value" else f"_{self.part}"
        return f"{self.metric}{suffix},{self.filter}"


def parse_metric_key(key: str) -> MetricKey | None:
    """The parts of a results key, or None for a key that is not a metric (e.g. `alias`, `name`)."""
    match = _METRIC_KEY.match(key)
    if not match:
        return None
    k = match["k"]
    return MetricKey(
        metric=match["metric"], filter=match["filter"], part=(match["suffix"] or "_value")[1:],
        family=match["family"], k=int(k) if k and k != "n" else None,
    )


def task_metrics(task_results: dict, filter_name: str = "all", part: str = "value") -> dict[str, float]:
    """{metric: number} of one task's results block for one filter and part (non-numbers left out)."""
    out = {}
    for key, value in task_results.items():
        parsed = parse_metric_key(key)
        if parsed and parsed.filter == filter_name and parsed.part == part and isinstance(value, (int, float)):
            out[parsed.metric] = float(value)
    return out


def pass_at_k_curve(task_results: dict, filter_name: str = "all") -> dict[int, float]:
    """{k: pass@k} of one task's results block."""
    return {key.k: value for name, value in task_results.items()
            if (key := parse_metric_key(name)) and key.family == "pass" and key.part == "value"
            and key.filter == filter_name and isinstance(value, (int, float))}


def parse_samples_name(name: str) -> tuple[str, str] | None:
    """(task, date) of a `samples_<task>_<date>.jsonl` name; None for any other name."""
    match = SAMPLES_NAME.match(name)
    return (match["task"], match["date"]) if match else None


def parse_results_name(name: str) -> str | None:
    """The date of a `results_<date>.json` name; None for any other name."""
    match = RESULTS_NAME.match(name)
    return match["date"] if match else None


def task_of_samples_file(path: str | Path) -> str:
    """The task a samples file holds; a one-line error naming the file for any other name."""
    parsed = parse_samples_name(Path(path).name)
    if parsed is None:
        raise ValueError(f"{path}: not an lm-eval samples file (expected samples_<task>_<date>.jsonl)")
    return parsed[0]


def samples_name(task: str, date: str) -> str:
    return f"samples_{task}_{date}.jsonl"


def results_name(date: str) -> str:
    return f"results_{date}.json"


def results_files(root: str | Path) -> list[Path]:
    """Every lm-eval results file below `root` (or `root` itself), oldest date first."""
    root = Path(root)
    if root.is_file():
        return [root] if parse_results_name(root.name) else []
    found = [p for p in root.rglob("results_*.json") if p.is_file() and parse_results_name(p.name)]
    return sorted(found, key=lambda p: (parse_results_name(p.name), str(p)))


def samples_files(root: str | Path) -> list[Path]:
    """Every lm-eval samples file below `root` (or `root` itself), by name."""
    root = Path(root)
    if root.is_file():
        return [root] if parse_samples_name(root.name) else []
    return sorted(p for p in root.rglob("samples_*.jsonl") if p.is_file() and parse_samples_name(p.name))


def samples_beside(results_file: Path) -> dict[str, Path]:
    """{task: samples file} written by the same lm-eval invocation as `results_file` (same folder, same date)."""
    date = parse_results_name(results_file.name)
    out = {}
    for path in sorted(results_file.parent.glob(f"samples_*_{date}.jsonl")):
        parsed = parse_samples_name(path.name)
        if parsed and parsed[1] == date:
            out[parsed[0]] = path
    return out


def row_responses(row: dict, where: str) -> list[str]:
    """All responses of a samples row: `filtered_resps` as [[r1..rN]] (the pack's keep-all filter) or [r1..rN]."""
    value = row.get("filtered_resps")
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: no filtered_resps list")
    flat = [item for part in value for item in part] if all(isinstance(p, list) for p in value) else value
    if not all(isinstance(item, str) for item in flat):
        raise ValueError(f"{where}: filtered_resps must hold strings (a generative task's responses)")
    return flat
