"""The tiny world's problems, strategy traces, strategy library and tokenizer (no model needed)."""

from __future__ import annotations

import pytest

from midrl_bench.config import ConfigError
from midrl_bench.heuristics import detect_heuristics, load_library
from midrl_bench.toyworld.config import STRATEGIES_DIR, ToyConfig, toy_config_from_dict
from midrl_bench.toyworld.problems import FAMILIES, Problem, generate_splits, solve
from midrl_bench.toyworld.traces import STRATEGIES, combined_trace, write_trace
from midrl_bench.verify.math import check_answers


@pytest.fixture(scope="module")
def library():
    return load_library(STRATEGIES_DIR)


@pytest.fixture(scope="module")
def sample_problems():
    return generate_splits(list(FAMILIES), {"eval": 30, "rl": 30}, seed=7)["eval"] + \
        generate_splits(list(FAMILIES), {"eval": 30, "rl": 30}, seed=7)["rl"]


def _problem(family: str, *operands: int) -> Problem:
    return Problem("t", family, operands, solve(family, operands))


def test_splits_are_deterministic_disjoint_and_balanced():
    sizes = {"eval": 12, "rl": 9, "train": 6, "pretrain": 60}
    first, second = generate_splits(list(FAMILIES), sizes, 3), generate_splits(list(FAMILIES), sizes, 3)
    assert first == second  # same seed, same problems
    held_out = [p.text for name in ("eval", "rl", "train") for p in first[name]]
    assert len(held_out) == len(set(held_out)) == 27  # no repeats within or across the held-out splits
    assert not set(held_out) & {p.text for p in first["pretrain"]}  # pre-training never sees them
    assert {p.family for p in first["eval"]} == set(FAMILIES)
    assert generate_splits(list(FAMILIES), {"eval": 12}, 3)["eval"] == first["eval"]  # eval fixed by seed alone
    assert generate_splits(list(FAMILIES), sizes, 4)["eval"] != first["eval"]


@pytest.mark.parametrize("families, sizes, message", [
    (["mul", "cubes"], {"eval": 1}, "unknown"),  # a family the world does not have
    (["mul"], {"holdout": 1}, "unknown split"),  # a split name that does not exist
])
def test_bad_world_settings_are_rejected(families, sizes, message):
    with pytest.raises(ValueError, match=message):
        generate_splits(families, sizes, 0)


TRACE_CASES = [
    # (problem, strategy, expected lines between header and answer) — one row per trace shape
    (_problem("mul", 47, 6), "column_method",
     ["6*7=42, write 2 carry 4.", "6*4=24, plus 4 is 28, write 28.", "row 282."]),
    (_problem("mul", 47, 36), "place_value",  # two-digit multiplier: split the multiplier
     ["36 is 3 tens and 6 ones.", "tens part: 47*30=1410.", "ones part: 47*6=282.", "1410+282=1692."]),
    (_problem("mul", 43, 6), "round_adjust",  # ones digit below 5: round down and add back
     ["round 43 down to 40.", "40*6=240.", "adjust: 3*6=18.", "240+18=258."]),
    (_problem("mul", 38, 7), "pair_terms",  # odd multiplier: pairs and one more copy
     ["7 is 3 pairs and one more.", "one pair: 38+38=76.", "76*3=228.", "228+38=266."]),
    (_problem("series", 11, 15, 19, 23, 27), "pair_terms",  # odd count: the middle term is left over
     ["first and last: 11+27=38.", "5 terms make 2 pairs and the middle 19.", "38*2=76.", "76+19=95."]),
    (_problem("series", 5, 12, 19), "column_method",  # a one-digit term has tens digit 0
     ["ones: 5+2+9=16, write 6 carry 1.", "tens: 0+1+1=2, plus 1 is 3, write 3.", "so 36."]),
    (_problem("mod", 472, 7), "column_method",  # long division with a bring-down
     ["47: 7*6=42, left 5.", "bring down 2: 52.", "52: 7*7=49, left 3."]),
    (_problem("mod", 104, 13), "round_adjust",  # number below ten divisors, remainder 0
     ["round up to 13*10=130.", "130-104=26.", "adjust: 26=13*2+0, so 0."]),
    (_problem("mod", 663, 8), "place_value",  # hundreds part divisible
     ["663 is 600+63.", "hundreds part: 600=8*75+0, left 0.", "rest part: 63=8*7+7, left 7.", "0+7=7."]),
]


@pytest.mark.parametrize("problem, strategy, body", TRACE_CASES)
def test_trace_shapes(problem, strategy, body):
    lines = write_trace(problem, strategy).split("\n")
    assert lines[0].endswith(f": {problem.expression}.")  # header restates the problem
    assert lines[1:-1] == body
    assert lines[-1] == f"\\boxed{{{problem.answer}}}"


def test_every_trace_is_verified_by_the_math_checker(sample_problems):
    pairs, labels = [], []
    for problem in sample_problems:
        for strategy in STRATEGIES:
            pairs.append((str(problem.answer), write_trace(problem, strategy)))
            labels.append((problem.text, strategy))
        pairs.append((str(problem.answer), combined_trace(problem, "place_value", "round_adjust")))
        labels.append((problem.text, "combined"))
    verdicts = check_answers(pairs)
    wrong = [label for label, verdict in zip(labels, verdicts, strict=True) if verdict.correct is not True]
    assert not wrong, wrong[:5]
    # and the checker is not vacuous here: a trace boxed with a wrong number is rejected
    bad = write_trace(sample_problems[0], "column_method").replace(f"{{{sample_problems[0].answer}}}", "{-1}")
    assert check_answers([(str(sample_problems[0].answer), bad)])[0].correct is False


