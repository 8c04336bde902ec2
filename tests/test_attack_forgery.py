"""Forged HumanEval passes: submitted code that tries to turn a failure into a pass must fail, and honest code whose
outputs differ from the canonical ones in ways the problem's asserts allow must still pass (issue 12, item 1)."""

from __future__ import annotations

import pytest

from midrl_bench.sources.humaneval import packaged_rows
from midrl_bench.tasks.code_cases import replay
from midrl_bench.tasks.code_scoring import judge_responses, recorded_cases
from midrl_bench.verify.plain_data import plain_codec


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {doc["id"]: doc for doc in packaged_rows()}


ALWAYS_EQUAL = "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n    def __lt__(self, o):\n" \
               "        return True\n    def __sub__(self, o):\n        return self\n    def __abs__(self):\n" \
               "        return self\n"

# HumanEval/2 truncate_number(number) -> the decimal part; its asserts are `abs(candidate(x) - y) < 1e-6`.
FORGERIES = [
    # (name, response) -- every one of these passed the old self-checking program or is a known trick; all must fail
    ("eq_always_true", f"```python\n{ALWAYS_EQUAL}\ndef truncate_number(number):\n    return AlwaysEqual()\n```"),
    # the classic: an object whose __eq__ (and here __sub__/__abs__/__lt__) make every assert hold
    ("int_subclass", "```python\nclass I(float):\n    def __sub__(self, o):\n        return 0.0\n"
                     "def truncate_number(number):\n    return I(7)\n```"),  # a float subclass: not plain data
    ("read_own_file_nonce", "    import os, re, sys\n    text = open(sys.argv[0]).read()\n"
                            "    for nonce in re.findall(r\"b'([0-9a-f]{32})'\", text):\n"
                            "        os.write(3, nonce.encode())\n    os._exit(0)\n"),  # the old finish-marker attack
    ("early_exit_zero", "    import os\n    os._exit(0)\n"),  # exits "successfully" before any result is written
    ("sys_exit_in_call", "    raise SystemExit(0)\n"),  # SystemExit raised by the function is a raised case
    ("forged_channel", "    import os\n    os.write(3, b'[[\"ok\", 0.5]]' * 3)\n    return 0.5\n"),  # writes a
    # fake result list on the channel; with the runner's own output it is no longer one valid document
    ("patch_assertion_error", "```python\nimport builtins\nbuiltins.AssertionError = type('X', (Exception,), {})\n"
                              "def truncate_number(number):\n    return 0.0\n```"),  # patching builtins in the
    # sandbox cannot reach the asserts, which run in the judging process
    ("redefine_check", "```python\ndef check(candidate):\n    pass\ndef truncate_number(number):\n    return 0.0\n```"),
    # defining its own check(): the candidate's program contains no test to replace
    ("patch_json_dumps", "```python\nimport json\njson.dumps = lambda *a, **k: '[[\"ok\", 0.5]]'\n"
                         "def truncate_number(number):\n    return 0.0\n```"),  # forged encoder: wrong answers stay wrong
    ("nested_always_equal", f"```python\n{ALWAYS_EQUAL}\ndef truncate_number(number):\n    return [AlwaysEqual()]\n```"),
    # the object hidden inside a list
    ("nan_result", "    return float('nan')\n"),  # NaN makes `abs(nan - y) < 1e-6` false, as in Python
    ("deep_nesting", "    x = []\n    for _ in range(10000):\n        x = [x]\n    return x\n"),  # too deep to encode
]


@pytest.mark.parametrize(("name", "response"), FORGERIES, ids=[name for name, _ in FORGERIES])
def test_forged_pass_is_a_failure(docs, name, response):
    (verdict,) = judge_responses(docs["HumanEval/2"], [response])
    assert verdict.verdict is False, verdict


