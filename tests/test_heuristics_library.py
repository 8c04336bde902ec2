"""The heuristic library loader: the packaged library is complete, and malformed files are rejected by name and field."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest
import yaml

from midrl_bench.heuristics import HeuristicError, load_heuristic, load_library, validate_directory
from midrl_bench.heuristics.library import LIBRARY_DIR

POLYA_IDS = {
    "analogy", "auxiliary_element", "auxiliary_problem", "bright_idea", "check_the_result", "derive_differently",
    "use_the_result", "restate_the_problem", "decompose_and_recombine", "go_back_to_definitions", "use_all_the_data",
    "related_problem", "draw_a_figure", "examine_your_guess", "generalization", "specialization", "inventors_paradox",
    "separate_the_conditions", "introduce_notation", "look_at_the_unknown", "reductio_ad_absurdum", "working_backwards",
    "setting_up_equations", "variation_of_the_problem", "test_by_dimension", "lemma_first",
    "step_by_step_justification", "solve_part_of_the_condition", "consider_the_extremes_of_the_condition",
    "derive_useful_data", "look_for_a_pattern", "make_a_table",
}  # fmt: skip


def _valid_raw() -> dict:
    return yaml.safe_load((LIBRARY_DIR / "working_backwards.yaml").read_text(encoding="utf-8"))


def _write(directory: Path, stem: str, data) -> Path:
    path = directory / f"{stem}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ the packaged library
def test_packaged_library_has_at_least_64_unique_heuristics_named_by_file_stem():
    library = load_library()
    stems = sorted(path.stem for path in LIBRARY_DIR.glob("*.yaml"))
    assert len(library) >= 64
    assert library.ids == stems  # ids unique, equal to the file stems, ordered by id
    assert len(set(library.ids)) == len(library.ids)
    assert [h.id for h in library] == library.ids


def test_every_polya_heuristic_is_present_with_family_polya_and_cites_polya():
    library = load_library()
    missing = POLYA_IDS - set(library.ids)
    assert not missing, f"missing Pólya heuristics: {sorted(missing)}"
    for heuristic_id in sorted(POLYA_IDS):
        heuristic = library.get(heuristic_id)
        assert heuristic.family == "polya", heuristic_id
        assert "How to Solve It" in heuristic.source, heuristic_id


def test_every_heuristic_meets_the_schema_minimums():
    for heuristic in load_library():
        assert len(heuristic.cues) >= 3, heuristic.id
        assert len(heuristic.exemplars) >= 2, heuristic.id
        assert heuristic.instruction.strip() and heuristic.name.strip(), heuristic.id
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", heuristic.instruction.strip()) if s]
        assert 2 <= len(sentences) <= 5, f"{heuristic.id}: the instruction should be 2-5 sentences"


def test_get_unknown_id_names_the_known_ids():
    library = load_library()
    with pytest.raises(KeyError, match="no heuristic 'no_such_heuristic'.*working_backwards"):
        library.get("no_such_heuristic")
    assert "working_backwards" in library and "no_such_heuristic" not in library


def test_content_hash_ignores_formatting_but_tracks_content(tmp_path):
    original = load_library()
    reformatted = tmp_path / "reformatted"
    reformatted.mkdir()
    for path in LIBRARY_DIR.glob("*.yaml"):  # same content, different YAML layout (key order, quoting, folding)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _write(reformatted, path.stem, yaml.safe_dump(data, sort_keys=True, width=60, allow_unicode=True))
    assert load_library(reformatted).content_hash == original.content_hash
    edited = _valid_raw()
    edited["cues"] = [*edited["cues"], "reverse the steps"]
    _write(reformatted, "working_backwards", edited)
    assert load_library(reformatted).content_hash != original.content_hash


def test_unquoted_integer_answer_is_read_as_its_text(tmp_path):
    data = _valid_raw()
    data["exemplars"][0]["answer"] = 24  # YAML `answer: 24`
    heuristic = load_heuristic(_write(tmp_path, "working_backwards", data))
    assert heuristic.exemplars[0].answer == "24"


# ------------------------------------------------------------------------------------------ malformed files
def _drop(key):
    return lambda d: d.pop(key)


def _set(key, value):
    return lambda d: d.__setitem__(key, value)


def _exemplar(index, key, value=None, drop=False):
    def mutate(d):
        if drop:
            d["exemplars"][index].pop(key)
        else:
            d["exemplars"][index][key] = value

    return mutate


MALFORMED = [
    # (case, mutation of a valid working_backwards dict, expected field, fragment of the message)
    ("missing field", _drop("instruction"), "instruction", "missing required key"),
    ("unknown top-level key", _set("hint", "try it"), "hint", "unknown key"),
    ("misspelt key", lambda d: d.__setitem__("cue", d.pop("cues")), "cue", "unknown key"),
    ("cues empty", _set("cues", []), "cues", "at least 3"),
    ("too few cues", _set("cues", ["undo", "work backwards"]), "cues", "at least 3"),
    ("cues is a string, not a list", _set("cues", "undo, reverse"), "cues", "expected a list"),
    ("uppercase cue", _set("cues", ["undo", "Work Backwards", "reverse order"]), "cues[1]", "lowercase"),
    ("duplicate cue", _set("cues", ["undo", "undo", "reverse order"]), "cues[1]", "duplicate"),
    ("cue with padding", _set("cues", ["undo ", "reverse order", "before that"]), "cues[0]", "whitespace"),
    ("id differs from the file stem", _set("id", "backwards"), "id", "file stem"),
    ("family not snake_case", _set("family", "Pólya"), "family", "snake_case"),
    ("empty name", _set("name", "  "), "name", "must not be empty"),
    ("instruction too short", _set("instruction", "Work backwards."), "instruction", "too short"),
    ("only one exemplar", lambda d: d["exemplars"].pop(), "exemplars", "at least 2"),
    ("exemplar without \\boxed", _exemplar(0, "solution", "She had 24 dollars."), "exemplars[0].solution", "no \\boxed"),
    ("\\boxed not at the end", _exemplar(1, "solution", "\\boxed{7} since 2*7-7=7."), "exemplars[1].solution",
     "does not end"),
    ("answer differs from \\boxed", _exemplar(1, "answer", "8"), "exemplars[1].answer", "differs from the boxed"),
    ("exemplar missing answer", _exemplar(0, "answer", drop=True), "exemplars[0].answer", "missing required key"),
    ("exemplar unknown key", _exemplar(0, "difficulty", "easy"), "exemplars[0].difficulty", "unknown key"),
    ("float answer is ambiguous", _exemplar(0, "answer", 24.0), "exemplars[0].answer", "quoted string"),
    ("exemplar problem is a number", _exemplar(0, "problem", 12), "exemplars[0].problem", "expected str"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "field", "fragment"), MALFORMED, ids=[row[0] for row in MALFORMED])
def test_malformed_file_is_rejected_naming_file_and_field(tmp_path, case, mutate, field, fragment):
    data = copy.deepcopy(_valid_raw())
    mutate(data)
    path = _write(tmp_path, "working_backwards", data)
    with pytest.raises(HeuristicError) as caught:
        load_heuristic(path)
    error = caught.value
    assert error.path == path
    assert error.field == field
    assert fragment in error.problem
    assert str(path) in str(error) and f"field {field!r}" in str(error)


UNREADABLE = [
    # (case, file text, fragment of the message); these errors concern the whole file (field None)
    ("invalid YAML", "id: [unclosed\n", "invalid YAML"),
    ("top level is a list", "- id: working_backwards\n", "expected a mapping"),
    ("empty file", "", "expected a mapping"),
]


@pytest.mark.parametrize(("case", "text", "fragment"), UNREADABLE, ids=[row[0] for row in UNREADABLE])
def test_unreadable_file_is_rejected_naming_the_file(tmp_path, case, text, fragment):
    path = _write(tmp_path, "working_backwards", text)
    with pytest.raises(HeuristicError, match=fragment) as caught:
        load_heuristic(path)
    assert caught.value.path == path and caught.value.field is None


def test_library_load_stops_at_a_bad_file_but_validate_reports_every_bad_file(tmp_path):
    shutil.copy(LIBRARY_DIR / "working_backwards.yaml", tmp_path)
    shutil.copy(LIBRARY_DIR / "analogy.yaml", tmp_path)
    bad_cues = _valid_raw() | {"id": "bad_cues", "cues": []}
    bad_key = _valid_raw() | {"id": "bad_key", "notes": "x"}
    _write(tmp_path, "bad_cues", bad_cues)
    _write(tmp_path, "bad_key", bad_key)
    with pytest.raises(HeuristicError, match="bad_cues.yaml"):
        load_library(tmp_path)
    valid, errors = validate_directory(tmp_path)
    assert sorted(h.id for h in valid) == ["analogy", "working_backwards"]
    assert [(e.path.name, e.field) for e in errors] == [("bad_cues.yaml", "cues"), ("bad_key.yaml", "notes")]


@pytest.mark.parametrize(
    ("layout", "fragment"),
    [
        ("missing", "directory not found"),  # the directory does not exist
        ("empty", "no *.yaml"),  # an empty directory is not a library
        ("yml", "must end in .yaml"),  # a .yml file would silently be skipped otherwise
    ],
)
def test_bad_library_directory_is_named(tmp_path, layout, fragment):
    directory = tmp_path / "lib"
    if layout != "missing":
        directory.mkdir()
    if layout == "yml":
        shutil.copy(LIBRARY_DIR / "analogy.yaml", directory / "analogy.yml")
    with pytest.raises(HeuristicError, match=fragment.replace("*", r"\*")):
        load_library(directory)
