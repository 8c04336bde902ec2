"""A real build: SmolLM2-135M-Instruct through the `hf` backend on GSM8K-train problems x library heuristics, with
math-verify, a (tiny, randomly initialised) sequence-classification reward model as adherence scorer, n-gram
decontamination against every eval benchmark, MiniLM Vendi scores, parquet + card + manifest. Every stage runs for
real; the checks are on consistency between stages, since a 135M model's answers are mostly wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from midrl_bench.builder.config import BuildConfig, load_config
from midrl_bench.builder.runner import build
from midrl_bench.config import from_dict

CI_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "ci.yaml"


def _tiny_reward_model(folder: Path, tokenizer_dir: Path) -> Path:
    """A randomly initialised Llama sequence classifier (1 label) sharing SmolLM2's tokenizer, saved locally."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=1,
                         pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_ci_config_is_valid_and_names_library_heuristics():
    from midrl_bench.heuristics import load_library

    config = load_config(CI_CONFIG)
    assert set(config.heuristics.ids) <= set(load_library().ids)
    assert config.generation.backend == "hf" and config.sources[0].name == "gsm8k_train"


@pytest.mark.slow
def test_hf_build_runs_every_stage(tmp_path):
    import datasets

    from midrl_bench.generation.local_models import smollm2_135m_instruct_dir

    data = yaml.safe_load(CI_CONFIG.read_text())
    data["sources"] = [{"name": "gsm8k_train", "limit": 2}]
    data["heuristics"] = {"ids": data["heuristics"]["ids"][:2], "exemplars": 1}
    data["generation"].update(samples_per_pair=1, star_samples=1, shard_size=4)
    data["generation"]["sampling"]["max_new_tokens"] = 40
    data["adherence"] = {"scorer": "reward_model", "batch_size": 4, "max_length_tokens": 512,
                         "model": str(_tiny_reward_model(tmp_path / "rm", smollm2_135m_instruct_dir()))}
    config = from_dict(BuildConfig, data)
    out = tmp_path / "out"
    counts = build(config, out, log=lambda line: None)

    assert counts["plan"]["requests"] == counts["generate"]["generated"] == 6
    assert sum(counts["verify"].values()) == 6
    texts = [json.loads(line)["text"] for p in sorted((out / ".midrl/generate").glob("*.jsonl")) for line in p.open()]
    verdicts = [json.loads(line) for p in sorted((out / ".midrl/verify").glob("*.jsonl")) for line in p.open()]
    plan = [json.loads(line) for p in sorted((out / ".midrl/plan").glob("*.jsonl")) for line in p.open()]
    selectable = sum(1 for item, v in zip(plan, verdicts, strict=True) if item["heuristic_id"] is not None
                     and (v["correct"] is True or (v["correct"] is False and v["extracted"] is not None)))
    # the reward model scores exactly the candidates selection can pick (correct, or wrong with an answer)
    assert counts["adherence"] == {"scorer": "reward_model", "scored": selectable, "not_scored": 6 - selectable}
    assert len(texts) == 6 and all(text.strip() for text in texts)  # the model really wrote something
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generator"]["describe"]["model"] == str(smollm2_135m_instruct_dir())
    assert manifest["adherence"]["scorer"] == "reward_model"
    assert len(manifest["decontamination"]["benchmarks"]) == 9  # every eval benchmark was indexed
    assert manifest["counts"]["select"]["pairs"] == 4
    for name, info in manifest["configs"].items():
        rows = datasets.load_dataset(str(out), name, split="train", cache_dir=str(tmp_path / "cache"))
        assert len(rows) == info["rows"] > 0
        assert manifest["diversity"]["configs"][name]["embedding_vendi"]["mean"] >= 1.0
    assert set(manifest["configs"]) | set(manifest["skipped_configs"]) >= {"n1", "n2", "star"}
