"""The one grammar of lm-eval's file names and metric keys (midrl_bench.tasks.lm_eval_files)."""

import pytest

from midrl_bench.tasks import lm_eval_files as files

# (results key, metric, filter, part, family, k)
KEYS = [
    ("pass@8,all", "pass@8", "all", "value", "pass", 8),  # a pass@k value
    ("pass@8_stderr,all", "pass@8", "all", "stderr", "pass", 8),  # lm-eval's standard error of it
    ("pass@64_ci95_lo,all", "pass@64", "all", "ci95_lo", "pass", 64),  # the pack's bootstrap bound
    ("maj@16_ci95_hi,all", "maj@16", "all", "ci95_hi", "maj", 16),  # maj@k bound
    ("avg@n,all", "avg@n", "all", "value", "avg", None),  # avg@n has no k
    ("no_answer_rate,all", "no_answer_rate", "all", "value", None, None),  # a rate
    ("unjudged_rate_stderr,all", "unjudged_rate", "all", "stderr", None, None),  # a rate's stderr
    ("length_p90,all", "length_p90", "all", "value", None, None),  # a length percentile
    ("exact_match,strict-match", "exact_match", "strict-match", "value", None, None),  # another task's filter
]


@pytest.mark.parametrize(("key", "metric", "filter_name", "part", "family", "k"), KEYS)
def test_metric_keys_parse(key, metric, filter_name, part, family, k):
    parsed = files.parse_metric_key(key)
    assert (parsed.metric, parsed.filter, parsed.part, parsed.family, parsed.k) == (metric, filter_name, part,
                                                                                     family, k)
    assert parsed.key == key  # the parse is lossless


@pytest.mark.parametrize("key", ["alias", "sample_len", "name", ""])  # results fields that are not metrics
def test_non_metric_fields_are_not_metrics(key):
    assert files.parse_metric_key(key) is None


# (file name, parsed (task, date) or None)
SAMPLES_NAMES = [
    ("samples_midrl_aime24_2026-11-30T12-42-23.123456.jsonl", ("midrl_aime24", "2026-11-30T12-42-23.123456")),
    ("samples_midrl_musr_team_2026-01-02T03-04-05.000001.jsonl", ("midrl_musr_team", "2026-01-02T03-04-05.000001")),
    ("samples_gsm8k-cot_2025-05-06T07:08:09.5.jsonl", ("gsm8k-cot", "2025-05-06T07:08:09.5")),  # older colon dates
    ("results_2026-11-30T12-42-23.123456.json", None),  # a results file is not a samples file
    ("samples_midrl_aime24.jsonl", None),  # no date
    ("samples_midrl_aime24_2026-11-30T12-42-23.jsonl.bak", None),  # another suffix
]


@pytest.mark.parametrize(("name", "expected"), SAMPLES_NAMES)
def test_samples_names(name, expected):
    assert files.parse_samples_name(name) == expected


def test_results_names_and_round_trip():
    date = "2026-11-30T12-42-23.123456"
    assert files.parse_results_name(files.results_name(date)) == date
    assert files.parse_samples_name(files.samples_name("midrl_toy", date)) == ("midrl_toy", date)
    assert files.parse_results_name("results.json") is None  # the pipeline's own summary file is not lm-eval's


def test_task_of_samples_file_names_the_bad_file():
    with pytest.raises(ValueError, match="notes.jsonl: not an lm-eval samples file"):
        files.task_of_samples_file("/tmp/notes.jsonl")


def test_run_files_pair_by_date(tmp_path):
    first, second = "2026-01-01T00-00-00.1", "2026-01-02T00-00-00.1"
    folder = tmp_path / "model"
    folder.mkdir()
    for name in (files.results_name(first), files.results_name(second), files.samples_name("midrl_toy", first),
                 files.samples_name("midrl_aime24", second), "README.md"):
        (folder / name).write_text("{}")
    assert [p.name for p in files.results_files(tmp_path)] == [files.results_name(first), files.results_name(second)]
    assert files.samples_beside(folder / files.results_name(second)) == {
        "midrl_aime24": folder / files.samples_name("midrl_aime24", second)}  # the other date is another invocation
    assert len(files.samples_files(tmp_path)) == 2


def test_pass_at_k_curve_and_task_metrics():
    block = {"alias": "x", "pass@1,all": 0.5, "pass@2,all": 0.7, "pass@1_stderr,all": 0.1, "avg@n,all": 0.5,
             "pass@1,other": 0.9}
    assert files.pass_at_k_curve(block) == {1: 0.5, 2: 0.7}
    assert files.task_metrics(block) == {"pass@1": 0.5, "pass@2": 0.7, "avg@n": 0.5}
    assert files.task_metrics(block, part="stderr") == {"pass@1": 0.1}
