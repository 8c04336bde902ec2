"""Attack family "limits" (issue 12): inputs that crashed the validator or made it work without bound.

Each must end in a `Rejected` with a reason code (never a traceback), cost little, and leave nothing in the store
(no `.staging-*` folder). Cases that need an lm-eval run use the one honest run of tests/_leaderboard_fixtures.py.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from _leaderboard_fixtures import TASK, make_run_dir, read_rows, refresh_metrics, submission, write_rows
from midrl_bench.leaderboard.rundir import DEFAULT_LIMITS, Rejected
from midrl_bench.leaderboard.store import submit


def _bare_run(tmp_path: Path, submission_text: str) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "submission.json").write_text(submission_text, encoding="utf-8")
    return run


def _reject(run: Path, store: Path, limits=DEFAULT_LIMITS) -> Rejected:
    with pytest.raises(Rejected) as caught:
        submit(run, store, limits=limits, allow_partial=True)
    assert not store.exists()  # nothing created, not even an empty store or a staging folder
    return caught.value


RESULTS = "results_2026-01-01T00-00-00.000000.json"
HOSTILE_JSON = [
    # (file, its text, reason code, text of the reason)
    (RESULTS, "[" * 100_000 + "]" * 100_000, "malformed_file", "nested deeper"),  # RecursionError traceback before
    ("submission.json", "[" * 30_000 + "]" * 30_000, "malformed_file", "nested deeper"),  # ... within the size cap
    ("submission.json", json.dumps({"contact": "\ud800 lone"}), "malformed_file", "surrogate"),  # unencodable text
    ("submission.json", '{"schema_version": NaN}', "non_finite_number", "NaN"),  # not JSON; Python's parser took it
    (RESULTS, '{"results": {"t": {"pass@1,all": -Infinity}}}', "non_finite_number", "Infinity"),  # nor is this
    ("submission.json", '{"schema_version": 1' + "0" * 5000 + "}", "malformed_file", "not valid JSON"),  # 5001 digits
]


@pytest.mark.parametrize(("name", "text", "code", "reason"), HOSTILE_JSON,
                         ids=["deep-results", "deep", "surrogate", "nan", "infinity", "bigint"])
def test_hostile_json_is_a_rejection(tmp_path, name, text, code, reason):
    run = _bare_run(tmp_path, json.dumps(submission()))
    (run / name).write_text(text, encoding="utf-8")
    rejected = _reject(run, tmp_path / "store")
    assert rejected.code == code and reason in str(rejected)


def test_non_utf8_file_name_is_a_rejection(tmp_path):
    run = _bare_run(tmp_path, json.dumps(submission()))
    (Path(os.fsdecode(bytes(run) + b"/caf\xe9.json"))).write_text("{}")
    rejected = _reject(run, tmp_path / "store")
    assert rejected.code == "layout" and "must be valid UTF-8" in str(rejected) and "caf\\xe9" in str(rejected)


def test_fifo_is_refused_unread(tmp_path):
    run = _bare_run(tmp_path, json.dumps(submission()))
    os.mkfifo(run / "results_2026-01-01T00-00-00.000000.json")  # opening it for reading would block
    rejected = _reject(run, tmp_path / "store")
    assert rejected.code == "layout" and "not a regular file" in str(rejected)


UNKNOWN_FILES = [
    # (file name, size in bytes)
    ("junk.bin", 200 * 1024 * 1024),  # a 200 MB junk file (sparse: costs nothing to make) was copied into the store
    ("index.html", 100),  # an HTML file was copied into the store beside the evidence
    ("results_2026-01-01T00-00-00.000000.json.bak", 10),  # a near-miss of lm-eval's names
]


@pytest.mark.parametrize(("name", "size"), UNKNOWN_FILES)
def test_unknown_files_are_refused(tmp_path, name, size):
    run = _bare_run(tmp_path, json.dumps(submission()))
    (run / "lm-eval").mkdir()
    with (run / "lm-eval" / name).open("wb") as handle:
        handle.truncate(size)
    started = time.monotonic()
    rejected = _reject(run, tmp_path / "store")
    assert rejected.code == "unknown_file" and name in str(rejected)
    assert time.monotonic() - started < 5  # refused by name, never read


def test_deep_folders_are_refused(tmp_path):
    run = _bare_run(tmp_path, json.dumps(submission()))
    (run / "a" / "b" / "c" / "d" / "e").mkdir(parents=True)
    assert _reject(run, tmp_path / "store").code == "layout"


def _repeats(n):
    def tamper(run):
        rows = read_rows(run)
        for row in rows:
            row["resps"] = [row["resps"][0] * (n // len(row["resps"][0]))]
            row["filtered_resps"] = [list(row["resps"][0])]
        write_rows(run, rows)
    return tamper


def _huge_response(run):
    rows = read_rows(run)
    rows[0]["resps"][0][0] = rows[0]["filtered_resps"][0][0] = "x " * 200_000
    write_rows(run, rows)


def _slow_to_check(run):
    """Responses that make the checker run to its hard timeout (5 s); a 5 KB submission took 64 s before."""
    rows = read_rows(run)
    for row in rows:  # one such response per document is enough to overrun the (test's small) budget
        row["resps"][0][0] = row["filtered_resps"][0][0] = r"\boxed{9^{9^{9^{9^{9}}}}}"
    write_rows(run, rows)
    refresh_metrics(run)


TIGHT = replace(DEFAULT_LIMITS, checker_base_s=1.0, checker_per_response_s=0.05)
COST_CASES = [
    # (tamper, limits, text of the cost_limit reason)
    (_repeats(5000), DEFAULT_LIMITS, "5000 responses for one document"),  # 5,000 repeats per document
    (_huge_response, DEFAULT_LIMITS, "a response of 400000 characters"),  # one response over the size cap
    (_slow_to_check, TIGHT, "checking has taken"),  # total checker time over the budget (small budget for the test)
]


@pytest.mark.slow
@pytest.mark.parametrize(("tamper", "limits", "text"), COST_CASES, ids=["repeats", "size", "checker_time"])
def test_cost_is_bounded(leaderboard_lm_eval_dir, tmp_path, tamper, limits, text):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    tamper(run)
    started = time.monotonic()
    rejected = _reject(run, tmp_path / "store", limits)
    assert rejected.code == "cost_limit" and text in str(rejected)
    assert time.monotonic() - started < 60  # two checker timeouts at most, whatever the load


@pytest.mark.slow
def test_lone_surrogate_in_a_response_is_a_rejection(leaderboard_lm_eval_dir, tmp_path):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    rows = read_rows(run)
    rows[0]["resps"][0][0] = rows[0]["filtered_resps"][0][0] = "answer \ud800"  # json.dumps writes "\ud800"
    write_rows(run, rows)
    rejected = _reject(run, tmp_path / "store")
    assert rejected.code == "malformed_file" and f"samples_{TASK}" in str(rejected)


@pytest.mark.slow
def test_logged_audit_record_of_wrong_types_is_a_rejection(leaderboard_lm_eval_dir, tmp_path):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    rows = read_rows(run)
    n = len(rows[0]["resps"][0])  # the row's `responses` record feeds re-scoring its logged lengths and truncation
    rows[0]["responses"] = {"length": [1] * n, "length_unit": "tokens:x", "truncated": ["yes"] * n}
    write_rows(run, rows)
    rejected = _reject(run, tmp_path / "store")
    assert rejected.code == "malformed_sample" and "samples lines 1-2" in str(rejected)
