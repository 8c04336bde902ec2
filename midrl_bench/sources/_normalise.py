"""Small normalisation helpers shared by the benchmark source modules (Hub rows -> mirror schema)."""

from __future__ import annotations

import re


def integer_string(value) -> str:
    """'025' -> '25', 27.0 -> '27'; anything non-integral is returned stripped, unchanged."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def aime_id(year: int, url: str | None, index: int, per_contest: int = 15) -> str:
    """`aime{year}-{I|II}-{n}` from an AoPS url, or from the row position when the url is absent."""
    match = re.search(r"AIME_(I{1,2})_Problems/Problem_(\d+)", url or "")
    if match:
        return f"aime{year}-{match.group(1)}-{int(match.group(2))}"
    contest = "I" if index < per_contest else "II"
    return f"aime{year}-{contest}-{index % per_contest + 1}"
