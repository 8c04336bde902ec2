import time

import pytest

from midrl_bench.verify.extract import extract_final_answer, last_boxed
from midrl_bench.verify.math import MathChecker

# (gold, response, expected verdict)
CASES = [
    ("\\frac{11}{2}", "so \\boxed{5.5}", True),  # decimal equals fraction
    ("\\frac{11}{2}", "so \\boxed{\\dfrac{11}{2}}", True),  # dfrac vs frac
    ("3\\sqrt{2}", "\\boxed{\\sqrt{18}}", True),  # simplified radical
    ("(1,2)", "the point is \\boxed{(1, 2)}", True),  # tuple with spacing
    ("\\pi/2", "\\boxed{\\frac{\\pi}{2}}", True),  # symbolic constant
    ("25", "\\boxed{025}", True),  # AIME-style leading zero
    ("x^2+2x+1", "\\boxed{(x+1)^2}", True),  # algebraically equal expression
    ("18", "#### 18", True),  # GSM8K answer line
    ("1800", "#### 1,800", True),  # GSM8K thousands separator
    ("7", "Answer: 7", True),  # "Answer:" line
    ("7", "**Final answer:** $7$", True),  # markdown answer line
    ("5", "First 3, then \\boxed{4}. On reflection \\boxed{5}", True),  # several boxes: the last counts
    ("4", "First 3, then \\boxed{4}. On reflection \\boxed{5}", False),  # ... so an earlier box does not
    ("12", "We try 12 apples and get 13. \\boxed{13}", False),  # stray number in prose never counts
    ("12", "I think it is 12.", False),  # no final answer at all -> False
    ("12", "\\boxed{}", False),  # empty box is no answer
    ("12", "\\boxed{12", False),  # unclosed box is no answer
    ("2", "\\boxed{3}", False),  # plain wrong answer
    ("\\frac{1}{3}", "\\boxed{0.33}", False),  # rounding is not equality
    ("\\frac{-1+\\sqrt{17}}{2}, \\frac{-1-\\sqrt{17}}{2}", "\\boxed{\\frac{-1-\\sqrt{17}}{2}, \\frac{-1+\\sqrt{17}}{2}}", True),  # unordered pair
]


@pytest.fixture(scope="module")
def checker():
    with MathChecker(workers=2, timeout_s=5.0) as pool:
        yield pool


@pytest.mark.parametrize(("gold", "response", "expected"), CASES)
def test_checker_cases(checker, gold, response, expected):
    verdict = checker.check(gold, response)
    assert verdict.correct is expected, verdict


def test_batch_keeps_input_order(checker):
    pairs = [(gold, response) for gold, response, _ in CASES]
    assert [v.correct for v in checker.check_many(pairs)] == [expected for *_, expected in CASES]


# Pathological inputs: each must come back within the hard timeout with a verdict, never hang or raise.
PATHOLOGICAL = [
    ("7", "\\boxed{10^{10^{10^{10}}}}"),  # power tower: sympy would try to evaluate it
    ("7", "\\boxed{" + "+".join(["x"] * 12000) + "}"),  # ~24 kB expression
    ("7", "\\boxed{" + "{" * 3000 + "1" + "}" * 3000 + "}"),  # deep nesting
    ("7", "\\boxed{" + "9" * 50000 + "}"),  # 50 kB number
]


@pytest.mark.parametrize(("gold", "response"), PATHOLOGICAL)
def test_pathological_input_returns_within_timeout(gold, response):
    with MathChecker(workers=1, timeout_s=2.0) as pool:
        started = time.monotonic()
        verdict = pool.check(gold, response)
        elapsed = time.monotonic() - started
    assert verdict.correct is not True
    assert elapsed < 2.0 + 5.0  # the timeout plus worker start-up and kill

def test_pool_recovers_after_a_timeout():
    with MathChecker(workers=1, timeout_s=1.0) as pool:
        assert pool.check("7", "\\boxed{10^{10^{10^{10}}}}").reason.startswith("timeout")
        assert pool.check("7", "\\boxed{7}").correct is True


def test_unparseable_gold_is_unjudged_not_false(checker):
    verdict = checker.check("", "\\boxed{3}")  # an empty gold cannot be judged: None, not False
    assert (verdict.correct, verdict.reason) == (None, "gold_unparseable")


def test_text_answers(checker):
    assert checker.check("\\text{Evelyn}", "Answer: Evelyn").correct is True  # MATH's \\text answers


