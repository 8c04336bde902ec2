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

The program is `prompt-assembled solution + test + check(entry_point)` and passes only when it runs to its end with
exit status 0 (the sandbox's finish marker: an early `os._exit(0)` or `sys.exit(0)` is a failure). Verdicts: True
(passed), False (failed or timed out), None (the sandbox could not run it). The sandbox uses the strongest
isolation level available; set `MIDRL_SANDBOX_MIN_ISOLATION` (process | user | namespaces) to refuse anything less.
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


def build_test_program(doc: dict[str, Any], solution_code: str) -> str:
    """The solution followed by the problem's tests and the call that runs them."""
    return f"{solution_code}\n\n{doc['test']}\n\ncheck({doc['entry_point']})\n"


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
    return _sandbox().describe()


def run_tests(doc: dict[str, Any], responses: Sequence[str]):
    """Sandbox results (one per response) of the problem's tests on each response's solution."""
    programs = [build_test_program(doc, assemble_solution(doc["prompt"], doc["entry_point"], r).code) for r in responses]
    return _sandbox().run_many(programs, finish_marker=True)


def code_verdicts(doc: dict[str, Any], responses: Sequence[str]) -> list[bool | None]:
    """The pack's checker of kind "code": True passed, False failed or timed out, None could not be run."""
    verdicts: list[bool | None] = []
    for result in run_tests(doc, responses):
        if result.status == "error":
            LOGGER.warning("sandbox could not run a program for %s: %s", doc.get("id"), result.reason)
        verdicts.append({"passed": True, "failed": False, "timeout": False}.get(result.status))
    return verdicts
