"""The tiny world's problems: integer-answer arithmetic, generated deterministically.

Families (each problem's answer is one exact integer; the family is the problem's sub-type):
- `mul`         multi-digit products, "Compute 47*36."            (a: 2 digits, b: 1 or 2 digits)
- `series`      sums of arithmetic series, "Compute 13+17+21+25."  (3-8 terms below 100)
- `mod`         remainders, "Compute 472 mod 7."                   (3-digit number, divisor 3-13)
- `mul_near1000` a product with a multiplier just below 1000, "Compute 47*998."   (both strategies work)
- `series_long` a long even-length series, "Compute 3+6+...+48." (14-16 terms)  (gated: pair first and last)
- `composite`   a near-1000 product plus a long series, "Compute 47*998+3+7+...+47." (both parts: switch strategy)
The ranges inside those bounds are set by `Difficulty` (the `world.difficulty` block of a toy config). A world
lists its families in `world.families`; splits interleave them round-robin, so listing a family twice doubles its
share. The classic world is `[mul, series, mod]`; the gated world drops `mod` and adds `series_long` and
`composite` (whose product part is a `mul_near1000` problem).

Every problem can be solved by each of the world's four strategies (`traces.py`), with traces of different length
and difficulty depending on the problem's sub-type (a factor close to a round number, an even number of terms, ...),
which is what makes knowing several strategies worth something.

Splits are disjoint by problem text and fixed by the seed (only `pretrain` may repeat a problem within itself): `pretrain` (the tiny model's pre-training corpus),
`train` (seed problems of the self-generated mid-training set), `rl` (GRPO prompts) and `eval` (held out, the
`midrl_toy` task).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

FAMILIES = ("mul", "series", "mod", "mul_near1000", "series_long", "composite")
# Multipliers of `mul_near1000`, the product part of a composite: the default's column method (three rows, one
# 3-operand sum) and round-and-adjust both work there after 16,000 pre-training steps (91% and 88% per sample,
# docs/toyworld.md), so it is no gated sub-type; the composite's long series part is what needs a switch.
NEAR_1000 = (997, 998, 999)
LONG_SERIES_TERMS = (14, 16)  # `series_long` term counts: the default's term-by-term trace runs past 384 tokens
COMPOSITE_SERIES_TERMS = 16  # the series part of a composite problem (a mixed trace is then up to about 340 tokens)
SPLITS = ("eval", "rl", "train", "pretrain")  # assignment order: eval first, so it never changes with other sizes


@dataclass
class Difficulty:
    """Knobs of the problem generators (harder problems: raise them)."""

    # friendly sub-types the default really executes (the classic world: 0.15 and 5): a two-digit multiplier needs
    # a 2-operand 4-digit sum and 4-5 terms a many-digit sum in one step, which the default model missed (docs/toyworld.md)
    mul_two_digit_share: float = 0.0  # share of products with a two-digit multiplier (12-39) instead of 3-9
    series_max_terms: int = 3  # series have 3..series_max_terms terms (<= 8), every term below 100
    series_max_step: int = 6  # common difference 2..series_max_step
    mod_max_divisor: int = 9  # divisors 3..mod_max_divisor (<= 13)

    def __post_init__(self) -> None:
        if not 0.0 <= self.mul_two_digit_share <= 1.0:
            raise ValueError(f"difficulty.mul_two_digit_share: must be in [0, 1], got {self.mul_two_digit_share}")
        if not 3 <= self.series_max_terms <= 8 or not 2 <= self.series_max_step <= 9:
            raise ValueError("difficulty: series_max_terms must be in 3..8 and series_max_step in 2..9")
        if not 3 <= self.mod_max_divisor <= 13:
            raise ValueError(f"difficulty.mod_max_divisor: must be in 3..13, got {self.mod_max_divisor}")


@dataclass(frozen=True)
class Problem:
    id: str
    family: str
    operands: tuple[int, ...]  # mul: (a, b); series: the terms; mod: (number, divisor)
    answer: int

    @property
    def expression(self) -> str:
        if self.family in ("mul", "mul_near1000"):
            return f"{self.operands[0]}*{self.operands[1]}"
        if self.family in ("series", "series_long"):
            return "+".join(str(term) for term in self.operands)
        if self.family == "composite":
            return "+".join(part.expression for part in self.parts())
        return f"{self.operands[0]} mod {self.operands[1]}"

    def parts(self) -> list[Problem]:
        """The sub-problems a trace solves in turn: two for a composite (product, series), else the problem itself."""
        if self.family != "composite":
            return [self]
        a, b, *terms = self.operands
        return [Problem(f"{self.id}/product", "mul_near1000", (a, b), a * b),
                Problem(f"{self.id}/series", "series_long", tuple(terms), sum(terms))]

    @property
    def text(self) -> str:
        return f"Compute {self.expression}."

    def to_row(self) -> dict:
        """The source-row form (mirror schema of the math benchmarks: id, problem, answer) plus the family."""
        return {"id": self.id, "problem": self.text, "answer": str(self.answer), "family": self.family}


def _mul(rng: random.Random, knobs: Difficulty) -> tuple[int, ...]:
    a = rng.choice([value for value in range(12, 100) if value % 10])
    two_digit = rng.random() < knobs.mul_two_digit_share
    b = rng.choice([v for v in range(12, 40) if v % 10]) if two_digit else rng.randint(3, 9)
    return (a, b)


def _series(rng: random.Random, knobs: Difficulty) -> tuple[int, ...]:
    count = rng.randint(3, knobs.series_max_terms)
    step = rng.randint(2, knobs.series_max_step)
    first = rng.randint(1, 99 - step * (count - 1))  # the last term stays below 100
    return tuple(first + step * index for index in range(count))


def _mod(rng: random.Random, knobs: Difficulty) -> tuple[int, ...]:
    return (rng.randint(100, 999), rng.randint(3, knobs.mod_max_divisor))


def _mul_near1000(rng: random.Random, knobs: Difficulty) -> tuple[int, ...]:
    return (rng.choice([value for value in range(12, 100) if value % 10]), rng.choice(NEAR_1000))


def _even_series(rng: random.Random, count: int) -> tuple[int, ...]:
    step = rng.randint(2, min(6, 98 // (count - 1)))
    first = rng.randint(1, 99 - step * (count - 1))
    return tuple(first + step * index for index in range(count))


def _series_long(rng: random.Random, knobs: Difficulty) -> tuple[int, ...]:
    return _even_series(rng, rng.choice(LONG_SERIES_TERMS))


def _composite(rng: random.Random, knobs: Difficulty) -> tuple[int, ...]:
    return (*_mul_near1000(rng, knobs), *_even_series(rng, COMPOSITE_SERIES_TERMS))


GENERATORS: dict[str, Callable[[random.Random, Difficulty], tuple[int, ...]]] = {
    "mul": _mul, "series": _series, "mod": _mod, "mul_near1000": _mul_near1000, "series_long": _series_long,
    "composite": _composite}


def solve(family: str, operands: tuple[int, ...]) -> int:
    """The exact answer, computed directly (independently of any strategy's trace)."""
    if family in ("mul", "mul_near1000"):
        return operands[0] * operands[1]
    if family in ("series", "series_long"):
        return sum(operands)
    if family == "composite":
        return operands[0] * operands[1] + sum(operands[2:])
    if family == "mod":
        return operands[0] % operands[1]
    raise ValueError(f"unknown problem family {family!r}; known: {FAMILIES}")


def generate_splits(families: list[str], sizes: dict[str, int], seed: int,
                    difficulty: Difficulty | None = None) -> dict[str, list[Problem]]:
    """Disjoint splits, `sizes[split]` problems each, families interleaved round-robin; same inputs -> same problems."""
    unknown = sorted(set(families) - set(FAMILIES))  # a family may be listed twice (double share)
    if unknown or not families:
        raise ValueError(f"families: unknown or empty {unknown or families}; known: {list(FAMILIES)}")
    bad = sorted(set(sizes) - set(SPLITS))
    if bad:
        raise ValueError(f"split sizes: unknown split(s) {bad}; known: {list(SPLITS)}")
    knobs = difficulty or Difficulty()
    rng = random.Random(f"toyworld-{seed}")
    seen: set[tuple[str, tuple[int, ...]]] = set()
    splits: dict[str, list[Problem]] = {}
    for split in SPLITS:
        problems: list[Problem] = []
        attempts = 0
        while len(problems) < sizes.get(split, 0):
            family = families[len(problems) % len(families)]
            operands = GENERATORS[family](rng, knobs)
            attempts += 1
            if attempts > 200 * max(1, sizes[split]):
                raise ValueError(f"split {split!r}: cannot draw {sizes[split]} distinct problems from the world")
            if (family, operands) in seen:  # never in two splits; only `pretrain` may repeat a problem
                continue
            if split != "pretrain":
                seen.add((family, operands))
            index = len(problems)
            problems.append(Problem(f"toy-{split}-{index:05d}", family, operands, solve(family, operands)))
        splits[split] = problems
    return splits
