"""`build_site(store, out)`: the static leaderboard site.

    SITE/index.html            one sortable table per benchmark group (pass@1 ± stderr per task, group means,
                               composition rate) and the group's pass@k curves
    SITE/entries/<id>.html     one page per entry: provenance, pass@k ± stderr per task, composition, curves, files
    SITE/plots/*.svg           pass@k curves (matplotlib, text as paths)
    SITE/site.js, site.css     the sorter and the style (shipped in this package)

Every string that came from a submission is HTML-escaped (`html.escape`, quotes included) wherever it is written,
pages carry a Content-Security-Policy that allows only the site's own script file (no inline script, no remote
content), and plots are embedded with `<img>`.
"""

from __future__ import annotations

import re
import time
from importlib import resources
from pathlib import Path

from midrl_bench.leaderboard.entry_page import entry_page
from midrl_bench.leaderboard.escape import display_name, e
from midrl_bench.leaderboard.ids import ENTRY_ID
from midrl_bench.leaderboard.plots import mean_curve, plot_curves
from midrl_bench.leaderboard.store import load_entries

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
OTHER_GROUP = "other"
SITE_MARKER = ".midrl-leaderboard-site.json"  # marks a folder `build` wrote (and may replace)
SITE_KIND = "midrl leaderboard build"