@pytest.mark.parametrize(
    ("text", "policy", "expected"),
    [
        ("a \\boxed{1} b \\fbox{2}", "strict", ("2", "boxed")),  # fbox counts as a box, last one wins
        ("\\boxed{\\frac{1}{2}}", "strict", ("\\frac{1}{2}", "boxed")),  # nested braces
        ("work\n#### 42\n", "strict", ("42", "final_answer_phrase")),  # GSM8K hash line
        ("Answer: $3$.", "strict", ("3", "final_answer_phrase")),  # answer line
        ("The answer is 3", "strict", (None, "none")),  # strict: "the answer is" prose is not an answer line
        ("The answer is 3", "standard", ("3", "final_answer_phrase")),  # standard: it is
    ],
)
def test_extraction(text, policy, expected):
    assert extract_final_answer(text, policy) == expected


def test_last_boxed_none_without_box():
    assert last_boxed("no box here") is None


# ---------------------------------------------------------------------------------------------- settings, per-call
BAD_TIMEOUTS = [
    (float("nan"), "nan"),  # would disable the hard timeout and hang
    (float("inf"), "inf"),  # same
    (0, "0"),  # would mark every answer unjudged
    (-1, "-1"),  # same
    (True, "True"),  # a bool is not a number of seconds
    ("5", "'5'"),  # a string is not either (the CLI parses its own)
]


@pytest.mark.parametrize(("value", "shown"), BAD_TIMEOUTS)
def test_bad_timeouts_are_rejected_by_name(value, shown):
    from midrl_bench.verify.math import MathChecker, check_answers
    from midrl_bench.verify.settings import checker_settings

    expected = f"timeout_s must be a finite number > 0, got {shown}"
    for call in (lambda: MathChecker(timeout_s=value), lambda: check_answers([("1", "\\boxed{1}")], timeout_s=value),
                 lambda: checker_settings(timeout_s=value)):
        with pytest.raises(ValueError) as raised:
            call()
        assert str(raised.value) == expected


def test_bad_policy_is_rejected_by_name():
    from midrl_bench.verify.math import MathChecker

    with pytest.raises(ValueError, match="policy must be one of strict, standard, got 'lenient'"):
        MathChecker(policy="lenient")


def test_timeout_and_policy_are_per_call_not_process_wide():
    from midrl_bench.verify.math import check_answer, shared_checker

    response = "Therefore $x = 7$."
    assert check_answer("7", response, policy="strict").correct is False  # no box, no answer line
    assert check_answer("7", response).correct is True  # standard (default): the closing expression
    assert check_answer("7", "\\boxed{10^{10^{10^{10}}}}", timeout_s=1.0).reason == "timeout(1s)"
    assert (shared_checker().timeout_s, shared_checker().policy) == (5.0, "standard")  # nothing leaked


def test_checker_settings_record():
    from importlib.metadata import version

    from midrl_bench.verify.extract import EXTRACTION_VERSION
    from midrl_bench.verify.settings import checker_settings

    settings = checker_settings("strict", 3)
    assert settings["policy"] == "strict" and settings["timeout_s"] == 3.0
    assert settings["extraction_version"] == EXTRACTION_VERSION
    assert settings["libraries"]["math-verify"] == version("math-verify")
    assert settings["libraries"]["antlr4-python3-runtime"] == version("antlr4-python3-runtime")
    assert MathChecker(policy="strict", timeout_s=3).settings() == settings


def test_verdict_records_route_and_extracted(checker):
    verdict = checker.check("10455", "\\boxed{255}\n\nThe final answer is $10,455$")
    assert (verdict.correct, verdict.route, verdict.extracted) == (True, "final_answer_phrase", "10455")
    assert checker.check("1", "no answer here").route == "none"


# ---------------------------------------------------------------------------------------------- canonical forms
def test_canonical_answers_group_equivalent_answers():
    from midrl_bench.verify.math import canonical_answers

    half, decimal, frac, third, eq, five, set_a, set_b = canonical_answers(
        ["1/2", "0.5", "\\frac12", "1/3", "x = 5", "5", "\\{1,2\\}", "\\{2, 1\\}"])
    assert half == decimal == frac is not None  # one group for three spellings
    assert third != half  # different values stay apart
    assert eq == five  # "x = 5" groups with "5"
    assert set_a == set_b  # sets are unordered


def test_canonical_answers_are_bounded_by_the_timeout():
    from midrl_bench.verify.math import canonical_answers

    started = time.monotonic()
    tower, seven = canonical_answers(["10^{10^{10^{10}}}", "7"], timeout_s=1.0)
    assert tower is None and seven is not None
    assert time.monotonic() - started < 1.0 + 10.0  # timeout plus worker restart


# ---------------------------------------------------------------------------------------------- workers and threads
def test_pool_made_in_a_finished_thread_keeps_working():
    """Workers die with the *thread* that spawned them (parent-death signal), so they are spawned from a long-lived
    thread: a pool first used in a short-lived thread must still answer from the main thread afterwards."""
    import threading

    with MathChecker(workers=1, timeout_s=20.0) as pool:
        first = []
        thread = threading.Thread(target=lambda: first.append(pool.check("2", "\\boxed{2}")))
        thread.start()
        thread.join()
        time.sleep(0.5)  # give a wrongly armed parent-death signal time to fire
        assert first[0].correct is True
        assert pool.check("3", "\\boxed{3}").correct is True  # not "checker_crashed"


