"""The pack's prompts: one definition each, zero-shot.

Changing any text here moves scores: bump `version` of the affected tasks in `registry.py` and their YAML
`metadata.version`, and add a changelog line to `pack/README.md`.
"""

from __future__ import annotations

from midrl_bench.verify.choice import LETTERS

MATH_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def math_prompt(problem: str) -> str:
    return f"{problem.strip()}\n\n{MATH_INSTRUCTION}"


def musr_prompt(narrative: str, question: str, choices: list[str]) -> str:
    options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices))
    return (
        f"{narrative.strip()}\n\n{question.strip()}\n\n{options}\n\n"
        "Think step by step about the story, then give your final answer on its own line in the form "
        "\"Answer: <letter>\"."
    )
