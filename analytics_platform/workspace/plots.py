"""Small line charts as inline SVG, drawn on the server: the pages need no script library and
no network to plot a series (written by hand: a chart library would add a client-side build)."""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 640, 180, 36
COLOURS = ("#1f6feb", "#d1242f", "#2da44e", "#8250df")


def line_chart(title: str, days: list[date], series: dict[str, list[float | None]]) -> str:
    """One chart of ``series`` (name -> values per day of ``days``), with a legend."""
    values = [v for vs in series.values() for v in vs if v is not None]
    if not days or not values:
        return f"<p class='none'>{escape(title)}: no data</p>"
    top = max(values) or 1.0
    n = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return PAD + i * (WIDTH - 2 * PAD) / n

    def y(v: float) -> float:
        return HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD)

    parts = [
        f"<svg class='chart' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' "
        f"aria-label='{escape(title)}'><title>{escape(title)}</title>",
        f"<text x='{PAD}' y='16' class='t'>{escape(title)} (max {top:,.2f})</text>",
        f"<line x1='{PAD}' y1='{HEIGHT - PAD}' x2='{WIDTH - PAD}' y2='{HEIGHT - PAD}' "
        "stroke='#999'/>",
        f"<text x='{PAD}' y='{HEIGHT - 8}' class='a'>{days[0]}</text>",
        f"<text x='{WIDTH - PAD}' y='{HEIGHT - 8}' class='a' text-anchor='end'>{days[-1]}</text>",
    ]
    for k, (name, vs) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None)
        parts.append(
            f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{points}'/>"
        )
        parts.append(
            f"<text x='{WIDTH - PAD}' y='{16 + 14 * (k + 1)}' class='a' text-anchor='end' "
            f"fill='{colour}'>{escape(name)}</text>"
        )
    return "".join(parts) + "</svg>"