# ---------------------------------------------------------------------------------------------- parser self-test
def test_self_test_passes_with_the_pinned_parser():
    from midrl_bench.verify.selftest import known_pairs_failure, self_test_failure

    assert self_test_failure() is None
    assert known_pairs_failure() is None


def test_later_workers_skip_the_cached_self_test():
    from pathlib import Path

    with MathChecker(workers=1) as pool:
        pool.check("1", "\\boxed{1}")  # the first worker of this process has run (or inherited) the self-test
    with MathChecker(workers=1) as pool:
        pool.check("1", "\\boxed{1}")
        pid = pool._pool._workers[0].process.pid
        assert "--skip-self-test" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


@pytest.fixture(scope="module")
def old_antlr():
    """antlr4-python3-runtime 4.9.3 (what installing hydra-core pulls in), installed into the cache, never the venv."""
    import subprocess
    import sys

    from midrl_bench.paths import cache_dir

    target = cache_dir("antlr4-python3-runtime-4.9.3")
    if not (target / "antlr4").is_dir():
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
             "antlr4-python3-runtime==4.9.3"], capture_output=True, text=True, timeout=600)
        if completed.returncode != 0:
            pytest.skip(f"cannot install antlr4-python3-runtime==4.9.3: {completed.stderr.strip()[-300:]}")
    return target


def _run_with_old_antlr(old_antlr, code: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": f"{old_antlr}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow  # a fresh interpreter with antlr4 4.9.3 first on its path
def test_known_pairs_break_under_antlr_4_9_3(old_antlr):
    completed = _run_with_old_antlr(old_antlr, (
        "from importlib.metadata import version; assert version('antlr4-python3-runtime') == '4.9.3'\n"
        "from midrl_bench.verify.selftest import known_pairs_failure\n"
        "print(known_pairs_failure())"))
    assert completed.returncode == 0, completed.stderr
    assert "self-test '50\\\\%'" in completed.stdout and "antlr4-python3-runtime==4.13.2" in completed.stdout


@pytest.mark.slow  # a fresh interpreter with antlr4 4.9.3 first on its path
def test_checker_refuses_to_score_under_antlr_4_9_3(old_antlr):
    completed = _run_with_old_antlr(old_antlr, (
        "from midrl_bench.verify.math import MathChecker, CheckerSetupError\n"
        "try:\n"
        "    MathChecker(workers=1).check('1', '\\\\boxed{1}')\n"
        "except CheckerSetupError as error:\n"
        "    print('REFUSED', error)\n"))
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("REFUSED math checker refuses to score")
    assert "antlr4-python3-runtime==4.13.2" in lines[0] and "found 4.9.3" in lines[0]


def test_worker_killed_while_idle_is_replaced():
    """A worker that dies between batches (OOM killer, a stray kill) used to surface as BrokenPipeError."""
    import os
    import signal

    with MathChecker(workers=1, timeout_s=20.0) as pool:
        assert pool.check("2", "\\boxed{2}").correct is True
        os.kill(pool._pool._workers[0].process.pid, signal.SIGKILL)
        time.sleep(0.3)
        assert pool.check("3", "\\boxed{3}").correct is True


@pytest.mark.slow  # a fresh interpreter with antlr4 4.9.3 first on its path
def test_verify_cli_refuses_under_antlr_4_9_3_in_one_line(old_antlr, tmp_path):
    import json
    import os
    import subprocess
    import sys

    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(json.dumps({"gold": "50\\%", "pred": "\\boxed{\\frac{1}{2}}"}) + "\n")
    env = {**os.environ, "PYTHONPATH": f"{old_antlr}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", "verify", "math", str(source), "-o", str(target)],
                               capture_output=True, text=True, env=env, timeout=300)
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "Traceback" not in completed.stderr
    assert "antlr4-python3-runtime==4.13.2" in completed.stderr
    assert not target.exists()  # refused before scoring: no verdicts from a broken parser


def test_a_changed_pythonpath_runs_the_self_test_again(monkeypatch, tmp_path):
    """The cached pass is per (interpreter, PYTHONPATH): a worker started with another path (where an old antlr4
    could shadow the pinned one) must test its parser again."""
    from pathlib import Path

    with MathChecker(workers=1) as pool:
        pool.check("1", "\\boxed{1}")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with MathChecker(workers=1) as pool:
        pool.check("1", "\\boxed{1}")
        pid = pool._pool._workers[0].process.pid
        assert "--skip-self-test" not in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
