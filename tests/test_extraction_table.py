"""The extraction table: full model-style responses, judged under both policies with the real math-verify checker.

Each row is (gold, response, expected verdict under `strict`, expected verdict under `standard`), shaped like what
Llama-3.x-Instruct, Qwen2.5-Math, DeepSeek-R1 (`<think>`), Minerva, GSM8K (`####`) and multi-part answers look like.
tests/data/extraction_heldout.jsonl is a held-out split written before the extraction code and never edited after;
its agreement is asserted against a floor, not row by row, so it measures rather than pins the extractor.
"""

import json
from pathlib import Path

import pytest

from midrl_bench.verify.extract import ROUTES, extract_answer
from midrl_bench.verify.math import MathChecker

T, F = True, False

ROWS = [
    # ---------------------------------------------------------------- Llama-3.x-Instruct
    ("5", "## Step 1: Set up\nLet x be the number.\n\n## Step 2: Solve\n2x = 10.\n\nThe final answer is: $\\boxed{5}$", T, T),  # Llama step format, boxed closing
    ("\\frac{1}{4}", "## Step 1: Count\nOne of four outcomes.\n\nThe final answer is: $\\boxed{0.25}$", T, T),  # decimal box equals fraction gold
    ("34", "Final Answer: The final answer is 34.", T, T),  # nested phrase: prose of the answer line is cut away
    ("34", "Answer: The answer is 34", T, T),  # "Answer:" line whose content is itself a phrase
    ("34", "We check all cases.\nAnswer: The largest $n$ is 34.", T, T),  # answer cut after the copula, not the $n$
    ("14916", "Thus the count is as computed. Final Answer: The final answer is $14{,}916$. I hope it is correct.", T, T),  # Minerva closing mid-line with {,} separator
    ("10455", "For the first part we get \\boxed{255}.\n\nAdding the second part, the total is larger.\n\nThe final answer is $10,455$", T, T),  # later phrase beats an earlier intermediate box
    ("255", "For the first part we get \\boxed{255}.\n\nAdding the second part, the total is larger.\n\nThe final answer is $10,455$", F, F),  # ... so the intermediate box is not the answer
    ("8", "## Step 1: Compute\n3 + 6 = 9.\n\nThe final answer is: $\\boxed{9}$", F, F),  # wrong boxed answer
    ("-3", "## Step 3: Solve for x\n$x = -3$\n\nThe final answer is: $\\boxed{-3}$", T, T),  # negative number
    ("12", "Adding them gives 12.\n\nThe answer is 12.", F, T),  # plain "The answer is": standard only
    ("12", "So the answer is $\\boxed{12}$.", T, T),  # phrase wrapping a box
    ("2\\sqrt{5}", "The final answer is $\\boxed{2\\sqrt{5}}$", T, T),  # radical
    ("18", "She earns $18 per day and $20 on weekends, so on weekdays:\n\nThe final answer is $\\$18$.", T, T),  # escaped dollar inside math; prose dollars are currency
    ("3.5", "Therefore, the final answer is: $\\boxed{\\frac{7}{2}}$", T, T),  # fraction box equals decimal gold
    ("7", "**Answer:** 7", T, T),  # bold answer label
    ("7", "**Final answer:** $7$", T, T),  # bold final answer label with math
    ("7", "The final answer is $\\boxed{7}$. I hope it is correct.", T, T),  # pleasantry after the box
    ("100", "The final answer is 100 meters.", T, T),  # unit word after the number
    ("100", "The final answer is: 100", T, T),  # colon after "is"
    ("4", "I hope it is correct that the answer is 4.", F, T),  # "answer is" inside a sentence: standard phrase
    ("x^2+1", "Answer: $x^2 + 1$", T, T),  # expression answer line
    ("\\text{Evelyn}", "Answer: Evelyn", T, T),  # text answer (MATH style)
    ("\\text{B}", "Comparing the choices, (A) fails.\n\nAnswer: B", T, T),  # letter choice
    ("\\text{(C)}", "The final answer is $\\text{(C)}$.", T, T),  # choice in \text
    ("11", "Answer: The number of divisors is 12.", F, F),  # wrong number cut from the answer line
    ("6", "Final Answer:\n6", T, T),  # answer on the line after the label
    ("6", "The final answer is:\n\n$$6$$", T, T),  # display answer after a blank line
    # ---------------------------------------------------------------- Qwen2.5-Math
    ("120", "There are $5! = 120$ orderings.\n\nThus, the number of ways is \\(\\boxed{120}\\).", T, T),  # \( \) delimiters
    ("2", "Therefore, the value of \\(x\\) is \\(\\boxed{2}\\).", T, T),  # variable mentioned before the box
    ("\\{1,2,3\\}", "The solutions are \\(\\boxed{1, 2, 3}\\).", T, T),  # list in one box vs set gold
    ("\\frac{\\sqrt{3}}{2}", "So we have\n\\[\n\\boxed{\\frac{\\sqrt{3}}{2}}\n\\]", T, T),  # display box
    ("\\{1,2,3\\}", "The roots are $\\boxed{1},\\boxed{2},\\boxed{3}$.", T, T),  # answer split over several boxes, joined
    ("(2,2),(6,2)", "The pairs are $\\boxed{(2,2)}$ and $\\boxed{(6,2)}$.", T, T),  # two tuple boxes joined by "and"
    ("-2, 1", "Hence $x = \\boxed{-2} \\text{ and } \\boxed{1}$.", T, T),  # \text{ and } between boxes
    ("1, -2", "Hence $x = \\boxed{-2} \\text{ or } x = \\boxed{1}$.", T, T),  # "or" plus a variable label; order free
    ("-2", "Hence $x = \\boxed{-2} \\text{ and } \\boxed{1}$.", F, F),  # one of two roots is not the answer
    ("1000", "The total is $\\boxed{1 000}$.", T, T),  # space thousands separator
    ("1000", "The total is $\\boxed{1\\,000}$.", T, T),  # LaTeX thin space separator
    ("1000", "The total is $\\boxed{1{,}000}$.", T, T),  # {,} separator
    ("1000", "The total is $\\boxed{1,000}$.", T, T),  # plain comma separator
    ("1000", "The total is $\\boxed{1\u2009000}$.", T, T),  # unicode thin space separator
    ("1000", "The total is $\\boxed{1,001}$.", F, F),  # separators do not hide a wrong number
    ("1234567", "The product is \\boxed{1,234,567}.", T, T),  # two separator groups
    ("10", "The side is \\boxed{10\\text{ cm}}.", T, T),  # \text unit after the number
    ("5", "It costs \\boxed{5 \\text{ dollars}}.", T, T),  # \text unit word
    ("5", "It costs \\boxed{\\text{5 dollars}}.", T, T),  # number and unit inside \text
    ("\\text{Monday}", "The day is \\boxed{\\text{Monday}}.", T, T),  # text answer in a box
    ("8", "The answer is \\(\\boxed{7}\\).", F, F),  # wrong boxed answer
    ("\\frac{1}{2}", "\\boxed{\\dfrac{1}{2}}", T, T),  # dfrac
    ("90", "The angle measures $\\boxed{90^\\circ}$.", T, T),  # degree sign
    ("50\\%", "The discount is $\\boxed{50\\%}$.", T, T),  # percent
    ("\\frac{1}{2}", "Half of them: $\\boxed{50\\%}$.", T, T),  # percent equals a fraction
    ("3.5", "\\boxed{3,5}", F, F),  # decimal comma is not guessed (read as a list)
    ("\\{3,5\\}", "\\boxed{3,5}", T, T),  # ... it is a list of two numbers
    ("5", "First \\boxed{4}, then on reflection \\boxed{5}.", T, T),  # prose between boxes: only the last counts
    ("4", "First \\boxed{4}, then on reflection \\boxed{5}.", F, F),  # ... earlier box does not count
    ("5", "\\boxed{5}\n\nSo \\boxed{5}.", T, T),  # same box repeated: one answer
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "The vector is $\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$.", T, T),  # matrix with \\ inside
    ("[2, 5)", "The solution set is \\boxed{[2, 5)}.", T, T),  # half-open interval
    ("x \\in [2, 5)", "The solution set is \\boxed{[2, 5)}.", T, T),  # gold with membership
    ("(-\\infty, 3]", "The range is $\\boxed{(-\\infty, 3]}$.", T, T),  # infinite interval
    ("\\sqrt{2}", "\\fbox{$\\sqrt{2}$}", T, T),  # fbox with inner math
    # ---------------------------------------------------------------- DeepSeek-R1 <think>
    ("4", "<think>\nMaybe \\boxed{3}? No, recount.\n</think>\n\nThe answer is \\boxed{4}.", T, T),  # box inside think ignored
    ("3", "<think>\nMaybe \\boxed{3}? No, recount.\n</think>\n\nThe answer is \\boxed{4}.", F, F),  # ... so its box is not the answer
    ("42", "<think>\nlong reasoning, 6 * 7\n</think>\n\n**Final Answer**\n\\[\n\\boxed{42}\n\\]", T, T),  # R1 bold heading + display box
    ("5", "<think>\nSo the answer is 5\n</think>", F, T),  # no text after think: think is read; plain phrase
    ("5", "<think>\nWe get 5.\n</think>\n\nThe total is $5$.", F, T),  # closing sentence with LaTeX, no marker
    ("7", "<think>\nFinal Answer: 7\n</think>\n\nAfter checking, I conclude it is 9.\n\n\\boxed{9}", F, F),  # answer inside think is ignored
    ("3", "<think>\nLet me try 1, 2, 3 and see which works", F, F),  # truncated in thought: no answer
    ("2", "<think>\nx+1=3 so x=2\n</think>\nThe solution is $x = 2$.", F, T),  # equation in closing sentence
    ("2", "<think>\n\\boxed{2}", T, T),  # unterminated think with a box and nothing else
    ("12", "<think>\n</think>\n\nFinal Answer: $12$", T, T),  # empty think then answer line
    ("\\frac{9}{4}", "<think>\nhmm 9/4\n</think>\n\n**Final Answer**\nThe area is $\\frac{9}{4}$.", T, T),  # bold heading, answer sentence
    ("\\frac{9}{4}", "<think>\nhmm 9/4\n</think>\n\n**Final Answer**\nThe area is $\\frac{9}{5}$.", F, F),  # ... wrong value
    ("17", "<think>\nOK.\n</think>\n\nThus the minimum is 17.", F, T),  # closing sentence, bare number
    ("17", "<think>\nOK.\n</think>\n\nThus the minimum is 17. Let me know if you need more details!", F, T),  # pleasantry skipped
    # ---------------------------------------------------------------- Minerva
    ("\\frac{2}{3}", "Solution: We divide.\nFinal Answer: The final answer is $\\frac{2}{3}$. I hope it is correct.", T, T),  # canonical Minerva
    ("(3,-1)", "Final Answer: The final answer is $(3,-1)$. I hope it is correct.", T, T),  # tuple
    ("34", "Final Answer: The final answer is 34. I hope it is correct.", T, T),  # bare number then pleasantry
    ("34", "So 34 works. Final Answer: The final answer is 35. I hope it is correct.", F, F),  # earlier prose number never counts
    ("\\text{(C)}", "Final Answer: The final answer is $\\text{(C)}$. I hope it is correct.", T, T),  # choice
    ("(x+2)(x+5)", "Final Answer: The final answer is $x^2+7x+10$. I hope it is correct.", T, T),  # expanded form equals factored
    ("0.5", "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.", T, T),  # fraction vs decimal gold
    ("16", "Final Answer: The final answer is $2^4$. I hope it is correct.", T, T),  # power evaluates
    ("1", "Final Answer: The final answer is $x=1$. I hope it is correct.", T, T),  # equation answer vs value gold
    ("x \\ge 5", "Final Answer: The final answer is $[5, \\infty)$. I hope it is correct.", T, T),  # interval vs inequality gold
    # ---------------------------------------------------------------- GSM8K ####
    ("72", "#### 72", T, T),  # bare hash line
    ("72", "Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72.\n#### 72", T, T),  # GSM8K solution style
    ("1800", "#### $1,800", T, T),  # currency and comma
    ("1800", "#### 1,800 dollars", T, T),  # unit word after the number
    ("18", "#### 18.00", T, T),  # trailing decimals
    ("18", "The answer is 18 dollars.\n#### 18", T, T),  # phrase then hash: hash is later
    ("5", "So she has 5 apples left. #### 5", T, T),  # inline hash
    ("5", "#### 5\n\nNote: the earlier draft had 6.", T, T),  # note after the hash line has no answer statement
    ("6", "#### 5\n\nNote: the earlier draft had 6.", F, F),  # ... and its number never counts
    ("18", "She makes 18 dollars per day.", F, T),  # a finished closing sentence: its number (standard)
    ("18", "She makes 9 * 2 = 18 dollars per day.", F, T),  # number after '=' in the closing sentence
    ("9", "She makes 9 * 2 = 18 dollars per day.", F, F),  # ... not the factor before it
    ("40", "Total = 15 + 25 = 40", F, T),  # unfinished-looking but concluding '=' sentence
    ("72", "48 + 24 = 72 clips in total.\n#### 72 clips", T, T),  # unit after hash number
    ("3", "#### 3\n#### 4", F, F),  # the last hash line counts
    ("4", "#### 3\n#### 4", T, T),  # ... so 4 is the answer
    # ---------------------------------------------------------------- multi-part answers
    ("(1, -2)", "So $x = \\boxed{1}$, $y = \\boxed{-2}$.", T, T),  # two variables boxed separately form a pair
    ("a=2, b=3", "Final Answer: $a = 2$, $b = 3$", T, T),  # several spans on the answer line joined
    ("\\{-3, 4\\}", "The solutions are $x=\\boxed{-3}$ and $x=\\boxed{4}$.", T, T),  # two labelled boxes
    ("(2, 3)", "The point is $(2, 3)$.\n\nThe final answer is $\\boxed{(2, 3)}$", T, T),  # tuple box
    ("\\{-3, 4\\}", "The roots are $-3$ and $4$.\n\nAnswer: $-3, 4$", T, T),  # list on the answer line
    ("\\{-3, 4\\}", "The roots are $-3$ and $4$.\n\nAnswer: $-3$ and $4$", T, T),  # two spans joined by "and"
    ("4", "(a) is \\boxed{3}.\n\nFor part (b), after more work, we find \\boxed{4}.", T, T),  # prose between part answers: last only
    ("1,2,3", "\\boxed{1} \\quad \\boxed{2} \\quad \\boxed{3}", T, T),  # boxes separated by \quad
    # ---------------------------------------------------------------- no answer / stray numbers
    ("12", "We try 12 apples and get 13. \\boxed{13}", F, F),  # stray body number never counts
    ("12", "I think it is 12.", F, F),  # hedged statement is not an answer
    ("12", "\\boxed{}", F, F),  # empty box
    ("12", "\\boxed{12", F, F),  # unclosed box, no other answer
    ("8", "We tried 8 and 9 so far.\nLet me think again about the case n = 8.", F, F),  # still working: hedge
    ("8", "Is the answer 8?", F, F),  # a question is not an answer
    ("8", "We compute 2 times 4 equals", F, F),  # truncated mid-expression
    ("8", "", F, F),  # empty response
    ("8", "Answer: Let us compute the value step by step first", F, F),  # answer label followed by prose
    ("12", "\\boxed{12}\n\nI verified that the answer is correct.", T, T),  # "answer is correct" is not an answer
    ("12", "\\boxed{12}\n\nTherefore the answer is as above.", T, T),  # "answer is as above" is not an answer
    # ---------------------------------------------------------------- standard-only closing sentences
    ("x \\ge 5", "Solving the inequality step by step.\n\nTherefore $x \\geq 5$ is the solution.", F, T),  # issue example
    ("[5,\\infty)", "Therefore $x \\geq 5$ is the solution.", F, T),  # inequality vs interval gold
    ("\\frac{\\pi}{4}", "The angle is therefore $\\frac{\\pi}{4}$.", F, T),  # LaTeX in closing sentence
    ("\\sqrt{2}", "Hence $|z| = \\sqrt{2}$. I hope this helps!", F, T),  # pleasantry then equation
    ("0", "Therefore the limit equals $0$", F, T),  # no final period but concluding
    ("25", "The area is $\\frac{25}{2}$ square units.", F, F),  # closing LaTeX is the answer, and it is wrong
    ("\\frac{25}{2}", "The area is $\\frac{25}{2}$ square units.", F, T),  # ... right gold
    ("34", "The largest $n$ is 34.", F, T),  # number after a math variable
    ("5", "$$x = 5$$", F, T),  # pure display math as the closing sentence
    ("7", "Solving $3x - 1 = 20$ gives $x = 7$.", F, T),  # last span of the closing sentence
    ("20", "Solving $3x - 1 = 20$ gives $x = 7$.", F, F),  # not an earlier span
    ("6", "Each of the 3 boxes has 2 balls, so there are 6 balls.", F, T),  # last number of a plain closing sentence
    ("3", "Each of the 3 boxes has 2 balls, so there are 6 balls.", F, F),  # ... not an earlier one
    ("6", "There are 6 balls.\n\nWait, maybe there are 7.", F, F),  # hedged closing sentence
    ("5", "\\boxed{5}\n\nLet me double-check: 2 + 3 = 5. Yes.", T, T),  # verification after the box does not replace it
    # ---------------------------------------------------------------- shapes found by scoring math-verify's own peer tables
    ("3", "So Sphere began 3 hours ago.\nFinal Answer: Jane started growing Sphere 3 hours ago. I hope it is correct.", T, T),  # answer line in prose with one number
    ("3", "Final Answer: Sphere began 3 hours ago, Rod 8 hours ago.", F, F),  # ... two numbers: the line does not say which
    ("2/3", "Therefore, the probability that Alice wins the game is 2/3. <|im_start|>user", F, T),  # text after an end-of-turn token is not the answer
    ("2/3", "The final answer is $\\frac{2}{3}$.<|im_end|>\n<|im_start|>user\nWhat is 1/3 + 1/3?", T, T),  # chat template leaked past the turn
    ("(7,6)", "Now, let's solve for $y$: $y = 8.8 - 2.8 = 6$ So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$.", F, T),  # run-on sentence: an early "let's" is not a hedge on the result
    ("\\frac{10}{9}", "\\frac{10}{9}", F, T),  # a bare LaTeX reply without delimiters
    ("28\\%", "28 percent", F, T),  # percent written as a word
    ("28\\%", "28 pct", F, T),  # abbreviated
    ("(3, 3), (1, 1)", "$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$", T, T),  # short \text between boxes joins the parts
    ("12", "It is 12", F, T),  # a one-line reply that states a number
    # ---------------------------------------------------------------- GSM8K solution lines without a #### line
    ("65", "He gave away 3*20=<<3*20=60>>60 marbles.\nIf he kept five, he first had 60+5=<<60+5=65>>65 marbles.", F, T),  # "If" is a condition, not a hedge
    ("9", "There are 45 muffins left.\nThus, 45/5 = <<45/5=9>>9 boxes are needed for all 45 muffins.", F, T),  # the number after '=' beats later ones
    ("7", "So 16 minutes after 5:51 AM is 6:07 AM.\nThus, 6:07 AM is 7 minutes after 6:00 AM.", F, T),  # clock times are not numbers to extract
    ("3", "The film lasts 2.5*60=<<2.5*60=150>>150 minutes\nSo he takes a break 150/50=<<150/50=3>>3 times", F, T),  # "times" as a count, lines without periods
    ("18", "The chicken costs $4 x 3 = $12.\nSo, the chicken and the pork cost $12 + $6 = $18.", F, T),  # dollar signs as currency around operators
    ("3", "She saves $30 - $10 = $20 a week.\nThe number of weeks she has to wait is 60 / 20 = 3 weeks.", F, T),  # "wait" as a verb is not a hedge
    # ---------------------------------------------------------------- punctuation that is mathematics
    ("120", "\\boxed{5!}", T, T),  # factorial in a box keeps its "!"
    ("120", "Answer: $5!$", T, T),  # factorial in math on an answer line
    ("120", "Answer: 120!", T, T),  # a prose exclamation after the answer is not a factorial
]


