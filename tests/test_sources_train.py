"""Training-set sources: counts and hashes from the MIDRL_DATA_DIR mirror, and the Hub normalisers checked against
the mirror by rebuilding Hub-shaped rows from it (the Hub itself is not reachable here)."""

from __future__ import annotations

import re

import pytest

from midrl_bench.paths import data_dir
from midrl_bench.sources import dapo_math_17k, gsm8k_train, math_train

pytestmark = pytest.mark.skipif(data_dir() is None, reason="needs the MIDRL_DATA_DIR mirror")

# mirror sha256 values from ../shared/data/README.md
CASES = [
    (gsm8k_train.SOURCE, 7473, "dc04d633edc1a89f5d43a89b75ff1a842b98e76e4e8aab796688b386f7538ecc"),
    (math_train.SOURCE, 12000, "d4a737bb199b01119ac82cae24067f8213103464258a675dbd533b60dcf60dfe"),
    (dapo_math_17k.SOURCE, 17176, "7c57106fe79c49e61a0e149efff89809c00f8d93f2b4b5b0e32b6a86b440246b"),
]


@pytest.fixture(scope="module")
def rows():
    return {source.name: source.load_rows() for source, _, _ in CASES}


@pytest.mark.parametrize("source, count, sha256", CASES, ids=[case[0].name for case in CASES])
def test_mirror_counts_hashes_and_pins(rows, source, count, sha256):
    loaded = rows[source.name]
    assert len(loaded) == count == source.expected_rows
    assert len({row["id"] for row in loaded}) == count  # ids are unique
    assert all(row["problem"] and isinstance(row["answer"], str) for row in loaded)
    assert source.origin() == {"kind": "mirror", "path": str(data_dir() / source.mirror_path), "sha256": sha256}
    assert re.fullmatch(r"[0-9a-f]{40}", source.hub_revision)  # a commit, never a moving branch


def test_gsm8k_normaliser_reproduces_the_mirror(rows):
    for index, row in enumerate(rows["gsm8k_train"]):
        # the Hub row: question + "solution\n#### answer"; thousands commas are part of the raw answer
        raw_answer = f"{int(row['answer']):,}" if row["answer"].isdigit() else row["answer"]
        hub_row = {"question": row["problem"], "answer": f"{row['solution']}\n#### {raw_answer}"}
        assert gsm8k_train.SOURCE.normalise_hub_row(hub_row, index) == row


def test_gsm8k_answer_without_marker_is_an_error():
    with pytest.raises(ValueError, match="no '####'"):
        gsm8k_train.split_solution("just a solution")


def test_math_normaliser_reproduces_every_mirror_field_but_the_id(rows):
    for row in rows["math_train"]:
        hub_row = {"problem": row["problem"], "solution": row["solution"], "type": row["subject"],
                   "level": row["meta"]["orig_level"]}
        split, subject, _ = row["id"].split("/")
        normalised = math_train.normalise_row(hub_row, f"{split}/{subject}/hub-0", row["meta"]["orig_split"])
        assert {**normalised, "id": row["id"]} == row


def test_math_train_excludes_math500(rows):
    from midrl_bench.sources.math500 import SOURCE as MATH500

    held_out = {math_train.problem_key(row["problem"]) for row in MATH500.load_rows()}
    assert not held_out & {math_train.problem_key(row["problem"]) for row in rows["math_train"]}
    assert math_train.SOURCE.origin()["kind"] == "mirror"


def test_dapo_deduplication_reproduces_the_mirror(rows):
    """Rebuild the 17,917 source prompts from the mirror — each kept row at its `row_index`, its duplicates (with
    extra whitespace) at its `dup_row_indices`, and the rows of the dropped groups as pairs that disagree on the
    answer — and check that `deduplicate` gives back exactly the mirror."""
    mirror = rows["dapo_math_17k"]
    prompts: dict[int, tuple[str, str]] = {}
    for row in mirror:
        prompts[row["meta"]["row_index"]] = (row["problem"], row["answer"])
        for index in row["meta"]["dup_row_indices"]:
            prompts[index] = (row["problem"].replace(" ", "  ", 1) + "\n", row["answer"])
    dropped = [index for index in range(17917) if index not in prompts]
    assert len(dropped) == 24 and {35, 179, 282, 7665, 5785, 10267} <= set(dropped)  # the README's 12 groups
    for position, index in enumerate(dropped):
        prompts[index] = (f"conflicting problem {position // 2}", str(index))
    assert dapo_math_17k.deduplicate([prompts[index] for index in range(17917)]) == mirror


