"""AMC 2023 (12A and 12B): 40 problems rewritten to numeric answers, as used by Qwen2.5-Math and DeepScaleR.

Hub: math-ai/amc23 (test split, 40 rows; answers stored as floats, written here as integers when integral).
"""

from midrl_bench.sources._normalise import integer_string
from midrl_bench.sources.base import Source


def _normalise(row: dict, index: int) -> dict:
    return {"id": f"amc23-{row.get('id', index)}", "problem": row.get("question") or row["problem"],
            "answer": integer_string(row["answer"])}


SOURCE = Source(
    name="amc23",
    hub_id="math-ai/amc23",
    hub_revision="80815d37005feb82cd7f8fbc6901d5d3eff43057",
    mirror_path="benchmarks/amc23/test.jsonl",
    normalise_hub_row=_normalise,
    hub_split="test",
    expected_rows=40,
    licence="MIT (evaluation data); problems (c) MAA",
)
