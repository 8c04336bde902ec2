"""Mid-training data from a built dataset directory (the builder's layout) and clear errors for bad rows."""

import json
from pathlib import Path

import pytest

from midrl_bench.config import ConfigError
from midrl_bench.pipeline.data import load_midtrain_rows
from midrl_bench.pipeline.spec import spec_from_dict

TINY_ROWS = Path(__file__).resolve().parents[1] / "recipes" / "tiny-cpu-data" / "midtrain.jsonl"
CARD = """---
configs:
- config_name: n1
  data_files:
  - split: train
    path: data/n1/train-*.parquet
- config_name: n2
  data_files:
  - split: train
    path: data/n2/train-*.parquet
---
# tiny built dataset
"""


def _spec(dataset: str, **midtrain) -> object:
    return spec_from_dict({"name": "t", "model": {"id_or_path": "m"}, "rl": {"prompts": "p.jsonl", "steps": 1},
                           "midtrain": {"dataset": dataset, **midtrain}})


def _built_dataset(root: Path) -> Path:
    """A directory in the builder's layout: README card with `configs:` and data/<config>/train-*.parquet."""
    import datasets

    rows = [json.loads(line) for line in TINY_ROWS.read_text().splitlines()]
    for config, count in (("n1", 16), ("n2", 32)):
        (root / "data" / config).mkdir(parents=True)
        datasets.Dataset.from_list(rows[:count]).to_parquet(str(root / "data" / config / "train-00000-of-00001.parquet"))
    (root / "README.md").write_text(CARD)
    (root / "manifest.json").write_text("{}")
    return root


def test_built_dataset_dir_config_is_loaded_as_prompt_completion(tmp_path):
    root = _built_dataset(tmp_path / "built")
    records, origin = load_midtrain_rows(_spec(str(root), config="n2", limit=20))
    assert len(records) == 20 and origin["kind"] == "dir" and origin["config"] == "n2"
    assert "manifest_sha256" in origin  # the built dataset's identity is recorded
    first = records[0]
    assert [m["role"] for m in first["prompt"]] == ["user"] and first["completion"][0]["role"] == "assistant"
    text_records, _ = load_midtrain_rows(_spec(str(root), config="n1", format="text"))
    assert len(text_records) == 16 and text_records[0]["completion"].endswith("\\boxed{2}")


def test_row_without_messages_is_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "q", "completion": "a"}) + "\n")
    with pytest.raises(ConfigError, match=r"bad.jsonl row 0 needs a 'messages' list"):
        load_midtrain_rows(_spec(str(bad)))
