"""Attack family "tampering" (issue 12): runs edited after lm-eval wrote them, each made otherwise consistent.

Every case starts from one honest lm-eval run of the pack (tests/_leaderboard_fixtures.py), edits it the way a
cheating submitter would, then recomputes the logged metrics (`refresh_metrics`) so that only the check under test can
catch it. Each must be rejected with its reason code, and the store must be left empty.
"""

from __future__ import annotations

import pytest
from _leaderboard_fixtures import (
    TASK,
    correct_response,
    edit_results,
    make_run_dir,
    read_rows,
    refresh_metrics,
    submission,
    write_rows,
)
from midrl_bench.leaderboard.rundir import Rejected
from midrl_bench.leaderboard.store import submit

pytestmark = pytest.mark.slow


def _edit_rows(run, edit, refresh=True):
    rows = read_rows(run)
    edit(rows)
    write_rows(run, rows)
    if refresh:
        refresh_metrics(run)


def filtered_edited(run):
    """filtered_resps say the answer, resps keep what the model wrote."""
    def edit(rows):
        rows[0]["filtered_resps"][0] = [correct_response(rows[0]["doc"])] * len(rows[0]["filtered_resps"][0])
    _edit_rows(run, edit)


def nan_reported(run):
    edit_results(run, lambda data: data["results"][TASK].update({"pass@2,all": float("nan")}))


def nan_in_sample(run):
    _edit_rows(run, lambda rows: rows[1].update({"pass@1": float("nan")}), refresh=False)


def infinity_in_results(run):
    edit_results(run, lambda data: data.update({"total_evaluation_time_seconds": float("inf")}))


def overflowing_float(run):
    path = next(run.rglob(f"samples_{TASK}_*.jsonl"))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0][:-1] + ', "extra": 1e999}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def version_as(value):
    def tamper(run):
        edit_results(run, lambda data: data["versions"].update({TASK: value}))
    return tamper


def _current_version():
    from midrl_bench.tasks.registry import TASK_SPECS

    return TASK_SPECS[TASK].version


def generation_in_both(key, value):
    """A run made with other generation arguments, logged consistently in the results and every sample."""
    def tamper(run):
        edit_results(run, lambda data: data["configs"][TASK]["generation_kwargs"].update({key: value}))
        _edit_rows(run, lambda rows: [row["arguments"]["gen_args_0"]["arg_1"].update({key: value}) for row in rows])
    return tamper


def group_claims_missing_task(run):
    def edit(data):
        data["group_subtasks"] = {"midrl_math": [TASK, "midrl_math500"]}
        data["results"]["midrl_math"] = {"alias": "midrl_math", "pass@1,all": 0.9}
    edit_results(run, edit)


def rows_moved_to_other_docs(run):
    """Row 0's prompt and responses moved to document 1 (with document 1's own doc), and the other way round."""
    def edit(rows):
        for field in ("doc_id", "doc", "target", "doc_hash", "target_hash"):
            rows[0][field], rows[1][field] = rows[1][field], rows[0][field]
    _edit_rows(run, edit)


def prompt_hash_forged(run):
    _edit_rows(run, lambda rows: rows[0].update({"prompt_hash": "0" * 64}))


def _chat_wrap(run, move=False):
    """The prompts as a chat template wraps them (what `--apply_chat_template` logs), optionally rows moved too."""
    import hashlib

    edit_results(run, lambda data: data.update({"chat_template": "{{ messages }}", "chat_template_sha": "0" * 64}))

    def edit(rows):
        for row in rows:
            request = row["arguments"]["gen_args_0"]
            request["arg_0"] = f"<|user|>{request['arg_0']}<|end|><|assistant|>"
            row["prompt_hash"] = hashlib.sha256(request["arg_0"].encode()).hexdigest()
        if move:
            for field in ("doc_id", "doc", "target", "doc_hash", "target_hash"):
                rows[0][field], rows[1][field] = rows[1][field], rows[0][field]
    _edit_rows(run, edit)


