"""The tiny world's problems: integer-answer arithmetic in three families, generated deterministically.

Families (each problem's answer is one exact integer):
- `mul`    multi-digit products, "Compute 47*36."            (a: 2 digits, b: 1 or 2 digits)
- `series` sums of arithmetic series, "Compute 13+17+21+25."  (3-8 terms below 100)
- `mod`    remainders, "Compute 472 mod 7."                   (3-digit number, divisor 3-13)

Every problem can be solved by each of the world's four strategies (`traces.py`), with traces of different length
and difficulty depending on the problem's sub-type (a factor close to a round number, an even number of terms, ...),
which is what makes knowing several strategies worth something.

Splits are disjoint by problem text and fixed by the seed: `pretrain` (the tiny model's pre-training corpus),
`train` (seed problems of the self-generated mid-training set), `rl` (GRPO prompts) and `eval` (held out, the
`midrl_toy` task).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

FAMILIES = ("mul", "series", "mod")
SPLITS = ("eval", "rl", "train", "pretrain")  # assignment order: eval first, so it never changes with other sizes


@dataclass(frozen=True)
class Problem:
    id: str
    family: str
    operands: tuple[int, ...]  # mul: (a, b); series: the terms; mod: (number, divisor)
    answer: int

    @property
    def text(self) -> str:
        if self.family == "mul":
            return f"Compute {self.operands[0]}*{self.operands[1]}."
        if self.family == "series":
            return "Compute " + "+".join(str(term) for term in self.operands) + "."
        return f"Compute {self.operands[0]} mod {self.operands[1]}."

    def to_row(self) -> dict:
        """The source-row form (mirror schema of the math benchmarks: id, problem, answer) plus the family."""
        return {"id": self.id, "problem": self.text, "answer": str(self.answer), "family": self.family}


def _mul(rng: random.Random) -> tuple[int, ...]:
    a = rng.choice([value for value in range(12, 100) if value % 10])
    b = rng.randint(3, 9) if rng.random() < 0.6 else rng.choice([v for v in range(12, 40) if v % 10])
    return (a, b)


def _series(rng: random.Random) -> tuple[int, ...]:
    count = rng.randint(3, 8)
    step = rng.randint(2, 9)
    first = rng.randint(1, 99 - step * (count - 1))  # the last term stays below 100
    return tuple(first + step * index for index in range(count))


def _mod(rng: random.Random) -> tuple[int, ...]:
    return (rng.randint(100, 999), rng.randint(3, 13))


GENERATORS: dict[str, Callable[[random.Random], tuple[int, ...]]] = {"mul": _mul, "series": _series, "mod": _mod}


def solve(family: str, operands: tuple[int, ...]) -> int:
    """The exact answer, computed directly (independently of any strategy's trace)."""
    if family == "mul":
        return operands[0] * operands[1]
    if family == "series":
        return sum(operands)
    if family == "mod":
        return operands[0] % operands[1]
    raise ValueError(f"unknown problem family {family!r}; known: {FAMILIES}")


def generate_splits(families: list[str], sizes: dict[str, int], seed: int) -> dict[str, list[Problem]]:
    """Disjoint splits, `sizes[split]` problems each, families interleaved round-robin; same inputs -> same problems."""
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown or not families:
        raise ValueError(f"families: unknown or empty {unknown or families}; known: {list(FAMILIES)}")
    bad = sorted(set(sizes) - set(SPLITS))
    if bad:
        raise ValueError(f"split sizes: unknown split(s) {bad}; known: {list(SPLITS)}")
    rng = random.Random(f"toyworld-{seed}")
    seen: set[tuple[str, tuple[int, ...]]] = set()
    splits: dict[str, list[Problem]] = {}
    for split in SPLITS:
        problems: list[Problem] = []
        attempts = 0
        while len(problems) < sizes.get(split, 0):
            family = families[len(problems) % len(families)]
            operands = GENERATORS[family](rng)
            attempts += 1
            if attempts > 200 * max(1, sizes[split]):
                raise ValueError(f"split {split!r}: cannot draw {sizes[split]} distinct problems from the world")
            if (family, operands) in seen:
                continue
            seen.add((family, operands))
            index = len(problems)
            problems.append(Problem(f"toy-{split}-{index:05d}", family, operands, solve(family, operands)))
        splits[split] = problems
    return splits
