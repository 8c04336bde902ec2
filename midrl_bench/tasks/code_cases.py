"""Differential testing for HumanEval-style problems: record the test inputs once from the canonical solution, run a
candidate on exactly those inputs in the sandbox, and judge its outputs in this (trusted) process.

Why: a program that runs its own tests can forge the verdict (return an object whose `__eq__` is always true, read its
own file for the finish-marker nonce, patch `AssertionError` ...). Here the candidate never sees a test or an
expected value, and nothing it returns is trusted beyond plain data (`midrl_bench.verify.plain_data`).

1. Recording (once per problem, in the sandbox, cached on disk with its provenance): the problem's module (prompt +
   canonical solution) and its `check(candidate)` run with the entry point wrapped by a recorder. The recorder keeps
   every top-level call (arguments encoded before the call, so in-place changes do not leak in) and the canonical
   result. Assert messages are removed from the test first (`assert c, m` -> `assert c`): a message is evaluated only
   after its assert has failed, so this never changes a verdict, and it keeps messages like `str(candidate(1728))` from
   calling the function on inputs no assert uses. The global `random` is seeded with `SEED` before `check` runs.
2. The candidate's program is the solution module followed by a runner that calls the entry point on each recorded
   input and writes, on the sandbox's result channel, one entry per case: `["ok", value]`, `["raised", type name]` or
   `["unplain", why]` (a result that is not plain data, e.g. an object with a custom `__eq__`).
3. Judging (here): the problem's own test is executed against a *replay* function that returns the candidate's decoded
   outputs in call order, after checking that each call's arguments are the recorded ones. So every assert keeps its
   exact meaning, whatever its form: `==`, `abs(x - y) < 1e-6`, `math.fabs(poly(xs, root)) < 1e-4`, truthiness,
   `is True`, a loop over seeded random inputs; helper functions come from the trusted prompt, not from the candidate.
   A call with arguments that were never recorded can only follow an output that differs from the canonical one; the
   recorded inputs then do not cover the test, and the verdict is None ("could not judge") rather than a guess.

Soundness check: at recording time, replaying the canonical outputs must pass the test with exactly the recorded number
of calls; otherwise the problem is marked unjudgeable (None, with the reason), never silently passed.
Weak spot, stated: below isolation level `namespaces` the sandbox shows the host's files, so a candidate could read the
dataset's canonical solution from disk; at `namespaces` only the interpreter and its standard library are visible.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import random
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from midrl_bench.verify.plain_data import CODEC_SOURCE, codec_program_text, plain_codec

RECORDER_VERSION = 1  # bump when the recording or replay rules change: recorded cases are re-made
SEED = 20240101  # the global `random` seed before `check` runs, in the recording and in every replay
_RANDOM_LOCK = threading.Lock()
DOC_FIELDS = ("prompt", "canonical_solution", "test", "entry_point")  # what a problem needs to be recorded

_HEADER = "\n\n# ---- midrl differential harness (not part of the solution) ----\n"
_RECORDER = '''
def __midrl_record():
    import os as _os, random as _random
    codec = {}
    exec(__midrl_codec_text, codec)
    real, calls, depth = globals()[__midrl_entry], [], [0]

    def recorder(*args, **kwargs):
        if depth[0]:  # a recursive call of the solution to itself: not a test case
            return real(*args, **kwargs)
        case = [[codec["encode"](a) for a in args], [[k, codec["encode"](v)] for k, v in kwargs.items()]]
        depth[0] += 1
        try:
            result = real(*args, **kwargs)
        finally:
            depth[0] -= 1
        calls.append(case + [codec["encode"](result)])
        return result

    globals()[__midrl_entry] = recorder
    _random.seed(__midrl_seed)
    check(recorder)
    data = codec["_canonical"](calls).encode()
    while data:
        data = data[_os.write(3, data):]


__midrl_record()
'''
_RUNNER = '''
def __midrl_run():
    import os as _os
    codec = {}
    exec(__midrl_codec_text, codec)
    function, results = globals()[__midrl_entry], []
    for args, kwargs in codec["loads"](__midrl_cases):
        try:
            value = function(*args, **dict(kwargs))
        except BaseException as error:  # noqa: BLE001 - any exception (SystemExit too) is this case's outcome
            results.append(["raised", type(error).__name__])
            continue
        try:
            results.append(["ok", codec["encode"](value)])
        except Exception as error:  # noqa: BLE001 - Unplain, or a value that breaks while being inspected
            results.append(["unplain", str(error)[:200]])
    data = codec["_canonical"](results).encode()
    while data:
        data = data[_os.write(3, data):]


__midrl_run()
'''


class CasesUnavailable(RuntimeError):
    """The problem's test inputs could not be recorded soundly (the problem cannot be judged differentially)."""


