"""Attack family "data loss" (issue 12): commands that replace a directory never delete what they did not create.

`midrl leaderboard build --store S -o S` deleted the whole store and exited 0, and `-o DIR` deleted whatever DIR held.
The rule now lives in `midrl_bench.safe_dirs` and is checked here through the leaderboard command and directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from midrl_bench.leaderboard.cli import main as leaderboard_main
from midrl_bench.leaderboard.site import SITE_MARKER, build_site

from midrl_bench.safe_dirs import UnsafeOutputDir, check_replaceable, remove_owned_dir, replace_dir


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def store(tmp_path) -> Path:
    """A store folder with content the build must never touch (an entry's evidence stands in for a real one)."""
    root = tmp_path / "store"
    (root / "entries" / "org--model--" ).mkdir(parents=True)
    (root / "entries" / "org--model--" / "evidence.jsonl").write_text('{"kept": true}\n')
    (root / "README.md").write_text("card\n")
    return root


OUTPUTS = [
    # (output directory relative to tmp_path, text of the refusal)
    ("store", "store is "),  # -o the store itself: deleted every entry before
    ("store/site", "is inside"),  # a site inside the store
    (".", "contains"),  # a folder that contains the store
    ("notes", "not empty and was not written by"),  # someone's folder without the site marker
]


@pytest.mark.parametrize(("out", "text"), OUTPUTS)
def test_build_refuses_outputs_it_does_not_own(store, tmp_path, out, text):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("years of work\n")
    before, notes = _tree(store), _tree(tmp_path / "notes")
    with pytest.raises(UnsafeOutputDir, match=text):
        build_site(store, tmp_path / out)
    assert _tree(store) == before and _tree(tmp_path / "notes") == notes


def test_build_refuses_a_link_to_the_store(store, tmp_path):
    (tmp_path / "site").symlink_to(store)
    with pytest.raises(UnsafeOutputDir, match="is a link"):
        build_site(store, tmp_path / "site")
    assert (store / "README.md").is_file()


def test_build_replaces_its_own_site_only(store, tmp_path):
    site = tmp_path / "site"
    build_site(store, site)
    assert json.loads((site / SITE_MARKER).read_text())["kind"] == "midrl leaderboard build"
    (site / "stale.html").write_text("old")
    build_site(store, site)  # a site it built: replaced whole
    assert not (site / "stale.html").exists() and (site / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "store"]  # no temporary folders left


def test_cli_exits_nonzero_with_one_line_and_keeps_the_store(store, capsys):
    before = _tree(store)
    assert leaderboard_main(["build", "--store", str(store), "-o", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("refused: ") and "\n" not in err
    assert _tree(store) == before


def test_cli_in_a_subprocess_has_no_traceback(store):
    completed = subprocess.run([sys.executable, "-m", "midrl_bench", "leaderboard", "build", "--store", str(store),
                                "-o", str(store / "entries")], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert (store / "entries" / "org--model--" / "evidence.jsonl").is_file()


def test_a_failed_fill_leaves_the_old_directory(tmp_path):
    site = tmp_path / "site"
    replace_dir(site, lambda folder: (folder / "a.txt").write_text("first"), marker=".m", kind="k")

    def broken(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("crash halfway")

    with pytest.raises(RuntimeError):
        replace_dir(site, broken, marker=".m", kind="k")
    assert (site / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_marker_of_another_command_is_not_enough(tmp_path):
    site = tmp_path / "out"
    replace_dir(site, lambda folder: None, marker=".m", kind="export")
    with pytest.raises(UnsafeOutputDir, match="was not written by build"):
        check_replaceable(site, marker=".m", kind="build")


def test_remove_owned_dir_needs_the_marker(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "precious").write_text("x")
    with pytest.raises(UnsafeOutputDir, match="no .m marker"):
        remove_owned_dir(folder, marker=".m")
    (folder / ".m").write_text("{}")
    assert remove_owned_dir(folder, marker=".m") and not folder.exists()


def test_a_rejected_submission_leaves_an_existing_store_as_it_was(store, tmp_path):
    from midrl_bench.leaderboard.rundir import Rejected
    from midrl_bench.leaderboard.store import submit

    run = tmp_path / "run"
    run.mkdir()
    (run / "submission.json").write_text("[" * 100_000)  # crashed the validator after the staging copy was made
    before = _tree(store)
    with pytest.raises(Rejected):
        submit(run, store)
    assert _tree(store) == before
    assert sorted(p.name for p in (store / "entries").iterdir()) == ["org--model--"]  # no .staging-* left
