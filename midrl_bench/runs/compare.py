"""Paired comparison of two runs on the documents they share (`midrl runs compare RUN_A RUN_B`).

For every task both runs hold, and every pass@k / maj@k / avg@n both report per document, the difference
mean(A - B) over the shared documents with a paired bootstrap 95% interval (documents resampled) and a two-sided
paired sign-flip permutation p-value (`midrl_bench.stats`). Runs whose task versions or document contents differ
are refused, naming the task: their numbers are not comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from midrl_bench import stats
from midrl_bench.runs.load import Run, RunError, TaskRun
from midrl_bench.tasks import lm_eval_files

TEST_NAMES = {"interval": "paired percentile bootstrap over documents, 95%",
              "p_value": "two-sided paired sign-flip permutation test"}


@dataclass(frozen=True)
class CompareSettings:
    bootstrap_iters: int = stats.DEFAULT_BOOTSTRAP
    permutations: int = stats.DEFAULT_PERMUTATIONS
    seed: int = stats.DEFAULT_SEED


def per_doc_values(task: TaskRun) -> dict[int, tuple[str | None, dict[str, float]]]:
    """doc_id -> (document hash, {metric: value}) of the pass/maj/avg metrics a samples file logs per document."""
    out = {}
    for row in task.rows():
        values = {}
        for key, value in row.items():
            parsed = lm_eval_files.parse_metric_key(f"{key},all")
            if parsed and parsed.family and parsed.part == "value" and isinstance(value, (int, float)):
                values[parsed.metric] = float(value)
        out[row["doc_id"]] = (row.get("doc_hash"), values)
    return out


def _metric_order(name: str) -> tuple[int, int]:
    parsed = lm_eval_files.parse_metric_key(f"{name},all")
    return ({"pass": 0, "maj": 1, "avg": 2}[parsed.family], parsed.k or 0)


def paired_task(name: str, a: TaskRun, b: TaskRun, settings: CompareSettings) -> list[dict[str, Any]]:
    """One record per metric both runs report per document for task `name`."""
    if str(a.version) != str(b.version):
        raise RunError(f"task {name}: versions differ ({a.results_file}: {a.version}, {b.results_file}: {b.version});"
                       " scores of different task versions are not comparable")
    docs_a, docs_b = per_doc_values(a), per_doc_values(b)
    shared = sorted(set(docs_a) & set(docs_b))
    if not shared:
        raise RunError(f"task {name}: {a.samples_file} and {b.samples_file} share no documents")
    changed = [i for i in shared if docs_a[i][0] != docs_b[i][0]]
    if changed:
        raise RunError(f"task {name}: document hashes differ between {a.samples_file} and {b.samples_file} "
                       f"(doc_id {changed[0]} and {len(changed) - 1} more); the task's data changed")
    metrics = set.intersection(*(set(docs_a[i][1]) & set(docs_b[i][1]) for i in shared))
    records = []
    for metric in sorted(metrics, key=_metric_order):
        xs = [docs_a[i][1][metric] for i in shared]
        ys = [docs_b[i][1][metric] for i in shared]
        low, high = stats.paired_bootstrap_ci(xs, ys, settings.bootstrap_iters, settings.seed)
        records.append({
            "task": name, "metric": metric, "n_docs": len(shared), "a": sum(xs) / len(xs), "b": sum(ys) / len(ys),
            "diff": (sum(xs) - sum(ys)) / len(xs), "ci95_lo": low, "ci95_hi": high,
            "p_value": stats.paired_permutation_p(xs, ys, settings.permutations, settings.seed),
        })
    return records


def compare_runs(run_a: Run, run_b: Run, settings: CompareSettings = CompareSettings()):
    """A DataFrame with one row per (shared task, metric): a, b, diff, ci95_lo, ci95_hi, p_value, n_docs."""
    import pandas as pd

    shared = sorted(set(run_a.tasks) & set(run_b.tasks))
    if not shared:
        raise RunError(f"{run_a.root} and {run_b.root} share no task")
    records = [r for name in shared for r in paired_task(name, run_a.tasks[name], run_b.tasks[name], settings)]
    columns = ["task", "metric", "n_docs", "a", "b", "diff", "ci95_lo", "ci95_hi", "p_value"]
    return pd.DataFrame.from_records(records, columns=columns)


def format_table(frame) -> str:
    """The comparison as a fixed-width table (percent points; the interval and test named in the header)."""
    lines = [f"A - B per task and metric; interval: {TEST_NAMES['interval']}; p: {TEST_NAMES['p_value']}",
             f"{'task':<22} {'metric':<8} {'docs':>5} {'A %':>7} {'B %':>7} {'A-B':>7} {'95% CI':>17} {'p':>7}"]
    for row in frame.itertuples(index=False):
        interval = f"[{100 * row.ci95_lo:+.1f}, {100 * row.ci95_hi:+.1f}]"
        lines.append(f"{row.task:<22} {row.metric:<8} {row.n_docs:>5} {100 * row.a:>7.1f} {100 * row.b:>7.1f} "
                     f"{100 * row.diff:>+7.1f} {interval:>17} {row.p_value:>7.4f}")
    return "\n".join(lines)


def curves(run: Run, tasks: list[str], settings: CompareSettings) -> dict[str, list[tuple[int, float, float, float]]]:
    """task -> [(k, pass@k, ci95_lo, ci95_hi)] from the per-document values of one run."""
    out = {}
    for name in tasks:
        docs = per_doc_values(run.tasks[name])
        keys = {lm_eval_files.parse_metric_key(f"{m},all") for _, values in docs.values() for m in values}
        ks = sorted(key.k for key in keys if key.family == "pass")
        points = []
        for k in ks:
            values = [v[f"pass@{k}"] for _, v in docs.values() if f"pass@{k}" in v]
            low, high = stats.bootstrap_ci(values, settings.bootstrap_iters, settings.seed)
            points.append((k, sum(values) / len(values), low, high))
        out[name] = points
    return out


def plot_curves(run_a: Run, run_b: Run, path, settings: CompareSettings, labels: tuple[str, str]) -> None:
    """pass@k curves of both runs with their 95% intervals, one panel per shared task (k on a log2 axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(set(run_a.tasks) & set(run_b.tasks))
    figure, axes = plt.subplots(1, len(tasks), figsize=(4 * len(tasks), 3.4), squeeze=False)
    for axis, name in zip(axes[0], tasks, strict=True):
        for run, label in zip((run_a, run_b), labels, strict=True):
            points = curves(run, [name], settings)[name]
            ks = [p[0] for p in points]
            axis.plot(ks, [p[1] for p in points], marker="o", label=label)
            axis.fill_between(ks, [p[2] for p in points], [p[3] for p in points], alpha=0.2)
        axis.set_xscale("log", base=2)
        axis.set_title(name)
        axis.set_xlabel("k")
        axis.set_ylabel("pass@k (95% bootstrap interval)")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
