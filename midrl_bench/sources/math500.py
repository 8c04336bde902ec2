"""MATH-500 (Lightman et al., 2023): 500 problems of the MATH test set chosen for PRM800K.

Hub: HuggingFaceH4/MATH-500 (test split, 500 rows). Licence MIT. Answers are LaTeX.
"""

from midrl_bench.sources.base import Source


def _normalise(row: dict, index: int) -> dict:
    return {"id": row["unique_id"], "problem": row["problem"], "answer": row["answer"],
            "subject": row.get("subject"), "level": row.get("level")}


SOURCE = Source(
    name="math500",
    hub_id="HuggingFaceH4/MATH-500",
    hub_revision="6e4ed1a2a79af7d8630a6b768ec859cb5af4d3be",
    mirror_path="benchmarks/math500/test.jsonl",
    normalise_hub_row=_normalise,
    hub_split="test",
    expected_rows=500,
    licence="MIT",
)
