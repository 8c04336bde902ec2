"""Leaderboard submission: schema and size checks, re-scoring of a real lm-eval run, tampered runs rejected."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
from _leaderboard_fixtures import (
    DOCS,
    REPEATS,
    REVISION,
    TASK,
    drop_repeat,
    drop_samples_file,
    edit_sample,
    inflate_pass_at_k,
    make_run_dir,
    old_task_version,
    read_rows,
    rewrite_responses,
    submission,
    wrong_doc,
)
from midrl_bench.leaderboard.cli import main as leaderboard_main
from midrl_bench.leaderboard.rundir import Rejected, SizeLimits, load_run_dir, validate_submission_record
from midrl_bench.leaderboard.store import ENTRIES_DIR, TABLE_FILE, read_table, submit
from midrl_bench.leaderboard.table import results_frame
from midrl_bench.leaderboard.validate import validate_run


@pytest.fixture
def lm_eval_dir(leaderboard_lm_eval_dir):
    return leaderboard_lm_eval_dir


def _with(path: str, value):
    record = copy.deepcopy(submission())
    *parents, last = path.split(".")
    node = record
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return record


SCHEMA_CASES = [
    # (record, field named in the rejection or None when valid, reason code)
    (submission(), None, None),  # the documented example
    (_with("mid_training", None), None, None),  # a baseline without mid-training
    (_with("generation", KeyError), None, None),  # a run with the tasks' own generation arguments declares none
    (_with("model.display_name", "<b>My model</b>"), None, None),  # free text is allowed; it is escaped on the site
    (_with("model.id", "org/<script>"), "model/id", "model_id"),  # ids are Hub ids only
    (_with("model.revision", "main"), "model/revision", "revision_not_commit"),  # a branch is not a commit
    (_with("model.parameters", 0), "model/parameters", "schema"),  # a parameter count must be positive
    (_with("model.parameters", "3B"), "model/parameters", "schema"),  # ... and an integer
    (_with("rl.backend", "ppo-magic"), "rl/backend", "schema"),  # backends are an enumeration
    (_with("contact", KeyError), "(root)", "schema"),  # contact is required
    (_with("extra_field", 1), "(root)", "schema"),  # unknown keys are rejected
    (_with("schema_version", 2), "schema_version", "schema"),  # only the current schema version
    (_with("mid_training.config", "n16; rm -rf /"), "mid_training", "schema"),  # configs are plain names
    (_with("generation", {"temperature": {"nested": 1}}), "generation/temperature", "schema"),  # scalars only
]


@pytest.mark.parametrize(("record", "field", "code"), SCHEMA_CASES)
def test_submission_schema(record, field, code):
    if field is None:
        validate_submission_record(record)
        return
    with pytest.raises(Rejected) as caught:
        validate_submission_record(record)
    assert caught.value.code == code
    assert f"field {field}" in str(caught.value)


def test_size_limits_and_links_are_enforced(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "submission.json").write_text(json.dumps(submission()) + " " * 2000)
    with pytest.raises(Rejected, match="size_limit: submission.json is"):
        load_run_dir(run, SizeLimits(submission_bytes=1000))
    (run / "escape").symlink_to("/etc/passwd")
    with pytest.raises(Rejected, match="layout: escape is a link"):
        load_run_dir(run)


@pytest.mark.slow
def test_valid_run_is_rescored_and_accepted(lm_eval_dir, tmp_path):
    run = make_run_dir(lm_eval_dir, tmp_path / "run")
    rewrite_responses(run, correct_per_doc=[2, 1])  # pass@1 = (2/4 + 1/4) / 2
    store = tmp_path / "store"
    entry = submit(run, store, allow_partial=True)
    score = entry["tasks"][TASK]
    assert score["pass_at_k"]["pass@1"]["mean"] == pytest.approx(0.375)
    assert score["pass_at_k"]["pass@4"]["mean"] == pytest.approx(1.0)
    assert (score["n_docs"], score["repeats"], score["expected_docs"]) == (DOCS, REPEATS, 30)
    assert score["composition"]["n_traces"] == DOCS * REPEATS
    entry_dir = store / ENTRIES_DIR / entry["entry_id"]
    assert json.loads((entry_dir / "entry.json").read_text())["submission"] == submission()
    kept = {p.name.split("_")[0] for p in (entry_dir / "run").rglob("*") if p.is_file()}
    assert kept == {"results", "samples", "submission.json"}  # the evidence is stored byte for byte
    (row,) = read_table(store)
    assert (row["task"], row["pass@1"], row["model_id"]) == (TASK, pytest.approx(0.375), "midrl-test/tiny-llama")
    card = (store / "README.md").read_text()
    assert f"path: {TABLE_FILE}" in card and card.startswith("---\n")
    import datasets

    table = datasets.load_dataset(str(store))["train"]  # the store reads as a Hub dataset repo
    assert (table[0]["pass@1"], table[0]["pass@1_stderr"]) == (pytest.approx(0.375), pytest.approx(0.125))
    frame = results_frame(store)  # the same table as a pandas DataFrame, and as CSV through the CLI
    assert list(frame["pass@1"]) == [pytest.approx(0.375)] and frame["identity"][0] == "checked"
    assert leaderboard_main(["table", "--store", str(store), "--csv", str(tmp_path / "t.csv")]) == 0
    import pandas as pd

    assert pd.read_csv(tmp_path / "t.csv")["pass@1"].tolist() == [pytest.approx(0.375)]


TAMPER_CASES = [
    # (tamper, allow_partial, expected reason code, text the reason must contain)
    (inflate_pass_at_k, True, "pass_at_k_mismatch", "reports pass@1=0.75"),  # aggregate edited upwards
    (edit_sample, True, "sample_metric_mismatch", "doc 0 logs pass@1"),  # a response replaced after scoring
    (drop_repeat, True, "repeats_below_k", "doc 1 has 3 responses"),  # a repeat removed from one document
    (wrong_doc, True, "doc_mismatch", "doc_id 0 does not match"),  # a document's gold answer changed
    (old_task_version, True, "task_version", "run used version 0"),  # run made with an outdated task
    (drop_samples_file, True, "missing_samples", TASK),  # results without the samples behind them
    (lambda run: None, False, "incomplete_task", "2 of 30 documents"),  # --limit run on a full-only store
]


@pytest.mark.slow
@pytest.mark.parametrize(("tamper", "allow_partial", "code", "text"), TAMPER_CASES)
def test_tampered_runs_are_rejected_with_the_reason(lm_eval_dir, tmp_path, tamper, allow_partial, code, text):
    run = make_run_dir(lm_eval_dir, tmp_path / "run")
    tamper(run)
    store = tmp_path / "store"
    with pytest.raises(Rejected) as caught:
        submit(run, store, allow_partial=allow_partial)
    assert caught.value.code == code
    assert text in str(caught.value)
    assert not (store / ENTRIES_DIR).exists()  # nothing written for a rejected run


@pytest.mark.slow
def test_unmodified_run_validates_and_per_sample_metrics_are_not_trusted(lm_eval_dir, tmp_path):
    run = make_run_dir(lm_eval_dir, tmp_path / "run")
    validated = validate_run(run, allow_partial=True)
    assert validated.tasks[TASK].repeats == REPEATS
    rows = read_rows(run)
    recomputed = validated.tasks[TASK].pass_at_k["pass@1"][0]
    assert recomputed == pytest.approx(sum(row["pass@1"] for row in rows) / len(rows))


@pytest.mark.slow
def test_cli_submit_accepts_then_rejects_a_duplicate(lm_eval_dir, tmp_path):
    run = make_run_dir(lm_eval_dir, tmp_path / "run")
    command = [sys.executable, "-m", "midrl_bench", "leaderboard", "submit", str(run), "--store", str(tmp_path / "s"),
               "--allow-partial"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert f"accepted: midrl-test--tiny-llama--{REVISION}" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 1
    assert "rejected: duplicate_entry" in second.stderr
