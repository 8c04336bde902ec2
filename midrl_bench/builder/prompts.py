"""The one definition of the builder's generation prompts.

Heuristic-guided generation (the paper's D_Pólya): a system message naming the heuristic and carrying its
instruction, then the heuristic's few-shot exemplars as alternating user/assistant turns, then the problem.
Untargeted generation (the STaR baseline): the same answer-format instruction with no heuristic and no exemplars.
The built rows themselves carry only the plain problem as the user turn (`training_messages`): the heuristic
prompt is scaffolding for generation, not part of what is mid-trained on.

>>> untargeted_messages("What is 2+3?")[0]["content"].startswith("You are a careful")
True
"""

from __future__ import annotations

from typing import Any

ANSWER_FORMAT = "Reason step by step and put the final answer in \\boxed{} at the end of your solution."
SYSTEM_BASE = "You are a careful mathematician who writes clear, complete solutions."


def heuristic_system_prompt(heuristic: Any) -> str:
    return (f"{SYSTEM_BASE}\n\nSolve the problem with this heuristic: {heuristic.name}.\n"
            f"{heuristic.instruction.strip()}\n\nMake the heuristic visible in your reasoning. {ANSWER_FORMAT}")


def heuristic_messages(heuristic: Any, problem: str, exemplars: int) -> list[dict[str, str]]:
    """Chat messages that ask for a solution of `problem` following `heuristic`, with `exemplars` few-shot turns."""
    messages = [{"role": "system", "content": heuristic_system_prompt(heuristic)}]
    for exemplar in list(heuristic.exemplars)[:exemplars]:
        messages.append({"role": "user", "content": exemplar.problem.strip()})
        messages.append({"role": "assistant", "content": exemplar.solution.strip()})
    messages.append({"role": "user", "content": problem.strip()})
    return messages


def untargeted_messages(problem: str) -> list[dict[str, str]]:
    """Chat messages for an untargeted solution (no heuristic): the STaR baseline's generation prompt."""
    return [{"role": "system", "content": f"{SYSTEM_BASE} {ANSWER_FORMAT}"},
            {"role": "user", "content": problem.strip()}]


def training_messages(problem: str, solution: str) -> list[dict[str, str]]:
    """The conversational form of a built row: the problem as the user turn, the solution as the assistant turn."""
    return [{"role": "user", "content": problem.strip()}, {"role": "assistant", "content": solution}]


def adherence_query(heuristic: Any, problem: str) -> str:
    """What the reward model sees as the user turn: the heuristic's instruction followed by the problem."""
    return f"Solve the problem with this heuristic: {heuristic.name}.\n{heuristic.instruction.strip()}\n\n{problem.strip()}"


JUDGE_RUBRIC = (
    "You grade how faithfully a solution applies a named problem-solving heuristic.\n"
    "Heuristic: {name}\nWhat applying it means: {instruction}\n\nProblem:\n{problem}\n\nSolution:\n{solution}\n\n"
    "Score from 0 (heuristic absent) to 10 (the whole solution is organised around the heuristic). "
    "Ignore whether the final answer is right. Reply with one line: `Score: N`."
)


def judge_messages(heuristic: Any, problem: str, solution: str) -> list[dict[str, str]]:
    text = JUDGE_RUBRIC.format(name=heuristic.name, instruction=heuristic.instruction.strip(),
                               problem=problem.strip(), solution=solution.strip())
    return [{"role": "user", "content": text}]
