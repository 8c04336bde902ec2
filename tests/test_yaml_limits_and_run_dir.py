"""Input limits outside the checker (issue 12, "Elsewhere"): every YAML the project reads goes through one loader with
size, alias-expansion and depth limits, and `midrl train` never reuses a run directory made by another recipe."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from midrl_bench.config import MAX_YAML_NODES, ConfigError, load_yaml, safe_load_yaml_text
from midrl_bench.pipeline import runner
from midrl_bench.pipeline.spec import load_spec

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "tiny-cpu.yaml"


def _alias_bomb(levels: int = 9) -> str:
    """The billion-laughs pattern: each level lists the previous one nine times (9**levels leaves)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


YAML_CASES = [
    # (text, error fragment or None for accepted) -- the one loader's limits
    ("a: &x [1, 2]\nb: *x\n", None),  # an ordinary alias is fine
    (_alias_bomb(), "alias bomb"),  # billion laughs: refused before anything is constructed
    ("a: &a [*a]\n", "recursive YAML alias"),  # a self-referencing alias
    ("a: " + "[" * 150 + "]" * 150 + "\n", "nested deeper"),  # deep nesting
    ("k: !!python/object/apply:os.system [echo hi]\n", "could not determine a constructor"),  # unsafe tags
    ("x" * ((1 << 20) + 1), "larger than"),  # oversized text
]


@pytest.mark.parametrize(("text", "error"), YAML_CASES)
def test_safe_loader_limits(text, error):
    if error is None:
        assert safe_load_yaml_text(text, "t.yaml") == {"a": [1, 2], "b": [1, 2]}
    else:
        with pytest.raises(ConfigError, match=error):
            safe_load_yaml_text(text, "t.yaml")


def test_alias_bomb_fails_fast_and_names_the_file(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"{path}: YAML expands to more than {MAX_YAML_NODES} nodes"):
        load_yaml(path)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("command", [["build", "{path}", "--out", "{out}"], ["train", "--spec", "{path}",
                                                                                  "--backend", "trl", "--out", "{out}"]])
def test_cli_answers_an_alias_bomb_with_one_line(tmp_path, command):
    # `midrl build` hung for a minute at 1.3 GB on this file; `midrl train` reads recipes through the same loader
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    argv = [part.format(path=path, out=tmp_path / "out") for part in command]
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", *argv], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.strip().count("\n") == 0 and "bomb.yaml" in completed.stderr
    assert "alias bomb" in completed.stderr and "Traceback" not in completed.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out").exists()  # nothing was started


def _run_dir_of(spec, backend: str, out: Path) -> None:
    """A run directory as `midrl train` leaves it after both stages finished (plan.json + DONE markers)."""
    ctx, _, plans = runner.plan_pipeline(spec, backend, "all", out)
    runner._write_run_header(ctx, backend, plans)
    for stage in ("midtrain", "rl"):
        (out / stage).mkdir(parents=True)
        (out / stage / runner.DONE_MARKER).write_text(json.dumps({"stage": stage}), encoding="utf-8")


REUSE = [
    # (change to the recipe, backend, refused because of) -- a finished run dir of tiny-cpu/trl reused
    ({"seed": 1}, "trl", "seed"),  # another seed: another recipe
    ({}, "openrlhf", "backend"),  # the same recipe on another backend
    ({"name": "other"}, "trl", "name"),  # another recipe name
]


@pytest.mark.parametrize(("change", "backend", "field"), REUSE)
def test_train_refuses_a_run_dir_of_another_recipe(tmp_path, change, backend, field):
    spec = load_spec(RECIPE)
    _run_dir_of(spec, "trl", tmp_path / "run")
    before = (tmp_path / "run" / "plan.json").read_text()
    with pytest.raises(ConfigError, match=rf"different recipe \(differs in: .*{field}"):
        runner.run_pipeline(dataclasses.replace(spec, **change), backend, "all", tmp_path / "run")
    assert (tmp_path / "run" / "plan.json").read_text() == before  # provenance untouched


def test_train_refuses_finished_stages_without_a_plan(tmp_path):
    (tmp_path / "run" / "midtrain").mkdir(parents=True)
    (tmp_path / "run" / "midtrain" / runner.DONE_MARKER).write_text("{}")
    with pytest.raises(ConfigError, match="recipe is unknown"):
        runner.run_pipeline(load_spec(RECIPE), "trl", "all", tmp_path / "run")


def test_same_recipe_may_resume_its_own_run_dir(tmp_path):
    spec = load_spec(RECIPE)
    _run_dir_of(spec, "trl", tmp_path / "run")
    ctx, _, _ = runner.plan_pipeline(spec, "trl", "all", tmp_path / "run")
    runner.refuse_foreign_run_dir(ctx, "trl")  # no error: a resume of the same recipe and backend


def test_cli_refusal_is_one_line(tmp_path):
    _run_dir_of(load_spec(RECIPE), "trl", tmp_path / "run")
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", "train", "--spec", str(RECIPE), "--backend",
                                "openrlhf", "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "different recipe (differs in: backend)" in completed.stderr
