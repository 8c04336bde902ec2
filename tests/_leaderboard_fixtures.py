"""Run directories for the leaderboard tests, made from a real lm-eval run of the pack on a tiny random Llama.

`lm_eval_output` runs the lm-eval CLI once (midrl_aime24, --limit 2, 4 repeats, 16 new tokens) on the model as a
Hub repository: the saved model is laid out as a Hugging Face cache snapshot of `midrl-test/tiny-llama` at commit
`REVISION` and loaded offline with `pretrained=midrl-test/tiny-llama,revision=<sha>`, so the results file records the
model identity a real submission has. `make_run_dir` copies it beside a submission.json (which declares the
`max_gen_toks=16` override); the tamper functions edit a copy the way a cheating or broken submission would.
`rewrite_responses` replaces responses and recomputes every logged metric with the pack's scoring, so it yields a
consistent run with non-zero scores (what a better model would have produced).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

TASK = "midrl_aime24"
REPEATS = 4
DOCS = 2
MODEL_ID = "midrl-test/tiny-llama"
REVISION = "0123456789abcdef0123456789abcdef01234567"
MAX_GEN_TOKS = 16


def hub_cache(model_dir: Path, cache: Path, model_id: str = MODEL_ID, revision: str = REVISION) -> Path:
    """Lay a saved model out as the Hub cache does (`models--org--name/snapshots/<sha>`, `refs/main`)."""
    repo = cache / ("models--" + model_id.replace("/", "--"))
    shutil.copytree(model_dir, repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision, encoding="utf-8")
    return cache


def lm_eval_output(model_dir: Path, out_dir: Path, task: str = TASK, docs: int = DOCS, repeats: int = REPEATS) -> Path:
    """Run the real lm-eval CLI; returns the folder holding results_*.json and samples_*.jsonl."""
    from midrl_bench.tasks import include_path

    cache = hub_cache(model_dir, out_dir / "hub-cache")
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf",
        "--model_args", f"pretrained={MODEL_ID},revision={REVISION},dtype=float32",
        "--tasks", task, "--include_path", include_path(), "--limit", str(docs), "--device", "cpu",
        "--metadata", json.dumps({"repeats": repeats}), "--gen_kwargs", f"max_gen_toks={MAX_GEN_TOKS}",
        "--log_samples", "--output_path", str(out_dir / "run"),
    ]
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (results_file,) = (out_dir / "run").rglob("results_*.json")
    return results_file.parent


def submission(**model_overrides) -> dict:
    model = {"id": MODEL_ID, "revision": REVISION, "parameters": 15_000, **model_overrides}
    return {
        "schema_version": 1, "model": model,
        "mid_training": {"dataset": "midrl-test/midrl-heuristic-math", "config": "n16", "version": "1.0.0"},
        "rl": {"backend": "trl", "recipe": "recipes/tiny-cpu.yaml"},
        "generation": {"max_gen_toks": MAX_GEN_TOKS},  # the run's one departure from the task's arguments
        "contact": "tests <tests@example.org>",
    }


def renamed_model(run_dir: Path, model_id: str, revision: str = REVISION) -> None:
    """The run as lm-eval would have logged it for another Hub id (used to give several entries one honest run)."""
    def edit(data):
        data["model_name"] = model_id
        data["model_name_sanitized"] = model_id.replace("/", "__")
        data["config"]["model_args"].update({"pretrained": model_id, "revision": revision})
        data["config"]["model_revision"] = revision

    edit_results(run_dir, edit)


def make_run_dir(lm_eval_dir: Path, dest: Path, record: dict | None = None) -> Path:
    shutil.copytree(lm_eval_dir, dest / "lm-eval")
    (dest / "submission.json").write_text(json.dumps(record or submission()), encoding="utf-8")
    return dest


def results_path(run_dir: Path) -> Path:
    (path,) = run_dir.rglob("results_*.json")
    return path


def samples_path(run_dir: Path) -> Path:
    (path,) = run_dir.rglob(f"samples_{TASK}_*.jsonl")
    return path


def read_rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in samples_path(run_dir).read_text(encoding="utf-8").splitlines()]


def write_rows(run_dir: Path, rows: list[dict]) -> None:
    samples_path(run_dir).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def edit_results(run_dir: Path, edit) -> None:
    path = results_path(run_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def refresh_metrics(run_dir: Path) -> None:
    """Recompute every logged per-sample value and the task's results block from the rows' filtered_resps, as lm-eval
    would have (the pack's scoring, through `midrl runs regrade`'s `rescore_rows`): a tampered run made consistent,
    so that only the check under test can catch it."""
    from midrl_bench.runs.regrade import rescore_rows

    rescored = rescore_rows(TASK, read_rows(run_dir))
    write_rows(run_dir, rescored.rows)
    edit_results(run_dir, lambda data: data["results"][TASK].update(rescored.results))


def correct_response(doc: dict) -> str:
    return f"Working backwards from the end, \\boxed{{{doc['answer']}}}"


def rewrite_responses(run_dir: Path, correct_per_doc: list[int]) -> None:
    """Make the first `correct_per_doc[i]` responses of document i correct; recompute every logged metric."""
    rows = read_rows(run_dir)
    for row, correct in zip(rows, correct_per_doc, strict=True):
        (responses,) = row["filtered_resps"]
        responses = [correct_response(row["doc"]) if i < correct else text for i, text in enumerate(responses)]
        row["filtered_resps"], row["resps"] = [responses], [list(responses)]
    write_rows(run_dir, rows)
    refresh_metrics(run_dir)


# --- tampering: each makes a copy fail one check -------------------------------------------------------------
def inflate_pass_at_k(run_dir: Path) -> None:
    edit_results(run_dir, lambda data: data["results"][TASK].update({"pass@1,all": 0.75}))


def edit_sample(run_dir: Path) -> None:
    rows = read_rows(run_dir)
    for field in ("resps", "filtered_resps"):  # the model's text replaced in both; logged pass@1 stays as it was
        rows[0][field][0][0] = f"\\boxed{{{rows[0]['doc']['answer']}}}"
    write_rows(run_dir, rows)


def drop_repeat(run_dir: Path) -> None:
    rows = read_rows(run_dir)
    rows[1]["resps"][0].pop()
    rows[1]["filtered_resps"][0].pop()
    write_rows(run_dir, rows)


def wrong_doc(run_dir: Path) -> None:
    rows = read_rows(run_dir)
    rows[0]["doc"]["answer"] = "1"  # a doc whose gold answer was changed to what the model wrote
    write_rows(run_dir, rows)


def old_task_version(run_dir: Path) -> None:
    edit_results(run_dir, lambda data: data["versions"].update({TASK: 0}))


def drop_samples_file(run_dir: Path) -> None:
    samples_path(run_dir).unlink()