@dataclass(frozen=True)
class Cases:
    """A problem's recorded calls: [args, kwargs pairs, canonical result] with every value plain-data encoded."""

    key: str
    calls: list

    def inputs_text(self) -> str:
        return plain_codec()["_canonical"]([[args, kwargs] for args, kwargs, _ in self.calls])


def strip_assert_messages(test: str) -> str:
    """The test source with every `assert cond, message` reduced to `assert cond` (same verdict; see the module doc)."""

    class _Strip(ast.NodeTransformer):
        def visit_Assert(self, node: ast.Assert) -> ast.Assert:  # noqa: N802 - ast's visitor naming
            return ast.copy_location(ast.Assert(test=node.test, msg=None), node)

    return ast.unparse(ast.fix_missing_locations(_Strip().visit(ast.parse(test))))


def cases_key(doc: dict[str, Any]) -> str:
    """Identifies a recording: the problem's fields, the recorder version and the codec (sha256)."""
    fields = {name: doc[name] for name in DOC_FIELDS}
    blob = json.dumps({"fields": fields, "recorder": RECORDER_VERSION, "seed": SEED, "codec": CODEC_SOURCE,
                       "harness": _RECORDER + _RUNNER}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _harness(entry_point: str, tail: str, **constants: str) -> str:
    lines = [f"__midrl_codec_text = {codec_program_text()!r}", f"__midrl_entry = {entry_point!r}",
             *(f"__midrl_{name} = {value!r}" for name, value in constants.items())]
    return _HEADER + "\n".join(lines) + "\n" + tail


def recording_program(doc: dict[str, Any]) -> str:
    """The sandboxed program that records the calls `check` makes, with the canonical solution as the function."""
    module = f"{doc['prompt']}{doc['canonical_solution']}\n\n{strip_assert_messages(doc['test'])}\n"
    return module + _harness(doc["entry_point"], _RECORDER, seed=SEED)


def candidate_program(doc: dict[str, Any], solution_code: str, cases: Cases) -> str:
    """The sandboxed program that runs a candidate solution module on the recorded inputs (no test, no expected value)."""
    return f"{solution_code}\n" + _harness(doc["entry_point"], _RUNNER, cases=cases.inputs_text())


def parse_calls(channel: str) -> list:
    """The recorder's output: a list of [args list, kwargs pairs, result] (raw encodings, validated in shape)."""
    calls = json.loads(channel, parse_constant=_reject_constant)
    if type(calls) is not list or not all(type(c) is list and len(c) == 3 and type(c[0]) is list
                                          and type(c[1]) is list for c in calls):
        raise CasesUnavailable("the recorder wrote a malformed list of calls")
    if not calls:
        raise CasesUnavailable("the test never called the function")
    return calls


def parse_outcomes(channel: str, count: int) -> list[tuple[str, Any]]:
    """The runner's output, decoded as plain data: one (kind, value) per case; PlainDataError/ValueError if malformed."""
    codec = plain_codec()
    outcomes = codec["loads"](channel)
    if type(outcomes) is not list or len(outcomes) != count:
        raise codec["PlainDataError"](f"expected {count} case results, got "
                                      f"{len(outcomes) if type(outcomes) is list else type(outcomes).__name__}")
    for outcome in outcomes:
        if type(outcome) is not list or len(outcome) != 2 or outcome[0] not in ("ok", "raised", "unplain") or (
                outcome[0] != "ok" and type(outcome[1]) is not str):
            raise codec["PlainDataError"]("a case result is not [kind, value]")
    return [(kind, value) for kind, value in outcomes]


def _reject_constant(name: str):
    raise ValueError(f"bare {name} in recorded calls")


class _CandidateFailed(Exception):
    """A case where the candidate raised or returned something that is not plain data."""


class _NotRecorded(Exception):
    """The test called the function with arguments that were never recorded."""


@lru_cache(maxsize=512)
def _compiled(prompt: str, test: str) -> tuple:
    stub = prompt if _compiles(prompt) else prompt + "    pass\n"
    return compile(stub, "<prompt>", "exec"), compile(strip_assert_messages(test), "<test>", "exec")


def _compiles(source: str) -> bool:
    try:
        compile(source, "<prompt>", "exec")
    except SyntaxError:
        return False
    return True


@contextmanager
def _seeded_global_random():
    with _RANDOM_LOCK:
        state = random.getstate()
        random.seed(SEED)
        try:
            yield
        finally:
            random.setstate(state)


def replay(doc: dict[str, Any], cases: Cases, outcomes: Sequence[tuple[str, Any]]) -> tuple[bool | None, str]:
    """Run the problem's test in this process against the recorded outcomes: (verdict, reason)."""
    codec, used = plain_codec(), [0]

    def candidate(*args, **kwargs):
        index = used[0]
        used[0] += 1
        call = [[codec["encode"](a) for a in args], [[k, codec["encode"](v)] for k, v in kwargs.items()]]
        if index >= len(cases.calls) or codec["_canonical"](call) != codec["_canonical"](cases.calls[index][:2]):
            raise _NotRecorded(f"call {index + 1} has arguments that were not recorded from the canonical solution")
        kind, value = outcomes[index]
        if kind != "ok":
            raise _CandidateFailed(f"case {index + 1}: " + (f"raised {value}" if kind == "raised" else value))
        return copy.deepcopy(value)

    namespace: dict[str, Any] = {"__name__": "midrl_replay"}
    try:
        prompt_code, test_code = _compiled(doc["prompt"], doc["test"])
        exec(prompt_code, namespace)  # noqa: S102 - the problem's own trusted prompt (helper functions, imports)
        exec(test_code, namespace)  # noqa: S102 - the problem's own trusted test, defining check()
        namespace["check"]  # noqa: B018 - the test must define it
    except Exception as error:  # noqa: BLE001 - a broken problem cannot be judged, whatever the candidate did
        return None, f"could not judge: the problem's prompt or test does not load ({type(error).__name__})"
    namespace[doc["entry_point"]] = candidate
    with _seeded_global_random():
        try:
            namespace["check"](candidate)
        except _NotRecorded as error:
            return None, f"could not judge: {error} (an earlier output differed from the canonical one)"
        except _CandidateFailed as error:
            return False, str(error)
        except AssertionError:
            return False, f"assertion failed after {used[0]} of {len(cases.calls)} cases"
        except Exception as error:  # noqa: BLE001 - the test's own code failed on the candidate's output
            return False, f"the test raised {type(error).__name__} on the output of case {used[0]}"
    if used[0] != len(cases.calls):
        return None, f"could not judge: the test made {used[0]} calls, {len(cases.calls)} were recorded"
    return True, f"all {len(cases.calls)} cases pass the problem's asserts"


def self_check(doc: dict[str, Any], cases: Cases) -> None:
    """Replaying the canonical results must pass; raises CasesUnavailable (with the reason) otherwise."""
    codec = plain_codec()
    outcomes = [("ok", codec["loads"](codec["_canonical"](call[2]))) for call in cases.calls]
    verdict, reason = replay(doc, cases, outcomes)
    if verdict is not True:
        raise CasesUnavailable(f"{doc.get('id', 'problem')}: the canonical outputs do not replay: {reason}")


def write_cache_file(path: os.PathLike, cases: Cases, provenance: dict) -> None:
    """Atomically write a recording with its provenance (a crash never leaves a half-written file)."""
    temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"key": cases.key, "provenance": provenance, "calls": cases.calls}, handle)
    os.replace(temporary, path)


def read_cache_file(path: os.PathLike, key: str) -> Cases | None:
    """A cached recording, or None when absent, unreadable or made for something else."""
    try:
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle, parse_constant=_reject_constant)
        return Cases(key, parse_calls(json.dumps(stored["calls"]))) if stored.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, CasesUnavailable):
        return None