@pytest.fixture(scope="module")
def checker():
    with MathChecker(workers=2, timeout_s=20.0) as pool:
        yield pool


def test_table_is_large_and_covers_both_policies():
    assert len(ROWS) >= 120
    assert any(s != d for _, _, s, d in ROWS)  # some rows tell the policies apart


@pytest.mark.parametrize("policy", ["strict", "standard"])
def test_extraction_table(checker, policy):
    verdicts = checker.check_many([(gold, response) for gold, response, _, _ in ROWS], policy=policy)
    wrong = [(i, row[0], row[1][-70:], v) for i, (row, v) in enumerate(zip(ROWS, verdicts, strict=True))
             if v.correct is not (row[2] if policy == "strict" else row[3])]
    assert not wrong, "\n".join(map(repr, wrong))
    assert all(v.route in ROUTES for v in verdicts)


def test_strict_never_uses_last_expression():
    for _, response, _, _ in ROWS:
        assert extract_answer(response, "strict").route != "last_expression"


HELDOUT = Path(__file__).parent / "data" / "extraction_heldout.jsonl"
HELDOUT_FLOOR = 0.9  # the held-out split is measured, not tuned on: agreement must stay at or above this


@pytest.mark.parametrize("policy", ["strict", "standard"])
def test_heldout_agreement(checker, policy):
    rows = [json.loads(line) for line in HELDOUT.read_text().splitlines()]
    verdicts = checker.check_many([(r["gold"], r["response"]) for r in rows], policy=policy)
    agreement = sum(v.correct is r[policy] for r, v in zip(rows, verdicts, strict=True)) / len(rows)
    assert len(rows) >= 30 and agreement >= HELDOUT_FLOOR, f"{policy}: held-out agreement {agreement:.1%}"


