"""MATH train, the 12k split (Hendrycks et al., 2021; split of Lightman et al., 2023): all 12,500 MATH problems minus
the 500 of MATH-500, so it never overlaps the `midrl_math500` benchmark.

Hub: EleutherAI/hendrycks_math (MIT), seven subject configs, each with the original `train` (7,500 in all) and `test`
(5,000) splits; rows are `{problem, level, type, solution}`. The normaliser gives the mirror schema
(`train/math/train.jsonl`, see `../shared/data/README.md`): `subject` = `type`, `level` = the integer in "Level N" (None
for "Level ?"), `answer` = the raw content of the last `\\boxed{}`/`\\fbox{}` of the solution (brace-matched; "" when the box
is empty), `meta.orig_split` / `meta.orig_level`. MATH-500 problems are removed by whitespace-normalised problem text
against `midrl_bench.sources.math500` (the Hub copy carries no file names). For the same reason Hub ids are
`{orig_split}/{subject_dir}/hub-{row}` rather than the mirror's MATH file names (`train/algebra/0.json`); every other
field is produced exactly as in the mirror.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from midrl_bench.sources.base import Source

SOURCE_LABEL = "MATH (Hendrycks) — prm800k-style 12k train split"
HUB_CONFIGS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra", "number_theory",
               "prealgebra", "precalculus")
HUB_SPLITS = ("train", "test")


def problem_key(problem: str) -> str:
    """Whitespace runs collapsed to one space, outer whitespace stripped: the identity used to drop MATH-500."""
    return re.sub(r"\s+", " ", problem).strip()


_BOX = re.compile(r"\\(?:boxed|fbox)")


def boxed_answer(solution: str) -> str:
    """The mirror's MATH answer: the raw content of the last brace-matched `\\boxed{...}`/`\\fbox{...}` (inner spaces
    kept), or the token after `\\boxed ` in the unbraced form (`\\boxed 2`); "" when there is none."""
    for match in reversed(list(_BOX.finditer(solution))):
        rest = solution[match.end():]
        if rest.startswith("{"):
            depth = 0
            for index, char in enumerate(rest):
                depth += {"{": 1, "}": -1}.get(char, 0)
                if depth == 0:
                    return rest[1:index]
        elif rest[:1] == " ":
            token = re.match(r" +([^\s$]+)", rest)
            if token:
                return token.group(1)
    return ""


def parse_level(level: str | None) -> int | None:
    """'Level 5' -> 5; 'Level ?' (2 rows of MATH) and anything else -> None."""
    match = re.fullmatch(r"Level (\d+)", (level or "").strip())
    return int(match.group(1)) if match else None


def normalise_row(row: dict[str, Any], row_id: str, orig_split: str) -> dict[str, Any]:
    """A Hub row (`problem, level, type, solution`) in the mirror schema."""
    return {
        "id": row_id, "problem": row["problem"], "solution": row["solution"],
        "answer": boxed_answer(row["solution"]), "source": SOURCE_LABEL, "level": parse_level(row.get("level")),
        "subject": row["type"], "meta": {"orig_split": orig_split, "orig_level": row.get("level")},
    }


def _normalise(row: dict[str, Any], index: int) -> dict[str, Any]:
    """Single-row form (used when a caller passes one Hub row without its split); the split defaults to train."""
    return normalise_row(row, f"train/hub-{index}", "train")


@dataclass(frozen=True)
class HendrycksMathSource(Source):
    """A Source whose Hub side spans 7 configs x 2 splits and drops the MATH-500 problems."""

    def origin(self) -> dict[str, Any]:
        record = super().origin()
        if record["kind"] == "hub":
            record.update(configs=list(HUB_CONFIGS), splits=list(HUB_SPLITS), minus="math500 (by problem text)")
        return record

    def _hub_rows(self) -> list[dict[str, Any]]:
        import datasets

        from midrl_bench.sources.math500 import SOURCE as MATH500

        held_out = {problem_key(row["problem"]) for row in MATH500.load_rows()}
        rows = []
        for split in HUB_SPLITS:
            for config in HUB_CONFIGS:
                dataset = datasets.load_dataset(self.hub_id, config, split=split, revision=self.hub_revision)
                for index, row in enumerate(dataset):
                    if problem_key(row["problem"]) not in held_out:
                        rows.append(normalise_row(dict(row), f"{split}/{config}/hub-{index}", split))
        return rows


SOURCE = HendrycksMathSource(
    name="math_train",
    hub_id="EleutherAI/hendrycks_math",
    hub_revision="21a5633873b6a120296cce3e2df9d5550074f4a3",
    mirror_path="train/math/train.jsonl",
    normalise_hub_row=_normalise,
    hub_split="train+test",
    expected_rows=12000,
    licence="MIT",
)
