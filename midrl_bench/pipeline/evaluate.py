"""Evaluate a checkpoint with the pack through lm-eval (`simple_evaluate` + the pack's include path).

    scores = evaluate_checkpoint("runs/x/rl/checkpoint", spec.eval, out_dir="runs/x/eval/rl", seed=0)
    scores["midrl_math500"]["pass@1"], scores["midrl_math500"]["pass@1_stderr"]

`repeats` reaches the pack through `TaskManager(metadata={"repeats": N})`; pass@k is reported for every k <= repeats
that the pack computes. Each call writes `results.json` (lm-eval's results, the config it ran with, provenance).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from midrl_bench.pipeline.spec import EvalSpec
from midrl_bench.provenance import provenance_record

_METRIC = re.compile(r"^(pass@\d+)(_stderr)?,all$")


def evaluate_checkpoint(model: str, spec: EvalSpec, out_dir: str | Path, seed: int = 0,
                        revision: str | None = None, device: str | None = None) -> dict[str, dict[str, float]]:
    """pass@k (and its standard error) per task for one model path or Hub id."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    from midrl_bench.tasks import include_path

    device = device or _default_device()
    model_args: dict[str, Any] = {"pretrained": model, "dtype": "float32" if device == "cpu" else "bfloat16"}
    if revision:
        model_args["revision"] = revision
    task_manager = TaskManager(include_path=include_path(), metadata={"repeats": spec.repeats})
    results = lm_eval.simple_evaluate(
        model="hf", model_args=model_args, tasks=list(spec.tasks), task_manager=task_manager, limit=spec.limit,
        batch_size=spec.batch_size, device=device, apply_chat_template=True,
        gen_kwargs={"max_gen_toks": spec.max_gen_toks}, random_seed=seed, numpy_random_seed=seed,
        torch_random_seed=seed, log_samples=False,
    )
    scores = parse_scores(results["results"])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"model": model, "scores": scores, "lm_eval_results": results["results"],
              "lm_eval_config": results.get("config"), "task_versions": results.get("versions"),
              "provenance": provenance_record(kind="midrl-eval", eval_spec=spec.__dict__, seed=seed, device=device)}
    (out_dir / "results.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return scores


def parse_scores(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{task: {"pass@k": v, "pass@k_stderr": s}} from lm-eval's `results` block (filter `all`)."""
    scores: dict[str, dict[str, float]] = {}
    for task, metrics in results.items():
        for key, value in metrics.items():
            match = _METRIC.match(key)
            if match and isinstance(value, (int, float)):
                scores.setdefault(task, {})[match.group(1) + (match.group(2) or "")] = float(value)
    return scores


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