N = 100_000
ADVERSARIAL = [
    ("\\boxed{" * (N // 7), "unclosed boxes: brace matching is one pass, not one scan per box"),
    ("\\boxed{\\fbox{" * (N // 13), "nested unclosed boxes of both kinds"),
    ("\\(" * (N // 2), "math openers that never close"),
    ("$" * N, "a run of dollar signs"),
    ("$5 per day and " * (N // 15), "currency dollars that look like math openers"),
    ("the answer is " * (N // 14), "thousands of answer phrases without an answer"),
    ("Answer: " * (N // 8), "thousands of answer labels"),
    ("\\boxed{1}, " * (N // 11), "thousands of joinable boxes"),
    ("9" * N, "one huge number"),
    ("1 000 " * (N // 6), "thousands-separator look-alikes"),
    ("{" * N + "}" * N, "deep braces"),
    ("\\boxed{" + "$" * N + "a}", "a box whose content is mostly wrappers"),
]


@pytest.mark.parametrize(("text", "why"), ADVERSARIAL, ids=[why for _, why in ADVERSARIAL])
def test_extraction_is_bounded_on_adversarial_text(text, why):
    import time

    for policy in ("strict", "standard"):
        started = time.perf_counter()
        found = extract_answer(text, policy)  # in-process: no worker timeout to hide a slow path
        assert found.route in ROUTES
        assert time.perf_counter() - started < 3.0, f"{why} took too long under {policy}"
