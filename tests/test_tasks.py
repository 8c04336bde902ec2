"""Every pack task builds through lm-eval's own TaskManager from the mirror, with the right docs and prompt."""

import pytest

from midrl_bench.tasks import include_path, registry
from midrl_bench.toyworld.config import ToyConfig

EXPECTED_DOCS = {
    "midrl_math500": 500,
    "midrl_aime24": 30,
    "midrl_aime25": 30,
    "midrl_amc23": 40,
    "midrl_hmmt25": 30,
    "midrl_olympiadbench": 675,
    "midrl_musr_murder": 250,
    "midrl_musr_object": 256,
    "midrl_musr_team": 250,
    "midrl_humaneval": 164,
    "midrl_toy": 192,  # the default (gated) toy world's held-out split
}


@pytest.fixture(scope="module")
def task_manager():
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=include_path(), metadata={"repeats": 4})


@pytest.mark.parametrize(("task_name", "count"), sorted(EXPECTED_DOCS.items()))
def test_task_builds_with_doc_count_and_prompt(task_manager, task_name, count):
    task = task_manager.load([task_name])["tasks"][task_name]
    docs = list(task.test_docs())
    assert len(docs) == count
    assert task.config.repeats == 4  # --metadata repeats override reached the task
    assert task.config.generation_kwargs["seed"] is None  # API backends must not get one fixed seed
    assert task.config.generation_kwargs["do_sample"] is True
    toy_budget = ToyConfig().eval_spec.max_gen_toks  # the pack task and the toy world's evaluation agree
    assert task.config.generation_kwargs["max_gen_toks"] == (toy_budget if task_name == "midrl_toy" else 3072)
    prompt = task.doc_to_text(docs[0])
    checker = registry.spec(task_name).checker
    if checker == "math":
        assert docs[0]["problem"].strip() in prompt and "\\boxed{}" in prompt
    elif checker == "code":
        assert docs[0]["prompt"].strip()[:40] in prompt
    else:
        assert docs[0]["question"].strip() in prompt and 'Answer: <letter>' in prompt
        assert all(f"{letter}. " in prompt for letter in "ABC"[: len(docs[0]["choices"])])


def test_task_versions_match_registry(task_manager):
    for name in EXPECTED_DOCS:
        task = task_manager.load([name])["tasks"][name]
        assert task.VERSION == registry.spec(name).version


def test_default_repeats_is_64():
    from lm_eval.tasks import TaskManager

    task = TaskManager(include_path=include_path()).load(["midrl_aime24"])["tasks"]["midrl_aime24"]
    assert task.config.repeats == 64


def test_groups_are_registered(task_manager):
    assert {"midrl", "midrl_math", "midrl_ood"} <= set(task_manager.all_groups)


def test_doc_hash_is_stable_and_content_sensitive():
    doc = registry.load_docs("midrl_aime24")[0]
    assert registry.doc_hash(doc) == registry.doc_hash(dict(reversed(list(doc.items()))))
    assert registry.doc_hash({**doc, "answer": "0"}) != registry.doc_hash(doc)


# (task, response, expected verdict) through the same scoring lm-eval uses
SCORING_CASES = [
    ("midrl_aime24", "\\boxed{ANSWER}", True),  # the gold answer, boxed
    ("midrl_aime24", "\\boxed{1000}", False),  # AIME answers are below 1000
    ("midrl_musr_team", "reasoning...\nAnswer: LETTER", True),  # the gold letter
    ("midrl_musr_team", "I considered LETTER first.\nAnswer: Z", False),  # out-of-range letter
    ("midrl_musr_team", "maybe LETTER", False),  # no Answer line
]


@pytest.mark.parametrize(("task_name", "template", "expected"), SCORING_CASES)
def test_score_responses(task_name, template, expected):
    doc = registry.load_docs(task_name)[0]
    if "answer_index" in doc:
        response = template.replace("LETTER", "ABCDE"[doc["answer_index"]])
    else:
        response = template.replace("ANSWER", doc["answer"])
    verdicts, table = registry.score_responses(task_name, doc, [response, "no answer"])
    assert verdicts == [expected, False]
    assert table["pass@1"] == (0.5 if expected else 0.0)
    assert set(table) == {"pass@1", "pass@2"}


