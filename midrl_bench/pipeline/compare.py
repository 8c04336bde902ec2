"""Run one recipe on several backends, evaluate every checkpoint with the pack, and compare.

Layout of `out_dir`:
    <backend>/            a full run directory per backend (see runner.py)
    eval/<label>/         lm-eval results per evaluated checkpoint (label = "base" or "<backend>-<stage>")
    compare.json          every pass@k with its standard error, per checkpoint and task, plus provenance
    compare.md            the same as a markdown table (pass@1 and pass@max k)
    passk.png             pass@k curves, one panel per task, one line per checkpoint
Finished runs and evaluations are reused when the command is repeated, so an interrupted comparison resumes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midrl_bench.config import to_dict
from midrl_bench.pipeline.spec import PipelineSpec
from midrl_bench.provenance import provenance_record


@dataclass(frozen=True)
class EvaluatedCheckpoint:
    label: str  # "base", "trl-midtrain", "openrlhf-rl", ...
    backend: str | None
    stage: str  # base | midtrain | rl
    model: str
    scores: dict[str, dict[str, float]]  # task -> {"pass@k": v, "pass@k_stderr": s}


def run_compare(spec: PipelineSpec, backends: list[str], out_dir: str | Path) -> list[EvaluatedCheckpoint]:
    from midrl_bench.pipeline.runner import run_pipeline

    out_dir = Path(out_dir).resolve()
    runs = {backend: run_pipeline(spec, backend, "all", out_dir / backend) for backend in backends}
    targets: list[tuple[str, str | None, str, str, str | None]] = []
    if "base" in spec.eval.checkpoints:
        first = runs[backends[0]]
        targets.append(("base", None, "base", first.checkpoints["base"], spec.model.revision))
    for backend, run in runs.items():
        for stage in ("midtrain", "rl"):
            if stage in spec.eval.checkpoints:
                targets.append((f"{backend}-{stage}", backend, stage, run.checkpoints[stage], None))
    evaluated = [_evaluate_once(spec, out_dir / "eval" / label, label, backend, stage, model, revision)
                 for label, backend, stage, model, revision in targets]
    write_report(spec, evaluated, out_dir)
    return evaluated


def _evaluate_once(spec: PipelineSpec, eval_dir: Path, label: str, backend: str | None, stage: str, model: str,
                   revision: str | None) -> EvaluatedCheckpoint:
    results_file = eval_dir / "results.json"
    if results_file.is_file():
        scores = json.loads(results_file.read_text(encoding="utf-8"))["scores"]
    else:
        from midrl_bench.pipeline.evaluate import evaluate_checkpoint

        scores = evaluate_checkpoint(model, spec.eval, eval_dir, seed=spec.seed, revision=revision)
    return EvaluatedCheckpoint(label, backend, stage, model, scores)


def dry_run_plan(spec: PipelineSpec, backends: list[str]) -> str:
    """Training precision per backend and the lm-eval run per checkpoint, as `midrl compare --dry-run` prints them."""
    from midrl_bench.pipeline.evaluate import eval_plan
    from midrl_bench.pipeline.runner import plan_pipeline

    lines = ["", "Training precision (master weights / compute / sharding):"]
    for backend in backends:
        _, _, plans = plan_pipeline(spec, backend, "all", f"runs/{spec.name}-compare/{backend}")
        for plan in plans:
            lines.append(f"  {backend} {plan.stage}: {_precision_text(backend, plan)}")
    lines += ["", f"Evaluation (eval.model {spec.eval.model}; each checkpoint, {spec.eval.repeats} samples per problem):"]
    targets = (["base"] if "base" in spec.eval.checkpoints else []) + [
        f"{backend}-{stage}" for backend in backends for stage in ("midtrain", "rl") if stage in spec.eval.checkpoints]
    for label in targets:
        model = spec.model.id_or_path or "BASE" if label == "base" else f"runs/{spec.name}-compare/" + label.replace(
            "-", "/", 1) + "/checkpoint"
        lines.append(f"  {label}: $ {eval_plan(spec.eval, model, spec.seed)['command']}")
    return "\n".join(lines)


def _precision_text(backend: str, plan: Any) -> str:
    precision = plan.config.get("precision")
    if precision is not None:  # TRL states it in its stage plan
        return f"master weights {precision['master_weights']}; load {precision['load_dtype']}"
    values = plan.config.get("values", {})
    if backend == "openrlhf":
        return (f"DeepSpeed ZeRO-{values.get('ds.zero_stage')} with ds.param_dtype={values.get('ds.param_dtype')}: "
                "fp32 master weights in DeepSpeed's optimizer, 16-bit compute")
    return "as the backend's own trainer configures it (see its plan: `midrl train --backend " + backend + " --dry-run`)"


def ks_of(evaluated: list[EvaluatedCheckpoint]) -> list[int]:
    from midrl_bench.tasks.lm_eval_files import parse_metric_key

    found = {parsed.k for item in evaluated for task in item.scores.values() for key in task
             if (parsed := parse_metric_key(f"{key},all")) and parsed.family == "pass" and parsed.part == "value"}
    return sorted(found)


def markdown_table(evaluated: list[EvaluatedCheckpoint]) -> str:
    """One row per checkpoint; per task pass@1 and pass@(largest k), each as value ± standard error (percent)."""
    tasks = sorted({task for item in evaluated for task in item.scores})
    ks = ks_of(evaluated)
    shown = sorted({ks[0], ks[-1]}) if ks else []
    header = ["checkpoint"] + [f"{task} pass@{k}" for task in tasks for k in shown]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for item in evaluated:
        cells = [item.label]
        for task in tasks:
            metrics = item.scores.get(task, {})
            for k in shown:
                value, error = metrics.get(f"pass@{k}"), metrics.get(f"pass@{k}_stderr")
                cells.append("n/a" if value is None else f"{100 * value:.2f} ± {100 * (error or 0.0):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_pass_at_k(evaluated: list[EvaluatedCheckpoint], path: Path) -> Path:
    """pass@k curves (log2 k axis) with standard-error bands; one panel per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({task for item in evaluated for task in item.scores})
    ks = ks_of(evaluated)
    figure, axes = plt.subplots(1, max(1, len(tasks)), figsize=(4.5 * max(1, len(tasks)), 3.6), squeeze=False)
    for axis, task in zip(axes[0], tasks, strict=False):
        for item in evaluated:
            metrics = item.scores.get(task, {})
            points = [(k, metrics[f"pass@{k}"], metrics.get(f"pass@{k}_stderr", 0.0)) for k in ks
                      if f"pass@{k}" in metrics]
            if not points:
                continue
            xs, ys, errors = zip(*points, strict=True)
            axis.plot(xs, ys, marker="o", label=item.label)
            axis.fill_between(xs, [y - e for y, e in zip(ys, errors, strict=True)], [y + e for y, e in zip(ys, errors, strict=True)], alpha=0.15)
        axis.set_xscale("log", base=2)
        axis.set_xticks(ks, [str(k) for k in ks])
        axis.set_ylim(-0.02, 1.02)
        axis.set_title(task)
        axis.set_xlabel("k")
        axis.set_ylabel("pass@k")
    axes[0][0].legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_report(spec: PipelineSpec, evaluated: list[EvaluatedCheckpoint], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    table = markdown_table(evaluated)
    md = out_dir / "compare.md"
    from midrl_bench.pipeline.grpo_mapping import report_section

    grpo_md, grpo_json = report_section(spec, list(dict.fromkeys(item.backend for item in evaluated if item.backend)))
    md.write_text(f"# {spec.name}: pass@k by checkpoint (percent, ± standard error)\n\n{table}{grpo_md}",
                  encoding="utf-8")
    payload: dict[str, Any] = {
        "checkpoints": [item.__dict__ for item in evaluated], "ks": ks_of(evaluated), "grpo_mapping": grpo_json,
        "provenance": provenance_record(kind="midrl-compare", spec=to_dict(spec), seed=spec.seed),
    }
    js = out_dir / "compare.json"
    js.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return {"markdown": md, "json": js, "plot": plot_pass_at_k(evaluated, out_dir / "passk.png")}
