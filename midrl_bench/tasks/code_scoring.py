"""Scoring of code tasks (`midrl_humaneval`): turn a model response into a program, run it against the problem's
tests in the sandbox, and report a verdict per response.

Responses come in two shapes, both handled:
- completion models continue the prompt (the function signature and docstring), so the response is the body;
  it is cut at the first non-indented line, where the function has ended and anything else (a new `def`, a
  `print`, an `if __name__` block) would be unrelated text;
- chat models answer in prose with a fenced code block. The last block that defines the entry point is taken as
  the whole solution and appended after the prompt (the prompt keeps its imports and helper functions; the
  block's definition replaces the stub). A block without that definition is taken as the function body and
  re-assembled under the prompt's signature.

The solution is scored differentially (`midrl_bench.tasks.code_cases`): it runs in the sandbox on the test inputs
recorded once from the canonical solution, returns its outputs as plain data, and the problem's own asserts are
replayed on those outputs in this process, so nothing the program does inside (a custom `__eq__`, reading its own
file, exiting early, patching the test) can turn a failure into a pass. Verdicts: True (passed), False (failed, timed
out, raised, or returned something that is not plain data), None (could not be judged: the sandbox could not run it,
or the problem's inputs could not be recorded soundly). The sandbox uses the strongest isolation level available;
set `MIDRL_SANDBOX_MIN_ISOLATION` (process | user | namespaces) to refuse anything less.
"""

from __future__ import annotations

import logging
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from midrl_bench.tasks import code_cases
from midrl_bench.tasks.code_cases import Cases, CasesUnavailable
from midrl_bench.verify.plain_data import plain_codec

LOGGER = logging.getLogger(__name__)
TIMEOUT_S = 10.0  # per program, interpreter start-up included; HumanEval's own tests run in milliseconds
MEMORY_MB = 1024
PYTHON_FENCE_LANGUAGES = {"", "python", "python3", "py"}
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_CODE_START = re.compile(r"(?:def|class|import|from|async\s+def|@)\b")


@dataclass(frozen=True)
class Solution:
    code: str  # the prompt plus the model's code: a complete module defining the entry point
    shape: str  # "continuation" | "fenced-function" | "fenced-body" | "bare-function"


def humaneval_doc_to_text(doc: dict[str, Any]) -> str:
    """The prompt is the problem's own signature and docstring, unchanged (the standard HumanEval prompt)."""
    return doc["prompt"]