def pack_groups() -> dict[str, list[str]]:
    """Benchmark groups of the pack whose members are tasks (e.g. midrl_math, midrl_ood), from its group YAMLs."""
    import yaml

    from midrl_bench.tasks import include_path
    from midrl_bench.tasks.registry import TASK_SPECS

    groups: dict[str, list[str]] = {}
    for path in sorted(Path(include_path()).glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if not re.search(r"^group:", text, re.MULTILINE):
            continue
        data = yaml.safe_load(text)
        members = [task for task in data.get("task", []) if isinstance(task, str)]
        if members and all(task in TASK_SPECS for task in members):
            groups[data["group"]] = members
    return groups


def _page(title: str, body: str, depth: int = 0) -> str:
    up = "../" * depth
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{e(title)}</title>\n<link rel=\"stylesheet\" href=\"{up}site.css\">\n"
        f"<script src=\"{up}site.js\" defer></script>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _params(count: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return str(count)


def _mid_training(submission: dict) -> str:
    mid = submission.get("mid_training")
    return "none" if not mid else f"{mid['dataset']} · {mid['config']} · v{mid['version']}"


def _caveats(entry: dict) -> str:
    """What a reader must know before comparing this row: unverified identity, non-standard generation."""
    notes = []
    status = (entry.get("identity") or {}).get("status")
    if status and status != "checked":
        notes.append(status)
    declared = entry.get("generation_declared") or {}
    if declared:
        notes.append("generation: " + ", ".join(f"{key}={value}" for key, value in sorted(declared.items())))
    return "".join(f" · {note}" for note in notes)


def _score_cell(value: dict | None, note: str = "") -> str:
    if not value:
        return '<td data-sort=""><span class="missing">—</span></td>'
    note_html = f' <span class="note">{e(note)}</span>' if note else ""
    return (f'<td data-sort="{value["mean"]:.6f}">{value["mean"]:.3f} '
            f'<span class="se">± {value["stderr"]:.3f}</span>{note_html}</td>')


def _group_values(entry: dict, tasks: list[str]) -> tuple[dict, bool, list[float]]:
    """(mean pass@k curve over the group's tasks the entry has, whether it has all of them, composed shares)."""
    present = [entry["tasks"][t] for t in tasks if t in entry["tasks"]]
    curve = mean_curve([t["pass_at_k"] for t in present])
    shares = [t["composition"]["composed_share"]["mean"] for t in present
              if t.get("composition") and t["composition"]["composed_share"]["mean"] is not None]
    return curve, len(present) == len(tasks), shares


def _group_row(entry: dict, tasks: list[str], top_k: str) -> str:
    submission, entry_id = entry["submission"], entry["entry_id"]
    model = submission["model"]
    cells = [
        f'<td class="text" data-sort="{e(display_name(entry))}">'
        f'<a href="entries/{e(entry_id)}.html">{e(display_name(entry))}</a>'
        f'<div class="note">{e(model["id"])} @ {e(model["revision"])}{e(_caveats(entry))}</div></td>',
        f'<td data-sort="{int(model["parameters"])}">{e(_params(int(model["parameters"])))}</td>',
        f'<td class="text" data-sort="{e(_mid_training(submission))}">{e(_mid_training(submission))}</td>',
        f'<td class="text" data-sort="{e(submission["rl"]["backend"])}">{e(submission["rl"]["backend"])}</td>',
    ]
    for task in tasks:
        score = entry["tasks"].get(task)
        partial = score and score["n_docs"] < score["expected_docs"]
        note = f"{score['n_docs']}/{score['expected_docs']} docs" if partial else ""
        cells.append(_score_cell(score["pass_at_k"].get("pass@1") if score else None, note))
    curve, complete, shares = _group_values(entry, tasks)
    cells.append(_score_cell(curve.get("pass@1") if complete else None))
    cells.append(_score_cell(curve.get(top_k) if complete else None))
    share = sum(shares) / len(shares) if shares else None
    cells.append(f'<td data-sort="{share:.6f}">{100 * share:.1f}%</td>' if share is not None
                 else '<td data-sort=""><span class="missing">—</span></td>')
    return f'<tr id="row-{e(entry_id)}">' + "".join(cells) + "</tr>"


def _group_section(group: str, tasks: list[str], entries: list[dict], site: Path) -> str:
    ks = {int(key.split("@")[1]) for entry in entries for task in tasks if task in entry["tasks"]
          for key in entry["tasks"][task]["pass_at_k"]}
    top_k = f"pass@{max(ks)}" if ks else "pass@1"
    header = ['<th class="text" data-type="text">Model</th>', '<th data-type="number">Params</th>',
              '<th class="text" data-type="text">Mid-training data</th>', '<th class="text" data-type="text">RL</th>']
    header += [f'<th data-type="number">{e(task.removeprefix("midrl_"))} pass@1</th>' for task in tasks]
    header += ['<th data-type="number">mean pass@1</th>', f'<th data-type="number">mean {e(top_k)}</th>',
               '<th data-type="number" title="traces combining two or more heuristics (rules labeller with the library of the task, as midrl judge reports it)">composed</th>']
    rows = "\n".join(_group_row(entry, tasks, top_k) for entry in entries)
    curves = []
    for entry in entries:
        curve, complete, _ = _group_values(entry, tasks)
        if curve:
            present = sum(task in entry["tasks"] for task in tasks)
            curves.append((display_name(entry) + ("" if complete else f" ({present}/{len(tasks)} tasks)"), curve))
    plot_curves(curves, site / "plots" / f"group-{group}.svg", f"{group}: mean pass@k over its tasks")
    return (
        f'<section id="group-{e(group)}">\n<h2>{e(group)}</h2>\n'
        f'<p class="note">Tasks: {e(", ".join(tasks))}. Group means need every task of the group; ± is the standard '
        "error over problems. Click a column header to sort.</p>\n"
        f'<table class="sortable" id="table-{e(group)}">\n<thead><tr>{"".join(header)}</tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n</table>\n"
        f'<figure><img src="plots/group-{e(group)}.svg" alt="pass@k curves of {e(group)}" class="curves">'
        "<figcaption>pass@k curves: mean over the group's tasks each entry has (partial entries say how many)."
        "</figcaption></figure>\n"
        "</section>"
    )


def _groups_for(entries: list[dict]) -> dict[str, list[str]]:
    groups = pack_groups()
    grouped = {task for tasks in groups.values() for task in tasks}
    other = sorted({task for entry in entries for task in entry["tasks"] if task not in grouped})
    if other:
        groups[OTHER_GROUP] = other
    return {group: tasks for group, tasks in groups.items()
            if any(task in entry["tasks"] for entry in entries for task in tasks)}


def build_site(store: str | Path, out: str | Path) -> Path:
    """Render the store into `out`; returns the index page.

    `out` is replaced only when it is new, empty or a site this command built (its marker file), and never when it
    is the store, lies inside it or contains it (`midrl_bench.safe_dirs`); the new site is written beside it and
    swapped in whole.
    """
    from midrl_bench.safe_dirs import replace_dir

    entries = [entry for entry in load_entries(store) if ENTRY_ID.match(str(entry.get("entry_id", "")))]
    out = Path(out)
    replace_dir(out, lambda folder: _render(entries, folder), marker=SITE_MARKER, kind=SITE_KIND,
                protected=[store])
    return out / "index.html"


def _render(entries: list[dict], out: Path) -> None:
    (out / "entries").mkdir(parents=True)
    for asset in ("site.js", "site.css"):
        (out / asset).write_text(resources.files("midrl_bench.leaderboard").joinpath(asset).read_text("utf-8"), "utf-8")
    sections = [_group_section(group, tasks, entries, out) for group, tasks in _groups_for(entries).items()]
    built = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body = (
        "<h1>midrl-bench leaderboard</h1>\n"
        f'<p class="lede">{len(entries)} entries. Every score was recomputed from the submitted samples with the '
        f"task pack's own checkers (unbiased pass@k). Re-scoring proves the scores follow from the submitted "
        "responses, not which model wrote them: each entry's page shows how often its responses repeat and how long "
        f"they are. Built {e(built)}.</p>\n" + "\n".join(sections)
        + ("" if entries else "\n<p>No entries yet: <code>midrl leaderboard submit RUN_DIR --store STORE</code>.</p>")
    )
    (out / "index.html").write_text(_page("midrl-bench leaderboard", body), encoding="utf-8")
    for entry in entries:
        page = entry_page(entry, out)
        (out / "entries" / f"{entry['entry_id']}.html").write_text(_page(display_name(entry), page, depth=1), "utf-8")
