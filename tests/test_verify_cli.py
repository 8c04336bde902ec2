import json
import subprocess
import sys


def run_verify(tmp_path, lines):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    target = tmp_path / "out.jsonl"
    completed = subprocess.run(
        [sys.executable, "-m", "midrl_bench", "verify", "math", str(source), "-o", str(target), "--timeout-s", "3"],
        capture_output=True, text=True, timeout=120,
    )
    return completed, target


def test_verify_math_cli_adds_verdict_and_keeps_keys(tmp_path):
    completed, target = run_verify(tmp_path, [
        {"gold": "\\frac{1}{2}", "pred": "\\boxed{0.5}", "id": "a"},  # right
        {"gold": 3, "pred": "#### 4", "id": "b"},  # wrong
        {"gold": "7", "pred": "\\boxed{10^{10^{10^{10}}}}", "id": "c"},  # cannot be judged in time
    ])
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["id"], r["verdict"]) for r in rows] == [("a", True), ("b", False), ("c", None)]
    assert rows[2]["reason"].startswith("timeout")


def test_verify_math_cli_names_the_bad_row_and_writes_nothing(tmp_path):
    completed, target = run_verify(tmp_path, [{"gold": "1", "pred": "\\boxed{1}"}, {"gold": "2"}])
    assert completed.returncode == 2
    assert "row 2" in completed.stderr and "'pred'" in completed.stderr
    assert not target.exists()
