"""The leaderboard store, laid out as a Hugging Face dataset repository (local directory by default).

    STORE/README.md                      dataset card (YAML `configs:` -> data/results.jsonl)
    STORE/data/results.jsonl             one row per accepted entry and task: recomputed pass@k ± stderr
    STORE/entries/<entry_id>/entry.json  submission, recomputed scores, composition, lm-eval settings, provenance
    STORE/entries/<entry_id>/run/...     the submitted lm-eval files, byte for byte (the evidence)

A submission is copied into a staging folder inside the store (`entries/.staging-*`), only that copy is validated,
and it is renamed into place when accepted; a rejected or crashed submission removes its staging folder and any
folder it created, so the store is left as it was. The table and card are then rewritten atomically. The folder is pushed to the Hub as it is, e.g.
`hf upload ORG/midrl-leaderboard STORE --repo-type dataset`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from midrl_bench.leaderboard.ids import entry_id as make_entry_id
from midrl_bench.leaderboard.rundir import DEFAULT_LIMITS, Rejected, SizeLimits, walk_files
from midrl_bench.leaderboard.table import TABLE_FILE, read_table, table_rows
from midrl_bench.leaderboard.validate import RESCORING, ValidatedRun, validate_run

from midrl_bench.jsonl import write_jsonl
from midrl_bench.provenance import provenance_record, sha256_file

ENTRIES_DIR = "entries"
ENTRY_FILE = "entry.json"
STAGING_PREFIX = ".staging-"
__all__ = ["ENTRIES_DIR", "TABLE_FILE", "build_entry", "load_entries", "read_table", "rewrite_index", "submit"]
_COPY_CHUNK = 1024 * 1024


def entry_id_for(submission: dict[str, Any], allow_local: bool = False) -> str:
    """The entry id of a (schema-checked) submission: `ids.entry_id` of its model id and revision."""
    model = submission["model"]
    return make_entry_id(model["id"], model["revision"], allow_local=allow_local)


def _lm_eval_settings(results: dict[str, Any]) -> dict[str, Any]:
    """The few lm-eval run settings shown as provenance (scalars only; strings truncated, escaped when rendered)."""
    config = results.get("config") if isinstance(results.get("config"), dict) else {}

    def scalar(value: Any) -> Any:
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return str(value)[:300]

    return {
        "lm_eval_version": scalar(results.get("lm_eval_version")),
        "model_source": scalar(results.get("model_source")),
        "model_name": scalar(results.get("model_name")),
        "gen_kwargs": scalar(json.dumps(config.get("gen_kwargs"), sort_keys=True)),
        "limit": scalar(config.get("limit")),
        "chat_template_sha": scalar(results.get("chat_template_sha")),
        "total_evaluation_time_seconds": scalar(results.get("total_evaluation_time_seconds")),
    }


def _composition(validated: ValidatedRun, task: str) -> dict[str, Any] | None:
    """Rules-labeller composition of the task's traces with the task's own library (`judge.libraries`: the toy
    task's strategies, the math library otherwise), as `midrl judge` reports it; None when the traces cannot be read."""
    from midrl_bench.judge.run import rules_composition
    from midrl_bench.judge.traces import load_traces, trace_verdicts

    try:
        traces = load_traces([validated.run.tasks[task].samples_file])
    except ValueError:
        return None
    stats = rules_composition(traces, trace_verdicts(traces))
    return {key: stats[key] for key in ("labeller", "library", "n_traces", "composed_share", "composed_rate", "quality",
                                        "mean_heuristics_per_trace", "correctness", "frequencies")}


def build_entry(validated: ValidatedRun, entry_id: str) -> dict[str, Any]:
    tasks = {}
    for name, score in validated.tasks.items():
        tasks[name] = {
            "version": score.version, "n_docs": score.n_docs, "expected_docs": score.expected_docs,
            "repeats": score.repeats, "unjudged_rate": score.unjudged_rate,
            "pass_at_k": {key: {"mean": m, "stderr": s} for key, (m, s) in score.pass_at_k.items()},
            "other_metrics": {key: {"mean": m, "stderr": s} for key, (m, s) in score.other_metrics.items()},
            "extraction": score.extraction,
            "responses": score.responses,
            "lm_eval": _lm_eval_settings(validated.run.results_for(name)),
            "composition": _composition(validated, name),
        }
    root = validated.run.root
    return {
        "entry_id": entry_id,
        "accepted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "submission": validated.submission,
        "identity": validated.identity,
        "generation_declared": validated.submission.get("generation") or {},
        "tasks": tasks,
        "files": {relative.as_posix(): sha256_file(root / relative) for relative in validated.run.files},
        "provenance": provenance_record(command="midrl leaderboard submit", checks="rescored every sample",
                                        rescoring=RESCORING),
    }


def load_entries(store: str | Path) -> list[dict[str, Any]]:
    entries_dir = Path(store) / ENTRIES_DIR
    if not entries_dir.is_dir():
        return []
    paths = sorted(p / ENTRY_FILE for p in entries_dir.iterdir()
                   if not p.name.startswith(".") and (p / ENTRY_FILE).is_file())
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def _card(entries: list[dict[str, Any]]) -> str:
    return (
        "---\nlicense: apache-2.0\npretty_name: midrl-bench leaderboard\nconfigs:\n- config_name: results\n"
        f"  data_files:\n  - split: train\n    path: {TABLE_FILE}\n---\n\n"
        "# midrl-bench leaderboard store\n\n"
        f"{len(entries)} accepted entries. Every score was recomputed by `midrl leaderboard submit` from the submitted "
        "lm-eval samples with the task pack's own checkers; `entries/<id>/run/` keeps the submitted files and "
        "`entries/<id>/entry.json` the recomputed scores and provenance. `data/results.jsonl` has one row per "
        "entry and task. Render the site with `midrl leaderboard build --store . -o SITE`.\n"
    )


def rewrite_index(store: str | Path) -> int:
    """Rewrite the results table and the card from the entry folders; returns the number of entries."""
    store = Path(store)
    entries = load_entries(store)
    write_jsonl(store / TABLE_FILE, (row for entry in entries for row in table_rows(entry)))
    tmp = store / "README.md.tmp"
    tmp.write_text(_card(entries), encoding="utf-8")
    tmp.replace(store / "README.md")
    return len(entries)


def _copy_file(source: Path, target: Path, max_bytes: int) -> None:
    """Copy one regular file without following links or blocking on a FIFO swapped in after the walk."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(source, flags)
    except OSError as error:
        raise Rejected("layout", f"{source.name}: cannot be opened as a plain file ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise Rejected("layout", f"{source.name} is not a regular file")
        target.parent.mkdir(parents=True, exist_ok=True)
        copied = 0
        with target.open("wb") as out:
            while chunk := handle.read(_COPY_CHUNK):
                copied += len(chunk)
                if copied > max_bytes:
                    raise Rejected("size_limit", f"{source.name} grew past {max_bytes} bytes while being copied")
                out.write(chunk)


def _stage(run_dir: Path, entries: Path, limits: SizeLimits) -> Path:
    """A private copy of the run's accepted files under `entries/.staging-*/run`; only the copy is validated."""
    if run_dir.is_symlink() or not run_dir.is_dir():
        raise Rejected("layout", f"{run_dir} is not a directory")
    files = walk_files(run_dir, limits)
    entries.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=entries))
    try:
        for relative in files:
            _copy_file(run_dir / relative, staging / "run" / relative, limits.total_bytes)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _remove_if_empty(paths: list[Path]) -> None:
    """Remove the folders this submission created (innermost first) when they are empty again."""
    for path in paths:
        try:
            path.rmdir()
        except OSError:
            pass


