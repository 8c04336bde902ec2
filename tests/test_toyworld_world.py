"""The tiny world's problems, strategy traces, strategy library and tokenizer (no model needed)."""

from __future__ import annotations

import pytest

from midrl_bench.config import ConfigError
from midrl_bench.heuristics import detect_heuristics, load_library
from midrl_bench.toyworld.config import STRATEGIES_DIR, ToyConfig, load_toy_config, toy_config_from_dict
from midrl_bench.toyworld.problems import FAMILIES, Problem, generate_splits, solve
from midrl_bench.toyworld.traces import MATCHING, STRATEGIES, combined_trace, composite_trace, write_trace
from midrl_bench.verify.math import check_answers


@pytest.fixture(scope="module")
def library():
    return load_library(STRATEGIES_DIR)


@pytest.fixture(scope="module")
def sample_problems():
    splits = generate_splits(list(FAMILIES), {"eval": 30, "rl": 30}, seed=7)  # every family, classic and gated
    return splits["eval"] + splits["rl"]


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
    (_problem("series", 5, 12, 19), "column_method",  # term by term in columns; a one-digit total has tens 0
     ["5+12: ones 5+2=7, write 7. tens 0+1=1, write 1. so 17.",
      "17+19: ones 7+9=16, write 6 carry 1. tens 1+1=2, plus 1 is 3, write 3. so 36."]),
    (_problem("series", 88, 91, 94), "column_method",  # the last column writes its whole total; a carry into hundreds
     ["88+91: ones 8+1=9, write 9. tens 8+9=17, write 17. so 179.",
      "179+94: ones 9+4=13, write 3 carry 1. tens 7+9=16, plus 1 is 17, write 7 carry 1. hundreds 1+0=1, plus 1 is 2, "
      "write 2. so 273."]),
    (_problem("mod", 472, 7), "column_method",  # long division with a bring-down
     ["47: 7*6=42, left 5.", "bring down 2: 52.", "52: 7*7=49, left 3."]),
    (_problem("mod", 104, 13), "round_adjust",  # number below ten divisors, remainder 0
     ["round up to 13*10=130.", "130-104=26.", "adjust: 26=13*2+0, so 0."]),
    (_problem("mod", 663, 8), "place_value",  # hundreds part divisible
     ["663 is 600+63.", "hundreds part: 600=8*75+0, left 0.", "rest part: 63=8*7+7, left 7.", "0+7=7."]),
    (_problem("mul_near1000", 89, 998), "round_adjust",  # round the multiplier to 1000, subtract via 200
     ["round 998 up to 1000.", "89*1000=89000.", "adjust: 89*2=80*2+9*2=160+18=178.",
      "89000-200=88800, 200-178=22, 88800+22=88822."]),
    (_problem("mul_near1000", 47, 999), "round_adjust",  # one short: the adjustment is the number itself
     ["round 999 up to 1000.", "47*1000=47000.", "adjust: 47*1=40*1+7*1=40+7=47.",
      "47000-100=46900, 100-47=53, 46900+53=46953."]),
    (_problem("mul_near1000", 89, 998), "column_method",  # the default: three rows and a 3-operand 5-digit sum
     ["8*9=72, write 2 carry 7.", "8*8=64, plus 7 is 71, write 71.", "row 712.", "9*9=81, write 1 carry 8.",
      "9*8=72, plus 8 is 80, write 80.", "row 8010.", "9*9=81, write 1 carry 8.", "9*8=72, plus 8 is 80, write 80.",
      "row 80100.", "add rows: 712+8010+80100=88822."]),
    (_problem("series_long", 18, 21, 24, 27, 30, 33, 36, 39), "pair_terms",  # gated: last+first, times the
     ["last and first: 39+18: ones 9+8=17, keep 7. tens 3+1=4, 4+1=5. so 57.",  # pairs, both digit by digit
      "8 terms make 4 pairs.", "57*4: 7*4=28, keep 8. 5*4=20, 20+2=22. so 228."]),
    (_problem("series_long", 3, 9, 15, 21, 27, 33, 39, 45, 51, 57, 63, 69), "pair_terms",  # a one-digit first term
     ["last and first: 69+3: ones 9+3=12, keep 2. tens 6+0=6, 6+1=7. so 72.", "12 terms make 6 pairs.",
      "72*6: 2*6=12, keep 2. 7*6=42, 42+1=43. so 432."]),
    (_problem("series_long", 50, 52, 54, 56, 58, 60, 62, 64), "pair_terms",  # a pair sum of three digits
     ["last and first: 64+50: ones 4+0=4, keep 4. tens 6+5=11. so 114.", "8 terms make 4 pairs.",
      "114*4: 4*4=16, keep 6. 1*4=4, 4+1=5, keep 5. 1*4=4. so 456."]),
    (_problem("series_long", *range(5, 65, 6)), "pair_terms",  # ten terms: five pairs
     ["last and first: 59+5: ones 9+5=14, keep 4. tens 5+0=5, 5+1=6. so 64.", "10 terms make 5 pairs.",
      "64*5: 4*5=20, keep 0. 6*5=30, 30+2=32. so 320."]),
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
        if problem.family == "composite":  # the mixed trace the gated world rewards
            pairs.append((str(problem.answer), composite_trace(problem, ["round_adjust", "pair_terms"])))
            labels.append((problem.text, "mixed"))
        else:
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
            mixed = composite_trace(problem, [first, second]) if problem.family == "composite" else \
                combined_trace(problem, first, second)
            found = detect_heuristics(mixed, library)
            assert found == sorted([first, second]), (problem.text, first, second)


