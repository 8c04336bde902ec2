"""pass@k curves as SVG files (matplotlib, Agg).

Labels come from untrusted submissions, so text is drawn as glyph paths (`svg.fonttype: path`, no `<text>`
elements), mathtext parsing is off (a `$` in a model name stays a dollar sign), and the pages embed the files with
`<img>`, where an SVG can never run script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

SAFE_RC = {"text.parse_math": False, "text.usetex": False, "svg.fonttype": "path", "svg.hashsalt": "midrl-bench"}
MAX_LABEL_CHARS = 48


def _label(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= MAX_LABEL_CHARS else flat[: MAX_LABEL_CHARS - 1] + "…"


def ks_of(pass_at_k: dict[str, dict[str, float]]) -> list[int]:
    return sorted(int(key.split("@", 1)[1]) for key in pass_at_k)


def plot_curves(curves: Sequence[tuple[str, dict[str, dict[str, float]]]], path: str | Path, title: str) -> Path:
    """One line per (label, {"pass@k": {"mean", "stderr"}}) with ± stderr bars, k on a log2 axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(SAFE_RC):
        figure, axes = plt.subplots(figsize=(6.4, 4.0))
        all_ks: set[int] = set()
        for label, table in curves:
            ks = ks_of(table)
            all_ks.update(ks)
            means = [table[f"pass@{k}"]["mean"] for k in ks]
            errors = [table[f"pass@{k}"]["stderr"] for k in ks]
            axes.errorbar(ks, means, yerr=errors, marker="o", capsize=3, label=_label(label))
        if all_ks:
            axes.set_xscale("log", base=2)
            axes.set_xticks(sorted(all_ks), [str(k) for k in sorted(all_ks)])
        axes.set_xlabel("k (samples per problem)")
        axes.set_ylabel("pass@k")
        axes.set_ylim(-0.02, 1.02)
        axes.set_title(_label(title))
        axes.grid(alpha=0.3)
        if curves:
            axes.legend(fontsize=8, loc="best")
        figure.tight_layout()
        figure.savefig(path, format="svg", metadata={"Date": None})
        plt.close(figure)
    return path


def mean_curve(tables: Sequence[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Unweighted mean over tasks of pass@k (k present in every task), stderr combined as independent means."""
    if not tables:
        return {}
    common = set.intersection(*(set(table) for table in tables))
    curve = {}
    for key in sorted(common, key=lambda k: int(k.split("@", 1)[1])):
        mean = sum(table[key]["mean"] for table in tables) / len(tables)
        stderr = math.sqrt(sum(table[key]["stderr"] ** 2 for table in tables)) / len(tables)
        curve[key] = {"mean": mean, "stderr": stderr}
    return curve
