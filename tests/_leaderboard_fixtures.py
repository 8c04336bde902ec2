"""Run directories for the leaderboard tests, made from a real lm-eval run of the pack on a tiny random Llama.

`lm_eval_output` runs the lm-eval CLI once (midrl_aime24, --limit 2, 4 repeats, 16 new tokens); `make_run_dir`
copies it beside a submission.json; the tamper functions edit a copy the way a cheating or broken submission would.
`rewrite_responses` replaces responses and recomputes every logged metric with the pack's scoring, so it yields a
consistent run with non-zero scores (what a better model would have produced).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

TASK = "midrl_aime24"
REPEATS = 4
DOCS = 2


def lm_eval_output(model_dir: Path, out_dir: Path) -> Path:
    """Run the real lm-eval CLI; returns the folder holding results_*.json and samples_*.jsonl."""
    from midrl_bench.tasks import include_path

    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32",
        "--tasks", TASK, "--include_path", include_path(), "--limit", str(DOCS), "--device", "cpu",
        "--metadata", json.dumps({"repeats": REPEATS}), "--gen_kwargs", "max_gen_toks=16",
        "--log_samples", "--output_path", str(out_dir),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (results_file,) = out_dir.rglob("results_*.json")
    return results_file.parent


def submission(**model_overrides) -> dict:
    model = {"id": "midrl-test/tiny-llama", "revision": "0123abc", "parameters": 15_000, **model_overrides}
    return {
        "schema_version": 1, "model": model,
        "mid_training": {"dataset": "midrl-test/midrl-heuristic-math", "config": "n16", "version": "1.0.0"},
        "rl": {"backend": "trl", "recipe": "recipes/tiny-cpu.yaml"}, "contact": "tests <tests@example.org>",
    }


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


def rewrite_responses(run_dir: Path, correct_per_doc: list[int]) -> None:
    """Make the first `correct_per_doc[i]` responses of document i correct; recompute every logged metric."""
    from midrl_bench.tasks.registry import score_responses

    rows = read_rows(run_dir)
    means: dict[str, float] = {}
    for row, correct in zip(rows, correct_per_doc, strict=True):
        (responses,) = row["filtered_resps"]
        responses = [f"Working backwards from the end, \\boxed{{{row['doc']['answer']}}}" if i < correct else text
                     for i, text in enumerate(responses)]
        row["filtered_resps"], row["resps"] = [responses], [responses]
        _, table = score_responses(TASK, row["doc"], responses)
        row.update(table)
        for key, value in table.items():
            means[key] = means.get(key, 0.0) + value / len(rows)
    write_rows(run_dir, rows)
    edit_results(run_dir, lambda data: data["results"][TASK].update({f"{k},all": v for k, v in means.items()}))


# --- tampering: each makes a copy fail one check -------------------------------------------------------------
def inflate_pass_at_k(run_dir: Path) -> None:
    edit_results(run_dir, lambda data: data["results"][TASK].update({"pass@1,all": 0.75}))


def edit_sample(run_dir: Path) -> None:
    rows = read_rows(run_dir)
    rows[0]["filtered_resps"][0][0] = f"\\boxed{{{rows[0]['doc']['answer']}}}"  # logged pass@1 stays as it was
    write_rows(run_dir, rows)


def drop_repeat(run_dir: Path) -> None:
    rows = read_rows(run_dir)
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
