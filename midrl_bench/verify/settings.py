"""The one record of the math checker's settings, and validation of its two knobs (policy, timeout).

`checker_settings()` is what results files, judge reports, reward logs and dataset manifests store, so a score can
always be traced to the extraction version, policy, hard timeout and parser library versions that produced it.

>>> validate_timeout(float("nan"))
Traceback (most recent call last):
...
ValueError: timeout_s must be a finite number > 0, got nan
>>> checker_settings("strict", 2)["policy"], checker_settings("strict", 2)["timeout_s"]
('strict', 2.0)
"""

from __future__ import annotations

import math
import re
from importlib.metadata import PackageNotFoundError, version

from midrl_bench.verify.extract import EXTRACTION_VERSION, validate_policy

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_POLICY = "standard"
REQUIRED_ANTLR = "4.13.2"  # the runtime latex2sympy2_extended's current LaTeX grammar was generated for
LIBRARIES = ("math-verify", "latex2sympy2_extended", "sympy", "antlr4-python3-runtime")


def validate_timeout(timeout_s: object) -> float:
    """A finite number of seconds > 0, as float; anything else (nan, inf, 0, -1, True, "5") raises ValueError."""
    ok = isinstance(timeout_s, (int, float)) and not isinstance(timeout_s, bool)
    if not ok or not math.isfinite(timeout_s) or timeout_s <= 0:  # type: ignore[arg-type]
        shown = timeout_s if ok else repr(timeout_s)
        raise ValueError(f"timeout_s must be a finite number > 0, got {shown}")
    return float(timeout_s)  # type: ignore[arg-type]


def parse_timeout(text: str) -> float:
    """`--timeout-s` values: `"nan"`, `"inf"`, `"0"`, `"-1"` and non-numbers are rejected by `validate_timeout`'s rule."""
    try:
        return validate_timeout(float(text))
    except ValueError:
        shown = text.strip() if re.fullmatch(r"\s*[-+]?[\w.]+\s*", text) and _is_float(text) else repr(text)
        raise ValueError(f"timeout_s must be a finite number > 0, got {shown}") from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def library_versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def checker_settings(policy: str = DEFAULT_POLICY, timeout_s: float | None = None) -> dict:
    """Policy, hard timeout, extraction version and parser library versions, as one JSON-ready dict."""
    return {
        "checker": "midrl_bench.verify.math",
        "extraction_version": EXTRACTION_VERSION,
        "policy": validate_policy(policy),
        "timeout_s": DEFAULT_TIMEOUT_S if timeout_s is None else validate_timeout(timeout_s),
        "libraries": library_versions(),
    }
