"""The heuristic library: one YAML file per heuristic, loaded strictly into frozen dataclasses.

Schema of `library/<id>.yaml` (unknown keys are rejected; every field is required):

    id: working_backwards          # snake_case, equal to the file stem
    name: Working backwards        # human-readable name
    family: polya                  # snake_case group: polya, canon, ...
    source: "Pólya, How to Solve It, 'Working backwards'"   # citation text
    instruction: >-                # the prompt text: how to solve a problem with this heuristic (2-5 sentences)
      Start from what is asked for ...
    cues:                          # >= 3 distinct lowercase phrases a solution using the heuristic naturally contains
      - working backwards
      - start from the end
      - undo
    exemplars:                     # >= 2 few-shot examples written for this library
      - problem: "..."
        solution: "... step by step ... \\boxed{12}"   # must end with \\boxed{<answer>} (a final period is allowed)
        answer: "12"               # the exact content of that last \\boxed{}; quote it in YAML (ints are accepted)

A malformed file raises `HeuristicError`, whose message names the file and the field, e.g.
`.../working_backwards.yaml: field 'exemplars[1].solution': does not end with \\boxed{...}`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from midrl_bench.config import ConfigError, from_dict, load_yaml, to_dict
from midrl_bench.verify.extract import last_boxed

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
MIN_CUES = 3
MIN_EXEMPLARS = 2
MIN_INSTRUCTION_CHARS = 40
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_ROOT = "<root>"  # sentinel `where` given to config.from_dict; stripped from its messages


class HeuristicError(ValueError):
    """A heuristic file is malformed. `path` is the file, `field` the dotted field name (None for the whole file)."""

    def __init__(self, path: Path | str, field: str | None, problem: str):
        self.path = Path(path)
        self.field = field
        self.problem = problem
        where = f"{self.path}: field {field!r}" if field else f"{self.path}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Exemplar:
    problem: str
    solution: str
    answer: str


@dataclass(frozen=True)
class Heuristic:
    id: str
    name: str
    family: str
    source: str
    instruction: str
    cues: tuple[str, ...]
    exemplars: tuple[Exemplar, ...]

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@dataclass(frozen=True)
class HeuristicLibrary:
    heuristics: tuple[Heuristic, ...]  # ordered by id
    directory: Path

    @property
    def ids(self) -> list[str]:
        return [heuristic.id for heuristic in self.heuristics]

    def get(self, heuristic_id: str) -> Heuristic:
        for heuristic in self.heuristics:
            if heuristic.id == heuristic_id:
                return heuristic
        raise KeyError(f"no heuristic {heuristic_id!r} in {self.directory} (known: {', '.join(self.ids)})")

    def __contains__(self, heuristic_id: object) -> bool:
        return heuristic_id in self.ids

    def __iter__(self) -> Iterator[Heuristic]:
        return iter(self.heuristics)

    def __len__(self) -> int:
        return len(self.heuristics)

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of every heuristic (ordered by id); independent of file formatting."""
        canonical = json.dumps([h.to_dict() for h in self.heuristics], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------ loading
def load_heuristic(path: Path | str) -> Heuristic:
    """Load and validate one heuristic file; raises HeuristicError naming the file and field."""
    path = Path(path)
    try:
        data = load_yaml(path)
    except ConfigError as error:
        raise HeuristicError(path, None, str(error).removeprefix(f"{path}: ")) from None
    if not isinstance(data, dict):
        raise HeuristicError(path, None, f"expected a mapping at the top level, got {type(data).__name__}")
    data = _answers_as_text(path, data)
    try:
        heuristic = from_dict(Heuristic, data, where=_ROOT)
    except ConfigError as error:
        raise _from_config_error(path, str(error)) from None
    _validate(path, heuristic)
    return heuristic


def load_library(directory: Path | str | None = None) -> HeuristicLibrary:
    """Load every `*.yaml` in `directory` (default: the packaged library); the first malformed file raises."""
    directory = Path(directory) if directory is not None else LIBRARY_DIR
    files = _library_files(directory)
    heuristics = sorted((load_heuristic(path) for path in files), key=lambda h: h.id)
    return HeuristicLibrary(heuristics=tuple(heuristics), directory=directory)


def validate_directory(directory: Path | str | None = None) -> tuple[list[Heuristic], list[HeuristicError]]:
    """Check every file (not only up to the first error): (valid heuristics, one error per bad file)."""
    directory = Path(directory) if directory is not None else LIBRARY_DIR
    valid: list[Heuristic] = []
    errors: list[HeuristicError] = []
    try:
        files = _library_files(directory)
    except HeuristicError as error:
        return valid, [error]
    for path in files:
        try:
            valid.append(load_heuristic(path))
        except HeuristicError as error:
            errors.append(error)
    return valid, errors


def _library_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise HeuristicError(directory, None, "heuristic library directory not found")
    stray = sorted(p.name for p in directory.glob("*.yml"))
    if stray:
        raise HeuristicError(directory / stray[0], None, "heuristic files must end in .yaml (not .yml)")
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise HeuristicError(directory, None, "no *.yaml heuristic files found")
    return files


def _answers_as_text(path: Path, data: dict) -> dict:
    """YAML reads `answer: 12` as an int; accept integers as their decimal text, reject floats (ambiguous)."""
    exemplars = data.get("exemplars")
    if not isinstance(exemplars, list):
        return data
    fixed = []
    for index, item in enumerate(exemplars):
        if isinstance(item, dict) and "answer" in item and not isinstance(item["answer"], (str, bool)):
            answer = item["answer"]
            if not isinstance(answer, int):
                raise HeuristicError(
                    path,
                    f"exemplars[{index}].answer",
                    f"expected a quoted string, got {type(answer).__name__} ({answer!r})",
                )
            item = {**item, "answer": str(answer)}
        fixed.append(item)
    return {**data, "exemplars": fixed}


def _from_config_error(path: Path, message: str) -> HeuristicError:
    """Turn config.from_dict's '<root>.a.b: problem' messages into (field 'a.b', problem)."""
    where, _, problem = message.partition(": ")
    field = where.removeprefix(_ROOT).lstrip(".")
    unknown = re.match(r"unknown key\(s\) \[(.+?)\]", problem)
    missing = re.match(r"missing required key '(.+?)'", problem)
    for match in (unknown, missing):
        if match:
            key = match.group(1).split(",")[0].strip("' ")
            field = f"{field}.{key}" if field else key
    return HeuristicError(path, field or None, problem)


# ------------------------------------------------------------------------------------------------ validation
def _validate(path: Path, heuristic: Heuristic) -> None:
    if not _SNAKE_CASE.match(heuristic.id):
        raise HeuristicError(path, "id", f"{heuristic.id!r} is not snake_case")
    if heuristic.id != path.stem:
        raise HeuristicError(path, "id", f"{heuristic.id!r} must equal the file stem {path.stem!r}")
    if not _SNAKE_CASE.match(heuristic.family):
        raise HeuristicError(path, "family", f"{heuristic.family!r} is not snake_case")
    for field in ("name", "source"):
        if not getattr(heuristic, field).strip():
            raise HeuristicError(path, field, "must not be empty")
    if len(heuristic.instruction.strip()) < MIN_INSTRUCTION_CHARS:
        raise HeuristicError(path, "instruction", f"too short (< {MIN_INSTRUCTION_CHARS} characters)")
    _validate_cues(path, heuristic.cues)
    if len(heuristic.exemplars) < MIN_EXEMPLARS:
        raise HeuristicError(path, "exemplars", f"needs at least {MIN_EXEMPLARS}, got {len(heuristic.exemplars)}")
    for index, exemplar in enumerate(heuristic.exemplars):
        _validate_exemplar(path, f"exemplars[{index}]", exemplar)


def _validate_cues(path: Path, cues: tuple[str, ...]) -> None:
    if len(cues) < MIN_CUES:
        raise HeuristicError(path, "cues", f"needs at least {MIN_CUES} cues, got {len(cues)}")
    seen: set[str] = set()
    for index, cue in enumerate(cues):
        field = f"cues[{index}]"
        if not cue.strip() or cue != cue.strip():
            raise HeuristicError(path, field, f"{cue!r} is empty or has surrounding whitespace")
        if cue != cue.lower():
            raise HeuristicError(path, field, f"{cue!r} must be lowercase")
        if cue in seen:
            raise HeuristicError(path, field, f"duplicate cue {cue!r}")
        seen.add(cue)


def _validate_exemplar(path: Path, field: str, exemplar: Exemplar) -> None:
    for name in ("problem", "solution", "answer"):
        if not getattr(exemplar, name).strip():
            raise HeuristicError(path, f"{field}.{name}", "must not be empty")
    boxed = last_boxed(exemplar.solution)
    if boxed is None:
        raise HeuristicError(path, f"{field}.solution", "has no \\boxed{...} final answer")
    tail = exemplar.solution.rstrip().rstrip(".").rstrip().rstrip("$").rstrip()
    if not tail.endswith("}") or not tail.rsplit("\\boxed", 1)[-1].startswith("{"):
        raise HeuristicError(path, f"{field}.solution", "does not end with \\boxed{...}")
    if boxed != exemplar.answer.strip():
        raise HeuristicError(path, f"{field}.answer", f"{exemplar.answer!r} differs from the boxed answer {boxed!r}")