def chat_rows_moved(run):
    _chat_wrap(run, move=True)


def other_source(run):
    edit_results(run, lambda data: data["configs"][TASK]["metadata"].update({"toy_config": "/tmp/mine.yaml", "size": 2}))


def few_shot(run):
    edit_results(run, lambda data: data["n-shot"].update({TASK: 5}))


CASES = [
    # (tamper, reason code, text the reason contains)
    (filtered_edited, "filter_mismatch", "filtered_resps is not the task's filter"),  # issue: filtered_resps edited
    (nan_reported, "non_finite_number", "NaN"),  # NaN passed both mismatch checks before
    (nan_in_sample, "non_finite_number", "NaN"),  # ... and so did NaN in a per-sample metric
    (infinity_in_results, "non_finite_number", "Infinity"),  # Infinity anywhere in a results file
    (overflowing_float, "non_finite_number", "1e999"),  # a literal that parses as inf
    (version_as(True), "task_version", "True"),  # `true` compared equal to version 1 through float()
    (version_as(str(_current_version())), "task_version", "'"),  # "1": a string is not the version
    (version_as(f" {_current_version()}.0 "), "task_version", "exactly"),  # " 1.0 " parsed by float() before
    (version_as(float(_current_version())), "task_version", "exactly"),  # 1.0: a float is not the integer version
    (generation_in_both("temperature", 0.0), "generation_args", "temperature=0.0"),  # greedy run under a sampled task
    (generation_in_both("max_gen_toks", 4096), "generation_args", "the run logged 4096"),  # not the declared limit
    (generation_in_both("top_k", 1), "generation_args", "top_k=1"),  # an argument the task does not set
    (group_claims_missing_task, "group_without_samples", "midrl_math500"),  # a group row over a task never run
    (rows_moved_to_other_docs, "prompt_mismatch", "not the task's rendering"),  # responses re-bound to other docs
    (chat_rows_moved, "prompt_mismatch", "does not contain the task's rendering"),  # same, chat-template run
    (prompt_hash_forged, "prompt_mismatch", "prompt_hash"),  # lm-eval's own prompt hash contradicts the prompt
    (few_shot, "protocol", "zero-shot"),  # a few-shot run of a zero-shot task
    (other_source, "protocol", "another source"),  # documents served from a file on the submitter's machine
]


IDS = ["filtered_edited", "nan_reported", "nan_in_sample", "infinity_in_results", "overflowing_float", "version_true", "version_str",
       "version_spaced", "version_float", "temperature_0", "max_gen_toks", "top_k", "group_claims_missing_task",
       "rows_moved_to_other_docs", "chat_rows_moved", "prompt_hash_forged", "few_shot", "other_source"]


@pytest.mark.parametrize(("tamper", "code", "text"), CASES, ids=IDS)
def test_tampered_run_is_rejected(leaderboard_lm_eval_dir, tmp_path, tamper, code, text):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    tamper(run)
    store = tmp_path / "store"
    with pytest.raises(Rejected) as caught:
        submit(run, store, allow_partial=True)
    assert caught.value.code == code, str(caught.value)
    assert text in str(caught.value)
    assert not store.exists()  # a rejected submission leaves nothing behind


def test_chat_template_prompts_are_bound_by_containment(leaderboard_lm_eval_dir, tmp_path):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    _chat_wrap(run)  # the honest run, as a chat-template run logs it: accepted
    entry = submit(run, tmp_path / "store", allow_partial=True)
    assert entry["tasks"][TASK]["n_docs"] == 2


