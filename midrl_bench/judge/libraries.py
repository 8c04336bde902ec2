"""Which heuristic library judges which traces: one place, used by `midrl judge`, the demo and the leaderboard.

Named libraries: `math` (the packaged 64-heuristic library, `midrl_bench/heuristics/library/`) and `toyworld`
(the tiny world's strategy library, `midrl_bench/toyworld/strategies/`). The `midrl_toy` task is judged with
`toyworld`, every other task with `math`. A judged run records the library's name, directory and content hash, so
a figure shown elsewhere can be traced to (and recomputed with) the same library.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from midrl_bench.heuristics.library import HeuristicLibrary

_PACKAGE = Path(__file__).resolve().parent.parent
LIBRARY_DIRS = {
    "math": _PACKAGE / "heuristics" / "library",
    "toyworld": _PACKAGE / "toyworld" / "strategies",
}
TASK_LIBRARY = {"midrl_toy": "toyworld"}  # any other task: DEFAULT_LIBRARY
DEFAULT_LIBRARY = "math"


def library_name_for_task(task: str) -> str:
    return TASK_LIBRARY.get(task, DEFAULT_LIBRARY)


def library_name_for_tasks(tasks: Iterable[str]) -> str:
    """The one library that judges all these tasks; a clear error when they need different ones."""
    names = {library_name_for_task(task) for task in tasks}
    if len(names) > 1:
        raise ValueError(f"the samples mix tasks judged with different libraries ({sorted(names)}); "
                         "judge them separately or pass --library")
    return names.pop() if names else DEFAULT_LIBRARY


def resolve_library(spec: str | Path | None, tasks: Iterable[str] = ()) -> tuple[str, Path]:
    """(name, directory) for a library name, a directory, or None (the library of `tasks`)."""
    if spec is None:
        name = library_name_for_tasks(tasks)
        return name, LIBRARY_DIRS[name]
    if str(spec) in LIBRARY_DIRS:
        return str(spec), LIBRARY_DIRS[str(spec)]
    path = Path(spec)
    if not path.is_dir():
        raise FileNotFoundError(f"--library {spec}: neither a library name ({', '.join(LIBRARY_DIRS)}) "
                                "nor a directory")
    for name, directory in LIBRARY_DIRS.items():
        if path.resolve() == directory:
            return name, directory
    return f"custom:{path.name}", path


def library_record(name: str, library: HeuristicLibrary) -> dict[str, Any]:
    """What a report records about the library that produced its labels."""
    return {"name": name, "directory": str(library.directory), "content_hash": library.content_hash,
            "size": len(library)}