def test_composite_problems_need_a_switch(sample_problems):
    composite = next(p for p in sample_problems if p.family == "composite")
    product, series = composite.parts()
    assert (product.family, series.family) == ("mul_near1000", "series_long")
    assert composite.answer == product.answer + series.answer
    assert composite.text == f"Compute {product.expression}+{series.expression}."
    lines = composite_trace(composite, ["round_adjust", MATCHING["series_long"]]).split("\n")
    assert lines[0] == f"Two parts: {product.expression}, {series.expression}."
    assert lines[1] == f"Round and adjust: {product.expression}." and f"Pair terms: {series.expression}." in lines
    assert lines[-2] == f"{product.answer}+{series.answer}={composite.answer}."
    with pytest.raises(ValueError, match="one strategy per part"):
        composite_trace(composite, ["round_adjust"])


def test_gated_subtypes_have_their_shape():
    from midrl_bench.toyworld.problems import COMPOSITE_SERIES_TERMS, LONG_SERIES_TERMS, NEAR_1000

    splits = generate_splits(["mul_near1000", "series_long", "composite"], {"eval": 60}, seed=3)["eval"]
    for problem in splits:
        if problem.family == "mul_near1000":
            assert problem.operands[1] in NEAR_1000 and problem.operands[0] % 10
        elif problem.family == "series_long":
            assert len(problem.operands) in LONG_SERIES_TERMS and max(problem.operands) < 100
        else:
            assert len(problem.parts()[1].operands) == COMPOSITE_SERIES_TERMS


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
    ({"train": {"rl": {"prompts": "p.jsonl", "steps": 2}}}, "toy.train.rl.prompts: set by midrl demo"),  # a fill-in
    ({"train": {"rl": {"steps": 2, "num_generations": 1}}}, "num_generations"),  # the recipe schema's own check
    ({"train": {"rl": {"stepz": 2}}}, "toy.train.rl: unknown key"),  # typo inside the recipe section
    ({"build": {"generation": {"samples_per_pair": 0}}}, "toy.build.generation.samples_per_pair"),  # builder schema
    ({"demo": {"variants": ["n1"]}}, "variants"),  # the old knob name is not silently accepted
    ({"gate": {"pass_at_k_min": 0.9, "pass_at_k_max": 0.5}}, "pass_at_k_min"),  # an empty gate band
])
def test_config_rejects_bad_values(data, message):
    with pytest.raises(ConfigError, match=message):
        toy_config_from_dict(data)


def test_pretrained_key_tracks_what_determines_the_model():
    base = ToyConfig()
    changed_budget = toy_config_from_dict({"demo": {"seeds": 3}, "gate": {"tagged_samples": 2}})
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
    (["--preset", "study", "--quick"], "not both"),  # a preset and --quick
    (["--config", "no-such-file.yaml"], "no-such-file.yaml"),  # a missing config names the file
    (["--quick", "--seeds", "0"], "--seeds"),  # zero repetitions
])
def test_demo_cli_rejects_bad_arguments(argv, message, capsys, tmp_path):
    from midrl_bench.toyworld.cli import main

    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing was started