def test_undetectable_copying_is_accepted_but_visible(leaderboard_lm_eval_dir, tmp_path):
    """One correct answer copied into every repeat re-scores consistently: accepted, and shown for what it is."""
    from midrl_bench.leaderboard.site import build_site

    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")

    def copy(rows):
        for row in rows:
            row["resps"] = [[correct_response(row["doc"])] * len(row["resps"][0])]
            row["filtered_resps"] = [list(row["resps"][0])]
    _edit_rows(run, copy)
    store = tmp_path / "store"
    entry = submit(run, store, allow_partial=True)
    stats = entry["tasks"][TASK]["responses"]
    assert entry["tasks"][TASK]["pass_at_k"]["pass@1"]["mean"] == 1.0
    assert (stats["identical_share"], stats["docs_all_identical"], stats["n_docs"]) == (0.75, 2, 2)  # (4-1)/4
    assert stats["length_words"]["p50"] == len(correct_response({"answer": "1"}).split())
    page = (build_site(store, tmp_path / "site").parent / "entries" / f"{entry['entry_id']}.html").read_text()
    assert "what re-scoring cannot check" in page and "75.0%" in page and "2/2" in page


def test_declared_generation_arguments_are_accepted_and_recorded(leaderboard_lm_eval_dir, tmp_path):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    entry = submit(run, tmp_path / "store", allow_partial=True)  # the fixture's max_gen_toks=16 is declared
    assert entry["generation_declared"] == {"max_gen_toks": 16}


def test_undeclared_override_is_rejected(leaderboard_lm_eval_dir, tmp_path):
    record = submission()
    del record["generation"]  # the run used max_gen_toks=16 but says nothing
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run", record)
    with pytest.raises(Rejected, match="generation_args: .*max_gen_toks=16 but the task uses 3072"):
        submit(run, tmp_path / "store", allow_partial=True)


def test_declaration_must_match_the_run(leaderboard_lm_eval_dir, tmp_path):
    record = submission()
    record["generation"] = {"max_gen_toks": 3072}  # declares the task's own value while the run used 16
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run", record)
    with pytest.raises(Rejected, match="generation_args: .*declares max_gen_toks=3072, the run logged 16"):
        submit(run, tmp_path / "store", allow_partial=True)


# --- forged HumanEval passes (issue 12 item 1, scored by the differential code checker) reach the store as failures
FORGED_PROGRAMS = [
    # a solution of HumanEval/2 whose result object claims equality with anything (passed every assert before)
    "```python\nclass AlwaysEqual:\n    def __eq__(self, other):\n        return True\n    def __lt__(self, o):\n"
    "        return True\n    def __sub__(self, o):\n        return self\n    def __abs__(self):\n        return self\n"
    "def truncate_number(number):\n    return AlwaysEqual()\n```",
    # a body that reads its own program for the finish-marker nonce and reports success before any assert runs
    "    import os, re, sys\n    text = open(sys.argv[0]).read()\n"
    "    for nonce in re.findall(r\"b'([0-9a-f]{32})'\", text):\n        os.write(3, nonce.encode())\n    os._exit(0)\n",
]


@pytest.fixture(scope="module")
def humaneval_run(tiny_llama_dir, tmp_path_factory):
    from _leaderboard_fixtures import lm_eval_output

    return lm_eval_output(tiny_llama_dir, tmp_path_factory.mktemp("humaneval"), task="midrl_humaneval", docs=3,
                          repeats=2)


def _forge(run, claimed_pass):
    """HumanEval/2's responses replaced by forged programs, logged with the pass@k the old checker gave them."""
    import json

    path = next(run.rglob("samples_midrl_humaneval_*.jsonl"))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    (row,) = [row for row in rows if row["doc"]["id"] == "HumanEval/2"]
    row["resps"], row["filtered_resps"] = [list(FORGED_PROGRAMS)], [list(FORGED_PROGRAMS)]
    row.update({"pass@1": claimed_pass, "pass@2": claimed_pass})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_forged_humaneval_passes_are_rejected(humaneval_run, tmp_path):
    run = make_run_dir(humaneval_run, tmp_path / "run")
    _forge(run, 1.0)  # accepted with pass@1 = 1.0 before
    with pytest.raises(Rejected, match="sample_metric_mismatch: .*logs pass@1=1.0, re-scoring the responses gives 0.0"):
        submit(run, tmp_path / "store", allow_partial=True)
    assert not (tmp_path / "store").exists()
