"""Golden references: every pack task's `reference.json` matches a fresh run exactly (midrl_bench.tasks.reference).

A failure here means a task's data, prompt, extraction or metrics changed: bump the task's version, add a line to
the changelog of its card, and regenerate with `python -m midrl_bench.tasks.reference --write`.
"""

import json
import re

import pytest

from midrl_bench.tasks import reference
from midrl_bench.tasks.registry import TASK_SPECS, load_docs, spec


def stored(task: str) -> dict:
    return json.loads(reference.reference_path(task).read_text(encoding="utf-8"))


def as_json(record: dict) -> dict:
    return json.loads(json.dumps(record, sort_keys=True))


@pytest.mark.parametrize("task", sorted(TASK_SPECS))
def test_task_folder_has_yaml_card_and_reference_of_the_current_version(task):
    folder = spec(task).folder
    assert (folder / f"{task}.yaml").is_file()
    card = (folder / "README.md").read_text(encoding="utf-8")
    changelog = card.split("## Changelog", 1)[1]
    versions = [int(v) for v in re.findall(r"^- v(\d+)", changelog, re.MULTILINE)]
    assert versions and max(versions) == spec(task).version  # a bump needs its changelog line
    assert stored(task)["version"] == spec(task).version  # ... and regenerated references


@pytest.mark.parametrize("task", sorted(TASK_SPECS))
def test_scripted_responses_score_as_recorded(task):
    # cheap (no model): the extraction and metrics on fixed responses of the shapes models write
    docs = load_docs(task)[: reference.LIMIT]
    assert as_json(reference.scripted_record(task, docs)) == stored(task)["scripted"]


@pytest.mark.slow
def test_tiny_model_run_matches_every_reference(tiny_llama_dir, tmp_path):
    records = reference.run_references(tiny_llama_dir, sorted(TASK_SPECS), tmp_path)
    for task, record in records.items():
        assert as_json(record) == stored(task), f"{task}: the run no longer matches reference.json"