def test_versions_and_sizes_come_from_the_task_yaml():
    import yaml

    for name in EXPECTED_DOCS:
        metadata = yaml.safe_load((registry.spec(name).folder / f"{name}.yaml").read_text())["metadata"]
        assert (registry.spec(name).version, registry.spec(name).expected_docs) == (metadata["version"],
                                                                                   metadata["size"])
    assert registry.spec("midrl_aime24").version >= 2  # this extraction change bumped every maths task


def test_metadata_size_that_does_not_match_the_source_names_the_field():
    from midrl_bench.tasks.lm_eval_hooks import pack_dataset

    with pytest.raises(ValueError, match=r"midrl_aime24: expected 31 docs \(metadata.size\), got 30"):
        pack_dataset("midrl_aime24", size=31)
    with pytest.raises(ValueError, match="metadata.size must be an integer"):
        pack_dataset("midrl_aime24", size="30")


@pytest.mark.parametrize(("metadata", "field"), [
    ({"extraction": "lenient"}, "metadata.extraction"),  # not a policy
    ({"bootstrap_iters": 0}, "metadata.bootstrap_iters"),  # no resamples
    ({"checker_timeout_s": float("nan")}, "metadata.checker_timeout_s"),  # never a hang
    ({"repeats": "two"}, "metadata.repeats"),  # not an integer
])
def test_bad_metadata_is_rejected_by_name(metadata, field):
    from lm_eval.tasks import TaskManager

    with pytest.raises(ValueError, match=field):
        TaskManager(include_path=include_path(), include_defaults=False, metadata=metadata).load(["midrl_aime24"])


def test_metric_list_follows_repeats_and_strict_extraction_reaches_scoring():
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=include_path(), include_defaults=False,
                          metadata={"repeats": 4, "extraction": "strict"})
    task = manager.load(["midrl_amc23"])["tasks"]["midrl_amc23"]
    names = [entry["metric"] for entry in task.config.metric_list]
    assert {"pass@4", "maj@4", "avg@n", "pass@4_ci95_lo", "no_answer_rate", "length_p90", "responses"} <= set(names)
    assert "pass@8" not in names and "truncation_rate" not in names  # k > repeats; no tokenizer to count tokens
    assert task.config.metadata["scoring"]["checker"]["policy"] == "strict"
    doc = next(iter(task.test_docs()))
    # an answer stated without any marker counts only under the standard policy
    values = task.process_results(doc, [[f"Therefore ${doc['answer']}$ is the result.", "no idea", "", "hmm"]])
    assert values["no_answer_rate"] == 1.0 and values["pass@4"] == 0.0
    assert values["responses"]["route"] == ["none"] * 4


# (midrl eval arguments, what lm-eval receives)
EXTRACTION_FLAG_CASES = [
    (["--tasks", "midrl_amc23"], ["--tasks", "midrl_amc23"]),  # no flag: untouched
    (["--extraction", "strict", "--tasks", "t"], ["--tasks", "t", "--metadata", '{"extraction": "strict"}']),  # added
    (["--metadata", '{"repeats": 4}', "--extraction", "standard"],
     ["--metadata", '{"repeats": 4, "extraction": "standard"}']),  # merged into the user's metadata
]


@pytest.mark.parametrize(("argv", "expected"), EXTRACTION_FLAG_CASES)
def test_midrl_eval_extraction_flag_becomes_metadata(argv, expected):
    from midrl_bench.tasks.cli import _extraction_to_metadata

    assert _extraction_to_metadata(argv) == expected


@pytest.mark.parametrize("argv", [["--extraction", "loose"], ["--extraction"], ["--metadata", "x", "--extraction",
                                                                               "strict"]])
def test_midrl_eval_extraction_flag_errors_are_one_line(argv):
    from midrl_bench.tasks.cli import _extraction_to_metadata

    with pytest.raises(SystemExit, match="midrl eval: "):
        _extraction_to_metadata(argv)
