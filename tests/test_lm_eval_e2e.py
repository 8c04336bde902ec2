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
        # issue 11's metrics, in lm-eval's own results: maj@k, avg@n, 95% bounds, rates, lengths
        assert {"maj@1,all", "maj@2,all", "avg@n,all", "pass@2_ci95_lo,all", "pass@2_ci95_hi,all",
                "no_answer_rate,all", "truncation_rate,all", "length_p50,all", "length_p90,all"} <= set(results[task])
        assert results[task]["avg@n,all"] == pytest.approx(results[task]["pass@1,all"])
        assert results[task]["pass@2_ci95_lo,all"] <= results[task]["pass@2,all"] <= results[task]["pass@2_ci95_hi,all"]
        assert results[task]["responses,all"] == 2 * REPEATS
        assert 0 < results[task]["length_p50,all"] <= results[task]["length_p90,all"] <= 16  # tokens, max_gen_toks 16
        scoring = json.loads(results_file.read_text())["configs"][task]["metadata"]["scoring"]
        assert scoring["length_unit"] == f"tokens:{tiny_llama_dir}"  # counted in the model's own tokenizer
        assert scoring["checker"]["kind"] in {"math", "choice"} and scoring["bootstrap_iters"] > 0
        (samples_file,) = results_file.parent.glob(f"samples_{task}_*.jsonl")
        rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
        assert len(rows) == 2  # --limit 2
        for row in rows:
            (kept,) = row["filtered_resps"]  # the keep-all filter holds every repeat
            assert len(kept) == REPEATS
            assert row["filter"] == "all"
            audit = row["responses"]  # every response's verdict, route and answer, to audit the score
            assert len(audit["verdict"]) == len(audit["route"]) == len(audit["extracted"]) == REPEATS
            assert all(route in {"boxed", "final_answer_phrase", "last_expression", "none"} for route in audit["route"])
            assert row["pass@1"] == sum(v is True for v in audit["verdict"]) / REPEATS


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
