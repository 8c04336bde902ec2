"""The demo's plots: pass@k curves by n (before and after RL), pass@1/8/64 before vs after RL per arm, and the
strategy shares of the GRPO rollouts by step, one panel per arm."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from midrl_bench.metrics import PASS_AT_K


def _mean_curve(runs: list[dict], phase: str) -> tuple[list[int], list[float]]:
    ks = [k for k in PASS_AT_K if all(f"pass@{k}" in run[phase]["pass_at_k"] for run in runs)]
    values = [sum(run[phase]["pass_at_k"][f"pass@{k}"] for run in runs) / len(runs) for k in ks]
    return ks, values


def _by_variant(results: dict) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for run in results["runs"]:
        grouped[run["variant"]].append(run)
    return grouped


def plot_pass_at_k_by_n(results: dict, path: Path) -> Path:
    """Two panels (before RL, after RL): one pass@k curve per n-variant, plus the base model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grouped = _by_variant(results)
    names = (["star"] if "star" in grouped else []) + sorted(
        (n for n in grouped if n.startswith("n") and n[1:].isdigit()), key=lambda n: int(n[1:]))
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for axis, phase, title in ((axes[0], "before_rl", "after mid-training"), (axes[1], "after_rl", "after GRPO")):
        ks, values = _mean_curve([{"p": results["base"]}], "p")
        axis.plot(ks, values, "k--", label="base")
        for name in names:
            runs = [run for run in grouped[name] if phase in run]
            if not runs:
                continue
            ks, values = _mean_curve(runs, phase)
            axis.plot(ks, values, marker="o", label=name)
        axis.set_xscale("log", base=2)
        axis.set_xlabel("k")
        axis.set_title(title)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("pass@k on midrl_toy")
    axes[1].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_before_after_rl(results: dict, path: Path) -> Path:
    """Grouped bars: pass@1, pass@8, pass@64 of every variant before and after RL."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grouped = _by_variant(results)
    names = list(grouped)
    figure, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    for axis, k in zip(axes, (1, 8, 64), strict=True):
        key = f"pass@{k}"
        for offset, phase in ((-0.2, "before_rl"), (0.2, "after_rl")):
            values = [sum(r[phase]["pass_at_k"].get(key, 0.0) for r in grouped[n]) / len(grouped[n])
                      if phase in grouped[n][0] else 0.0 for n in names]
            axis.bar([i + offset for i in range(len(names))], values, width=0.4,
                     label="before RL" if phase == "before_rl" else "after RL")
        axis.axhline(results["base"]["pass_at_k"].get(key, 0.0), color="k", linestyle="--", linewidth=1)
        axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
        axis.set_title(key)
    axes[0].set_ylabel("midrl_toy (dashed: base)")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_strategy_shares(results: dict, path: Path, every: int) -> Path | None:
    """One panel per arm: the share of GRPO rollouts using each strategy (and mixed traces) by step, mean over seeds."""
    from midrl_bench.toyworld.reward import read_shares

    curves: dict[str, list[list[dict]]] = defaultdict(list)
    for run in results["runs"]:
        points = read_shares(Path(run.get("strategy_shares", "")), every)
        if points:
            curves[run["variant"]].append(points)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3.4), sharey=True, squeeze=False)
    for axis, (name, runs) in zip(axes[0], curves.items(), strict=True):
        length = min(len(points) for points in runs)
        steps = [runs[0][i]["step"] for i in range(length)]
        for key in [*sorted(runs[0][0]["shares"]), "mixed"]:
            values = [sum((p[i]["shares"].get(key) if key != "mixed" else p[i]["mixed"]) for p in runs) / len(runs)
                      for i in range(length)]
            axis.plot(steps, values, marker=".", linestyle="--" if key == "mixed" else "-", label=key)
        axis.set_title(name)
        axis.set_xlabel("GRPO step")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("share of rollouts")
    axes[0][-1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
