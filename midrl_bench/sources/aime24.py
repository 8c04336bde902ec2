"""AIME 2024 (I and II): 30 problems with integer answers 0-999.

Hub: HuggingFaceH4/aime_2024 (train split, 30 rows). Problems (c) MAA; evaluation only.
"""

from midrl_bench.sources._normalise import aime_id, integer_string
from midrl_bench.sources.base import Source


def _normalise(row: dict, index: int) -> dict:
    return {"id": aime_id(2024, row.get("url"), index), "problem": row["problem"],
            "answer": integer_string(row["answer"])}


SOURCE = Source(
    name="aime24",
    hub_id="HuggingFaceH4/aime_2024",
    hub_revision="2fe88a2f1091d5048c0f36abc874fb997b3dd99a",
    mirror_path="benchmarks/aime24/test.jsonl",
    normalise_hub_row=_normalise,
    hub_split="train",
    expected_rows=30,
    licence="MIT (dataset); problems (c) MAA",
)