def submit(run_dir: str | Path, store: str | Path, limits: SizeLimits = DEFAULT_LIMITS,
           allow_partial: bool = False, allow_local: bool = False) -> dict[str, Any]:
    """Validate a run and add it to the store; raises `Rejected` and leaves the store as it was on any failure.

    The run's files are copied into a staging folder first and only that copy is validated and kept, so a file
    changed after validation cannot reach the store; the staging folder is renamed into place at the end.
    """
    store = Path(store)
    entries = store / ENTRIES_DIR
    created = [path for path in (entries, store) if not path.exists()]
    staging = None
    try:
        staging = _stage(Path(run_dir), entries, limits)
        validated = validate_run(staging / "run", limits, allow_partial=allow_partial, allow_local=allow_local)
        entry_id = entry_id_for(validated.submission, allow_local=allow_local)
        final = entries / entry_id
        if final.exists():
            raise Rejected("duplicate_entry", f"{entry_id} is already in the store (one entry per model revision)")
        entry = build_entry(validated, entry_id)
        (staging / ENTRY_FILE).write_text(json.dumps(entry, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        try:
            os.rename(staging, final)
        except OSError:
            raise Rejected("duplicate_entry", f"{entry_id} was added to the store meanwhile") from None
        staging = None
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(created)
        raise
    rewrite_index(store)
    return entry
