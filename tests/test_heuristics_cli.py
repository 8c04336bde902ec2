"""`midrl heuristics list [--json] | show ID | validate [DIR]`, in-process through main() and once through the real command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from midrl_bench.heuristics import load_library
from midrl_bench.heuristics.cli import main
from midrl_bench.heuristics.library import LIBRARY_DIR


def _library_copy_with_bad_file(tmp_path):
    for stem in ("working_backwards", "analogy"):
        shutil.copy(LIBRARY_DIR / f"{stem}.yaml", tmp_path)
    bad = yaml.safe_load((LIBRARY_DIR / "analogy.yaml").read_text(encoding="utf-8"))
    bad["id"] = "broken"
    bad["exemplars"][1]["solution"] = "The answer is fifteen."
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    return tmp_path


def test_list_prints_one_line_per_heuristic_and_the_hash(capsys):
    library = load_library()
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == library.ids
    assert lines[-1] == f"{len(library)} heuristics, content hash {library.content_hash[:16]}"


def test_list_json_is_the_full_library(capsys):
    library = load_library()
    assert main(["list", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["content_hash"] == library.content_hash
    assert [item["id"] for item in payload["heuristics"]] == library.ids
    first = payload["heuristics"][0]
    assert set(first) == {"id", "name", "family", "source", "instruction", "cues", "exemplars"}
    assert set(first["exemplars"][0]) == {"problem", "solution", "answer"}


def test_show_prints_instruction_cues_and_exemplars(capsys):
    heuristic = load_library().get("working_backwards")
    assert main(["show", "working_backwards"]) == 0
    out = capsys.readouterr().out
    assert heuristic.instruction in out
    assert "; ".join(heuristic.cues) in out
    assert all(exemplar.problem in out for exemplar in heuristic.exemplars)
    assert main(["show", "working_backwards", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == heuristic.to_dict()


@pytest.mark.parametrize(
    ("argv", "code", "stderr_fragment"),
    [
        (["show", "no_such_heuristic"], 2, "unknown heuristic 'no_such_heuristic'"),  # unknown id
        (["list", "--dir", "/nonexistent/heuristics"], 1, "directory not found"),  # bad --dir is reported, not raised
    ],
)
def test_errors_give_exit_codes_and_messages(capsys, argv, code, stderr_fragment):
    assert main(argv) == code
    assert stderr_fragment in capsys.readouterr().err


def test_validate_packaged_library_passes(capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert f"{len(load_library())} valid, 0 malformed" in out
    assert "polya 32" in out


def test_validate_directory_with_a_malformed_file_exits_1_naming_file_and_field(tmp_path, capsys):
    directory = _library_copy_with_bad_file(tmp_path)
    assert main(["validate", str(directory)]) == 1
    captured = capsys.readouterr()
    assert str(directory / "broken.yaml") in captured.err
    assert "field 'exemplars[1].solution'" in captured.err
    assert "2 valid, 1 malformed" in captured.out


def test_list_and_show_accept_another_library_directory(tmp_path, capsys):
    for stem in ("working_backwards", "analogy"):
        shutil.copy(LIBRARY_DIR / f"{stem}.yaml", tmp_path)
    assert main(["list", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("2 heuristics")
    assert main(["show", "analogy", "--dir", str(tmp_path)]) == 0


def test_midrl_command_dispatches_to_heuristics(tmp_path):
    directory = _library_copy_with_bad_file(tmp_path)
    ok = subprocess.run([sys.executable, "-m", "midrl_bench", "heuristics", "validate"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "midrl_bench", "heuristics", "validate", str(directory)], capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "broken.yaml" in bad.stderr and "exemplars[1].solution" in bad.stderr
