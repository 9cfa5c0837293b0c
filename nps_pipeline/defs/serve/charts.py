"""Charts as self-contained SVG: an NPS trend with its confidence band, and a segment breakdown with intervals.

Plain SVG keeps the pictures dependency-free; the same drawing goes into the Dagster UI (as a data URI in
markdown metadata) and into the static HTML report.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from dataclasses import dataclass

BAND = "#9ecae1"
LINE = "#08519c"
SECOND_LINE = "#e6550d"
MUTED = "#9e9e9e"
GRID = "#e0e0e0"
TEXT = "#333333"


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    nps: float | None
    low: float | None
    high: float | None
    low_sample: bool = False


@dataclass(frozen=True)
class SegmentBar:
    label: str
    nps: float | None
    low: float | None
    high: float | None
    responses: int
    low_sample: bool


def _nice_range(values: list[float]) -> tuple[float, float]:
    lo, hi = (min(values), max(values)) if values else (-10.0, 10.0)
    lo, hi = math.floor(min(lo, 0) / 10) * 10, math.ceil(max(hi, 0) / 10) * 10
    if hi - lo < 20:
        hi = lo + 20
    return max(lo, -100.0), min(hi, 100.0)


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = 11, color: str = TEXT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{color}" text-anchor="{anchor}" '
        f'font-family="sans-serif">{html.escape(content)}</text>'
    )


def trend_svg(
    title: str,
    points: list[TrendPoint],
    second: list[TrendPoint] | None = None,
    labels: tuple[str, str] = ("NPS", ""),
    width: int = 760,
    height: int = 280,
) -> str:
    """A line of NPS over days with its 95 % band; optional second series (line and band) in another colour."""
    left, right, top, bottom = 46, 16, 30, 34
    series = [s for s in (points, second or []) if s]
    days = sorted({p.day for s in series for p in s})
    values = [v for s in series for p in s for v in (p.low, p.high, p.nps) if v is not None]
    y_lo, y_hi = _nice_range(values)
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = (days[0], days[-1]) if days else (dt.date.today(), dt.date.today())
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return left + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return top + plot_h * (y_hi - value) / (y_hi - y_lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        _text(left, 18, title, size=13),
    ]
    step = 10 if y_hi - y_lo <= 60 else 20
    tick = y_lo
    while tick <= y_hi + 1e-9:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y(tick) + 4, f"{tick:g}", anchor="end", size=10))
        tick += step
    if y_lo < 0 < y_hi:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{MUTED}"/>')
    if days:
        for i in range(6):
            day = first + dt.timedelta(days=round(span * i / 5))
            anchor = "start" if i == 0 else "end" if i == 5 else "middle"
            parts.append(_text(x(day), height - bottom + 16, day.isoformat(), anchor=anchor, size=10))

    # The second series goes underneath, so the main line and its band stay readable.
    for serie, color, band_opacity in ((second or [], SECOND_LINE, 0.25), (points, LINE, 0.55)):
        drawn = [p for p in serie if p.nps is not None and p.low is not None and p.high is not None]
        if not drawn:
            continue
        band = " ".join(f"{x(p.day):.1f},{y(p.high):.1f}" for p in drawn) + " " + " ".join(
            f"{x(p.day):.1f},{y(p.low):.1f}" for p in reversed(drawn)
        )
        fill = BAND if color == LINE else "#fdae6b"
        parts.append(f'<polygon points="{band}" fill="{fill}" fill-opacity="{band_opacity}" stroke="none"/>')
        line = " ".join(f"{x(p.day):.1f},{y(p.nps):.1f}" for p in drawn)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="1.6"/>')
        for p in drawn:
            if p.low_sample:
                parts.append(f'<circle cx="{x(p.day):.1f}" cy="{y(p.nps):.1f}" r="2.5" fill="white" stroke="{color}"/>')
    legend_x = width - right - 330
    parts.append(f'<rect x="{legend_x}" y="8" width="10" height="10" fill="{BAND}"/>')
    parts.append(_text(legend_x + 14, 17, f"{labels[0]} with 95 % band", size=10))
    if second and labels[1]:
        parts.append(f'<rect x="{legend_x + 170}" y="8" width="10" height="10" fill="#fdae6b"/>')
        parts.append(_text(legend_x + 184, 17, labels[1], size=10))
    parts.append("</svg>")
    return "".join(parts)


def segments_svg(title: str, bars: list[SegmentBar], width: int = 760) -> str:
    """One row per segment: NPS as a dot with its 95 % interval; low-sample segments drawn grey and hollow."""
    row_h, top, left, right = 22, 30, 210, 20
    height = top + row_h * max(len(bars), 1) + 30
    values = [v for b in bars for v in (b.low, b.high, b.nps) if v is not None]
    x_lo, x_hi = _nice_range(values)
    plot_w = width - left - right

    def x(value: float) -> float:
        return left + plot_w * (value - x_lo) / (x_hi - x_lo)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        _text(8, 18, title, size=13),
    ]
    step = 10 if x_hi - x_lo <= 60 else 20
    tick = x_lo
    while tick <= x_hi + 1e-9:
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{height - 24}" stroke="{GRID}"/>')
        parts.append(_text(x(tick), height - 10, f"{tick:g}", anchor="middle", size=10))
        tick += step
    if x_lo < 0 < x_hi:
        parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{height - 24}" stroke="{MUTED}"/>')
    for i, bar in enumerate(bars):
        cy = top + row_h * i + row_h / 2
        color = MUTED if bar.low_sample else LINE
        label = f"{bar.label} (n={bar.responses:,}{', low sample' if bar.low_sample else ''})"
        parts.append(_text(left - 8, cy + 4, label, anchor="end", size=11, color=color))
        if bar.nps is None or bar.low is None or bar.high is None:
            continue
        parts.append(f'<line x1="{x(bar.low):.1f}" x2="{x(bar.high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="{color}" stroke-width="2"/>')
        fill = "white" if bar.low_sample else color
        parts.append(f'<circle cx="{x(bar.nps):.1f}" cy="{cy:.1f}" r="4" fill="{fill}" stroke="{color}"/>')
        parts.append(_text(x(bar.high) + 6, cy + 4, f"{bar.nps:.1f}", size=10, color=color))
    parts.append("</svg>")
    return "".join(parts)


def markdown_image(svg: str, alt: str) -> str:
    """The SVG as a markdown image with a data URI, which the Dagster UI renders in asset metadata."""
    return f"![{alt}](data:image/svg+xml;base64,{base64.b64encode(svg.encode('utf-8')).decode('ascii')})"
