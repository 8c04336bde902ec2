"""The RL reward and its two shims: the TRL function and the OpenRLHF reward file (called through OpenRLHF's own
loader and calling code) must score every case identically."""

import asyncio

import pytest

from midrl_bench.pipeline import reward
from midrl_bench.pipeline.reward import (
    correctness_rewards,
    response_from_query,
    trl_reward,
    write_openrlhf_reward_file,
)

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
]


def test_correctness_rewards_table():
    before = reward.REWARD_STATS.as_dict()
    scores = correctness_rewards([c for c, *_ in CASES], [g for _, g, *_ in CASES])
    assert scores == [expected for _, _, expected, _ in CASES]
    after = reward.REWARD_STATS.as_dict()
    assert after["scored"] - before["scored"] == len(CASES)
    assert after["unjudged"] - before["unjudged"] == sum(v is None for *_, v in CASES)  # None counted, not hidden


def test_trl_shim_reads_answer_column_and_logs_unjudged_rate():
    logged = {}
    completions = [[{"role": "assistant", "content": c}] for c, *_ in CASES]  # conversational format
    scores = trl_reward(prompts=[[{"role": "user", "content": "q"}]] * len(CASES), completions=completions,
                        answer=[g for _, g, *_ in CASES], log_metric=logged.__setitem__)
    assert scores == [expected for _, _, expected, _ in CASES]
    assert logged["reward/unjudged_rate"] == pytest.approx(2 / len(CASES))
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


def test_openrlhf_reward_file_scores_like_trl(tmp_path):
    from midrl_bench.pipeline.tiny import build_tokenizer
    from midrl_bench.tasks.prompts import math_prompt

    tokenizer = build_tokenizer()
    # the prompt carries the instruction "...within \boxed{}", which must never be read as the answer
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": math_prompt("What is 2 + 2?")}],
                                           tokenize=False, add_generation_prompt=True)
    reward_file = write_openrlhf_reward_file(tmp_path / "reward_func.py")
    completions, answers = [c for c, *_ in CASES], [g for _, g, *_ in CASES]
    scores, infos = _openrlhf_scores(reward_file, prompt, completions, answers, tokenizer.eos_token)
    trl_scores = trl_reward(prompts=[prompt] * len(CASES), completions=completions, answer=answers)
    assert scores == trl_scores == [expected for _, _, expected, _ in CASES]
    unjudged = [info["extra_logs"]["unjudged"].item() for info in infos]
    assert unjudged == [float(v is None) for *_, v in CASES]


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
