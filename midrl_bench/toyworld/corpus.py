"""The tiny model's pre-training corpus: mostly the default strategy, a share of strategy-tagged traces.

Shares are `pretrain.*_share` of the toy config; the two worlds differ in them:
- classic: default 0.50, tagged 0.45 (any strategy on any problem), combined (solve-and-check) 0.05;
- gated: default 0.45, tagged 0.45 with `matched_tags` (on a gated sub-type the tag names the strategy it needs,
  so each alternative is seen on its own sub-type at least as often as the default), alternative 0.10 (untagged
  problems solved with a random non-default strategy: the base model's small mass on the alternatives) and no
  solve-and-check traces. Composite problems appear only with one strategy throughout.

Prompts are the project's own, so nothing is special-cased for the toy:
- untagged: the bare problem as the user turn (the form of built mid-training rows), the pack's math prompt (the
  form of RL prompts and of `midrl_toy`), or the builder's untargeted (STaR) prompt; all answered with the default
  strategy;
- tagged: the builder's heuristic prompt (`build.prompts.heuristic_messages`, zero exemplars) for one strategy,
  answered with that strategy's trace — the tag plays the role of heuristic-guided few-shot prompting;
- combined: the bare problem answered with one strategy and checked with another (composition in the base model);
- alternative: an untagged prompt answered with a non-default strategy.
"""

from __future__ import annotations

import random

from midrl_bench.toyworld.problems import Problem
from midrl_bench.toyworld.traces import DEFAULT_STRATEGY, MATCHING, combined_trace, write_trace

# Prompt forms of untagged examples and their shares: bare problem, pack math prompt, builder untargeted prompt.
UNTAGGED_FORMS = (("bare", 0.4), ("math", 0.4), ("untargeted", 0.2))


def bare_messages(problem: Problem) -> list[dict[str, str]]:
    from midrl_bench.builder.prompts import training_messages

    return training_messages(problem.text, "")[:1]


def math_messages(problem: Problem) -> list[dict[str, str]]:
    from midrl_bench.tasks.prompts import math_prompt

    return [{"role": "user", "content": math_prompt(problem.text)}]


def untagged_messages(problem: Problem, form: str) -> list[dict[str, str]]:
    from midrl_bench.builder.prompts import untargeted_messages

    if form == "bare":
        return bare_messages(problem)
    if form == "math":
        return math_messages(problem)
    if form == "untargeted":
        return untargeted_messages(problem.text)
    raise ValueError(f"unknown untagged prompt form {form!r}")


def tagged_messages(problem: Problem, heuristic) -> list[dict[str, str]]:
    from midrl_bench.builder.prompts import heuristic_messages

    return heuristic_messages(heuristic, problem.text, exemplars=0)


def pretraining_examples(problems: list[Problem], library, pretrain, count: int) -> list[dict]:
    """`count` conversational prompt/completion examples, cycling through `problems`; deterministic in the seed."""
    rng = random.Random(f"toy-pretrain-{pretrain.seed}")
    strategies = list(library.ids)
    alternatives = [s for s in strategies if s != DEFAULT_STRATEGY]
    examples = []
    for index in range(count):
        problem = problems[index % len(problems)]
        draw = rng.random()
        if draw < pretrain.default_share:
            prompt = untagged_messages(problem, _untagged_form(rng))
            solution, kind = write_trace(problem, DEFAULT_STRATEGY), "default"
        elif draw < pretrain.default_share + pretrain.tagged_share:
            strategy = _tag(rng, problem, strategies, pretrain.matched_tags)
            prompt = tagged_messages(problem, library.get(strategy))
            solution, kind = write_trace(problem, strategy), f"tagged:{strategy}"
        elif draw < pretrain.default_share + pretrain.tagged_share + pretrain.alternative_share:
            strategy = rng.choice(alternatives)
            prompt = untagged_messages(problem, _untagged_form(rng))
            solution, kind = write_trace(problem, strategy), f"alternative:{strategy}"
        else:
            first, second = rng.sample(strategies, 2)
            form = rng.choice(["bare", "math"])
            prompt, solution, kind = untagged_messages(problem, form), combined_trace(problem, first, second), "combined"
        examples.append({"prompt": prompt, "completion": [{"role": "assistant", "content": solution}],
                         "kind": kind})
    return examples


def _untagged_form(rng: random.Random) -> str:
    return rng.choices([f for f, _ in UNTAGGED_FORMS], [w for _, w in UNTAGGED_FORMS])[0]


def _tag(rng: random.Random, problem: Problem, strategies: list[str], matched: bool) -> str:
    """The strategy a tagged example names: the one its gated sub-type needs (`matched`), else any."""
    if matched and problem.family in MATCHING:
        return MATCHING[problem.family]
    return rng.choice(strategies)


def tokenizer_texts(problems: list[Problem], library) -> list[str]:
    """Texts the BPE is trained on: every strategy's trace and prompt text, prompts repeated so their words merge."""
    from midrl_bench.builder.prompts import heuristic_system_prompt, untargeted_messages
    from midrl_bench.tasks.prompts import MATH_INSTRUCTION

    texts = []
    for problem in problems:
        texts.append(problem.text)
        texts.extend(write_trace(problem, strategy) for strategy in library.ids)
    repeats = max(1, len(problems) // 10)
    system_prompts = [heuristic_system_prompt(h) for h in library] + [untargeted_messages("")[0]["content"], MATH_INSTRUCTION]
    return texts + system_prompts * repeats
