"""Trace writers: one per strategy and family, each a distinct, checkable step-by-step solution ending in \\boxed{N}.

The strategies are the world's heuristic library (`strategies/<id>.yaml`); each trace opens with the strategy's name
and uses its cue words (and no other strategy's), so the shared cue detector recognises it:

- `column_method`  written algorithms digit by digit: long multiplication, column addition, long division
- `place_value`    split a number into tens/ones (or hundreds/rest) and recombine the parts
- `round_adjust`   replace a number by a nearby round one, then correct for the difference
- `pair_terms`     group into pairs: repeated doubling, first+last pairs (Gauss), pairs of digits

A combined trace solves with one strategy and checks with a second (`combined_trace`), so it carries both cue sets
(the classic world's only two-strategy trace). A composite problem (`problems.py`) is solved part by part
(`composite_trace`): each part opens with its strategy's header, then the parts' results are added. With one strategy
throughout it is an ordinary trace; with a different strategy per part it is a mixed trace, the composition the
gated world rewards (no pre-training example shows one).

Which strategy each gated sub-type of the gated world needs (`MATCHING`): a long even-length series (14-16 terms)
is paired first-with-last (`pair_terms`, about 140 tokens); the default adds it term by term in columns, every step
easy, but the trace needs 440+ tokens, past the 384-token generation budget, so it cannot finish (alone or as a
composite's second part). The gate therefore no longer depends on what a pre-training happens to learn: an earlier
default summed each column in one step, which some pre-trainings partly learnt (0-22% per sample,
docs/toyworld.md). A near-1000 product (a composite's first part) is rounded to 1000 (`round_adjust`) or multiplied
by columns: both work.
Traces are terse because the tiny model reads them token by token (one token per digit); each restates the problem
on its first line, which the tiny model learns to copy far faster than it learns to look back into the prompt.
Every intermediate number is exact.
"""

from __future__ import annotations

from collections.abc import Callable

from midrl_bench.toyworld.problems import Problem

STRATEGIES = ("column_method", "pair_terms", "place_value", "round_adjust")
DEFAULT_STRATEGY = "column_method"
HEADERS = {"column_method": "Column method", "place_value": "Place value",
           "round_adjust": "Round and adjust", "pair_terms": "Pair terms"}
MATCHING = {"series_long": "pair_terms"}  # gated sub-type -> the strategy it needs


def _box(answer: int) -> str:
    return f"\\boxed{{{answer}}}"


# ------------------------------------------------------------------------------------------- column method
def _digit_products(value: int, digit: int) -> list[tuple[int, int, int, int]]:
    """(x, x*digit, carry in, total) for each digit x of `value` from the ones up: one row of long multiplication."""
    steps, carry = [], 0
    for x in (int(d) for d in reversed(str(value))):
        total = x * digit + carry
        steps.append((x, x * digit, carry, total))
        carry = total // 10
    return steps


def _multiply_row(a: int, digit: int, shift: int) -> list[str]:
    steps = _digit_products(a, digit)
    lines = []
    for index, (x, product, carry, total) in enumerate(steps):
        step = f"{digit}*{x}={product}" + (f", plus {carry} is {total}" if carry else "")
        last = index == len(steps) - 1
        lines.append(f"{step}, write {total}." if last else f"{step}, write {total % 10} carry {total // 10}.")
    lines.append(f"row {a * digit * 10 ** shift}.")
    return lines


def _column_mul(a: int, b: int) -> list[str]:
    lines, rows = [], []
    for shift, digit in enumerate(int(d) for d in reversed(str(b))):
        lines += _multiply_row(a, digit, shift)
        rows.append(a * digit * 10**shift)
    if len(rows) > 1:
        lines.append(f"add rows: {'+'.join(str(r) for r in rows)}={sum(rows)}.")
    return lines


def _column_series(terms: tuple[int, ...]) -> list[str]:
    """Column addition one term at a time: each line adds the next term to the running total by columns.

    Every step is easy (one-digit sums and a carry), but the trace grows with the number of terms: on a long series
    (14-16 terms) it runs past the generation budget, so the default cannot finish where pairing can (`MATCHING`).
    """
    lines, total = [], terms[0]
    for term in terms[1:]:
        lines.append(_add_in_columns(total, term))
        total += term
    return lines


def _add_in_columns(total: int, term: int) -> str:
    """"18+16: ones 8+6=14, write 4 carry 1. tens 1+1=2, plus 1 is 3, write 3. so 34." (the column cue words)."""
    steps = []
    columns = _columns(total, term)
    for index, (name, x, y, carry, column) in enumerate(columns):
        plus = f", plus {carry} is {column}" if carry else ""
        last = index == len(columns) - 1  # the leftmost column writes its whole total, as a multiplication row does
        write = f"write {column}" if last or column < 10 else f"write {column % 10} carry {column // 10}"
        steps.append(f"{name} {x}+{y}={x + y}{plus}, {write}.")
    return f"{total}+{term}: {' '.join(steps)} so {total + term}."


