"""A three-heuristic library (loaded by the real loader) and lm-eval-format samples files of hand-written traces.

The packaged library is still growing, so the judge's tests use this fixed one; the cues below are the whole truth
the `rules` labeller sees, which is what makes the expected labels in the tests exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

HEURISTICS = {
    "working_backwards": {
        "name": "Working backwards",
        "instruction": "Start from the goal and undo each step in reverse order until you reach the data. "
                       "Then run the steps forwards as a check.",
        "cues": ["work backwards", "working backwards", "undo", "reverse order"],
        "exemplars": [("Doubling a number and adding 3 gives 11. Find it.",
                       "Working backwards: undo the +3 to get 8, undo the doubling to get 4. \\boxed{4}", "4"),
                      ("Halving a number then subtracting 1 gives 2. Find it.",
                       "Work backwards: undo the -1 to get 3, undo the halving to get 6. \\boxed{6}", "6")],
    },
    "case_analysis": {
        "name": "Case analysis",
        "instruction": "Split the problem into exhaustive cases and solve each case separately. "
                       "Combine the answers of the cases at the end.",
        "cues": ["case 1", "case 2", "in each case", "split into cases"],
        "exemplars": [("How many integers x with |x| = 3 are there?",
                       "Split into cases. Case 1: x >= 0 gives x = 3. Case 2: x < 0 gives x = -3. \\boxed{2}", "2"),
                      ("Solve x^2 = 1 for the number of real solutions.",
                       "Case 1: x > 0 gives x = 1. Case 2: x < 0 gives x = -1. In each case one root. \\boxed{2}",
                       "2")],
    },
    "check_the_result": {
        "name": "Check the result",
        "instruction": "After finding an answer, substitute it back into the conditions to verify it. "
                       "Reject answers that fail the check.",
        "cues": ["substitute back", "verify", "check the result", "sanity check"],
        "exemplars": [("Solve 2x + 1 = 7.", "x = 3. Substitute back: 2 * 3 + 1 = 7, so we verify it. \\boxed{3}", "3"),
                      ("Solve x - 4 = 1.", "x = 5. Check the result: 5 - 4 = 1. \\boxed{5}", "5")],
    },
}


def write_test_library(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for heuristic_id, spec in HEURISTICS.items():
        record = {
            "id": heuristic_id, "name": spec["name"], "family": "polya", "source": "written for the midrl-bench tests",
            "instruction": spec["instruction"], "cues": spec["cues"],
            "exemplars": [{"problem": p, "solution": s, "answer": a} for p, s, a in spec["exemplars"]],
        }
        (directory / f"{heuristic_id}.yaml").write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
    return directory


def write_samples(path: Path, task: str, docs: list[dict], responses: list[list[str]]) -> Path:
    """A samples file laid out as lm-eval's `--log_samples` writes it (keep-all filter: [[r1..rN]])."""
    rows = []
    for doc_id, (doc, texts) in enumerate(zip(docs, responses, strict=True)):
        rows.append({"doc_id": doc_id, "doc": doc, "target": str(doc.get("answer", "")),
                     "arguments": {"gen_args_0": {"arg_0": "prompt", "arg_1": {}}}, "resps": [texts],
                     "filtered_resps": [texts], "filter": "all", "metrics": ["pass@1"]})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
