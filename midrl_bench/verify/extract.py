"""Strict extraction of a response's final answer.

Only three places count, in this order of preference:
1. the content of the *last* `\\boxed{...}` / `\\fbox{...}` (brace-matched, nested braces allowed);
2. a GSM8K-style `#### N` line (the last one);
3. an `Answer: ...` line (the last one; `Final answer:` and bold `**Answer:**` included).
Numbers elsewhere in the prose never count, so "I first tried 12 ..." cannot score against a gold of 12.
"""

from __future__ import annotations

import re

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_HASH_LINE = re.compile(r"^\s*####\s*(.+?)\s*$", re.MULTILINE)
_ANSWER_LINE = re.compile(
    r"^[ \t>*_#]*(?:final\s+)?answer\s*(?:is)?\s*[:：]\s*[*_]*\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE
)


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` or `\\fbox{...}`; None when there is none or its braces never close."""
    start = max(text.rfind(command) for command in _BOX_COMMANDS)
    while start != -1:
        content = _braced_content_after(text, start)
        if content is not None:
            return content.strip()
        start = max(text.rfind(command, 0, start) for command in _BOX_COMMANDS)
    return None


def _braced_content_after(text: str, command_start: int) -> str | None:
    open_index = text.find("{", command_start)
    if open_index == -1 or text[command_start:open_index].strip() not in _BOX_COMMANDS:
        return None
    depth = 0
    for index in range(open_index, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[open_index + 1 : index]
    return None


def _clean_line_answer(answer: str) -> str:
    answer = answer.strip().strip("*_").strip().rstrip(".").strip()
    answer = re.sub(r"^\$+|\$+$", "", answer).strip()
    return answer.rstrip(".").strip()


def extract_final_answer(text: str) -> tuple[str | None, str]:
    """(answer, where) with where in {"boxed", "hash", "answer_line", "none"}."""
    boxed = last_boxed(text)
    if boxed is not None and boxed != "":
        return boxed, "boxed"
    hashes = _HASH_LINE.findall(text)
    if hashes:
        return _clean_line_answer(hashes[-1]).replace(",", ""), "hash"
    answer_lines = _ANSWER_LINE.findall(text)
    if answer_lines:
        inner = last_boxed(answer_lines[-1])
        return (inner if inner else _clean_line_answer(answer_lines[-1])), "answer_line"
    return None, "none"
