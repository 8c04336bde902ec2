"""The leaderboard store, laid out as a Hugging Face dataset repository (local directory by default).

    STORE/README.md                      dataset card (YAML `configs:` -> data/results.jsonl)
    STORE/data/results.jsonl             one row per accepted entry and task: recomputed pass@k ± stderr
    STORE/entries/<entry_id>/entry.json  submission, recomputed scores, composition, lm-eval settings, provenance
    STORE/entries/<entry_id>/run/...     the submitted lm-eval files, byte for byte (the evidence)

An entry is written to a temporary folder and renamed into place, then the table and card are rewritten atomically,
so a crash never leaves a half entry. The folder is pushed to the Hub as it is, e.g.
`hf upload ORG/midrl-leaderboard STORE --repo-type dataset`.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from midrl_bench.leaderboard.rundir import DEFAULT_LIMITS, Rejected, SizeLimits
from midrl_bench.leaderboard.validate import ValidatedRun, validate_run

from midrl_bench.jsonl import read_jsonl, write_jsonl
from midrl_bench.metrics import PASS_AT_K
from midrl_bench.provenance import provenance_record, sha256_file

ENTRIES_DIR = "entries"
TABLE_FILE = "data/results.jsonl"
ENTRY_FILE = "entry.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def entry_id_for(submission: dict[str, Any]) -> str:
    """Folder-safe id from the (schema-checked) model id and revision."""
    model = submission["model"]
    return _UNSAFE.sub("-", f"{model['id'].replace('/', '__')}__{model['revision']}")[:160]


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
    """Rules-labeller composition of the task's traces, or None when the heuristic library cannot be loaded."""
    from midrl_bench.judge.run import rules_composition
    from midrl_bench.judge.traces import load_traces, trace_verdicts

    try:
        traces = load_traces([validated.run.tasks[task].samples_file])
    except ValueError:
        return None
    stats = rules_composition(traces, trace_verdicts(traces))
    return {key: stats[key] for key in ("labeller", "n_traces", "composed_share", "mean_heuristics_per_trace",
                                        "correctness", "frequencies")}


def build_entry(validated: ValidatedRun, entry_id: str) -> dict[str, Any]:
    tasks = {}
    for name, score in validated.tasks.items():
        tasks[name] = {
            "version": score.version, "n_docs": score.n_docs, "expected_docs": score.expected_docs,
            "repeats": score.repeats, "unjudged_rate": score.unjudged_rate,
            "pass_at_k": {key: {"mean": m, "stderr": s} for key, (m, s) in score.pass_at_k.items()},
            "lm_eval": _lm_eval_settings(validated.run.results_for(name)),
            "composition": _composition(validated, name),
        }
    root = validated.run.root
    files = {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}
    return {
        "entry_id": entry_id,
        "accepted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "submission": validated.submission,
        "tasks": tasks,
        "files": files,
        "provenance": provenance_record(command="midrl leaderboard submit", checks="rescored every sample"),
    }


def table_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The results-table rows of one entry: one per task, pass@k means and standard errors as columns."""
    model = entry["submission"]["model"]
    rows = []
    for task, score in sorted(entry["tasks"].items()):
        row = {"entry_id": entry["entry_id"], "model_id": model["id"], "revision": model["revision"],
               "display_name": model.get("display_name", model["id"]), "parameters": model["parameters"],
               "task": task, "version": score["version"], "n_docs": score["n_docs"],
               "expected_docs": score["expected_docs"], "repeats": score["repeats"],
               "unjudged_rate": score["unjudged_rate"], "accepted_at": entry["accepted_at"]}
        for k in PASS_AT_K:  # every row has every column (None above the run's repeats): one table schema
            value = score["pass_at_k"].get(f"pass@{k}") or {}
            row[f"pass@{k}"], row[f"pass@{k}_stderr"] = value.get("mean"), value.get("stderr")
        composition = score.get("composition") or {}
        row["composed_share"] = (composition.get("composed_share") or {}).get("mean")
        rows.append(row)
    return rows


def load_entries(store: str | Path) -> list[dict[str, Any]]:
    entries_dir = Path(store) / ENTRIES_DIR
    if not entries_dir.is_dir():
        return []
    paths = sorted(p / ENTRY_FILE for p in entries_dir.iterdir() if (p / ENTRY_FILE).is_file())
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


def submit(run_dir: str | Path, store: str | Path, limits: SizeLimits = DEFAULT_LIMITS,
           allow_partial: bool = False) -> dict[str, Any]:
    """Validate a run and add it to the store; raises `Rejected` (nothing written) on any failed check."""
    validated = validate_run(run_dir, limits, allow_partial=allow_partial)
    entry_id = entry_id_for(validated.submission)
    store = Path(store)
    final = store / ENTRIES_DIR / entry_id
    if final.exists():
        raise Rejected("duplicate_entry", f"{entry_id} is already in the store (one entry per model revision)")
    entry = build_entry(validated, entry_id)
    staging = store / ENTRIES_DIR / f".staging-{entry_id}"
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(validated.run.root, staging / "run", symlinks=False)
    (staging / ENTRY_FILE).write_text(json.dumps(entry, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    staging.rename(final)
    rewrite_index(store)
    return entry


def read_table(store: str | Path) -> list[dict[str, Any]]:
    path = Path(store) / TABLE_FILE
    return list(read_jsonl(path)) if path.is_file() else []
