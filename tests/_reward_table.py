"""The shared reward table: every backend's shim (TRL, OpenRLHF, verl) must give exactly these rewards."""

# (completion, gold answer, expected reward, expected verdict: True / False / None)
CASES = [
    ("2 + 2 = 4. \\boxed{4}", "4", 1.0, True),  # plain correct boxed answer
    ("so it is \\boxed{5}", "4", 0.0, False),  # wrong answer
    ("I think the answer is four", "4", 0.0, False),  # no final answer at all
    ("half of it: \\boxed{\\frac{1}{2}}", "0.5", 1.0, True),  # equivalent forms count as correct
    ("first \\boxed{3}, then corrected: \\boxed{4}", "4", 1.0, True),  # the last boxed answer is the final one
    ("Answer: 12", "12", 1.0, True),  # an `Answer:` line counts when nothing is boxed
    ("\\boxed{7}", "", 0.0, None),  # empty gold: could not judge -> 0.0 and counted as unjudged
    ("\\boxed{7}", "\\text{}", 0.0, None),  # unparseable gold: could not judge
    ("\\boxed{x^2+2x+1}", "(x+1)^2", 1.0, True),  # symbolic equivalence
    ("it is 5\\% of the total: \\boxed{0.05}", "5\\%", 1.0, True),  # percent: wrong under antlr4 4.9 (verl's pin)
]
COMPLETIONS = [case[0] for case in CASES]
ANSWERS = [case[1] for case in CASES]
EXPECTED = [case[2] for case in CASES]
UNJUDGED = [case[3] is None for case in CASES]
