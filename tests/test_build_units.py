"""Unit tests of the builder's parts: strict config, selection ranking, config assembly, decontamination n-grams,
prompt rendering, and the three adherence scorers (rules, a tiny random reward model, an LLM judge via `file`).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from _build_fixtures import file_config, write_library

from midrl_bench.builder import adherence, decontam, prompts
from midrl_bench.builder.assemble import assemble_configs, powers_of_two
from midrl_bench.builder.config import AdherenceSpec, BuildConfig
from midrl_bench.builder.select import select_candidates, select_star, selectable
from midrl_bench.config import ConfigError, from_dict

FILE_OPTIONS = {"paths": ["completions.jsonl"]}  # valid `file` backend options (checked at load time)


@pytest.mark.parametrize(("change", "message"), [
    ({"generaton": {}}, "unknown key"),  # typo of a top-level key
    ({"version": "1.0"}, "version"),  # not X.Y.Z
    ({"sources": []}, "sources"),  # nothing to build from
    ({"generation": {"backend": "file", "options": FILE_OPTIONS, "samples_per_pair": 0}}, "samples_per_pair"),  # no candidates
    ({"generation": {"backend": "file", "options": FILE_OPTIONS, "star_samples": 0}}, "write.star"),  # star without untargeted samples
    ({"adherence": {"scorer": "reward_model"}}, "adherence.model"),  # RM without a model
    ({"adherence": {"scorer": "judge"}}, "adherence.backend"),  # judge without a backend
    ({"write": {"fixed_budget": [1]}}, "fixed_budget"),  # a "pair" with n=1 compares nothing
    ({"generation": {"backend": "tgi"}}, "generation.backend"),  # unknown backend
    ({"verify": {"timeout_s": -1}}, "verify.timeout_s"),  # issue 12: a negative timeout is rejected by name
    ({"verify": {"timeout_s": float("nan")}}, "verify.timeout_s"),  # nan would never time out
    ({"verify": {"timeout_s": 0}}, "verify.timeout_s"),  # zero would fail every item
    ({"generation": {"backend": "file", "options": {}}}, "generation.options"),  # backend options checked at load time
    ({"generation": {"backend": "vllm", "options": {"model": "m", "tensor_paralel_size": 2}}},
     r"generation.options: unknown key\(s\) \['tensor_paralel_size'\]"),  # typo in an engine option
    ({"generation": {"backend": "ray", "options": {"model": "m", "concurency": 2}}},
     "generation.options: unknown key"),  # Ray Data LLM options are strict too
    ({"adherence": {"scorer": "reward_model", "model": "m", "devices": ["gpu0"]}}, "adherence.devices"),  # not a torch device
    ({"adherence": {"scorer": "reward_model", "model": "m", "devices": ["auto", "cuda:0"]}}, "adherence.devices"),  # auto is exclusive
])
def test_config_rejects_bad_values(tmp_path, change, message):
    data = {**file_config(tmp_path), **change}
    with pytest.raises(ConfigError, match=message):
        from_dict(BuildConfig, data)


def _cand(pid, hid, sample, correct, score, extracted="1"):
    return {"problem_id": pid, "heuristic_id": hid, "sample_index": sample, "correct": correct, "adherence": score,
            "extracted": extracted}


@pytest.mark.parametrize(("candidates", "verdict", "expected"), [
    ([_cand("p", "h", 0, True, 0.2), _cand("p", "h", 1, True, 0.9)], True, 1),  # higher adherence wins
    ([_cand("p", "h", 0, True, 0.5), _cand("p", "h", 1, True, 0.5)], True, 0),  # tie -> lowest sample index
    ([_cand("p", "h", 1, True, 0.5), _cand("p", "h", 0, True, 0.5)], True, 0),  # order of arrival does not matter
    ([_cand("p", "h", 0, True, None), _cand("p", "h", 1, True, 0.0)], True, 1),  # unscored ranks below scored
    ([_cand("p", "h", 0, None, 1.0), _cand("p", "h", 1, True, 0.1)], True, 1),  # unjudged never selected
    ([_cand("p", "h", 0, False, 1.0, None), _cand("p", "h", 1, False, 0.0)], False, 1),  # control needs an answer
    ([_cand("p", "h", 0, None, 1.0)], False, None),  # None is never treated as wrong
])
def test_selection_ranking(candidates, verdict, expected):
    chosen = select_candidates(candidates, verdict)
    assert (chosen[("p", "h")]["sample_index"] if chosen else None) == expected


@pytest.mark.parametrize(("candidate", "control", "expected"), [
    (_cand("p", "h", 0, True, None), False, True),  # correct heuristic-guided: always scored
    (_cand("p", "h", 0, False, None), True, True),  # wrong with an answer: scored for the incorrect control
    (_cand("p", "h", 0, False, None), False, False),  # ... but not when no control config is written
    (_cand("p", "h", 0, False, None, None), True, False),  # wrong without an answer is never selected
    (_cand("p", "h", 0, None, None), True, False),  # unjudged is never selected
    (_cand("p", None, 0, True, None), True, False),  # untargeted (STaR) is selected without adherence
])
def test_only_selectable_candidates_are_scored(candidate, control, expected):
    assert selectable(candidate, control) is expected


def test_star_takes_first_correct_untargeted():
    candidates = [_cand("p", None, 1, True, None), _cand("p", None, 0, False, None), _cand("p", "h", 0, True, 1.0),
                  _cand("q", None, 0, None, None)]
    assert {pid: c["sample_index"] for pid, c in select_star(candidates).items()} == {"p": 1}


def test_assembly_nests_and_balances_budget():
    rows = [{"kind": "heuristic", "problem_id": f"p{p}", "heuristic_id": f"h{h}"} for p in range(6) for h in range(p + 1)]
    spec = SimpleNamespace(max_n=8, fixed_budget=[4], incorrect_max_n=0, star=False)
    configs, skipped = assemble_configs(rows, [f"p{p}" for p in range(6)], heuristic_count=6, write_spec=spec, seed=3)
    assert sorted(configs) == ["budget-n4-few", "budget-n4-many", "n1", "n2", "n4"]  # n8 > 6 heuristics
    for small, large in (("n1", "n2"), ("n2", "n4")):
        pairs = lambda name: {(r["problem_id"], r["heuristic_id"]) for r in configs[name]["rows"]}  # noqa: E731
        assert pairs(small) <= pairs(large)
    assert [len(configs[f"n{k}"]["rows"]) for k in (1, 2, 4)] == [6, 11, 18]
    assert configs["n4"]["info"]["problems_with_all_k"] == 3
    few, many = configs["budget-n4-few"], configs["budget-n4-many"]
    assert len(few["rows"]) == len(many["rows"]) == 4  # P = min(3 eligible, 6 // 4) = 1
    assert skipped == {}
    assert powers_of_two(64) == [1, 2, 4, 8, 16, 32, 64] and powers_of_two(3) == [1, 2]


@pytest.mark.parametrize(("text", "n", "expected"), [
    ("The Cat, the cat!", 2, {("the", "cat"), ("cat", "the")}),  # case and punctuation ignored
    ("$x^2$ + y", 5, {("x", "2", "y")}),  # shorter than n: the whole text is one n-gram
    ("", 3, set()),  # nothing to match
])
def test_ngrams(text, n, expected):
    assert decontam.ngrams(text, n) == expected


def test_decontaminate_drops_hits_and_lists_them():
    index = decontam.NgramIndex(4)
    index.add("math500", "m-1", "Find the number of positive divisors of 2004 squared.")
    rows = [{"kind": "heuristic", "problem_id": "p", "heuristic_id": "h", "sample_index": 0, "problem": "Clean problem.",
             "completion": "We recall: find the number of positive divisors of 2004. \\boxed{3}"},
            {"kind": "star", "problem_id": "q", "heuristic_id": None, "sample_index": 1, "problem": "Other text.",
             "completion": "Nothing in common here at all. \\boxed{3}"}]
    kept, dropped = decontam.decontaminate(rows, index, min_shared=2)
    assert [r["problem_id"] for r in kept] == ["q"]
    assert dropped[0]["hits"] == [{"benchmark": "math500", "benchmark_id": "m-1", "shared_ngrams": 5}]


def _library(tmp_path):
    from midrl_bench.heuristics import load_library

    return load_library(write_library(tmp_path / "lib"))


def test_heuristic_prompt_has_instruction_and_exemplars(tmp_path):
    heuristic = _library(tmp_path).get("a_first")
    messages = prompts.heuristic_messages(heuristic, "  What is 1+1?  ", exemplars=1)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert heuristic.instruction in messages[0]["content"] and "\\boxed{}" in messages[0]["content"]
    assert messages[2]["content"] == heuristic.exemplars[0].solution and messages[-1]["content"] == "What is 1+1?"
    assert [m["role"] for m in prompts.untargeted_messages("x")] == ["system", "user"]


def test_rules_scorer_counts_cues(tmp_path):
    heuristic = _library(tmp_path).get("b_second")
    candidates = [{"heuristic": heuristic, "solution": text, "problem": "p", "key": str(i), "seed": 0}
                  for i, text in enumerate(["beta route and beta check", "nothing", "Beta Route, beta check, beta table"])]
    assert adherence.RulesScorer().score(candidates) == [pytest.approx(2 / 3), 0.0, 1.0]


def _tiny_reward_model(folder):
    """A randomly initialised 2-layer Llama sequence classifier with a word-level tokenizer, saved locally."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForSequenceClassification, PreTrainedTokenizerFast

    words = sorted({w for text in ["beta route check table nothing solve the problem with this heuristic method lay out"
                                   " then it p"] for w in text.split()})
    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, pad_token="[PAD]", unk_token="[UNK]")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, num_labels=1, pad_token_id=0)
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_reward_model_scorer_is_deterministic_and_batch_invariant(tmp_path):
    heuristic = _library(tmp_path).get("b_second")
    spec = AdherenceSpec(scorer="reward_model", model=str(_tiny_reward_model(tmp_path / "rm")), batch_size=2)
    texts = ["beta route then check", "nothing", "beta table beta route beta check then table"]
    candidates = [{"heuristic": heuristic, "solution": t, "problem": "p", "key": str(i), "seed": 0}
                  for i, t in enumerate(texts)]
    scorer = adherence.make_scorer(spec)
    batched = scorer.score(candidates)
    single = [scorer.score([c])[0] for c in candidates]
    assert batched == pytest.approx(single, abs=1e-5)  # padding does not change a score
    assert all(0.0 < s < 1.0 for s in batched) and len(set(round(s, 6) for s in batched)) == 3
    assert scorer.describe()["scorer"] == "reward_model"
    assert scorer.describe()["dtype"] == "float32" and scorer.devices == ["cpu"]  # auto without a GPU: CPU, fp32
    replicas = adherence.make_scorer(AdherenceSpec(scorer="reward_model", model=spec.model, batch_size=2,
                                                   devices=["cpu", "cpu"]))
    assert replicas.describe()["replicas"] == 2  # one replica per listed device, each scoring a slice
    assert replicas.score(candidates) == pytest.approx(batched, abs=1e-5)  # same scores, same order


def test_judge_scorer_reads_scores_through_a_backend(tmp_path):
    heuristic = _library(tmp_path).get("a_first")
    replies = {"judge|k0": "Clear use of the method. Score: 9", "judge|k1": "Score: 3", "judge|k2": "no idea"}
    path = tmp_path / "judge.jsonl"
    path.write_text("".join(json.dumps({"key": k, "text": v}) + "\n" for k, v in replies.items()))
    spec = AdherenceSpec(scorer="judge", backend="file", options={"paths": [str(path)]})
    candidates = [{"heuristic": heuristic, "solution": "s", "problem": "p", "key": f"k{i}", "seed": 1} for i in range(3)]
    assert adherence.make_scorer(spec).score(candidates) == [0.9, 0.3, None]
    assert "Score: N" in prompts.judge_messages(heuristic, "p", "s")[0]["content"]
