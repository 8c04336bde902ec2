"""Rewards by name: the registry, each reward's own table, option validation, and the recipe field."""

import pytest

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.spec import spec_from_dict
from midrl_bench.rewards import REWARDS, get_reward, known_rewards
from midrl_bench.rewards.math_length_penalty import Options, length_penalty


def test_every_registered_reward_loads_and_names_itself():
    assert {"math_correctness", "math_format", "math_length_penalty"} <= set(known_rewards())
    assert known_rewards() == sorted(REWARDS)
    for name in ("math_correctness", "math_format", "math_length_penalty"):  # usable without options
        assert get_reward(name).name == name


def test_unknown_reward_lists_the_known_ones():
    with pytest.raises(ConfigError) as error:
        get_reward("math_corectness")
    assert str(error.value) == f"rl.reward: unknown reward 'math_corectness'; known: {sorted(REWARDS)}"
    assert "'math_correctness', 'math_format', 'math_length_penalty'" in str(error.value)


def test_recipe_rejects_unknown_reward_and_bad_options():
    base = {"name": "t", "model": {"id_or_path": "m"}, "midtrain": {"dataset": "d"}}
    with pytest.raises(ConfigError, match="rl.reward: unknown reward 'f1'"):
        spec_from_dict({**base, "rl": {"prompts": "p", "steps": 1, "reward": "f1"}})
    with pytest.raises(ConfigError, match="rl.reward_options.*max_char"):  # misspelt option key
        spec_from_dict({**base, "rl": {"prompts": "p", "steps": 1, "reward": "math_length_penalty",
                                       "reward_options": {"max_char": 10}}})
    with pytest.raises(ConfigError, match="ramp_chars <= max_chars"):
        spec_from_dict({**base, "rl": {"prompts": "p", "steps": 1, "reward": "math_length_penalty",
                                       "reward_options": {"max_chars": 10, "ramp_chars": 20}}})
    spec = spec_from_dict({**base, "rl": {"prompts": "p", "steps": 1, "reward": "math_format"}})
    assert spec.rl.reward == "math_format"


# (response, expected format reward)
FORMAT_CASES = [
    ("so \\boxed{5}", 1.0),  # a boxed answer, even a wrong one, has the asked-for format
    ("the answer is 5", 0.0),  # no box
    ("\\boxed{}", 0.0),  # empty box
    ("\\boxed{5", 0.0),  # unclosed box
    ("Answer: 5", 0.0),  # an answer line is not the format the prompt asks for
    ("\\boxed{\\frac{1}{2}}", 1.0),  # nested braces
]


def test_format_reward_table():
    batch = get_reward("math_format").score([r for r, _ in FORMAT_CASES], ["4"] * len(FORMAT_CASES))
    assert batch.scores == [expected for _, expected in FORMAT_CASES]
    assert batch.unjudged == [False] * len(FORMAT_CASES)


# (length in characters, expected penalty) with max_chars 100, ramp_chars 40, weight 0.5
PENALTY_CASES = [
    (0, 0.0),  # empty response: no penalty
    (60, 0.0),  # exactly at the start of the ramp
    (80, -0.25),  # half-way up the ramp
    (100, -0.5),  # at the budget: the full penalty
    (101, -0.5),  # over the budget
]


@pytest.mark.parametrize("length, expected", PENALTY_CASES)
def test_length_penalty_shape(length, expected):
    assert length_penalty(length, Options(max_chars=100, ramp_chars=40, weight=0.5)) == pytest.approx(expected)


def test_length_penalised_correctness_combines_checker_and_length():
    reward = get_reward("math_length_penalty", {"max_chars": 40, "ramp_chars": 20})
    responses = ["\\boxed{4}", "x" * 21 + "\\boxed{4}", "x" * 21 + "\\boxed{5}", "\\boxed{7}"]
    batch = reward.score(responses, ["4", "4", "4", ""])
    assert batch.scores == [1.0, 0.5, -0.5, 0.0]  # correct, correct but long, wrong and long, unjudged
    assert batch.unjudged == [False, False, False, True]


def test_reward_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 responses but 1 gold answers"):
        get_reward("math_format").score(["a", "b"], ["1"])


def test_require_checker_puts_the_side_directory_first_for_workers_only(tmp_path, monkeypatch):
    from midrl_bench.rewards.shims import CHECKER_PATH_ENV, require_checker
    from midrl_bench.verify.selftest import CheckerSetupError

    monkeypatch.setenv(CHECKER_PATH_ENV, str(tmp_path / "missing"))
    with pytest.raises(CheckerSetupError, match="MIDRL_CHECKER_PYTHONPATH=.*missing: not a directory"):
        require_checker()
    monkeypatch.setenv(CHECKER_PATH_ENV, str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", "/already/there")
    require_checker()  # this environment's parser is sound: the self-test pairs judge as expected
    import os

    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(tmp_path), "/already/there"]
    require_checker()  # idempotent: not prepended twice
    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(tmp_path), "/already/there"]