PLACES = ("ones", "tens", "hundreds", "thousands", "ten thousands")


def _columns(x: int, y: int) -> list[tuple[str, int, int, int, int]]:
    """(place name, digit of x, digit of y, carry in, column total) for each column of x+y from the ones up."""
    width = max(len(str(x)), len(str(y)))
    columns, carry = [], 0
    for place in range(width):
        x_digit, y_digit = x // 10**place % 10, y // 10**place % 10
        column = x_digit + y_digit + carry
        columns.append((PLACES[place], x_digit, y_digit, carry, column))
        carry = column // 10
    return columns


def _column_mod(number: int, divisor: int) -> list[str]:
    digits = str(number)
    take = 1
    while take < len(digits) and int(digits[:take]) < divisor:
        take += 1
    current, lines = int(digits[:take]), []
    while True:
        quotient = current // divisor
        lines.append(f"{current}: {divisor}*{quotient}={divisor * quotient}, left {current % divisor}.")
        if take == len(digits):
            return lines
        current = (current % divisor) * 10 + int(digits[take])
        lines.append(f"bring down {digits[take]}: {current}.")
        take += 1


# ------------------------------------------------------------------------------------------- place value
def _place_mul(a: int, b: int) -> list[str]:
    if b >= 10:  # split the two-digit multiplier
        tens, ones = b // 10, b % 10
        return [f"{b} is {tens} tens and {ones} ones.", f"tens part: {a}*{tens * 10}={a * tens * 10}.",
                f"ones part: {a}*{ones}={a * ones}.", f"{a * tens * 10}+{a * ones}={a * b}."]
    tens, ones = a // 10, a % 10
    return [f"{a} is {tens} tens and {ones} ones.", f"tens part: {tens * 10}*{b}={tens * 10 * b}.",
            f"ones part: {ones}*{b}={ones * b}.", f"{tens * 10 * b}+{ones * b}={a * b}."]


