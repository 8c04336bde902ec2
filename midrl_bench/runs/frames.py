"""Results tables as pandas DataFrames, and writing them as CSV or Parquet (by the file's suffix).

- `summary_frame(run)`: one row per task of a run (`midrl runs summary RUN`);
- `scores_frame(records)`: the long table (one row per entry, task and metric) that the leaderboard builds from
  its entries' scores, so a user goes from any run or the leaderboard to a notebook in one line:
  `pandas.read_csv("scores.csv")`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from midrl_bench.runs.load import Run
from midrl_bench.tasks import lm_eval_files

SCORE_COLUMNS = ["entry", "task", "version", "metric", "value", "stderr", "ci95_lo", "ci95_hi", "n_docs"]


def summary_frame(run: Run):
    """One row per task: version, documents, then every metric the results report (value, with `<metric> lo/hi`
    columns for its 95% bootstrap interval where the run has one)."""
    import pandas as pd

    rows = []
    for name, task in sorted(run.tasks.items()):
        row: dict[str, Any] = {"task": name, "version": task.version, "results_file": str(task.results_file)}
        values = task.metrics
        low = lm_eval_files.task_metrics(task.results, part="ci95_lo")
        high = lm_eval_files.task_metrics(task.results, part="ci95_hi")
        for metric, value in values.items():
            row[metric] = value
            if metric in low:
                row[f"{metric} lo"], row[f"{metric} hi"] = low[metric], high.get(metric)
        rows.append(row)
    return pd.DataFrame.from_records(rows)


def scores_frame(records: Iterable[Mapping[str, Any]]):
    """Long table from records with keys `entry`, `task`, `version`, `n_docs` and `metrics`: a mapping of lm-eval
    results keys (`pass@1,all`, `pass@1_stderr,all`, `pass@1_ci95_lo,all`, ...) or of plain metric names to numbers.
    Columns: SCORE_COLUMNS (missing parts are NaN)."""
    import pandas as pd

    rows = []
    for record in records:
        parts: dict[str, dict[str, float]] = {}
        for key, value in (record.get("metrics") or {}).items():
            parsed = lm_eval_files.parse_metric_key(key if "," in key else f"{key},all")
            if parsed is None or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            parts.setdefault(parsed.metric, {})[parsed.part] = float(value)
        for metric, found in parts.items():
            rows.append({"entry": record.get("entry"), "task": record.get("task"), "version": record.get("version"),
                         "metric": metric, "value": found.get("value"), "stderr": found.get("stderr"),
                         "ci95_lo": found.get("ci95_lo"), "ci95_hi": found.get("ci95_hi"),
                         "n_docs": record.get("n_docs")})
    return pd.DataFrame.from_records(rows, columns=SCORE_COLUMNS)


def write_frame(frame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet (`.parquet`) or CSV (anything else); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
