"""MuSR (Sprague et al., 2024): multistep soft reasoning over long narratives, three domains.

Hub: TAUR-Lab/MuSR, splits murder_mysteries (250), object_placements (256), team_allocation (250); one row per
question; `choices` is stored on the Hub as the string form of a Python list. Licence CC BY 4.0.
"""

from __future__ import annotations

import ast

from midrl_bench.sources.base import Source

SUBSETS = {"murder": "murder_mysteries", "object": "object_placements", "team": "team_allocation"}
EXPECTED_ROWS = {"murder_mysteries": 250, "object_placements": 256, "team_allocation": 250}


def _normaliser(subset: str):
    def normalise(row: dict, index: int) -> dict:
        choices = row["choices"]
        if isinstance(choices, str):
            choices = ast.literal_eval(choices)
        return {"id": f"musr-{subset}-{index}", "subset": subset, "narrative": row["narrative"],
                "question": row["question"], "choices": list(choices), "answer_index": int(row["answer_index"])}

    return normalise


def source(short_name: str) -> Source:
    """The Source of one MuSR domain: `murder`, `object` or `team`."""
    subset = SUBSETS[short_name]
    return Source(
        name=f"musr_{short_name}",
        hub_id="TAUR-Lab/MuSR",
        hub_revision="7c365b439a222150f317764d4f16ae6c96d7d94a",
        mirror_path="benchmarks/musr/test.jsonl",
        normalise_hub_row=_normaliser(subset),
        hub_split=subset,
        expected_rows=EXPECTED_ROWS[subset],
        licence="CC BY 4.0",
        row_filter=lambda row: row["subset"] == subset,
    )
