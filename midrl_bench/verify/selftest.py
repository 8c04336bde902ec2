"""The math checker tests its own parser before it scores.

Installing hydra-core (pulled in by verl and other tools) downgrades antlr4-python3-runtime to 4.9.3; math-verify
then keeps running, but latex2sympy2_extended's LaTeX parser breaks on some constructs (percentages raise inside the
parser and the answer silently falls back to a string), so verdicts flip from equivalent to not equivalent without a
word. Each checker worker runs these known pairs once at start-up (in its own process, before its first item) and
the pool refuses to score, with a one-line error naming the package and version, when any of them comes out wrong
or the runtime version is not the one the grammar was generated for. The parent caches a pass per interpreter and
PYTHONPATH, so later workers skip the test: it costs one worker ~0.03 s (plus the grammar load every worker pays)
once per process and environment.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from midrl_bench.verify.settings import REQUIRED_ANTLR

# (gold, response, expected verdict): the first two need the current grammar's percent handling (wrong under 4.9.3),
# the rest pin fractions, radicals, polynomials and a plain mismatch.
KNOWN_PAIRS = (
    ("50\\%", "\\boxed{\\frac{1}{2}}", True),
    ("5\\%", "so the answer is \\boxed{0.05}", True),
    ("\\frac{1}{2}", "\\boxed{0.5}", True),
    ("3\\sqrt{2}", "\\boxed{\\sqrt{18}}", True),
    ("x^2+2x+1", "\\boxed{(x+1)^2}", True),
    ("2", "\\boxed{3}", False),
)
FIX = f"pip install 'antlr4-python3-runtime=={REQUIRED_ANTLR}'"


class CheckerSetupError(RuntimeError):
    """The checker's parser is broken or mismatched; scoring would give wrong verdicts, so it refuses."""


@lru_cache(maxsize=1)
def self_test_failure() -> str | None:
    """None when the parser is sound; otherwise a one-line reason naming the package and the version it needs."""
    return version_failure() or known_pairs_failure()


def installed_antlr() -> str:
    try:
        return version("antlr4-python3-runtime")
    except PackageNotFoundError:
        return "not installed"


def version_failure() -> str | None:
    installed = installed_antlr()
    if installed == REQUIRED_ANTLR:
        return None
    return (f"math checker refuses to score: antlr4-python3-runtime=={REQUIRED_ANTLR} is required, found {installed} "
            f"(math-verify's LaTeX parsing degrades silently); fix: {FIX}")


def known_pairs_failure() -> str | None:
    """Judge the known pairs in this process; the first one that comes out wrong, as a one-line reason."""
    from midrl_bench.verify.math_worker import judge

    for gold, response, expected in KNOWN_PAIRS:
        verdict = judge(gold, response, "standard")
        if verdict.correct is not expected:
            return (f"math checker refuses to score: self-test {gold!r} vs {response!r} gave {verdict.correct} "
                    f"({verdict.reason}), expected {expected}; antlr4-python3-runtime=={REQUIRED_ANTLR} is required "
                    f"(found {installed_antlr()}); fix: {FIX}")
    return None


def require_sound_parser() -> None:
    """Raise CheckerSetupError unless the self-test passes (cached per process)."""
    failure = self_test_failure()
    if failure is not None:
        raise CheckerSetupError(failure)
