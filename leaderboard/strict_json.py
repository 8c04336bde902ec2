"""JSON from untrusted submissions: strict UTF-8, finite numbers only, bounded nesting, no lone surrogates.

`loads_strict` is the only JSON parser the leaderboard applies to submitted bytes. Everything it refuses becomes a
`Rejected` with a reason code, never a traceback:

- `non_finite_number`: `NaN`, `Infinity`, `-Infinity`, or a literal that overflows a float (`1e999`);
- `malformed_file`: invalid UTF-8, invalid JSON, nesting deeper than `MAX_DEPTH` (a 100,000-deep `[[[...]]]` makes
  the C parser raise RecursionError, which is caught here), or a string (key or value) holding a lone UTF-16
  surrogate (`"\\ud800"`), which cannot be written back as UTF-8.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32  # lm-eval's files nest at most ~6 levels (samples: row -> arguments -> gen_args_0 -> arg_1 -> until)


class JsonRefused(ValueError):
    """`code` is the leaderboard reason code; the message says what was found."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def _constant(name: str) -> Any:
    raise JsonRefused("non_finite_number", f"{name} is not a finite number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused("non_finite_number", f"{text[:40]} overflows a float")
    return value


def _check_strings_and_depth(value: Any) -> None:
    """Iterative walk (no recursion): depth limit and lone surrogates in keys and strings."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise JsonRefused("malformed_file", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                _check_text(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRefused("malformed_file", "a string holds a lone UTF-16 surrogate (not valid Unicode)") from None


def loads_strict(data: bytes) -> Any:
    """Parse submitted bytes; raises JsonRefused (with its reason code) on anything listed in the module doc."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonRefused("malformed_file", f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
    except JsonRefused:
        raise
    except RecursionError:
        raise JsonRefused("malformed_file", f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise JsonRefused("malformed_file", f"not valid JSON ({error.msg} at line {error.lineno})") from None
    except ValueError as error:  # e.g. an integer literal longer than Python's 4300-digit limit
        raise JsonRefused("malformed_file", f"not valid JSON ({str(error)[:120]})") from None
    _check_strings_and_depth(value)
    return value