def test_demo_cli_rejects_an_unknown_arm(capsys, tmp_path):
    from midrl_bench.toyworld.cli import main

    config = tmp_path / "toy.yaml"
    config.write_text("demo: {arms: [n1, n3]}\n")
    assert main(["--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "demo.arms: unknown ['n3']" in capsys.readouterr().err


def test_presets_share_the_default_world():
    from midrl_bench.toyworld.cli import PRESETS, PRESETS_DIR

    configs = {name: load_toy_config(PRESETS_DIR / f"{name}.yaml") for name in PRESETS}
    for name in ("full", "quick", "study"):  # one world (the midrl_toy task's default) and one cached tiny model
        assert configs[name].world == ToyConfig().world, name
        assert configs[name].pretrained_key("h") == ToyConfig().pretrained_key("h"), name
    assert configs["classic"].world.families == ["mul", "series", "mod"] and not configs["classic"].gate.enabled
    study = configs["study"]
    assert study.demo.seeds >= 4 and study.eval_spec.repeats == 64 and study.demo.arms is None
    assert study.pipeline_spec({"model": "m", "dataset": "d", "config": "n1", "prompts": "p",
                                "reward_log": "l"}).rl.steps == 200


def test_expected_time_is_printed_for_every_preset():
    from midrl_bench.toyworld.cli import PRESETS, PRESETS_DIR, expected_time
    from midrl_bench.toyworld.config import load_toy_config

    minutes = {}
    for name in PRESETS:
        text = expected_time(load_toy_config(PRESETS_DIR / f"{name}.yaml"))
        assert text.startswith("expected run time about ") and "slower on a shared machine" in text
        minutes[name] = int(text.split("about ")[1].split(" min")[0])
    assert minutes["quick"] < minutes["full"] < minutes["study"]  # the study is the long one


def test_pack_task_follows_the_world_through_metadata(tmp_path):
    """midrl_toy serves another world's eval split when lm-eval's metadata names its config (and size)."""
    from midrl_bench.tasks.lm_eval_hooks import pack_dataset
    from midrl_bench.toyworld.cli import PRESETS_DIR

    classic = PRESETS_DIR / "classic.yaml"
    dataset = pack_dataset("midrl_toy", size=48, toy_config=str(classic))["test"]
    expected = generate_splits(["mul", "series", "mod"], {"eval": 48, "rl": 96, "train": 48, "pretrain": 6000},
                               0, load_toy_config(classic).world.difficulty)["eval"]
    assert [row["problem"] for row in dataset] == [p.text for p in expected]
    assert len(pack_dataset("midrl_toy")["test"]) == ToyConfig().world.eval_problems == 192  # the default world
    with pytest.raises(ValueError, match="expected 192 docs"):
        pack_dataset("midrl_toy", toy_config=str(classic))  # the YAML's size is the default world's


def test_gated_pretraining_mix(library):
    """No solve-and-check traces; each alternative seen on its own gated sub-type about as often as the default or
    more (expected shares 0.483 vs 0.45; the default model's corpus drew pair_terms 2486 vs default 2518 times on
    series_long, 0.99x); about 10% untagged alternatives; composites only with one strategy throughout."""
    from collections import Counter

    from midrl_bench.toyworld.corpus import pretraining_examples

    config = ToyConfig()  # the default model's exact corpus (its pre-training split and example count)
    world = config.world
    problems = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)["pretrain"]
    count = config.pretrain.max_steps * config.pretrain.batch_size
    examples = pretraining_examples(problems, library, config.pretrain, count)
    cycled = [problems[i % len(problems)] for i in range(count)]
    kinds = Counter(e["kind"].split(":")[0] for e in examples)
    assert kinds["combined"] == 0 and 0.09 < kinds["alternative"] / count < 0.11
    for family, strategy in MATCHING.items():
        used = Counter(e["kind"].split(":")[-1] for e, p in zip(examples, cycled, strict=True) if p.family == family)
        assert used[strategy] >= 0.95 * used["default"], (family, used)
    for example, problem in zip(examples, cycled, strict=True):
        if problem.family == "composite":
            assert len(detect_heuristics(example["completion"][0]["content"], library)) == 1


def test_the_default_cannot_finish_a_long_series_within_the_budget(library):
    """The gate's first check holds by construction: with the world's own tokenizer and generation budget, the
    default's term-by-term trace of every long series (alone or in a composite) runs past the budget, while the
    pair trace and the mixed composite trace (the switch RL has to find) fit with room to spare."""
    from midrl_bench.toyworld.corpus import tokenizer_texts
    from midrl_bench.toyworld.tokenizer import train_tokenizer

    config = ToyConfig()
    world = config.world
    splits = generate_splits(world.families, world.sizes(), world.seed, world.difficulty)
    tokenizer = train_tokenizer(tokenizer_texts(splits["pretrain"][:1500], library), config.model.vocab_size)
    budget = config.eval_spec.max_gen_toks
    assert budget == config.train["rl"]["max_response_tokens"]  # RL samples under the same budget

    def length(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    gated = [p for p in splits["eval"] if p.family in ("series_long", "composite")]
    assert len(gated) > 100
    for problem in gated:
        assert length(write_trace(problem, "column_method")) > budget, problem.text
        if problem.family == "series_long":
            assert length(write_trace(problem, "pair_terms")) < budget // 2, problem.text
        else:
            for product_strategy in ("column_method", "round_adjust"):
                mixed = composite_trace(problem, [product_strategy, "pair_terms"])
                assert length(mixed) < budget - 32, (problem.text, product_strategy)
    friendly = [p for p in splits["eval"] if p.family in ("mul", "series")]
    assert max(length(write_trace(p, "column_method")) for p in friendly) < budget // 3


def test_pretraining_gives_the_same_weights_on_one_or_two_threads(library, tmp_path):
    """`midrl demo --threads` (and CI's preparation step, which pre-trains on every core) may not change the model
    the tests and the documented figures come from."""
    import torch

    from midrl_bench.toyworld.model import build_pretrained

    config = ToyConfig()
    config.world.pretrain_problems = 200
    config.pretrain.max_steps = 30
    weights = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            record = build_pretrained(config, library, tmp_path / f"threads-{threads}")
            assert record["examples"] == 120
            weights.append((tmp_path / f"threads-{threads}" / "model.safetensors").read_bytes())
    finally:
        torch.set_num_threads(before)
    assert len(weights[0]) > 1_000_000 and weights[0] == weights[1]
