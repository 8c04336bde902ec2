"""`midrl runs compare | regrade | summary` on a real lm-eval output directory (tiny random Llama, CPU)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from midrl_bench.tasks import include_path, lm_eval_files

pytestmark = pytest.mark.slow  # one real lm-eval run of a tiny model, shared by the module

REPEATS = 4
TASKS = ("midrl_aime24", "midrl_musr_team")


@pytest.fixture(scope="module")
def lm_eval_run(tiny_llama_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lm-eval-run")
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama_dir},dtype=float32",
        "--tasks", ",".join(TASKS), "--include_path", include_path(), "--limit", "3",
        "--metadata", json.dumps({"repeats": REPEATS}), "--gen_kwargs", "max_gen_toks=12", "--device", "cpu",
        "--log_samples", "--output_path", str(out),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return out


def copy_run(run: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(run, tmp_path / name))


def midrl_runs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "midrl_bench", "runs", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def samples_file(run: Path, task: str) -> Path:
    (path,) = [p for p in lm_eval_files.samples_files(run) if lm_eval_files.parse_samples_name(p.name)[0] == task]
    return path


def rewrite_rows(path: Path, edit) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(edit(row)) + "\n" for row in rows))


def answer_without_marker(row: dict) -> dict:
    """The model 'said' the right answer with no marker: the standard policy finds it, the logged verdicts did not."""
    row["filtered_resps"] = [[f"Therefore ${row['doc']['answer']}$ is the answer."] * REPEATS]
    return row


def test_regrade_writes_beside_never_overwrites_and_counts_changed_verdicts(lm_eval_run, tmp_path):
    run = copy_run(lm_eval_run, tmp_path, "run")
    original = samples_file(run, "midrl_aime24")
    rewrite_rows(original, lambda row: answer_without_marker(row) if row["doc_id"] == 0 else row)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    completed = midrl_runs("regrade", run)
    assert completed.returncode == 0, completed.stderr
    assert f"midrl_aime24: {REPEATS} of {3 * REPEATS} verdicts changed" in completed.stdout
    assert "midrl_musr_team: 0 of" in completed.stdout  # same checker, same responses: nothing moves
    for path, content in before.items():  # every old file is still there, byte for byte
        assert path.read_bytes() == content
    (results,) = [p for p in lm_eval_files.results_files(run) if p not in before]
    data = json.loads(results.read_text())
    record = data["regrade"]["tasks"]["midrl_aime24"]
    assert record["changed_verdicts"] == REPEATS and record["changed_verdicts_exact"] is True
    assert record["old_checker"]["kind"] == record["new_checker"]["kind"] == "math"  # both settings recorded
    assert "libraries" in record["new_checker"]
    assert data["results"]["midrl_aime24"]["pass@1,all"] == pytest.approx(1 / 3)  # doc 0 right, 2 others wrong
    assert data["results"]["midrl_aime24"]["maj@4,all"] == pytest.approx(1 / 3)
    new_rows = [json.loads(line) for line in lm_eval_files.samples_beside(results)["midrl_aime24"].read_text()
                .splitlines()]
    assert new_rows[0]["responses"]["route"] == ["last_expression"] * REPEATS  # the audit record of each response
    assert new_rows[0]["pass@4"] == 1.0 and new_rows[1]["pass@4"] == 0.0


def test_rescore_rows_is_the_function_the_leaderboard_calls(lm_eval_run):
    from midrl_bench.runs.load import load_run
    from midrl_bench.runs.regrade import rescore_rows

    task = load_run(lm_eval_run).task("midrl_musr_team")
    rescored = rescore_rows("midrl_musr_team", task.rows(), policy="standard")
    assert rescored.responses == 3 * REPEATS and rescored.changed_verdicts == 0
    for key, value in task.results.items():  # re-scoring reproduces lm-eval's own results row
        if lm_eval_files.parse_metric_key(key) and isinstance(value, float):
            assert rescored.results[key] == pytest.approx(value, abs=1e-12), key


def test_compare_gives_paired_intervals_and_p_values(lm_eval_run, tmp_path):
    base = copy_run(lm_eval_run, tmp_path, "base")
    better = copy_run(lm_eval_run, tmp_path, "better")
    rewrite_rows(samples_file(better, "midrl_aime24"), answer_without_marker)
    assert midrl_runs("regrade", better).returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    completed = midrl_runs("compare", better, base, "--json", out / "c.json", "--csv", out / "c.csv", "--plot",
                           out / "c.png", "--permutations", "500")
    assert completed.returncode == 0, completed.stderr
    assert "paired percentile bootstrap" in completed.stdout and "permutation" in completed.stdout
    rows = {(r["task"], r["metric"]): r for r in json.loads((out / "c.json").read_text())["rows"]}
    assert rows[("midrl_aime24", "pass@1")]["diff"] == 1.0  # every response right vs none
    assert rows[("midrl_aime24", "pass@1")]["p_value"] == pytest.approx(2 / 8, abs=0.1)  # 3 docs: 2^-3 x 2 sides
    assert rows[("midrl_musr_team", "maj@2")]["diff"] == 0.0
    assert rows[("midrl_musr_team", "maj@2")]["p_value"] == 1.0
    assert {"pass@4", "maj@4", "avg@n"} <= {metric for task, metric in rows if task == "midrl_aime24"}
    assert (out / "c.csv").read_text().startswith("task,metric,n_docs,a,b,diff,ci95_lo,ci95_hi,p_value")
    assert (out / "c.png").stat().st_size > 1000


def test_summary_is_a_dataframe_and_writes_csv(lm_eval_run, tmp_path):
    import pandas as pd

    completed = midrl_runs("summary", lm_eval_run, "--csv", tmp_path / "s.csv")
    assert completed.returncode == 0, completed.stderr
    frame = pd.read_csv(tmp_path / "s.csv")
    assert sorted(frame["task"]) == sorted(TASKS)
    assert {"pass@4", "pass@4 lo", "pass@4 hi", "maj@2", "avg@n", "no_answer_rate", "length_p50",
            "truncation_rate"} <= set(frame.columns)


def test_scores_frame_for_the_leaderboard():
    from midrl_bench.runs.frames import scores_frame

    frame = scores_frame([{"entry": "org/model", "task": "midrl_aime24", "version": 2, "n_docs": 30,
                           "metrics": {"pass@1,all": 0.5, "pass@1_stderr,all": 0.1, "pass@1_ci95_lo,all": 0.3,
                                       "pass@1_ci95_hi,all": 0.7, "alias": "x"}}])
    (row,) = frame.to_dict(orient="records")
    assert (row["metric"], row["value"], row["stderr"], row["ci95_lo"], row["ci95_hi"]) == ("pass@1", 0.5, 0.1, 0.3,
                                                                                             0.7)


# (how the copy is broken, what the one-line error must name)
def break_version(run: Path) -> str:
    (results,) = lm_eval_files.results_files(run)
    data = json.loads(results.read_text())
    data["versions"]["midrl_aime24"] = 1
    results.write_text(json.dumps(data))
    return "task midrl_aime24: versions differ"


def break_doc_hash(run: Path) -> str:
    def edit(row):
        row["doc_hash"] = "0" * 64
        return row

    rewrite_rows(samples_file(run, "midrl_musr_team"), edit)
    return "task midrl_musr_team: document hashes differ"


def drop_samples(run: Path) -> str:
    samples_file(run, "midrl_aime24").unlink()
    (results,) = lm_eval_files.results_files(run)
    return f"{results}: reports midrl_aime24 but has no samples_midrl_aime24_<date>.jsonl"


@pytest.mark.parametrize("breaker", [break_version, break_doc_hash, drop_samples])
def test_compare_refuses_incomparable_runs_with_one_line(lm_eval_run, tmp_path, breaker):
    broken = copy_run(lm_eval_run, tmp_path, "broken")
    expected = breaker(broken)
    completed = midrl_runs("compare", lm_eval_run, broken)
    assert completed.returncode == 2
    assert expected in completed.stderr and len(completed.stderr.strip().splitlines()) == 1


def test_missing_run_and_a_results_file_without_samples_are_one_line_errors(lm_eval_run, tmp_path):
    completed = midrl_runs("regrade", tmp_path / "nowhere")
    assert completed.returncode == 2 and "nowhere: no such run directory" in completed.stderr
    broken = copy_run(lm_eval_run, tmp_path, "broken")
    expected = drop_samples(broken)
    completed = midrl_runs("regrade", broken)
    assert completed.returncode == 2 and expected in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1
    assert len(lm_eval_files.results_files(broken)) == 1  # nothing half-written
