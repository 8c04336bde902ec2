"""Golden reference scores: `pack/<task>/reference.json`, from a pinned tiny-model run through lm-eval.

The model is the seeded random tiny Llama of `midrl_bench.pipeline.tiny` (the tests' `tiny_llama_dir`), run with
lm-eval's default seeds on the first `LIMIT` documents, `REPEATS` samples each, `MAX_GEN_TOKS` new tokens. A
reference records the task version, every metric of the task's results row and, per document, lm-eval's hashes
of the document and of the prompt. A random model never states an answer, so the reference also scores a fixed
set of scripted responses per document (shapes real models write, built from the gold answer: right, wrong, and
missing answers) through the same scoring, recording each response's verdict, route and extracted answer and the
metrics they aggregate to; an extraction change shows up there. tests/test_pack_reference.py re-runs this and compares exactly, so any change
to a task's data, prompt, extraction or metrics shows up; such a change bumps the task's version, adds a line to
the changelog of its card, and regenerates the references:

    python -m midrl_bench.tasks.reference --write
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

LIMIT = 2
REPEATS = 2
MAX_GEN_TOKS = 8
DIGITS = 10  # metric values are compared after rounding to this many decimals


def tiny_model(out_dir: str | Path) -> Path:
    from midrl_bench.pipeline.spec import TinyModelSpec
    from midrl_bench.pipeline.tiny import build_tiny_model

    return build_tiny_model(TinyModelSpec(max_position_embeddings=8192), Path(out_dir))


def reference_path(task: str) -> Path:
    from midrl_bench.tasks.registry import spec

    return spec(task).folder / "reference.json"


def run_references(model_dir: str | Path, tasks: list[str], out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """task -> reference record, from one lm-eval run of the tiny model (CPU) on all `tasks` together.

    Sampling draws from one random stream across the run's requests, so a task's record depends on which tasks
    ran with it: references are always made, and checked, from one run of every pack task, in sorted order.
    """
    import lm_eval
    from lm_eval.tasks import TaskManager

    from midrl_bench.tasks import include_path

    tasks = sorted(tasks)
    manager = TaskManager(include_path=include_path(), metadata={"repeats": REPEATS, "pretrained": str(model_dir)})
    results = lm_eval.simple_evaluate(
        model="hf", model_args={"pretrained": str(model_dir), "dtype": "float32"}, tasks=tasks, task_manager=manager,
        limit=LIMIT, device="cpu", gen_kwargs={"max_gen_toks": MAX_GEN_TOKS}, log_samples=True, bootstrap_iters=0,
    )
    from midrl_bench.tasks.registry import load_docs

    return {task: {**_record(task, results["results"][task], results["samples"][task], results["versions"][task]),
                   "scripted": scripted_record(task, load_docs(task)[:LIMIT])} for task in tasks}


def _record(task: str, block: dict[str, Any], samples: list[dict[str, Any]], version: Any) -> dict[str, Any]:
    metrics = {key: round(value, DIGITS) for key, value in sorted(block.items())
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    return {
        "task": task, "version": version,
        "settings": {"model": "midrl_bench.pipeline.tiny (seeded random Llama, max_position_embeddings=8192)",
                     "limit": LIMIT, "repeats": REPEATS, "max_gen_toks": MAX_GEN_TOKS, "seeds": "lm-eval defaults"},
        "metrics": metrics,
        "docs": [{"doc_id": row["doc_id"], "doc_hash": row["doc_hash"], "prompt_hash": row["prompt_hash"]}
                 for row in sorted(samples, key=lambda row: row["doc_id"])],
    }


def scripted_responses(task: str, doc: dict[str, Any]) -> list[str]:
    """Fixed responses of the shapes models write, built from the document's gold answer."""
    from midrl_bench.tasks.registry import spec

    kind = spec(task).checker
    if kind == "math":
        gold = str(doc["answer"])
        return [f"We compute step by step.\n\nThe final answer is $\\boxed{{{gold}}}$.",
                f"Final Answer: The final answer is ${gold}$. I hope it is correct.",
                f"First we find \\boxed{{{gold}}} but after checking, the answer is \\boxed{{{gold}0}}.",
                "I am not sure how to solve this problem.",
                f"<think>maybe {gold}</think>\nSo the answer is ${gold}$."]
    if kind == "choice":
        letters = "ABCDEFGH"
        right, wrong = letters[doc["answer_index"]], letters[(doc["answer_index"] + 1) % len(doc["choices"])]
        return [f"Weighing the clues...\nAnswer: {right}", f"**Answer:** {wrong}", f"The answer is \\boxed{{{right}}}",
                "It could be either.", f"Answer: {right}"]
    body = doc["canonical_solution"]
    return [body, "    pass\n", f"```python\n{doc['prompt']}{body}```", "", "    return None\n"]


def scripted_record(task: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-response verdicts, routes and answers of the scripted responses, and the metrics they aggregate to."""
    from midrl_bench.runs.regrade import aggregate
    from midrl_bench.tasks import scoring

    items = [(doc, scripted_responses(task, doc)) for doc in docs]
    scored = scoring.score_docs(task, items)
    values = [scoring.doc_values(scores, [len(r.split()) for r in responses], None, "whitespace_words")
              for (_, responses), scores in zip(items, scored, strict=True)]
    metrics = aggregate(values, bootstrap_iters=200, seed=0)
    return {"metrics": {k: round(v, DIGITS) for k, v in sorted(metrics.items()) if isinstance(v, (int, float))},
            "responses": [{"verdict": [s.correct for s in scores], "route": [s.route for s in scores],
                           "extracted": [s.extracted for s in scores]} for scores in scored]}


def main(argv: list[str] | None = None) -> int:
    from midrl_bench.tasks.registry import TASK_SPECS

    parser = argparse.ArgumentParser(description="Regenerate the pack's golden reference.json files.")
    parser.add_argument("--write", action="store_true", help="write pack/<task>/reference.json (else print)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        records = run_references(tiny_model(Path(scratch) / "tiny"), sorted(TASK_SPECS), scratch)
    for task, record in records.items():
        text = json.dumps(record, indent=1, sort_keys=True) + "\n"
        if args.write:
            reference_path(task).write_text(text, encoding="utf-8")
            print(f"wrote {reference_path(task)}")
        else:
            print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
