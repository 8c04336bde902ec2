"""A whole build through the `file` backend with known right and wrong completions (tests/_build_fixtures.CASES):
verification, selection, decontamination, nesting, the fixed-budget pair, the incorrect control, STaR, counts,
the card and manifest, and `datasets.load_dataset` on every config.
"""

from __future__ import annotations

import json

import pytest
import yaml
from _build_fixtures import file_config, write_config

from midrl_bench.builder.config import load_config
from midrl_bench.builder.runner import build
from midrl_bench.builder.store import StoreError

# config -> {problem_id: {heuristic_id: sample_index}} expected after selection and decontamination
EXPECTED = {
    "n1": {"gsm8k-train-0": 1, "gsm8k-train-1": 1},
    "n2": {"gsm8k-train-0": 2, "gsm8k-train-1": 2},
    "n4": {"gsm8k-train-0": 3, "gsm8k-train-1": 2},  # (0, c_third) was dropped by decontamination
    "incorrect-n1": {"gsm8k-train-0": 1, "gsm8k-train-1": 1, "gsm8k-train-2": 1},
    "incorrect-n2": {"gsm8k-train-0": 1, "gsm8k-train-1": 2, "gsm8k-train-2": 2},
    "incorrect-n4": {"gsm8k-train-0": 1, "gsm8k-train-1": 3, "gsm8k-train-2": 4},
    "star": {"gsm8k-train-0": 1, "gsm8k-train-1": 1},
    "budget-n2-few": None,  # checked separately (which problem is drawn depends on the seed)
    "budget-n2-many": None,
}
SELECTED = {  # (problem, heuristic) -> sample index the builder must keep, with the reason from CASES
    ("gsm8k-train-0", "a_first"): 1,  # both right, more cues wins
    ("gsm8k-train-0", "b_second"): 0,  # only correct one
    ("gsm8k-train-0", "d_fourth"): 0,  # tie -> lowest index
    ("gsm8k-train-1", "a_first"): 0,  # the other sample has no answer
    ("gsm8k-train-1", "b_second"): 1,  # the other sample is wrong
}
CONTROL = {  # incorrect-n4: (problem, heuristic) -> sample index
    ("gsm8k-train-0", "b_second"): 1, ("gsm8k-train-1", "b_second"): 0, ("gsm8k-train-1", "c_third"): 1,
    ("gsm8k-train-1", "d_fourth"): 1,  # the answerless sample 0 is skipped
    ("gsm8k-train-2", "a_first"): 0, ("gsm8k-train-2", "b_second"): 0, ("gsm8k-train-2", "c_third"): 0,
    ("gsm8k-train-2", "d_fourth"): 0,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("file-build")
    config = load_config(write_config(tmp, file_config(tmp)))
    counts = build(config, tmp / "out", log=lambda line: None)
    return tmp / "out", counts, config


def _load(out, name, cache):
    import datasets

    return datasets.load_dataset(str(out), name, split="train", cache_dir=str(cache))


def test_stage_counts(built):
    _, counts, _ = built
    # shards hold whole problems: 10 requests per problem > shard_size 8, so one problem per shard
    assert counts["plan"] == {"problems": 3, "heuristics": 4, "shards": 3, "requests": 30, "heuristic_requests": 24,
                              "untargeted_requests": 6}
    assert counts["generate"]["generated"] == 30
    assert counts["verify"] == {"heuristic_correct": 9, "heuristic_incorrect": 15, "untargeted_correct": 3,
                                "untargeted_incorrect": 3}
    # adherence only for candidates selection can pick: 9 correct + 13 wrong that state an answer (the control is on);
    # not the 2 answerless heuristic samples nor the 6 untargeted ones
    assert counts["adherence"] == {"scorer": "rules", "scored": 22, "not_scored": 8}
    assert counts["select"]["pairs_with_correct"] == 6 and counts["select"]["pairs_with_incorrect"] == 8
    assert counts["select"]["star_problems_with_correct"] == 2
    assert counts["decontaminate"]["dropped"] == 1 and counts["decontaminate"]["kept"] == 15
    assert counts["write"]["configs"] == len(EXPECTED)


def test_every_config_loads_with_expected_rows(built, tmp_path):
    out, _, _ = built
    for name, per_problem in EXPECTED.items():
        rows = _load(out, name, tmp_path / "cache")
        if per_problem is not None:
            got: dict[str, int] = {}
            for pid in rows["problem_id"]:
                got[pid] = got.get(pid, 0) + 1
            assert got == per_problem, name
        assert rows.column_names == ["problem_id", "source", "problem", "answer", "heuristic_id", "heuristic_name",
                                     "sample_index", "adherence_score", "messages", "prompt", "completion"]


def test_selection_and_control_pick_the_specified_samples(built, tmp_path):
    out, _, _ = built
    n4 = _load(out, "n4", tmp_path / "cache")
    assert {(r["problem_id"], r["heuristic_id"]): r["sample_index"] for r in n4} == SELECTED
    control = _load(out, "incorrect-n4", tmp_path / "cache")
    assert {(r["problem_id"], r["heuristic_id"]): r["sample_index"] for r in control} == CONTROL
    for row in control:
        assert "\\boxed{999}" in row["completion"]  # every control row states a wrong answer
    star = _load(out, "star", tmp_path / "cache")
    assert {(r["problem_id"], r["sample_index"], r["heuristic_id"]) for r in star} == {
        ("gsm8k-train-0", 1, None), ("gsm8k-train-1", 0, None)}


def test_nested_configs_and_rows(built, tmp_path):
    out, _, _ = built
    sets = {k: {(r["problem_id"], r["heuristic_id"]) for r in _load(out, f"n{k}", tmp_path / "cache")} for k in (1, 2, 4)}
    assert sets[1] <= sets[2] <= sets[4]
    row = next(r for r in _load(out, "n1", tmp_path / "cache"))
    assert row["messages"] == [{"role": "user", "content": row["problem"]}, {"role": "assistant", "content": row["completion"]}]
    assert row["prompt"] == row["problem"] and row["heuristic_name"].endswith("method")
    assert row["answer"] in ("72", "10") and 0.0 <= row["adherence_score"] <= 1.0


def test_fixed_budget_pair_has_equal_rows(built, tmp_path):
    out, _, _ = built
    few, many = (_load(out, f"budget-n2-{side}", tmp_path / "cache") for side in ("few", "many"))
    assert len(few) == len(many) == 2
    assert len(set(few["problem_id"])) == 1 and len(set(many["problem_id"])) == 2


def test_manifest_and_card(built):
    out, _, config = built
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == "0.1.0" and manifest["config_hash"] == config.config_hash()
    assert manifest["heuristic_library"]["selected_ids"] == ["a_first", "b_second", "c_third", "d_fourth"]
    assert manifest["decontamination"]["dropped"][0]["hits"][0]["benchmark_id"] == "test/precalculus/807.json"
    assert set(manifest["files"]) == {"README.md", "CHANGELOG.md", *(f for c in manifest["configs"].values()
                                                                      for f in c["files"])}
    assert manifest["sources"][0]["hub_id"] == "openai/gsm8k"
    card = (out / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    assert [c["config_name"] for c in header["configs"]][:3] == ["n1", "n2", "n4"]  # card keeps the build order
    assert sorted(c["config_name"] for c in header["configs"]) == sorted(manifest["configs"])
    assert header["license"] == "mit" and header["source_datasets"] == ["openai/gsm8k"]
    assert {i["config_name"]: i["splits"][0]["num_examples"] for i in header["dataset_info"]}["n4"] == 5
    assert "| `a_first` | Alpha method | test | 2 | 0.6667 |" in card  # selected for 2 problems, cues 1/3 and 3/3
    assert "| `c_third` | Gamma method | test | 0 | – |" in card  # its only winner was decontaminated
    assert "test/precalculus/807.json" in card  # decontamination hit listed
    from huggingface_hub import DatasetCard

    hub_card = DatasetCard.load(out / "README.md")  # the Hub's own parser reads the header
    assert hub_card.data.to_dict()["dataset_info"][0]["features"][8]["name"] == "messages"
    assert manifest["checker"]["timeout_s"] == config.verify.timeout_s  # the checker's settings are recorded
    assert "not_bit_reproducible" in manifest["reproducibility"] and "What is not:" in card
    assert manifest["generator"]["chat_template_kwargs"] == {"date_string": "26 Jul 2024"}


def test_card_leaves_out_sources_without_a_hub_id(built):
    """The toy world's source has no Hub id: the card used to say `source_datasets: [null]`."""
    from midrl_bench.builder.card import card_data

    out, _, _ = built
    manifest = json.loads((out / "manifest.json").read_text())
    for source in manifest["sources"]:
        source["hub_id"] = None
    assert "source_datasets" not in card_data(manifest).to_dict()
    assert "## 0.1.0" in (out / "CHANGELOG.md").read_text()


def test_rerun_is_a_no_op_and_other_config_is_refused(built, tmp_path):
    out, counts, config = built
    before = (out / "manifest.json").read_bytes()
    assert build(config, out, log=lambda line: None) == counts
    assert (out / "manifest.json").read_bytes() == before
    other = load_config(write_config(tmp_path, file_config(tmp_path, seed=8)))
    with pytest.raises(StoreError, match="different config"):
        build(other, out, log=lambda line: None)
    assert (out / "manifest.json").read_bytes() == before  # nothing lost


def test_diversity_cli_prints_the_table_and_recomputes_it(built, capsys):
    from midrl_bench import diversity_cli

    out, _, _ = built
    assert diversity_cli.main([str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["config", "rows", "problems"] and len(table) == 2 + len(EXPECTED)
    n4 = next(line for line in table if line.startswith("n4 "))
    assert n4.split()[1:3] == ["5", "2"]  # 5 rows over 2 problems
    manifest = json.loads((out / "manifest.json").read_text())
    assert diversity_cli.main([str(out), "--recompute", "--embedder", "ngram", "--ngram-n", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["configs"] == manifest["diversity"]["configs"]
    assert diversity_cli.main([str(out / "missing")]) == 2
