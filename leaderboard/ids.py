"""Entry ids: one per Hub model revision, derived reversibly, case-folded as the Hub folds repo ids, never truncated.

    entry_id("Org/Model-7B", "3F2A...C1") == "org--model-7b--3f2a...c1"
    parse_entry_id("org--model-7b--3f2a...c1") == ("org/model-7b", "3f2a...c1")

The Hub treats repo ids case-insensitively (`Org/Model` and `org/model` are one repository) and forbids `--` and `..`
in them (`huggingface_hub.utils.validate_repo_id`, the rule its cache layout `models--org--name` relies on), so `--`
separates the namespace, the name and the revision without ambiguity: `org__name` (one name, no namespace) becomes
`org__name--<sha>` and can never squat `org/name` (`org--name--<sha>`). The longest id (96 + 96 characters of
Hub id, 40 of sha, two separators) is 236 characters, within a file name's 255 bytes with `.html` added; nothing is
ever cut short. A local checkpoint (`--allow-local`, revision `local`) ends in `--local`.
"""

from __future__ import annotations

import re

from midrl_bench.leaderboard.rundir import Rejected

SEPARATOR = "--"
LOCAL_REVISION = "local"
SHA = re.compile(r"^[0-9a-f]{40}$")
ENTRY_ID = re.compile(r"^[a-z0-9_.-]{1,236}$")


def normalize_model_id(model_id: str) -> str:
    """The Hub id in its canonical (case-folded) form; Rejected(`model_id`) when it breaks the Hub's rules."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(model_id)
    except HFValidationError as error:
        raise Rejected("model_id", f"submission.json field model/id: {error}") from None
    return model_id.lower()


def normalize_revision(revision: str, allow_local: bool = False) -> str:
    folded = revision.lower()
    if SHA.match(folded) or (allow_local and folded == LOCAL_REVISION):
        return folded
    raise Rejected("revision_not_commit", f"submission.json field model/revision: {revision!r} is not a 40-hex "
                                          "commit sha (branches and tags move; give the commit that was evaluated)")


def entry_id(model_id: str, revision: str, allow_local: bool = False) -> str:
    model = normalize_model_id(model_id)
    return SEPARATOR.join([*model.split("/"), normalize_revision(revision, allow_local)])


def parse_entry_id(value: str) -> tuple[str, str]:
    """(model id, revision) of an entry id; ValueError for anything `entry_id` cannot have produced."""
    parts = value.split(SEPARATOR)
    if not ENTRY_ID.match(value) or len(parts) not in (2, 3):
        raise ValueError(f"{value!r} is not a leaderboard entry id")
    *model, revision = parts
    return "/".join(model), revision
