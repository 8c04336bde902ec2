"""The body of one entry's page: provenance, recomputed scores, composition, curves and the submitted files.

Every value from the submission or its lm-eval files goes through `escape.e` (HTML escape, quotes included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from midrl_bench.leaderboard.escape import display_name
from midrl_bench.leaderboard.escape import e as _e
from midrl_bench.leaderboard.plots import plot_curves


def _dl(pairs: list[tuple[str, Any]]) -> str:
    items = "".join(f"<dt>{_e(key)}</dt><dd>{_e(value)}</dd>" for key, value in pairs)
    return f'<dl class="prov">{items}</dl>'


def _provenance(entry: dict[str, Any]) -> str:
    submission, provenance = entry["submission"], entry.get("provenance") or {}
    model, rl, mid = submission["model"], submission["rl"], submission.get("mid_training")
    libraries = provenance.get("libraries") or {}
    pairs = [
        ("model", model["id"]), ("revision", model["revision"]), ("parameters", f"{int(model['parameters']):,}"),
        ("mid-training dataset", mid["dataset"] if mid else "none"),
        ("mid-training config", mid["config"] if mid else "—"),
        ("mid-training version", mid["version"] if mid else "—"),
        ("RL backend", rl["backend"]), ("recipe", rl.get("recipe") or "—"), ("contact", submission["contact"]),
        ("notes", submission.get("notes") or "—"), ("accepted", entry.get("accepted_at")),
        ("validated by", f"midrl-bench {libraries.get('midrl-bench')} (commit {provenance.get('code_commit')}), "
                         f"lm_eval {libraries.get('lm_eval')}, math-verify {libraries.get('math-verify')}"),
        ("model identity", _identity(entry.get("identity") or {})),
        ("generation arguments", _declared(entry.get("generation_declared") or {})),
    ]
    return "<h2>Provenance</h2>\n" + _dl(pairs)


def _identity(identity: dict[str, Any]) -> str:
    status = identity.get("status") or "not recorded"
    if status == "checked":
        return "checked: every results file names this model id and commit (lm-eval model_args / model_name)"
    evaluated = ", ".join(str(path) for path in identity.get("evaluated") or [])
    return f"{status}" + (f" (lm-eval evaluated {evaluated})" if evaluated else "")


def _declared(declared: dict[str, Any]) -> str:
    if not declared:
        return "the tasks' own (temperature, top_p, max_gen_toks as the pack sets them)"
    return "differ from the tasks' own, as declared: " + ", ".join(f"{k}={v!r}" for k, v in sorted(declared.items()))


def _responses(entry: dict[str, Any]) -> str:
    """What re-scoring cannot prove, made visible: repeated responses and response lengths per task."""
    rows = []
    for task, score in sorted(entry["tasks"].items()):
        stats = score.get("responses") or {}
        share = stats.get("identical_share")
        lengths = stats.get("length_words") or {}
        if share is None:
            continue
        rows.append(f"<tr><td class=\"text\">{_e(task)}</td><td>{100 * share:.1f}%</td>"
                    f"<td>{stats.get('docs_all_identical', 0)}/{stats.get('n_docs', 0)}</td>"
                    + "".join(f"<td>{lengths.get(q, 0):.0f}</td>" for q in ("p10", "p50", "p90")) + "</tr>")
    if not rows:
        return ""
    return (
        "<h2>Responses (what re-scoring cannot check)</h2>\n<p class=\"note\">Re-scoring proves that the scores "
        "follow from these responses; it cannot prove which model wrote them. A response repeated verbatim within a "
        "document, or very short responses, are worth a look.</p>\n<table><thead><tr><th class=\"text\">task</th>"
        "<th>identical within a document</th><th>documents with one repeated response</th>"
        "<th>length p10 (words)</th><th>p50</th><th>p90</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _scores(entry: dict[str, Any]) -> str:
    ks = sorted({int(k.split("@")[1]) for t in entry["tasks"].values() for k in t["pass_at_k"]})
    head = "".join(f'<th data-type="number">pass@{k}</th>' for k in ks)
    rows = []
    for task, score in sorted(entry["tasks"].items()):
        cells = [f'<td class="text" data-sort="{_e(task)}">{_e(task)}</td>',
                 f'<td data-sort="{score["version"]}">{_e(score["version"])}</td>',
                 f'<td data-sort="{score["n_docs"]}">{score["n_docs"]}/{score["expected_docs"]}</td>',
                 f'<td data-sort="{score["repeats"]}">{score["repeats"]}</td>',
                 f'<td data-sort="{score["unjudged_rate"]:.6f}">{100 * score["unjudged_rate"]:.1f}%</td>']
        for k in ks:
            value = score["pass_at_k"].get(f"pass@{k}")
            cells.append(f'<td data-sort="{value["mean"]:.6f}">{value["mean"]:.3f} '
                         f'<span class="se">± {value["stderr"]:.3f}</span></td>' if value
                         else '<td data-sort=""><span class="missing">—</span></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<h2>Scores (recomputed)</h2>\n<table class=\"sortable\" id=\"scores\"><thead><tr>"
        '<th class="text" data-type="text">task</th><th data-type="number">version</th>'
        '<th data-type="number">docs</th><th data-type="number">repeats</th>'
        f'<th data-type="number">unjudged</th>{head}</tr></thead>\n<tbody>\n' + "\n".join(rows) + "\n</tbody></table>"
    )


def _composition(entry: dict[str, Any]) -> str:
    rows = []
    for task, score in sorted(entry["tasks"].items()):
        comp = score.get("composition")
        if not comp or comp["composed_share"]["mean"] is None:
            continue
        accuracy = {name: comp["correctness"][name]["accuracy"]["mean"] for name in ("composed", "single", "none")}
        shown = {name: ("—" if v is None else f"{100 * v:.1f}%") for name, v in accuracy.items()}
        library = comp.get("library") or {}
        corrected = (comp.get("composed_rate") or {}).get("corrected")
        rows.append(
            f"<tr><td class=\"text\">{_e(task)}</td>"
            f"<td class=\"text\">{_e(library.get('name', '—'))} {_e(str(library.get('content_hash', ''))[:12])}</td>"
            f"<td>{'—' if corrected is None else f'{100 * corrected:.1f}%'}</td><td>{comp['n_traces']}</td>"
            f"<td>{100 * comp['composed_share']['mean']:.1f}% <span class=\"se\">± "
            f"{100 * comp['composed_share']['stderr']:.1f}</span></td>"
            f"<td>{comp['mean_heuristics_per_trace']['mean']:.2f}</td>"
            f"<td>{shown['composed']}</td><td>{shown['single']}</td><td>{shown['none']}</td></tr>"
        )
    if not rows:
        return ""
    return (
        "<h2>Composition of heuristics (rules labeller)</h2>\n<table><thead><tr><th class=\"text\">task</th>"
        "<th class=\"text\">library</th><th>corrected ≥ 2 (Rogan-Gladen)</th><th>traces</th><th>combining ≥ 2</th><th>heuristics per trace</th><th>accuracy, composed</th>"
        "<th>accuracy, single</th><th>accuracy, none</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _files(entry: dict[str, Any]) -> str:
    items = "".join(f"<li><code>{_e(name)}</code> sha256 <code>{_e(digest)}</code></li>"
                    for name, digest in sorted(entry.get("files", {}).items()))
    settings = "".join(f"<h3>{_e(task)}</h3>" + _dl(sorted(score.get("lm_eval", {}).items()))
                       for task, score in sorted(entry["tasks"].items()))
    return f"<h2>lm-eval settings</h2>\n{settings}\n<h2>Submitted files</h2>\n<ul>{items}</ul>"


def entry_page(entry: dict[str, Any], site: Path) -> str:
    """The page body; also writes the entry's pass@k curves to `site/plots/entry-<id>.svg`."""
    entry_id = entry["entry_id"]
    curves = [(task, score["pass_at_k"]) for task, score in sorted(entry["tasks"].items())]
    plot_curves(curves, site / "plots" / f"entry-{entry_id}.svg", f"pass@k per task: {display_name(entry)}")
    return (
        f'<p><a href="../index.html">← leaderboard</a></p>\n<h1 id="entry-name">{_e(display_name(entry))}</h1>\n'
        + _scores(entry) + "\n"
        + f'<figure><img src="../plots/entry-{_e(entry_id)}.svg" alt="pass@k curves per task" class="curves">'
        + "<figcaption>pass@k per task, ± standard error over problems.</figcaption></figure>\n"
        + _responses(entry) + "\n" + _composition(entry) + "\n" + _provenance(entry) + "\n" + _files(entry)
    )
