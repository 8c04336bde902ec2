"""GSM8K train (Cobbe et al., 2021): 7,473 grade-school word problems — the paper's mid-training seed set.

Hub: openai/gsm8k, config `main`, split `train` (MIT). A Hub row is `{question, answer}` where `answer` is the worked
solution followed by `#### <final answer>`; we split it into `solution` (calculator annotations `<<...>>` kept) and
`answer` (thousands commas removed), exactly as the local mirror (`train/gsm8k/train.jsonl`) was normalised.
"""

from midrl_bench.sources.base import Source

SOURCE_LABEL = "GSM8K train"


def split_solution(text: str) -> tuple[str, str]:
    """('worked solution', 'final answer') from a GSM8K answer field; a clear error when '####' is missing."""
    if "####" not in text:
        raise ValueError(f"gsm8k: answer field has no '####' final-answer marker: {text[-80:]!r}")
    solution, _, final = text.rpartition("####")
    return solution.strip(), final.strip().replace(",", "")


def _normalise(row: dict, index: int) -> dict:
    solution, answer = split_solution(row["answer"])
    return {"id": f"gsm8k-train-{index}", "problem": row["question"], "solution": solution, "answer": answer,
            "source": SOURCE_LABEL}


SOURCE = Source(
    name="gsm8k_train",
    hub_id="openai/gsm8k",
    hub_revision="740312add88f781978c0658806c59bc2815b9866",
    mirror_path="train/gsm8k/train.jsonl",
    normalise_hub_row=_normalise,
    hub_config="main",
    hub_split="train",
    expected_rows=7473,
    licence="MIT",
)
