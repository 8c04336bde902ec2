"""Attack family "identity" (issue 12): another model's run, moving revisions, and entry ids that collide.

Entry ids are checked as a pure function (`ids`), then end to end through `submit` on one honest lm-eval run of the
pack whose results file names `midrl-test/tiny-llama` at a commit sha (tests/_leaderboard_fixtures.py).
"""

from __future__ import annotations

import pytest
from _leaderboard_fixtures import MODEL_ID, REVISION, edit_results, make_run_dir, renamed_model, submission
from midrl_bench.leaderboard.ids import entry_id, parse_entry_id
from midrl_bench.leaderboard.rundir import Rejected
from midrl_bench.leaderboard.store import ENTRIES_DIR, submit

SHA_A = "a" * 40
LONG = "x" * 95

ID_PAIRS = [
    # (model id 1, model id 2, same entry?)
    ("org__name", "org/name", False),  # `org__name` (a name without namespace) must not squat `org/name`
    ("Org/Model", "org/model", True),  # the Hub folds case: one repository, one entry
    (f"{LONG}a/{LONG}b", f"{LONG}a/{LONG}c", False),  # long ids differing after 160 characters (were truncated)
    ("org/name", "org-name", False),  # a dash is not a separator
    ("org/a.b", "org/a_b", False),  # neither is a dot or an underscore
]


@pytest.mark.parametrize(("first", "second", "same"), ID_PAIRS)
def test_entry_ids_collide_only_for_the_same_hub_repo(first, second, same):
    assert (entry_id(first, SHA_A) == entry_id(second, SHA_A)) is same


@pytest.mark.parametrize("model_id", ["gpt2", "org/name", "Org/Model_v1.5", f"{LONG}a/{LONG}b", "a/b"])
def test_entry_ids_are_reversible_and_never_truncated(model_id):
    value = entry_id(model_id, SHA_A.upper())
    assert parse_entry_id(value) == (model_id.lower(), SHA_A)
    assert len(value.encode()) + len(".html") <= 255


BAD_IDS = [
    # (model id, revision, reason code)
    ("org/na--me", SHA_A, "model_id"),  # `--` is forbidden on the Hub (it separates the parts of an entry id)
    ("org/na..me", SHA_A, "model_id"),  # so is `..`
    ("org/name", "main", "revision_not_commit"),  # a branch moves
    ("org/name", "v1.0", "revision_not_commit"),  # so can a tag
    ("org/name", "0123abc", "revision_not_commit"),  # a short sha is ambiguous
    ("org/name", "local", "revision_not_commit"),  # `local` only where the store operator allows it
]


@pytest.mark.parametrize(("model_id", "revision", "code"), BAD_IDS)
def test_bad_ids_are_rejected(model_id, revision, code):
    with pytest.raises(Rejected) as caught:
        entry_id(model_id, revision)
    assert caught.value.code == code


def _other_model(run):
    renamed_model(run, "someone-else/strong-model")  # another model's run ...


def _other_revision(run):
    renamed_model(run, MODEL_ID, "b" * 40)  # ... or another commit of the same model


def _unpinned(run):
    def edit(data):
        del data["config"]["model_args"]["revision"]
        data["config"]["model_revision"] = "main"
    edit_results(run, edit)  # a run of whatever `main` was that day


def _model_name_only(run):
    edit_results(run, lambda data: data.update({"model_name": "someone-else/strong-model"}))


RUN_CASES = [
    # (edit of the results file, text of the model_identity rejection)
    (_other_model, "evaluated 'someone-else/strong-model'"),  # results' model_args never compared before
    (_other_revision, "revision 'bbbb"),  # the commit evaluated is not the one submitted
    (_unpinned, "revision 'main'"),  # the run did not pin the commit
    (_model_name_only, "model_name 'someone-else/strong-model'"),  # model_name contradicts model_args
]


@pytest.mark.slow
@pytest.mark.parametrize(("edit", "text"), RUN_CASES, ids=[c[0].__name__ for c in RUN_CASES])
def test_run_of_another_model_is_rejected(leaderboard_lm_eval_dir, tmp_path, edit, text):
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run")
    edit(run)
    with pytest.raises(Rejected) as caught:
        submit(run, tmp_path / "store", allow_partial=True)
    assert caught.value.code == "model_identity"
    assert text in str(caught.value)
    assert not (tmp_path / "store").exists()


@pytest.mark.slow
def test_case_variant_of_an_accepted_model_is_a_duplicate(leaderboard_lm_eval_dir, tmp_path):
    store = tmp_path / "store"
    entry = submit(make_run_dir(leaderboard_lm_eval_dir, tmp_path / "a"), store, allow_partial=True)
    assert entry["entry_id"] == f"midrl-test--tiny-llama--{REVISION}"
    assert entry["identity"]["status"] == "checked"
    shouted = submission(id=MODEL_ID.upper(), revision=REVISION.upper())
    with pytest.raises(Rejected) as caught:
        submit(make_run_dir(leaderboard_lm_eval_dir, tmp_path / "b", shouted), store, allow_partial=True)
    assert caught.value.code == "duplicate_entry"
    assert [p.name for p in (store / ENTRIES_DIR).iterdir()] == [entry["entry_id"]]  # no second entry, no staging


@pytest.mark.slow
def test_local_checkpoints_only_where_the_operator_allows_them(leaderboard_lm_eval_dir, tmp_path):
    record = submission(revision="local")
    run = make_run_dir(leaderboard_lm_eval_dir, tmp_path / "run", record)
    with pytest.raises(Rejected, match="revision_not_commit"):
        submit(run, tmp_path / "store", allow_partial=True)
    entry = submit(run, tmp_path / "store", allow_partial=True, allow_local=True)
    assert entry["entry_id"] == "midrl-test--tiny-llama--local"
    assert entry["identity"]["status"] == "local checkpoint, unverified"  # said on the page, not hidden
