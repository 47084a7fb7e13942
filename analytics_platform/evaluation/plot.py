"""One picture of an ``evaluate`` result (``evaluate ... --plot FILE.png``): what was alerted per
planted type against the look-alikes, the account-level F1 through the alerts, the case score's
calibration before and after refitting, and the precision of each day's top cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl


def plot_evaluation(result: dict[str, Any], path: Path) -> Path:
    """Draw ``result`` (:func:`analytics_platform.evaluation.run.evaluate`) as a 2x2 PNG at
    ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5), dpi=100)
    _alerted(axes[0][0], result["planted_alerted"])
    _account_f1(axes[0][1], result["alerted_account_level"])
    _calibration(
        axes[1][0], result["calibration_later_days"], result["calibration_later_days_refit"]
    )
    _top_k(axes[1][1], result["precision_at_k"])
    fig.suptitle(
        f"{result['dataset']}: {result['transfers']:,} transfers, {result['planted_patterns']} "
        f"planted patterns, {result['decoy_patterns']} look-alikes; {result['cases']:,} cases",
        fontsize=11,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _bars(ax, labels: list[str], series: dict[str, list[float]]) -> None:
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(labels))], values, width, label=name)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))])
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)


def _alerted(ax, planted: pl.DataFrame) -> None:
    wide = planted.pivot("planted_as", index="pattern_type", values="share").sort("pattern_type")
    series = {
        f"{kind} patterns alerted": wide[kind].fill_null(0).to_list()
        for kind in ("suspicious", "look-alike")
        if kind in wide.columns
    }
    _bars(ax, wide["pattern_type"].to_list(), series)
    ax.set_title("planted patterns with an alert on their transfers", fontsize=10)
    ax.set_ylabel("share of patterns")


def _account_f1(ax, scores: pl.DataFrame) -> None:
    planted = scores.filter(pl.col("members") > 0).sort("pattern_type")
    _bars(
        ax,
        planted["pattern_type"].to_list(),
        {m: planted[m].fill_null(0).to_list() for m in ("precision", "recall", "f1")},
    )
    ax.axhline(0.8, color="grey", linestyle=":", linewidth=1)
    ax.set_title("account level through the alerts (members of alerted patterns)", fontsize=10)


def _calibration(ax, before: pl.DataFrame, after: pl.DataFrame) -> None:
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="calibrated")
    for name, bands in (("catalog's confidences", before), ("refitted", after)):
        if bands.height:
            ax.plot(bands["mean_score"], bands["planted_share"], marker="o", label=name)
            for x, y, n in bands.select("mean_score", "planted_share", "cases").iter_rows():
                ax.annotate(str(n), (x, y), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("mean case score of the band")
    ax.set_ylabel("share of cases on planted members")
    ax.set_title("later days' case score calibration (labels: cases)", fontsize=10)
    ax.legend(fontsize=8)


def _top_k(ax, top: pl.DataFrame) -> None:
    ax.plot(range(top.height), top["precision"], marker="o")  # k evenly spaced: 5, 10, 20, 50
    ax.set_xticks(range(top.height))
    ax.set_xticklabels([str(k) for k in top["k"]])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("k (each day's top cases)")
    ax.set_ylabel("share on planted members")
    ax.set_title("precision of each day's top k cases", fontsize=10)