MAD = "    mean = sum(numbers) / len(numbers)\n    return sum(abs(x - mean) for x in numbers) / len(numbers) + {error}\n"
def test_unserialisable_result_is_a_failure_with_a_reason(docs):
    (verdict,) = judge_responses(docs["HumanEval/2"], [FORGERIES[0][1]])
    assert verdict.verdict is False
    assert verdict.reason == "case 1: a __main__.AlwaysEqual object is not plain data"


HONEST = [
    # (problem, response, verdict) -- outputs judged by each problem's own asserts, not by identity with the canonical
    ("HumanEval/4", MAD.format(error="1e-9"), True),  # within the asserts' 1e-6 tolerance
    ("HumanEval/4", MAD.format(error="1e-3"), False),  # outside it
    ("HumanEval/32", "    lo, hi = -1e6, 1e6\n    f = lambda x: poly(xs, x)\n    for _ in range(200):\n"
                     "        mid = (lo + hi) / 2\n        lo, hi = (lo, mid) if f(lo) * f(mid) <= 0 else (mid, hi)\n"
                     "    return (lo + hi) / 2\n", True),  # find_zero by bisection: another root than the canonical
    # one, accepted because the test checks |poly(xs, root)| < 1e-4
    ("HumanEval/52", "    return 1 if all(x < t for x in l) else 0\n", True),  # `assert candidate(...)` is
    # truthiness: 1/0 pass exactly as they would in Python
    ("HumanEval/72", "    return 1 if q == q[::-1] and sum(q) <= w else 0\n", False),  # `is True` rejects 1
    ("HumanEval/53", "    return x + y\n", True),  # the random-input loop replays the same seeded inputs
    ("HumanEval/53", "    return x + y if x < 900 else 0\n", False),  # wrong on some of the random inputs
    ("HumanEval/55", "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n", True),  # recursion by name
]


@pytest.mark.parametrize(("problem", "response", "expected"), HONEST)
def test_outputs_are_judged_by_the_problems_own_asserts(docs, problem, response, expected):
    (verdict,) = judge_responses(docs[problem], [response])
    assert verdict.verdict is expected, verdict


def test_replay_refuses_arguments_that_were_not_recorded(docs):
    # A test whose later inputs depend on earlier outputs cannot be judged from recorded inputs: None, not a guess.
    doc = dict(docs["HumanEval/53"], test="def check(candidate):\n    assert candidate(candidate(1, 2), 0) == 3\n",
               id="nested-call")
    (cases,) = recorded_cases([doc])
    outcomes = [("ok", 4), ("ok", 4)]  # a wrong first output makes the second call's argument unrecorded
    verdict, reason = replay(doc, cases, outcomes)
    assert verdict is None and "not recorded" in reason


PLAIN = [
    # (value, round-trips) -- the codec's exact-type rule
    ((1, [2.5, "x"], {"k": {3}}, frozenset({b"a"}), 1 + 2j, None, True), True),  # every supported type
    (float("inf"), True),  # non-finite floats are tagged, never bare Infinity
    (type("S", (str,), {})("x"), False),  # a str subclass is refused
    (object(), False),  # an arbitrary object is refused
]


@pytest.mark.parametrize(("value", "plain"), PLAIN)
def test_plain_data_codec_accepts_exact_builtins_only(value, plain):
    codec = plain_codec()
    if plain:
        assert codec["loads"](codec["dumps"](value)) == value
    else:
        with pytest.raises(codec["Unplain"]):
            codec["dumps"](value)


BAD_CHANNEL = [
    # (text, what is wrong) -- the strict decoder's refusals
    ('[NaN]', "bare NaN"),  # JSON extension constants are refused
    ('{"eq": 1}', "unknown object"),  # an untagged object
    ('{"set": [[1]]}', "TypeError"),  # an unhashable set member
    ("[" * 5000 + "]" * 5000, "RecursionError"),  # deep nesting
]


@pytest.mark.parametrize(("text", "why"), BAD_CHANNEL)
def test_strict_decoder_refuses_malformed_channels(text, why):
    codec = plain_codec()
    with pytest.raises(codec["PlainDataError"], match=why):
        codec["loads"](text)
