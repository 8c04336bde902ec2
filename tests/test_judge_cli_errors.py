"""`midrl judge` answers every bad input with one line naming the file and the field, exit code 2, no traceback,
and creates no output directory."""

from __future__ import annotations

import json

import pytest
from _judge_fixtures import write_samples

from midrl_bench.judge.cli import main

GOOD_NAME = "samples_midrl_aime24_2026-01-01T00-00-00.000000.jsonl"


def _good_row() -> dict:
    return {"doc_id": 0, "doc": {"problem": "1+1", "answer": "2"}, "target": "2", "filtered_resps": [["\\boxed{2}"]]}


def _empty_dir(tmp_path):
    (tmp_path / "empty").mkdir()
    return tmp_path / "empty", "empty: directory holds no samples_<task>_<date>.jsonl file"


def _missing_file(tmp_path):
    return tmp_path / GOOD_NAME, f"{GOOD_NAME}: no such file or directory"


def _results_file(tmp_path):
    path = tmp_path / "results_2026-01-01T00-00-00.000000.json"
    path.write_text(json.dumps({"results": {}}))
    return path, "not an lm-eval samples file (expected samples_<task>_<date>.jsonl)"


def _truncated(tmp_path):
    path = tmp_path / GOOD_NAME
    line = json.dumps(_good_row())
    path.write_text(line + "\n" + line[: len(line) // 2])  # the writer died mid-line
    return path, f"{GOOD_NAME}:2: not valid JSON"


def _no_doc_id(tmp_path):
    path = tmp_path / GOOD_NAME
    row = _good_row()
    del row["doc_id"]
    path.write_text(json.dumps(row) + "\n")
    return path, f"{GOOD_NAME}: row 1: needs an int doc_id and a doc object"


def _loglikelihood_rows(tmp_path):
    path = tmp_path / GOOD_NAME
    path.write_text(json.dumps({**_good_row(), "filtered_resps": [[-1.5, False]]}) + "\n")
    return path, "filtered_resps must hold strings"


def _empty_samples(tmp_path):
    path = tmp_path / GOOD_NAME
    path.write_text("")
    return path, f"no traces in ['{path}']"


def _not_an_object(tmp_path):
    path = tmp_path / GOOD_NAME
    path.write_text("[1, 2]\n")
    return path, f"{GOOD_NAME}:1: expected a JSON object"


BAD_INPUTS = [
    _empty_dir,  # a directory without any samples file
    _missing_file,  # a path that does not exist
    _results_file,  # an lm-eval results file given instead of a samples file
    _truncated,  # a samples file cut off mid-line
    _no_doc_id,  # a row without the doc_id field
    _loglikelihood_rows,  # a loglikelihood task's rows: responses are not texts
    _empty_samples,  # a samples file with no rows
    _not_an_object,  # a line that is JSON but not an object
]


@pytest.mark.parametrize("make", BAD_INPUTS, ids=lambda f: f.__name__.strip("_"))
def test_bad_samples_input_gets_one_line(make, tmp_path, capsys):
    path, expected = make(tmp_path)
    out = tmp_path / "out"
    assert main([str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("midrl judge: ") and "Traceback" not in err
    assert expected in err
    assert not out.exists()  # nothing written for a run that could not start


BAD_OPTIONS = [
    (["--labeller", "rules,magic"], "--labeller 'rules,magic'"),  # unknown labeller name
    (["--labeller", "rules,rules"], "--labeller 'rules,rules'"),  # the same labeller twice
    (["--labeller", "llm"], "--judge-model is required"),  # llm without a judge model
    (["--library", "/nonexistent/lib"], "--library /nonexistent/lib: neither a library name"),  # bad library
    (["--min-hits", "0"], "--min-hits: must be >= 1"),  # impossible cue count
    (["--validation", "/nonexistent/v.jsonl"], "/nonexistent/v.jsonl: no such validation file"),  # missing file
]


@pytest.mark.parametrize(("options", "expected"), BAD_OPTIONS)
def test_bad_options_get_one_line(options, expected, tmp_path, capsys):
    samples = write_samples(tmp_path / GOOD_NAME, "midrl_aime24", [{"problem": "1+1", "answer": "2"}],
                            [["\\boxed{2}"]])
    assert main([str(samples), "-o", str(tmp_path / "out"), *options]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


VALIDATION_FILES = [
    # (file content, expected message fragment naming the record and field)
    ('{"id": "a", "text": "t", "heuristics": ["casework"], "split": "train"}\n', "record 1: field 'split'"),
    ('{"id": "a", "text": "t"}\n', "record 1: missing field 'heuristics'"),
    ('{"id": "a", "text": "t", "heuristics": ["no_such_heuristic"]}\n', "field 'heuristics' names ids the library"),
    ('{"id": "a", "text": "t", "heuristics": [], "labels": []}\n', "record 1: unknown field(s) ['labels']"),
    ('{"id": "a", "text": "t", "heuristics": [], "split": "dev"}\n', "no rows with split 'test'"),
]


@pytest.mark.parametrize(("content", "expected"), VALIDATION_FILES)
def test_bad_validation_file_names_record_and_field(content, expected, tmp_path, capsys):
    samples = write_samples(tmp_path / GOOD_NAME, "midrl_aime24", [{"problem": "1+1", "answer": "2"}],
                            [["\\boxed{2}"]])
    validation = tmp_path / "mine.jsonl"
    validation.write_text(content)
    assert main([str(samples), "-o", str(tmp_path / "out"), "--validation", str(validation)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(validation) in err and expected in err
