import pytest

from midrl_bench.verify.choice import check_choice, extract_choice

# (response, expected letter)
CASES = [
    ("Long story.\nAnswer: B", "B"),  # plain answer line
    ("**Answer:** (c)", "C"),  # bold, parenthesised, lower case
    ("Answer: A\nOn reflection...\nFinal answer: C", "C"),  # the last answer line counts
    ("Answer: B. The gardener had the motive.", "B"),  # letter followed by an explanation
    ("So the answer is \\boxed{D}", "D"),  # boxed letter as a fallback
    ("I think A or B is likely.", None),  # letters in prose never count
    ("Answer: Alice", None),  # a name is not a letter choice
]


@pytest.mark.parametrize(("response", "expected"), CASES)
def test_extract_choice(response, expected):
    assert extract_choice(response) == expected


def test_check_choice_verdicts():
    assert check_choice(1, 3, "Answer: B").correct is True
    assert check_choice(1, 3, "Answer: A").correct is False
    assert check_choice(1, 3, "Answer: D").reason == "choice_out_of_range"
    assert check_choice(1, 3, "no idea").reason == "no_final_answer"
