"""Fixtures shared by the builder tests: a four-heuristic library, a `file`-backend completions table with known
right/wrong answers and cue counts, and the builder config that ties them together.

The completion table (`CASES`) is the specification the file-backend test checks against: per (problem index,
heuristic id or None for untargeted) one entry per sample: (kind, number of the heuristic's cues in the text).
kind: "right" (boxed gold answer), "wrong" (boxed wrong answer), "none" (no final answer), "copy" (right answer but
the text copies a MATH-500 problem verbatim, so decontamination must drop it).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HEURISTICS = {  # id -> cues (exactly three each, so adherence = cues used / 3)
    "a_first": ["alpha route", "alpha check", "alpha table"],
    "b_second": ["beta route", "beta check", "beta table"],
    "c_third": ["gamma route", "gamma check", "gamma table"],
    "d_fourth": ["delta route", "delta check", "delta table"],
}
ANSWERS = ["72", "10", "5"]  # gsm8k-train-0..2
MATH500_COPY = ("Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer in the "
                "form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$")

CASES: dict[tuple[int, str | None], list[tuple[str, int]]] = {
    (0, "a_first"): [("right", 1), ("right", 3)],  # both right: more cues wins -> sample 1
    (0, "b_second"): [("right", 2), ("wrong", 3)],  # only sample 0 right; sample 1 is the control's pick
    (0, "c_third"): [("right", 0), ("copy", 3)],  # sample 1 wins selection, then decontamination drops it
    (0, "d_fourth"): [("right", 2), ("right", 2)],  # tie on adherence -> lowest sample index 0
    (1, "a_first"): [("right", 1), ("none", 0)],  # answerless text is neither correct nor a control row
    (1, "b_second"): [("wrong", 3), ("right", 0)],  # correct sample 1; control sample 0
    (1, "c_third"): [("wrong", 1), ("wrong", 2)],  # no correct; control picks more cues -> sample 1
    (1, "d_fourth"): [("none", 3), ("wrong", 0)],  # control skips the answerless sample 0 -> sample 1
    (2, "a_first"): [("wrong", 1), ("wrong", 1)],  # problem 2: nothing right anywhere
    (2, "b_second"): [("wrong", 1), ("wrong", 1)],
    (2, "c_third"): [("wrong", 1), ("wrong", 1)],
    (2, "d_fourth"): [("wrong", 1), ("wrong", 1)],
    (0, None): [("wrong", 0), ("right", 0)],  # STaR picks the first correct sample -> 1
    (1, None): [("right", 0), ("right", 0)],  # -> 0
    (2, None): [("wrong", 0), ("wrong", 0)],  # no STaR row
}


def write_library(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for heuristic_id, cues in HEURISTICS.items():
        word = cues[0].split()[0]
        data = {
            "id": heuristic_id, "name": f"{word.title()} method", "family": "test", "source": "builder test fixture",
            "instruction": f"Solve the problem by the {word} method: lay out the {word} route, then check it.",
            "cues": cues,
            "exemplars": [{"problem": "What is 2 + 3?", "solution": f"By the {word} route, 2 + 3 = 5. \\boxed{{5}}",
                           "answer": "5"},
                          {"problem": "What is 4 * 6?", "solution": f"By the {word} route, 4 * 6 = 24. \\boxed{{24}}",
                           "answer": "24"}],
        }
        (directory / f"{heuristic_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return directory


def completion(problem: int, heuristic: str | None, sample: int, kind: str, cues: int) -> str:
    used = ", ".join(HEURISTICS[heuristic][:cues]) if heuristic and cues else "plain arithmetic"
    body = f"Attempt {sample} on problem {problem}, following {heuristic or 'no heuristic'}. We use {used}."
    if kind == "copy":
        body += f" This resembles: {MATH500_COPY}"
    if kind == "none":
        return body + " I could not finish."
    answer = ANSWERS[problem] if kind in ("right", "copy") else "999"
    return f"{body} So the result is \\boxed{{{answer}}}."


def write_completions(path: Path) -> Path:
    rows = []
    for (problem, heuristic), samples in CASES.items():
        for sample, (kind, cues) in enumerate(samples):
            key = f"gsm8k-train-{problem}|{heuristic or '-'}|{sample}"
            rows.append({"key": key, "text": completion(problem, heuristic, sample, kind, cues),
                         "completion_tokens": 20, "finish_reason": "stop"})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def file_config(tmp: Path, shard_size: int = 8, **overrides) -> dict:
    """A builder config (as data) over the fixture library and completions."""
    config = {
        "name": "midrl-test", "version": "0.1.0", "seed": 7, "license": "mit",
        "sources": [{"name": "gsm8k_train", "limit": 3}],
        "heuristics": {"library_dir": str(write_library(tmp / "library")), "exemplars": 1},
        "generation": {"backend": "file", "options": {"paths": [str(write_completions(tmp / "completions.jsonl"))]},
                       "samples_per_pair": 2, "star_samples": 2, "shard_size": shard_size},
        "decontamination": {"benchmarks": ["math500", "aime24"], "ngram_size": 8},
        "diversity": {"embedder": "ngram", "ngram_n": 2},
        "write": {"max_n": 64, "fixed_budget": [2], "incorrect_max_n": 4},
    }
    config.update(overrides)
    return config


def write_config(tmp: Path, config: dict) -> Path:
    path = tmp / "build.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