def test_each_strategy_is_detected_alone_and_combined(library, sample_problems):
    assert library.ids == sorted(STRATEGIES)
    for problem in sample_problems:
        for strategy in STRATEGIES:
            assert detect_heuristics(write_trace(problem, strategy), library) == [strategy], (problem.text, strategy)
        for first, second in (("column_method", "pair_terms"), ("round_adjust", "place_value")):
            found = detect_heuristics(combined_trace(problem, first, second), library)
            assert found == sorted([first, second]), (problem.text, first, second)


def test_library_exemplars_are_the_trace_writers_output(library):
    import re

    for heuristic in library:
        assert len(heuristic.cues) >= 3
        for exemplar in heuristic.exemplars:
            numbers = tuple(int(x) for x in re.findall(r"\d+", exemplar.problem))
            family = "mod" if " mod " in exemplar.problem else "series" if "+" in exemplar.problem else "mul"
            problem = _problem(family, *numbers)
            assert exemplar.problem == problem.text
            assert exemplar.solution == write_trace(problem, heuristic.id), heuristic.id


def test_combined_trace_needs_two_strategies():
    with pytest.raises(ValueError, match="two different"):
        combined_trace(_problem("mul", 12, 3), "place_value", "place_value")


def test_tokenizer_round_trips_and_splits_digits(library, sample_problems):
    from midrl_bench.toyworld.corpus import tagged_messages, tokenizer_texts
    from midrl_bench.toyworld.tokenizer import END, train_tokenizer

    tokenizer = train_tokenizer(tokenizer_texts(sample_problems, library), vocab_size=400)
    problem = sample_problems[1]
    messages = [*tagged_messages(problem, library.get("round_adjust")),
                {"role": "assistant", "content": write_trace(problem, "round_adjust")}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text  # lossless
    assert text.endswith(END) and tokenizer.eos_token == END
    number_tokens = [t for t in tokenizer.convert_ids_to_tokens(ids) if any(c.isdigit() for c in t)]
    assert number_tokens and all(len(t.lstrip("Ġ")) == 1 for t in number_tokens)  # one digit per token
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|assistant|>")
    # phrases merge across words (the strategy's system prompt, ", write "), so examples are far shorter than with
    # word-level BPE of the same vocabulary
    vocabulary = ToyConfig().model.vocab_size
    phrases = train_tokenizer(tokenizer_texts(sample_problems, library), vocabulary)
    words = train_tokenizer(tokenizer_texts(sample_problems, library), vocabulary, merge_across_words=False)
    phrase_count, word_count = (len(t(text, add_special_tokens=False)["input_ids"]) for t in (phrases, words))
    assert phrase_count < 0.75 * word_count, (phrase_count, word_count)


@pytest.mark.parametrize("data, message", [
    ({"world": {"familes": ["mul"]}}, "familes"),  # typo in a world key
    ({"pretrain": {"default_share": 0.9}}, "must be 1"),  # mixture shares do not sum to 1
    ({"demo": {"rl_group_size": 1}}, "group"),  # GRPO needs a group
])
def test_config_rejects_bad_values(data, message):
    with pytest.raises(ConfigError, match=message):
        toy_config_from_dict(data)


def test_pretrained_key_tracks_what_determines_the_model():
    base = ToyConfig()
    changed_budget = toy_config_from_dict({"demo": {"rl_steps": 3}})
    changed_model = toy_config_from_dict({"model": {"hidden_size": 96}})
    assert base.pretrained_key("h") == changed_budget.pretrained_key("h")  # demo budgets do not retrain
    assert base.pretrained_key("h") != changed_model.pretrained_key("h")
    assert base.pretrained_key("h") != base.pretrained_key("other-library")


def test_toy_source_and_pack_task_agree():
    from midrl_bench.sources.toy import source
    from midrl_bench.tasks.registry import load_docs

    rows = source("eval").load_rows()
    docs = load_docs("midrl_toy")
    assert [d["problem"] for d in docs] == [r["problem"] for r in rows]
    assert all(str(solve(r["family"], _operands(r["problem"]))) == r["answer"] for r in rows)
    with pytest.raises(KeyError, match="unknown split"):
        source("test")


def _operands(text: str) -> tuple[int, ...]:
    import re

    return tuple(int(x) for x in re.findall(r"\d+", text))


@pytest.mark.parametrize("argv, message", [
    (["--quick", "--config", "x.yaml"], "not both"),  # two configs at once
    (["--config", "no-such-file.yaml"], "file not found"),  # a missing config names the file
    (["--quick", "--seeds", "0"], "--seeds"),  # zero repetitions
])
def test_demo_cli_rejects_bad_arguments(argv, message, capsys, tmp_path):
    from midrl_bench.toyworld.cli import main

    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing was started


def test_demo_cli_refuses_a_world_the_pack_does_not_pin(capsys, tmp_path):
    from midrl_bench.toyworld.cli import main

    config = tmp_path / "toy.yaml"
    config.write_text("world: {eval_problems: 10}\n")
    assert main(["--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "world.eval_problems must be 48" in capsys.readouterr().err


def test_presets_share_the_default_world():
    from midrl_bench.toyworld.cli import PRESETS_DIR
    from midrl_bench.toyworld.config import load_toy_config

    quick, full = load_toy_config(PRESETS_DIR / "quick.yaml"), load_toy_config(PRESETS_DIR / "full.yaml")
    assert quick.world == full.world == ToyConfig().world  # the midrl_toy task (default world) = the demo's world
    assert quick.pretrained_key("h") == full.pretrained_key("h")  # one cached tiny model for both
