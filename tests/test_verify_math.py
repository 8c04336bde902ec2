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
    ("text", "expected"),
    [
        ("a \\boxed{1} b \\fbox{2}", ("2", "boxed")),  # fbox counts as a box, last one wins
        ("\\boxed{\\frac{1}{2}}", ("\\frac{1}{2}", "boxed")),  # nested braces
        ("work\n#### 42\n", ("42", "hash")),
        ("Answer: $3$.", ("3", "answer_line")),
        ("The answer is 3", (None, "none")),  # prose is not an answer line
    ],
)
def test_extraction(text, expected):
    assert extract_final_answer(text) == expected


def test_last_boxed_none_without_box():
    assert last_boxed("no box here") is None
