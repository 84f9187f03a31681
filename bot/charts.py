"""Chart geometry for the funnel page: the page's template draws it as inline
SVG (nothing loaded from anywhere), this only works out where each bar goes."""

from __future__ import annotations

from typing import Any

LABEL_WIDTH = 215
ROW = 28


def horizontal_bars(rows: list[tuple[str, int]], width: int = 620) -> dict[str, Any]:
    """One bar per (key, value), the longest `width - LABEL_WIDTH - 50` wide."""
    room = width - LABEL_WIDTH - 50
    top = max((value for _, value in rows), default=0) or 1
    bars = [
        {"key": key, "value": value, "y": n * ROW, "w": round(room * value / top, 1), "x": LABEL_WIDTH}
        for n, (key, value) in enumerate(rows)
    ]
    return {"width": width, "height": len(rows) * ROW, "bars": bars}


def daily_columns(
    daily: list[dict[str, Any]], keys: tuple[str, ...], width: int = 620, height: int = 180
) -> dict[str, Any]:
    """Stacked columns per day: `keys` from the bottom up, scaled to the busiest day."""
    plot = height - 20
    top = max((sum(int(day[k]) for k in keys) for day in daily), default=0) or 1
    step = min(width / max(len(daily), 1), 48.0)
    columns = []
    for n, day in enumerate(daily):
        y = float(plot)
        segments = []
        for key in keys:
            h = plot * int(day[key]) / top
            y -= h
            segments.append({"key": key, "y": round(y, 1), "h": round(h, 1), "value": int(day[key])})
        columns.append({"day": day["day"], "x": round(n * step + 2, 1), "w": round(max(step - 4, 2), 1),
                        "segments": segments})  # fmt: skip
    return {"width": width, "height": height, "plot": plot, "top": top, "columns": columns}
