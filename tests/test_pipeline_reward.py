"""The RL reward through each trainer's shim: the TRL reward function, the OpenRLHF reward file (loaded and called
by OpenRLHF's own executor) and, in tests/test_verl_validation.py, the verl compute_score file (through verl's own
reward loading path) must all give the rewards of the one shared table (tests/_reward_table.py)."""

import asyncio

import pytest
from _reward_table import ANSWERS, CASES, COMPLETIONS, EXPECTED, UNJUDGED

from midrl_bench.rewards import REWARD_STATS, get_reward
from midrl_bench.rewards.shims import (
    response_from_query,
    trl_reward_function,
    verl_compute_score,
    write_reward_file,
)


def test_correctness_reward_table():
    before = REWARD_STATS.as_dict()
    batch = get_reward("math_correctness").score(COMPLETIONS, ANSWERS)
    assert batch.scores == EXPECTED
    assert batch.unjudged == UNJUDGED
    after = REWARD_STATS.as_dict()
    assert after["scored"] - before["scored"] == len(CASES)
    assert after["unjudged"] - before["unjudged"] == sum(UNJUDGED)  # None counted, not hidden


def test_trl_shim_reads_answer_column_and_logs_unjudged_rate():
    logged = {}
    trl_reward = trl_reward_function("math_correctness")
    assert trl_reward.__name__ == "math_correctness"  # TRL logs rewards/<function name>
    completions = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]  # conversational format
    scores = trl_reward(prompts=[[{"role": "user", "content": "q"}]] * len(CASES), completions=completions,
                        answer=ANSWERS, log_metric=logged.__setitem__)
    assert scores == EXPECTED
    assert logged["reward/unjudged_rate"] == pytest.approx(sum(UNJUDGED) / len(CASES))
    with pytest.raises(KeyError, match="answer"):
        trl_reward(prompts=["q"], completions=["\\boxed{1}"])  # the dataset lost its answer column


def _openrlhf_scores(reward_file, prompt, completions, answers, suffix):
    """Load the reward file with OpenRLHF's SingleTurnAgentExecutor and call it through its own chunked caller."""
    import torch
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    executor = SingleTurnAgentExecutor(remote_rm_url=str(reward_file))
    assert executor.reward_func is not None  # OpenRLHF recognised the .py convention
    queries = [prompt + completion + suffix for completion in completions]
    infos = asyncio.run(executor._fetch_rewards_via_func(queries, [prompt] * len(queries), list(answers)))
    # OpenRLHF then stores each sample's reward as torch.tensor([reward]) (samples_generator.py)
    return [torch.tensor([info["rewards"]]).flatten().item() for info in infos], infos


def test_openrlhf_reward_file_scores_like_trl_and_verl(tmp_path):
    from midrl_bench.pipeline.tiny import build_tokenizer
    from midrl_bench.tasks.prompts import math_prompt

    tokenizer = build_tokenizer()
    # the prompt carries the instruction "...within \boxed{}", which must never be read as the answer
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": math_prompt("What is 2 + 2?")}],
                                           tokenize=False, add_generation_prompt=True)
    reward_file = write_reward_file(tmp_path / "reward_func.py", "openrlhf", "math_correctness")
    scores, infos = _openrlhf_scores(reward_file, prompt, COMPLETIONS, ANSWERS, tokenizer.eos_token)
    trl_scores = trl_reward_function()(prompts=[prompt] * len(CASES), completions=COMPLETIONS, answer=ANSWERS)
    compute_score = verl_compute_score("math_correctness")  # the in-process form of verl's file
    verl_scores = [compute_score("midrl/test", completion, gold)["score"] for completion, gold in zip(
        COMPLETIONS, ANSWERS, strict=True)]
    assert scores == trl_scores == verl_scores == EXPECTED
    unjudged = [info["extra_logs"]["unjudged"].item() for info in infos]
    assert unjudged == [float(flag) for flag in UNJUDGED]


def test_reward_file_honours_the_recipe_reward_and_options(tmp_path):
    """OpenRLHF's loader gets the named reward with its options, not the default correctness reward."""
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    path = write_reward_file(tmp_path / "r.py", "openrlhf", "math_length_penalty",
                             {"max_chars": 40, "ramp_chars": 20, "weight": 1.0})
    executor = SingleTurnAgentExecutor(remote_rm_url=str(path))
    completions = ["\\boxed{4}", "x" * 21 + "\\boxed{4}", "x" * 40 + "\\boxed{4}"]  # in budget, mid-ramp, over
    infos = asyncio.run(executor._fetch_rewards_via_func(completions, [""] * 3, ["4"] * 3))
    assert [float(info["rewards"]) for info in infos] == [1.0, 0.5, 0.0]


def test_write_reward_file_rejects_unknown_reward(tmp_path):
    with pytest.raises(ValueError, match=r"unknown reward 'nope'; known: \['math_correctness'"):
        write_reward_file(tmp_path / "r.py", "verl", "nope")
    assert not (tmp_path / "r.py").exists()


# (query, prompt, expected response)
QUERY_CASES = [
    ("P: put it in \\boxed{}\nA: \\boxed{3}", "P: put it in \\boxed{}\nA: ", "\\boxed{3}"),  # usual: query = prompt + response
    ("P:  put it in \\boxed{}\nA: \\boxed{3}", "P: put it in \\boxed{}\nA:", " \\boxed{3}"),  # decode changed spacing: cut after the prompt's last line
    ("\\boxed{3}", "unrelated prompt", "\\boxed{3}"),  # prompt not found: the whole query is the response
    ("P: A: Answer: 12<|eot_id|>", "P: A: ", "Answer: 12"),  # Llama 3 end-of-turn marker removed
    ("P: A: \\boxed{1}</s>", "P: A: ", "\\boxed{1}"),  # Mistral/Llama 2 end of sequence removed
]


@pytest.mark.parametrize("query, prompt, expected", QUERY_CASES)
def test_response_from_query(query, prompt, expected):
    assert response_from_query(query, prompt) == expected
