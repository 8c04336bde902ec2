"""DAPO-Math-17k (Yu et al., 2025): competition problems with integer answers, the RL prompt set.

Hub: BytedTsinghua-SIA/DAPO-Math-17k (Apache-2.0), one parquet whose 1,791,700 rows repeat each of 17,917 prompts 100
times. A row holds `prompt` (one user message wrapping the problem in DAPO's `Answer:` instruction),
`reward_model.ground_truth` and `extra_info.index` (a per-prompt UUID). The normaliser reproduces the mirror
(`train/dapo_math_17k/train.jsonl`, see `../shared/data/README.md`): prompts are numbered in order of first appearance
(the mirror's `row_index`), the wrapper is removed, problems are grouped by whitespace-collapsed text, the lowest row
of each group is kept (`meta.dup_row_indices` lists the others), and groups whose rows disagree on the answer are
dropped as unreliable — 17,176 rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from midrl_bench.sources.base import Source

SOURCE_LABEL = "dapo-math-17k"
WRAPPER_PREFIX = (
    "Solve the following math problem step by step. The last line of your response should be of the form "
    "Answer: $Answer (without quotes) where $Answer is the answer to the problem."
)
WRAPPER_SUFFIX = 'Remember to put your answer on its own line after "Answer:".'


def strip_wrapper(content: str) -> str:
    """The bare problem inside DAPO's instruction wrapper (text without the wrapper is returned stripped)."""
    text = content.strip()
    if text.startswith(WRAPPER_PREFIX):
        text = text[len(WRAPPER_PREFIX):]
    if text.endswith(WRAPPER_SUFFIX):
        text = text[: -len(WRAPPER_SUFFIX)]
    return text.strip()


def problem_key(problem: str) -> str:
    return re.sub(r"\s+", " ", problem).strip()


def deduplicate(prompts: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rows in the mirror schema from (problem, answer) pairs indexed by prompt number (see module doc)."""
    groups: dict[str, list[int]] = {}
    for row_index, (problem, _) in enumerate(prompts):
        groups.setdefault(problem_key(problem), []).append(row_index)
    rows = []
    for members in sorted(groups.values(), key=lambda group: group[0]):
        if len({prompts[i][1] for i in members}) > 1:
            continue  # the same problem labelled with two answers: unreliable, dropped
        first = members[0]
        rows.append({
            "id": f"dapo-math-17k-{first:05d}", "problem": prompts[first][0], "answer": prompts[first][1],
            "source": SOURCE_LABEL, "meta": {"row_index": first, "dup_row_indices": members[1:]},
        })
    return rows


def _normalise(row: dict[str, Any], index: int) -> dict[str, Any]:
    """One Hub row on its own (no de-duplication): the bare problem and its answer."""
    problem = strip_wrapper(row["prompt"][0]["content"])
    answer = str(row["reward_model"]["ground_truth"]).strip()
    return {"id": f"dapo-math-17k-{index:05d}", "problem": problem, "answer": answer, "source": SOURCE_LABEL,
            "meta": {"row_index": index, "dup_row_indices": []}}


@dataclass(frozen=True)
class DapoSource(Source):
    """A Source whose Hub side collapses the 100x repetition and de-duplicates as the mirror did."""

    def _hub_rows(self) -> list[dict[str, Any]]:
        import datasets

        dataset = datasets.load_dataset(self.hub_id, self.hub_config, split=self.hub_split, revision=self.hub_revision)
        seen: set[str] = set()
        prompts: list[tuple[str, str]] = []
        for batch in dataset.select_columns(["prompt", "reward_model", "extra_info"]).iter(batch_size=10_000):
            for prompt, reward, extra in zip(batch["prompt"], batch["reward_model"], batch["extra_info"], strict=True):
                # a prompt's identity is its upstream UUID; without one, its text (exact repeats then merge early)
                uid = str((extra or {}).get("index") or prompt[0]["content"])
                if uid not in seen:
                    seen.add(uid)
                    row = _normalise({"prompt": prompt, "reward_model": reward}, len(prompts))
                    prompts.append((row["problem"], row["answer"]))
        return deduplicate(prompts)


SOURCE = DapoSource(
    name="dapo_math_17k",
    hub_id="BytedTsinghua-SIA/DAPO-Math-17k",
    hub_revision="65877096c24ffa7abc4e4fa5edb95cf3413a5674",
    mirror_path="train/dapo_math_17k/train.jsonl",
    normalise_hub_row=_normalise,
    hub_split="train",
    expected_rows=17176,
    licence="Apache-2.0",
)