def _defines(code: str, entry_point: str) -> bool:
    return re.search(rf"^(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.M) is not None


def _python_blocks(response: str) -> list[str]:
    return [body for language, body in _FENCE.findall(response) if language.lower() in PYTHON_FENCE_LANGUAGES]


def _continuation_body(response: str) -> str:
    """The indented lines at the start of a continuation (blank lines kept), up to the first top-level line."""
    kept = []
    for line in response.splitlines():
        if line.strip() and not line[0].isspace():
            break
        kept.append(line)
    return "\n".join(kept)


def _as_body(code: str) -> str:
    body = textwrap.dedent(code).strip("\n")
    return textwrap.indent(body, "    ") if body.strip() else "    pass"


def assemble_solution(prompt: str, entry_point: str, response: str) -> Solution:
    """The module that a response to `prompt` stands for (see the module docstring for the rules)."""
    blocks = _python_blocks(response)
    if blocks:
        defining = [block for block in blocks if _defines(block, entry_point)]
        if defining:
            return Solution(f"{prompt}\n{defining[-1]}", "fenced-function")
        return Solution(f"{prompt}{_as_body(blocks[0])}\n", "fenced-body")
    stripped = response.lstrip()
    if _CODE_START.match(stripped) and _defines(stripped, entry_point):
        return Solution(f"{prompt}\n{stripped}", "bare-function")
    return Solution(f"{prompt}{_continuation_body(response)}\n", "continuation")


def recorded_cases(docs: Sequence[dict[str, Any]]) -> list[Cases | CasesUnavailable]:
    """Each problem's recorded test inputs (see `code_cases`): from the on-disk cache, else recorded now in the sandbox
    (all missing ones in parallel), self-checked, and cached with provenance. A problem whose inputs cannot be
    recorded soundly gives a CasesUnavailable carrying the reason."""
    from midrl_bench.paths import cache_dir

    lacking = [[name for name in code_cases.DOC_FIELDS if name not in doc] for doc in docs]
    keys = [None if lack else code_cases.cases_key(doc) for doc, lack in zip(docs, lacking, strict=True)]
    directory = cache_dir("code-cases")
    found: list = [CasesUnavailable(f"{doc.get('id', 'problem')}: no {', '.join(lack)} field") if lack else
                   _MEMORY.get(key) or code_cases.read_cache_file(directory / f"{key}.json", key)
                   for doc, lack, key in zip(docs, lacking, keys, strict=True)]
    missing = [i for i, cases in enumerate(found) if cases is None]
    programs = [code_cases.recording_program(docs[i]) for i in missing]
    for i, result in zip(missing, _sandbox().run_many(programs, result_channel=True), strict=True):
        found[i] = _recorded(docs[i], keys[i], result, directory)
    for key, cases in zip(keys, found, strict=True):
        if isinstance(cases, Cases):
            _MEMORY[key] = cases
    return found


def _recorded(doc: dict[str, Any], key: str, result, directory) -> Cases | CasesUnavailable:
    name = doc.get("id", doc["entry_point"])
    if result.status != "passed":
        return CasesUnavailable(f"{name}: recording the canonical solution's calls {result.status}: {result.reason}; "
                                f"{result.stderr_tail.strip()[-200:]}")
    try:
        cases = Cases(key, code_cases.parse_calls(result.channel))
        code_cases.self_check(doc, cases)
    except (ValueError, RecursionError, CasesUnavailable) as error:
        return error if isinstance(error, CasesUnavailable) else CasesUnavailable(f"{name}: {type(error).__name__}")
    provenance = {"doc_id": name, "recorder_version": code_cases.RECORDER_VERSION, "seed": code_cases.SEED,
                  "sandbox": _sandbox().describe(), "calls": len(cases.calls)}
    code_cases.write_cache_file(directory / f"{key}.json", cases, provenance)
    return cases


@dataclass(frozen=True)
class CodeVerdict:
    verdict: bool | None  # True passed, False failed, None could not be judged
    reason: str
    isolation: str


def judge_responses(doc: dict[str, Any], responses: Sequence[str]) -> list[CodeVerdict]:
    """Differential verdicts for responses to one problem (candidates run in the sandbox, judged here)."""
    (cases,) = recorded_cases([doc])
    level = _sandbox().level
    if isinstance(cases, CasesUnavailable):
        return [CodeVerdict(None, f"could not judge: {cases}", level) for _ in responses]
    programs = [code_cases.candidate_program(doc, assemble_solution(doc["prompt"], doc["entry_point"], r).code, cases)
                for r in responses]
    return [judge_result(doc, cases, result) for result in _sandbox().run_many(programs, result_channel=True)]


def judge_result(doc: dict[str, Any], cases: Cases, result) -> CodeVerdict:
    if result.status == "error":
        return CodeVerdict(None, f"sandbox could not run the program: {result.reason}", result.isolation)
    if result.status != "passed":
        last = result.stderr_tail.strip().splitlines()[-1:] or [""]
        return CodeVerdict(False, f"{result.status}: {result.reason} {last[0][:200]}".strip(), result.isolation)
    codec = plain_codec()
    try:
        outcomes = code_cases.parse_outcomes(result.channel, len(cases.calls))
    except codec["PlainDataError"] as error:
        return CodeVerdict(False, f"malformed result channel: {error}", result.isolation)
    verdict, reason = code_cases.replay(doc, cases, outcomes)
    return CodeVerdict(verdict, reason, result.isolation)


_MEMORY: dict[str, Cases] = {}


@lru_cache(maxsize=1)
def _sandbox():
    from midrl_bench.verify.code import Sandbox, SandboxLimits

    minimum = os.environ.get("MIDRL_SANDBOX_MIN_ISOLATION", "process")
    sandbox = Sandbox(SandboxLimits(timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB), min_isolation=minimum)
    if sandbox.level != "namespaces":
        LOGGER.warning("code tasks run at sandbox isolation level %r (strongest here); see `midrl sandbox check`",
                       sandbox.level)
    return sandbox


def sandbox_description() -> dict:
    """The sandbox code tasks use (isolation level, interpreter, limits), for provenance records."""
    return {**_sandbox().describe(), "scoring": "differential", "recorder_version": code_cases.RECORDER_VERSION}


def code_verdicts(doc: dict[str, Any], responses: Sequence[str]) -> list[bool | None]:
    """The pack's checker of kind "code": True passed, False failed or timed out, None could not be judged."""
    verdicts = judge_responses(doc, responses)
    for verdict in verdicts:
        if verdict.verdict is None:
            LOGGER.warning("code task %s: %s", doc.get("id"), verdict.reason)
    return [verdict.verdict for verdict in verdicts]
