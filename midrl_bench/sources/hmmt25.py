"""HMMT February 2025: 30 problems, answers in LaTeX (problem 10 asks for a comma-separated pair).

Hub: MathArena/hmmt_feb_2025 (train split, 30 rows). Licence CC BY-NC-SA 4.0; problems (c) HMMT; evaluation only.
The revision is the Hub tag `main` resolved at release time of this pack: no commit sha could be confirmed
offline, so results on the Hub path record the resolved sha in their provenance (`Source.origin`).
"""

from midrl_bench.sources.base import Source


def _normalise(row: dict, index: int) -> dict:
    number = int(row.get("problem_idx", index + 1))
    return {"id": f"hmmt-feb-2025-{number}", "problem": row["problem"], "answer": str(row["answer"]).strip()}


SOURCE = Source(
    name="hmmt25",
    hub_id="MathArena/hmmt_feb_2025",
    hub_revision="main",
    mirror_path="benchmarks/hmmt_feb_2025/test.jsonl",
    normalise_hub_row=_normalise,
    hub_split="train",
    expected_rows=30,
    licence="CC BY-NC-SA 4.0; problems (c) HMMT",
)