def _place_series(terms: tuple[int, ...]) -> list[str]:
    tens = [t // 10 * 10 for t in terms]
    ones = [t % 10 for t in terms]
    return [f"tens part: {'+'.join(map(str, tens))}={sum(tens)}.",
            f"ones part: {'+'.join(map(str, ones))}={sum(ones)}.", f"{sum(tens)}+{sum(ones)}={sum(terms)}."]


def _reduce(left_a: int, left_b: int, divisor: int) -> str:
    total = left_a + left_b
    if total < divisor:
        return f"{left_a}+{left_b}={total}."
    return f"{left_a}+{left_b}={total}, {total}-{divisor}={total - divisor}."


def _place_mod(number: int, divisor: int) -> list[str]:
    hundreds, rest = number // 100 * 100, number % 100
    return [f"{number} is {hundreds}+{rest}.",
            f"hundreds part: {hundreds}={divisor}*{hundreds // divisor}+{hundreds % divisor}, left {hundreds % divisor}.",
            f"rest part: {rest}={divisor}*{rest // divisor}+{rest % divisor}, left {rest % divisor}.",
            _reduce(hundreds % divisor, rest % divisor, divisor)]


# ------------------------------------------------------------------------------------------- round and adjust
def _round_mul(a: int, b: int) -> list[str]:
    rounded = (a + 5) // 10 * 10
    difference = abs(rounded - a)
    direction = "up" if rounded > a else "down"
    sign = "-" if rounded > a else "+"
    return [f"round {a} {direction} to {rounded}.", f"{rounded}*{b}={rounded * b}.",
            f"adjust: {difference}*{b}={difference * b}.", f"{rounded * b}{sign}{difference * b}={a * b}."]


def _round_series(terms: tuple[int, ...]) -> list[str]:
    rounded = [(t + 5) // 10 * 10 for t in terms]
    shifts = [t - r for t, r in zip(terms, rounded, strict=True)]
    shift_total = sum(shifts)
    shift_text = "".join(f"{s:+d}" for s in shifts)
    sign = "+" if shift_total >= 0 else "-"
    return [f"round to {'+'.join(map(str, rounded))}={sum(rounded)}.", f"adjust: {shift_text}={shift_total}.",
            f"{sum(rounded)}{sign}{abs(shift_total)}={sum(terms)}."]


def _round_mod(number: int, divisor: int) -> list[str]:
    tens = number // divisor // 10 * 10
    if tens == 0:  # the number is below ten divisors: round up to 10*divisor and count back
        base = divisor * 10
        short = base - number
        back = short % divisor
        answer_line = f"{divisor}-{back}={divisor - back}." if back else "so 0."
        return [f"round up to {divisor}*10={base}.", f"{base}-{number}={short}.",
                f"adjust: {short}={divisor}*{short // divisor}+{back}, {answer_line}"]
    base = divisor * tens
    rest = number - base
    lines = [f"round down to {divisor}*{tens}={base}.", f"{number}-{base}={rest}."]
    if rest < divisor:
        return [*lines, f"adjust: {rest} is less than {divisor}."]
    return [*lines, f"adjust: {rest}={divisor}*{rest // divisor}+{rest % divisor}."]


def _round_multiplier(a: int, b: int) -> list[str]:
    """A multiplier just below a power of ten: a*round, minus (round-b)*a, the subtraction done via the next hundred."""
    round_to = 10 ** len(str(b))
    short = round_to - b
    adjust = short * a
    hundreds = -(-adjust // 100) * 100  # the hundred at or above the adjustment
    base = a * round_to
    return [f"round {b} up to {round_to}.", f"{a}*{round_to}={base}.", f"adjust: {_times_digit(a, short)}",
            f"{base}-{hundreds}={base - hundreds}, {hundreds}-{adjust}={hundreds - adjust}, "
            f"{base - hundreds}+{hundreds - adjust}={a * b}."]


# ------------------------------------------------------------------------------------------- pair terms
def _pair_mul(a: int, b: int) -> list[str]:
    pairs, extra = divmod(b, 2)
    double = a + a
    lines = [f"{b} is {pairs} pairs" + (" and one more." if extra else "."), f"one pair: {a}+{a}={double}.",
             f"{double}*{pairs}={double * pairs}."]
    if extra:
        lines.append(f"{double * pairs}+{a}={a * b}.")
    return lines


def _pair_series(terms: tuple[int, ...]) -> list[str]:
    pairs, middle = divmod(len(terms), 2)
    pair_sum = terms[0] + terms[-1]
    lines = [f"first and last: {terms[0]}+{terms[-1]}={pair_sum}."]
    if not middle:
        return [*lines, f"{len(terms)} terms make {pairs} pairs.", f"{pair_sum}*{pairs}={pair_sum * pairs}."]
    centre = terms[len(terms) // 2]
    return [*lines, f"{len(terms)} terms make {pairs} pairs and the middle {centre}.",
            f"{pair_sum}*{pairs}={pair_sum * pairs}.", f"{pair_sum * pairs}+{centre}={sum(terms)}."]


def _pair_mod(number: int, divisor: int) -> list[str]:
    high, low = divmod(number, 100)
    per_hundred = 100 % divisor
    folded = high * per_hundred + low
    return [f"pairs of digits: {high} and {low:02d}.", f"100={divisor}*{100 // divisor}+{per_hundred}.",
            f"{high}*{per_hundred}+{low}={folded}.",
            f"{folded}={divisor}*{folded // divisor}+{folded % divisor}."]


def _times_digit(value: int, digit: int) -> str:
    """value*digit split by place: "64*4=60*4+4*4=240+16=256.", "114*4=100*4+10*4+4*4=400+40+16=456."

    One short step per product: each is a one-digit fact followed by zeros.
    """
    places = [int(d) * 10 ** (len(str(value)) - 1 - i) for i, d in enumerate(str(value))]
    parts = [p for p in places if p]
    if len(parts) == 1:
        return f"{value}*{digit}={value * digit}."
    products = "+".join(f"{p}*{digit}" for p in parts)
    return f"{value}*{digit}={products}={'+'.join(str(p * digit) for p in parts)}={value * digit}."


def _pair_long_series(terms: tuple[int, ...]) -> list[str]:
    """An even number of terms: last + first, times the number of pairs, both digit by digit.

    The last term comes first: it ends the line just above, so the model copies it from a fixed distance (read
    after the first term, it was miscopied from the long header: `1+81` for `1+91`). Both sums are done digit by
    digit like the column method's (`_plus_by_digits`, `_times_by_digits`), which the model executes on friendly
    problems: by place value (`70+10+2+2=80+4`, `640+32=672`) it slipped on the round-number sums.
    """
    pairs = len(terms) // 2
    pair_sum = terms[0] + terms[-1]
    return [f"last and first: {_plus_by_digits(terms[-1], terms[0])}", f"{len(terms)} terms make {pairs} pairs.",
            _times_by_digits(pair_sum, pairs)]


def _plus_by_digits(x: int, y: int) -> str:
    """x+y ones first, then tens plus the carry: "39+18: ones 9+8=17, keep 7. tens 3+1=4, 4+1=5. so 57."."""
    steps = []
    columns = _columns(x, y)
    for index, (name, x_digit, y_digit, carry, column) in enumerate(columns):
        plus = f", {x_digit + y_digit}+{carry}={column}" if carry else ""
        keep = "." if index == len(columns) - 1 else f", keep {column % 10}."
        steps.append(f"{name} {x_digit}+{y_digit}={x_digit + y_digit}{plus}{keep}")
    return f"{x}+{y}: {' '.join(steps)} so {x + y}."


def _times_by_digits(value: int, digit: int) -> str:
    """value*digit from the ones digit up: "84*8: 4*8=32, keep 2. 8*8=64, 64+3=67. so 672."

    The arithmetic of the column method's rows (one-digit facts, a small carry added to a two-digit number), which
    the model executes on friendly products, in words that are no strategy's cues.
    """
    steps = _digit_products(value, digit)
    facts = []
    for index, (x, product, carry, total) in enumerate(steps):
        fact = f"{x}*{digit}={product}" + (f", {product}+{carry}={total}" if carry else "")
        facts.append(f"{fact}." if index == len(steps) - 1 else f"{fact}, keep {total % 10}.")
    return f"{value}*{digit}: {' '.join(facts)} so {value * digit}."


WRITERS: dict[tuple[str, str], Callable[..., list[str]]] = {
    ("column_method", "mul"): _column_mul, ("column_method", "mod"): _column_mod,
    ("place_value", "mul"): _place_mul, ("place_value", "mod"): _place_mod,
    ("round_adjust", "mul"): _round_mul, ("round_adjust", "mod"): _round_mod,
    ("pair_terms", "mul"): _pair_mul, ("pair_terms", "mod"): _pair_mod,
    ("column_method", "series"): _column_series, ("place_value", "series"): _place_series,
    ("round_adjust", "series"): _round_series, ("pair_terms", "series"): _pair_series,
    # gated sub-types: the classic writers, except the two that make the matching strategy short
    ("column_method", "mul_near1000"): _column_mul, ("place_value", "mul_near1000"): _place_mul,
    ("round_adjust", "mul_near1000"): _round_multiplier, ("pair_terms", "mul_near1000"): _pair_mul,
    ("column_method", "series_long"): _column_series, ("place_value", "series_long"): _place_series,
    ("round_adjust", "series_long"): _round_series, ("pair_terms", "series_long"): _pair_long_series,
}


def _header(problem: Problem, strategy: str) -> str:
    """The strategy's name and the problem restated, so later steps read their numbers from nearby text."""
    return f"{HEADERS[strategy]}: {problem.expression}."


def trace_steps(problem: Problem, strategy: str) -> list[str]:
    """The body lines of `strategy`'s solution of `problem` (header and answer excluded)."""
    key = (strategy, problem.family)
    if key not in WRITERS:
        raise KeyError(f"no trace writer for strategy {strategy!r} on family {problem.family!r}")
    operands = problem.operands
    return WRITERS[key](operands) if problem.family in ("series", "series_long") else WRITERS[key](*operands)


def write_trace(problem: Problem, strategy: str) -> str:
    """A complete single-strategy solution: header, steps, final \\boxed{answer} (composites: every part)."""
    if problem.family == "composite":
        return composite_trace(problem, [strategy] * len(problem.parts()))
    return "\n".join([_header(problem, strategy), *trace_steps(problem, strategy), _box(problem.answer)])


def composite_trace(problem: Problem, strategies: list[str]) -> str:
    """A composite problem solved part by part, `strategies[i]` on part i, then the parts' results added.

    Different strategies per part make a mixed trace (composition); the same one throughout, an ordinary trace.
    """
    parts = problem.parts()
    if problem.family != "composite" or len(strategies) != len(parts):
        raise ValueError(f"a composite trace needs a composite problem and one strategy per part ({len(parts)})")
    lines = [f"Two parts: {', '.join(part.expression for part in parts)}."]
    for part, strategy in zip(parts, strategies, strict=True):
        lines += [_header(part, strategy), *trace_steps(part, strategy)]
    lines.append(f"{'+'.join(str(part.answer) for part in parts)}={problem.answer}.")
    return "\n".join([*lines, _box(problem.answer)])


def combined_trace(problem: Problem, solve_with: str, check_with: str) -> str:
    """Solve with one strategy, then check the result with a second: a trace that composes two strategies."""
    if solve_with == check_with:
        raise ValueError(f"a combined trace needs two different strategies, got {solve_with!r} twice")
    return "\n".join([_header(problem, solve_with), *trace_steps(problem, solve_with),
                      f"check with {HEADERS[check_with].lower()}.", *trace_steps(problem, check_with),
                      _box(problem.answer)])
