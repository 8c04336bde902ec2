"""The leaderboard's results table: one row per entry and task, as JSON Lines in the store and as a pandas DataFrame.

    results_frame(store)              a DataFrame (pass@k ± stderr, docs, repeats, identity, response statistics)
    midrl leaderboard table --store S [--csv FILE]      print it, or write it as CSV
    midrl leaderboard build ... --csv FILE              the same CSV beside the site

Every row has every column (None above the run's repeats), so the table has one schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from midrl_bench.metrics import PASS_AT_K

TABLE_FILE = "data/results.jsonl"


def table_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The results-table rows of one entry: one per task, pass@k means and standard errors as columns."""
    model = entry["submission"]["model"]
    identity = entry.get("identity") or {}
    declared = entry.get("generation_declared") or {}
    rows = []
    for task, score in sorted(entry["tasks"].items()):
        row = {"entry_id": entry["entry_id"], "model_id": model["id"], "revision": model["revision"],
               "display_name": model.get("display_name", model["id"]), "parameters": model["parameters"],
               "identity": identity.get("status"),
               "generation_declared": ", ".join(f"{k}={v}" for k, v in sorted(declared.items())) or None,
               "task": task, "version": score["version"], "n_docs": score["n_docs"],
               "expected_docs": score["expected_docs"], "repeats": score["repeats"],
               "unjudged_rate": score["unjudged_rate"], "accepted_at": entry["accepted_at"]}
        for k in PASS_AT_K:
            value = score["pass_at_k"].get(f"pass@{k}") or {}
            row[f"pass@{k}"], row[f"pass@{k}_stderr"] = value.get("mean"), value.get("stderr")
        responses = score.get("responses") or {}
        lengths = responses.get("length_words") or {}
        row["identical_share"] = responses.get("identical_share")
        for q in ("p10", "p50", "p90"):
            row[f"length_words_{q}"] = lengths.get(q)
        composition = score.get("composition") or {}
        row["composed_share"] = (composition.get("composed_share") or {}).get("mean")
        rows.append(row)
    return rows


def read_table(store: str | Path) -> list[dict[str, Any]]:
    from midrl_bench.jsonl import read_jsonl

    path = Path(store) / TABLE_FILE
    return list(read_jsonl(path)) if path.is_file() else []


def results_frame(store: str | Path):
    """The store's results table as a pandas DataFrame (rows rebuilt from the accepted entries)."""
    import pandas as pd
    from midrl_bench.leaderboard.store import load_entries

    rows = [row for entry in load_entries(store) for row in table_rows(entry)]
    columns = list(rows[0]) if rows else ["entry_id", "task"]
    return pd.DataFrame(rows, columns=columns)


def write_csv(store: str | Path, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results_frame(store).to_csv(path, index=False)
    return path
