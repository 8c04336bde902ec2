"""AIME 2025 (I and II): 30 problems with integer answers 0-999.

Hub: MathArena/aime_2025 (train split, 30 rows; problem_idx 1-15 = AIME I, 16-30 = AIME II).
Licence CC BY-NC-SA 4.0 on the Hub; problems (c) MAA; evaluation only.
"""

from midrl_bench.sources._normalise import integer_string
from midrl_bench.sources.base import Source


def _normalise(row: dict, index: int) -> dict:
    number = int(row.get("problem_idx", index + 1))
    contest, position = ("I", number) if number <= 15 else ("II", number - 15)
    return {"id": f"aime2025-{contest}-{position}", "problem": row["problem"],
            "answer": integer_string(row["answer"])}


SOURCE = Source(
    name="aime25",
    hub_id="MathArena/aime_2025",
    hub_revision="c94da77eb22bbd6439e62a323bec18493a421302",
    mirror_path="benchmarks/aime25/test.jsonl",
    normalise_hub_row=_normalise,
    hub_split="train",
    expected_rows=30,
    licence="CC BY-NC-SA 4.0; problems (c) MAA",
)