@pytest.mark.parametrize(
    "content, expected",
    [
        (f"{dapo_math_17k.WRAPPER_PREFIX}\n\nFind $x$.\n\n{dapo_math_17k.WRAPPER_SUFFIX}", "Find $x$."),  # wrapped
        ("  Find $x$.\n", "Find $x$."),  # already bare: only outer whitespace goes
    ],
)
def test_dapo_wrapper_is_removed(content, expected):
    assert dapo_math_17k.strip_wrapper(content) == expected
    hub_row = {"prompt": [{"role": "user", "content": content}], "reward_model": {"ground_truth": "34"}}
    assert dapo_math_17k.SOURCE.normalise_hub_row(hub_row, 7)["problem"] == expected


@pytest.mark.parametrize(
    "solution, expected",
    [
        ("so $x=\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),  # nested braces
        ("first \\boxed{1}, finally \\fbox{ 2 }", " 2 "),  # the last box wins, inner spaces kept
        ("answer is $\\boxed 9$.", "9"),  # unbraced form
        ("\\boxed{3} then an unclosed \\boxed{4", "3"),  # an unbalanced last box falls back to the previous one
        ("\\boxed{}", ""),  # an empty box (2 MATH rows)
        ("no box at all", ""),  # nothing boxed
    ],
)
def test_math_boxed_answer(solution, expected):
    assert math_train.boxed_answer(solution) == expected


def _hub_folder(root, tables: dict[tuple[str, str], list[dict]]):
    """A local dataset repo laid out like the Hub one: one parquet per (config, split), configs declared in the card."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    card = ["---", "configs:"]
    for config in sorted({config for config, _ in tables}):
        card += [f"- config_name: {config}", "  data_files:"]
        for (name, split), table_rows in sorted(tables.items()):
            if name == config:
                pq.write_table(pa.Table.from_pylist(table_rows), root / f"{config}-{split}.parquet")
                card += [f"  - split: {split}", f"    path: {config}-{split}.parquet"]
    (root / "README.md").write_text("\n".join([*card, "---", ""]), encoding="utf-8")
    return root


def test_math_hub_path_on_a_local_copy(rows, tmp_path):
    """The Hub code path (7 configs x 2 splits through `datasets`, MATH-500 dropped by text) on Hub-shaped files."""
    import dataclasses

    from midrl_bench.sources.math500 import SOURCE as MATH500

    tables: dict[tuple[str, str], list[dict]] = {}
    for row in rows["math_train"]:
        split, config, _ = row["id"].split("/")
        tables.setdefault((config, split), []).append(
            {"problem": row["problem"], "level": row["meta"]["orig_level"], "type": row["subject"],
             "solution": row["solution"]})
    for row in MATH500.load_rows():  # the 500 held-out problems sit in the original test split
        config = row["id"].split("/")[1]
        tables[(config, "test")].append({"problem": row["problem"], "level": f"Level {row['level']}",
                                         "type": row["subject"], "solution": f"\\boxed{{{row['answer']}}}"})
    source = dataclasses.replace(math_train.SOURCE, hub_id=str(_hub_folder(tmp_path, tables)), hub_revision=None)
    hub_rows = source._hub_rows()
    assert len(hub_rows) == 12000
    strip_id = [{k: v for k, v in row.items() if k != "id"} for row in rows["math_train"]]
    assert sorted(map(repr, ({k: v for k, v in r.items() if k != "id"} for r in hub_rows))) == sorted(map(repr, strip_id))


def test_dapo_hub_path_on_a_local_copy(rows, tmp_path):
    """The Hub code path on a Hub-shaped parquet: wrapped prompts, UUIDs, every prompt repeated (here twice)."""
    import dataclasses

    mirror = rows["dapo_math_17k"]
    prompts = {}
    for row in mirror:
        for index in [row["meta"]["row_index"], *row["meta"]["dup_row_indices"]]:
            prompts[index] = (row["problem"], row["answer"])
    kept = sorted(prompts)
    hub = [{"prompt": [{"role": "user", "content": f"{dapo_math_17k.WRAPPER_PREFIX}\n\n{prompts[index][0]}\n\n"
                                                   f"{dapo_math_17k.WRAPPER_SUFFIX}"}],
            "reward_model": {"ground_truth": prompts[index][1], "style": "rule-lighteval/MATH_v2"},
            "extra_info": {"index": f"uuid-{index}"}} for index in kept]
    source = dataclasses.replace(dapo_math_17k.SOURCE, hub_id=str(_hub_folder(tmp_path, {("default", "train"): hub * 2})),
                                 hub_config="default", hub_revision=None)
    hub_rows = source._hub_rows()
    # without the 24 dropped source rows the numbering shifts, so compare content and grouping, not ids
    assert [(r["problem"], r["answer"], len(r["meta"]["dup_row_indices"])) for r in hub_rows] == [
        (r["problem"], r["answer"], len(r["meta"]["dup_row_indices"])) for r in mirror]
