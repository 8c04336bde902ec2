"""End to end through the real lm-eval CLI on a tiny random Llama (CPU): results and sample logs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from midrl_bench.tasks import include_path

REPEATS = 3


def run_lm_eval(cli: list[str], model_dir: Path, tasks: str, out_dir: Path, extra: list[str] = ()) -> Path:
    command = [
        *cli, "--model", "hf", "--model_args", f"pretrained={model_dir},dtype=float32", "--tasks", tasks,
        "--limit", "2", "--metadata", json.dumps({"repeats": REPEATS}), "--gen_kwargs", "max_gen_toks=16",
        "--device", "cpu", "--log_samples", "--output_path", str(out_dir), *extra,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (results_file,) = out_dir.rglob("results_*.json")
    return results_file


def lm_eval_cli() -> list[str]:
    return [sys.executable, "-m", "lm_eval"]


@pytest.mark.slow
def test_lm_eval_hf_run_reports_pass_at_k_and_logs_all_repeats(tiny_llama_dir, tmp_path):
    results_file = run_lm_eval(
        lm_eval_cli(), tiny_llama_dir, "midrl_aime24,midrl_musr_team", tmp_path, ["--include_path", include_path()]
    )
    results = json.loads(results_file.read_text())["results"]
    for task in ("midrl_aime24", "midrl_musr_team"):
        assert {"pass@1,all", "pass@2,all"} <= set(results[task])  # k <= repeats are reported
        assert "pass@4,all" not in results[task]  # k > repeats is absent, not faked
        assert 0.0 <= results[task]["pass@1,all"] <= 1.0
        (samples_file,) = results_file.parent.glob(f"samples_{task}_*.jsonl")
        rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
        assert len(rows) == 2  # --limit 2
        for row in rows:
            (kept,) = row["filtered_resps"]  # the keep-all filter holds every repeat
            assert len(kept) == REPEATS
            assert row["filter"] == "all"


@pytest.mark.slow
def test_midrl_eval_includes_the_pack(tiny_llama_dir, tmp_path):
    results_file = run_lm_eval([sys.executable, "-m", "midrl_bench", "eval"], tiny_llama_dir, "midrl_amc23", tmp_path)
    assert "pass@1,all" in json.loads(results_file.read_text())["results"]["midrl_amc23"]


@pytest.mark.slow
@pytest.mark.serial
def test_tasks_install_makes_plain_lm_eval_work(tiny_llama_dir, tmp_path):
    midrl = [sys.executable, "-m", "midrl_bench", "tasks"]
    subprocess.run([*midrl, "install"], check=True, capture_output=True)
    try:
        results_file = run_lm_eval(lm_eval_cli(), tiny_llama_dir, "midrl_hmmt25", tmp_path)
        assert "pass@2,all" in json.loads(results_file.read_text())["results"]["midrl_hmmt25"]
    finally:
        subprocess.run([*midrl, "uninstall"], check=True, capture_output=True)
    listed = subprocess.run([sys.executable, "-m", "lm_eval", "ls", "tasks"], capture_output=True, text=True)
    assert "midrl_hmmt25" not in listed.stdout  # uninstall removed it again


def test_tasks_path_prints_the_include_path():
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", "tasks", "path"], capture_output=True, text=True)
    assert completed.stdout.strip() == include_path()
    assert (Path(include_path()) / "midrl.yaml").is_file()
