"""Plain data: the only form in which values cross the sandbox boundary when code is scored differentially.

A value is plain when it is built only from exact built-in types (no subclasses): None, bool, int, float, complex, str,
bytes, list, tuple, dict, set and frozenset, nested at most `MAX_DEPTH` deep. It is written as JSON, with a one-key
object tagging every type JSON lacks:

>>> codec = plain_codec()
>>> codec["dumps"]((1, 2.5, {"a": {3}}, float("nan")))
'{"tuple":[1,2.5,{"dict":[["a",{"set":[3]}]]},{"float":"nan"}]}'
>>> codec["loads"]('{"tuple":[1,{"bytes":"ff"}]}')
(1, b'\\xff')

The encoder checks `type(value) is ...`, so an object that merely claims to equal everything (a custom `__eq__`) or an
int subclass is refused with `Unplain`. The decoder is strict: unknown tags, bare NaN/Infinity, unhashable set members or
dict keys, over-deep nesting and integers past Python's digit limit raise `PlainDataError`; it builds only built-in
values, so comparing decoded values runs no code from the sandbox. Sets are written sorted by their members' encoding,
so an encoding is the same in every process (string hashing is randomised per process).

The same source text (`CODEC_SOURCE`) is embedded in sandboxed programs and executed here, so the two sides cannot
drift; it is standard-library only.
"""

from __future__ import annotations

from functools import cache

MAX_DEPTH = 64

CODEC_SOURCE = r'''
import json as _json
import math as _math


class Unplain(Exception):
    """A value that is not plain data (and so cannot leave the sandbox)."""


class PlainDataError(ValueError):
    """Text that is not a valid plain-data encoding."""


_TAGS = ("tuple", "dict", "set", "frozenset", "bytes", "complex", "float")


def encode(value, depth=0):
    kind = type(value)
    if depth > MAX_DEPTH:
        raise Unplain(f"nested deeper than {MAX_DEPTH}")
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        return value if _math.isfinite(value) else {"float": repr(value)}
    if kind is list:
        return [encode(item, depth + 1) for item in value]
    if kind is tuple:
        return {"tuple": [encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        members = sorted((encode(item, depth + 1) for item in value), key=_canonical)
        return {kind.__name__: members}
    if kind is bytes:
        return {"bytes": value.hex()}
    if kind is complex:
        return {"complex": [encode(value.real, depth + 1), encode(value.imag, depth + 1)]}
    raise Unplain(f"a {kind.__module__}.{kind.__qualname__} object is not plain data")


def _canonical(encoded):
    return _json.dumps(encoded, separators=(",", ":"), allow_nan=False)


def dumps(value):
    return _canonical(encode(value))


def _tagged(pairs):
    if len(pairs) != 1 or pairs[0][0] not in _TAGS:
        raise PlainDataError(f"unknown object {[key for key, _ in pairs][:3]!r}")
    tag, payload = pairs[0]
    if tag == "float":
        if payload not in ("nan", "inf", "-inf"):
            raise PlainDataError(f"bad float {payload!r}")
        return float(payload)
    if tag == "bytes":
        return bytes.fromhex(payload) if type(payload) is str else _bad(tag)
    if type(payload) is not list:
        return _bad(tag)
    if tag == "tuple":
        return tuple(payload)
    if tag == "dict":
        if not all(type(pair) is list and len(pair) == 2 for pair in payload):
            return _bad(tag)
        return dict((key, value) for key, value in payload)
    if tag == "complex":
        if len(payload) != 2 or not all(type(part) in (int, float) for part in payload):
            return _bad(tag)
        return complex(payload[0], payload[1])
    return (set if tag == "set" else frozenset)(payload)


def _bad(tag):
    raise PlainDataError(f"malformed {tag!r} payload")


def _no_constant(name):
    raise PlainDataError(f"bare {name} is not allowed")


def loads(text):
    try:
        return _json.loads(text, object_pairs_hook=_tagged, parse_constant=_no_constant)
    except PlainDataError:
        raise
    except (ValueError, TypeError, RecursionError) as error:  # bad JSON, unhashable member, digit limit, depth
        raise PlainDataError(f"{type(error).__name__}: {str(error)[:200]}") from None
'''


@cache
def plain_codec() -> dict:
    """The codec's functions and exception classes (`encode`, `dumps`, `loads`, `Unplain`, `PlainDataError`),
    built from `CODEC_SOURCE` on first use."""
    namespace: dict = {"MAX_DEPTH": MAX_DEPTH, "__name__": "midrl_bench.verify.plain_data.codec"}
    exec(compile(CODEC_SOURCE, "<plain-data codec>", "exec"), namespace)  # noqa: S102 - our own source text
    return namespace


def codec_program_text() -> str:
    """The codec as a block of source for a sandboxed program (it defines the same names there)."""
    return f"MAX_DEPTH = {MAX_DEPTH}\n{CODEC_SOURCE}"
