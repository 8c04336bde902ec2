"""The run's model identity against submission.json.

lm-eval records which model it evaluated in every results file: `model_name` and `config.model_args` (the
`pretrained=` id and `revision=`), `config.model_revision`, and `config.model_sha` when the Hub could be asked. The
submission's `model.id` and `model.revision` must be those, compared the way the Hub compares them (ids
case-insensitively, shas as lowercase hex):

- `model_id` / `revision_not_commit`: the submission's id breaks the Hub's naming rules, or its revision is not a
  40-hex commit sha (`main`, a tag or a short sha can point at other weights tomorrow);
- `model_identity`: a results file names another model or revision, or does not pin a revision at all.

A store whose operator passes `--allow-local` also accepts revision `local` for checkpoints that exist on one machine
only (`midrl demo`): their identity cannot be checked, and the entry says so ("local checkpoint, unverified").
"""

from __future__ import annotations

from typing import Any

from midrl_bench.leaderboard.ids import LOCAL_REVISION, normalize_model_id, normalize_revision
from midrl_bench.leaderboard.rundir import Rejected, RunDir


def _model_args(config: dict[str, Any]) -> dict[str, Any]:
    """lm-eval's `model_args`, logged as a dict or as its command-line string `k=v,k=v`."""
    args = config.get("model_args")
    if isinstance(args, dict):
        return args
    if isinstance(args, str):
        pairs = [part.split("=", 1) for part in args.split(",") if "=" in part]
        return {key.strip(): value.strip() for key, value in pairs}
    return {}


def run_model(results: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(model named by the results file, every revision it records), all as logged."""
    config = results.get("config") if isinstance(results.get("config"), dict) else {}
    args = _model_args(config)
    model = args.get("pretrained") or args.get("model") or results.get("model_name")
    revisions = [value for value in (args.get("revision"), config.get("model_revision"), config.get("model_sha"))
                 if isinstance(value, str) and value]
    return (model if isinstance(model, str) else None), revisions


def _check_results_file(name: str, results: dict[str, Any], model_id: str, revision: str) -> None:
    model, revisions = run_model(results)
    if not isinstance(model, str) or model.lower() != model_id:
        raise Rejected("model_identity", f"{name}: the run evaluated {model!r}, submission.json names {model_id!r}")
    named = results.get("model_name")
    if isinstance(named, str) and named.lower() != model_id:
        raise Rejected("model_identity", f"{name}: model_name {named!r} is not {model_id!r}")
    if not revisions:
        raise Rejected("model_identity", f"{name}: the run pinned no revision (pass revision=<sha> in --model_args)")
    for value in revisions:
        if value.lower() != revision:
            raise Rejected("model_identity", f"{name}: the run evaluated revision {value!r}, submission.json names "
                                             f"{revision!r}")


def check_run_identity(run: RunDir, allow_local: bool = False) -> dict[str, Any]:
    """Raises Rejected on a mismatch; returns what was checked (shown on the entry's page)."""
    model = run.submission["model"]
    model_id = normalize_model_id(model["id"])
    revision = normalize_revision(model["revision"], allow_local=allow_local)
    if revision == LOCAL_REVISION:
        evaluated = sorted({str(run_model(results)[0]) for results in run.results.values()})
        return {"status": "local checkpoint, unverified", "model_id": model_id, "revision": revision,
                "evaluated": evaluated}
    for path, results in run.results.items():
        _check_results_file(path.name, results, model_id, revision)
    return {"status": "checked", "model_id": model_id, "revision": revision,
            "evidence": "results files: model_args pretrained/revision, model_name, model_revision, model_sha"}
