"""reports/quality.md (every method with 95 % intervals) and reports/quality.png (bars with error bars)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

from kragrec.evaluation.agreement import ranking_agreement, read_rankings
from kragrec.evaluation.intervals import with_interval
from kragrec.metrics import METRIC_NAMES

LABELS = {"acc": "ACC", "recall@3": "R@3", "recall@5": "R@5", "ndcg@10": "NDCG@10", "mrr": "MRR"}


def commit_id(folder: Path) -> str:
    """The git commit of the checkout that produced the report, "-dirty" appended when tracked files were changed
    since ('unknown' outside a git checkout)."""
    result = subprocess.run(
        ["git", "-C", str(folder), "describe", "--always", "--dirty", "--abbrev=7", "--exclude=*"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _commits(rows: list[dict[str, Any]], current: str) -> str:
    """The commit that recorded the rows, or each commit with the rows it recorded (rows read from the data dir alone
    carry none: they are the current commit's)."""
    by_commit: dict[str, list[str]] = {}
    for row in rows:
        by_commit.setdefault(row.get("commit", current), []).append(row["entry"]["name"])
    if len(by_commit) == 1:
        return f"commit `{next(iter(by_commit))}`"
    return "commits " + "; ".join(f"`{commit}` ({', '.join(names)})" for commit, names in by_commit.items())


def _table(rows: list[dict[str, Any]], extra: bool) -> list[str]:
    header = ["method", *(LABELS[n] for n in METRIC_NAMES), "SASRec share"]
    if extra:
        header += ["cold-start ACC", "fictional ranked first", "time"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        report = row["report"]
        share = f"{report['prior']['share']:.2f}" if "prior" in report else "none"
        cells = [row["entry"]["name"], *(with_interval(report, n) for n in METRIC_NAMES), share]
        if extra:
            fiction = report.get("fictional_first")
            cells += [
                with_interval(report["cold_start"], "acc"),
                f"{fiction:.1%}" if fiction is not None else "n/a",
                _duration(row["seconds"]),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _agreement_table(rows: list[dict[str, Any]]) -> list[str]:
    """How alike the rows scored alone (no collaborative prior; random left out) rank the test lists, pairwise."""
    alone = [r for r in rows if not r["entry"]["prior"] and r["entry"]["method"] != "random"]
    if len(alone) < 2:
        return []
    rankings = {r["entry"]["name"]: read_rankings(Path(r["predictions"])) for r in alone}
    names = list(rankings)
    lines = [
        "## How alike the rows scored alone rank",
        "",
        "Each cell: the share of test users for whom both rows rank the same candidate first · the mean Spearman "
        "correlation of their scores over each user's list.",
        "",
        "| | " + " | ".join(names) + " |",
        "|" + "---|" * (len(names) + 1),
    ]
    cells = {}
    for left, right in itertools.combinations(names, 2):  # the table is symmetric: each pair is measured once
        agreement = ranking_agreement(rankings[left], rankings[right])
        cells[left, right] = cells[right, left] = f"{agreement.same_first:.2f} · {agreement.spearman:.2f}"
    for name in names:
        lines.append(f"| {name} | " + " | ".join(cells.get((name, other), "—") for other in names) + " |")
    return lines


def write_quality_markdown(path: Path, rows: list[dict[str, Any]], context: dict[str, Any]) -> None:
    """The report: command, wall time, budget, settings, commit, then the main table, ablations and chance."""
    main = [r for r in rows if not r["entry"]["ablation"]]
    ablations = [r for r in rows if r["entry"]["ablation"]]
    first = rows[0]["report"]
    lines = [
        f"# Recommendation quality on {context['dataset']}",
        "",
        f"Produced by `{context['command']}` in {_duration(context['wall_seconds'])} of compute "
        f"({context['machine']}), {_commits(rows, context['commit'])}, seed {context['seed']}.",
        f"Test split, {first['samples']} users (seeded subset), {context['candidates']} sampled candidates each "
        "(the same lists for every method); 95 % bootstrap intervals over users "
        f"({first['bootstrap']['resamples']} resamples). Model selection used the validation split only.",
        "",
        "Budget: " + ", ".join(f"{k} {v}" for k, v in context["budget"].items()) + ".",
        "",
        *(_table(main, extra=True) if main else ["No main row has run yet."]),
        "",
        "Chance: " + ", ".join(f"{LABELS[n]} {first['chance'][n]:.3f}" for n in METRIC_NAMES) + ".",
        f"Cold start: the {first['cold_start']['share']:.0%} of test users whose target has the fewest train ratings. "
        f"Fictional: {context['fictional']} of the 19 negatives per user replaced by made-up films (ties count).",
        "SASRec share: rows with the collaborative prior mix their standardised scores with the sasrec row's as "
        "(1 - share) x LLM + share x SASRec, the share chosen on the run's validation samples (kragrec eval --prior).",
    ]
    if ablations:
        lines += ["", "## Ablations of k-ragrec-lora", "", *_table(ablations, extra=False)]
    if agreement := _agreement_table(rows):
        lines += ["", *agreement]
    lines += ["", *context.get("notes", [])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def write_quality_chart(path: Path, rows: list[dict[str, Any]]) -> None:
    """ACC and NDCG@10 of every method, with their 95 % intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["entry"]["name"] for r in rows]
    figure, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(rows) + 1.5), sharey=True)
    for axis, metric in zip(axes, ("acc", "ndcg@10"), strict=True):
        values = [r["report"]["metrics"][metric] for r in rows]
        low = [v - r["report"]["intervals"][metric][0] for v, r in zip(values, rows, strict=True)]
        high = [r["report"]["intervals"][metric][1] - v for v, r in zip(values, rows, strict=True)]
        axis.barh(names, values, xerr=[low, high], color="#4C72B0", capsize=3)
        axis.axvline(rows[0]["report"]["chance"][metric], color="grey", linestyle="--", label="chance")
        axis.set_xlabel(f"{LABELS[metric]} (95 % bootstrap interval)")
        axis.invert_yaxis()
        axis.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
