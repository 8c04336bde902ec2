"""OlympiadBench, English text-only open-ended competition maths (OE_TO_maths_en_COMP): 675 problems.

Hub: Hothan/OlympiadBench, config OE_TO_maths_en_COMP (train split). Licence Apache-2.0.
Multi-part answers are joined with ", " as in the mirror.
"""

from midrl_bench.sources.base import Source


def _normalise(row: dict, index: int) -> dict:
    final = row.get("final_answer") or []
    answer = ", ".join(final) if isinstance(final, list) else str(final)
    return {"id": f"olympiadbench-{row['id']}", "problem": row["question"], "answer": answer,
            "subject": row.get("subfield")}


SOURCE = Source(
    name="olympiadbench",
    hub_id="Hothan/OlympiadBench",
    hub_revision="91184b52131e7fc9455fef848035173aea8cc01a",
    hub_config="OE_TO_maths_en_COMP",
    mirror_path="benchmarks/olympiadbench/test.jsonl",
    normalise_hub_row=_normalise,
    hub_split="train",
    expected_rows=675,
    licence="Apache-2.0",
)
