"""The pages of the dashboard of ``personas serve``, drawn from plain data.

The service gathers what a page shows (from the model's explanation and the store) and
calls :func:`render_page`; the charts are plotly.js figures written as JSON into the page
and drawn by ``dashboard.js`` — no inline script, so the pages run under a strict
Content-Security-Policy. Every asset is served from the package (:func:`asset`): the
pages work with no network.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

__all__ = [
    "ASSETS",
    "asset",
    "effects_figure",
    "k_figures",
    "render_page",
    "sizes_figure",
]

# name → media type of the files the pages load (plotly.js from the plotly package)
ASSETS = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "htmx.min.js": "text/javascript; charset=utf-8",
    "plotly.min.js": "text/javascript; charset=utf-8",
}

# Colours that keep 4.5:1 contrast on white as text and tell segments apart as lines
PALETTE = ["#1f5fa8", "#b5471b", "#2a7a3b", "#7a3fa0", "#8a6d00", "#0f7280", "#b0306a",
           "#4a5560", "#5b6b00", "#6b4a2b", "#2b5f7a", "#a33a3a"]  # fmt: skip


@cache
def asset(name: str) -> bytes:
    """The bytes of one of :data:`ASSETS`."""
    if name == "plotly.min.js":
        from plotly.offline import get_plotlyjs

        return get_plotlyjs().encode()
    return resources.files("personas.report").joinpath(f"static/{name}").read_bytes()


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("personas.report", "templates/dashboard"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {"count": _count, "pct": _pct, "num": _num, "figure": _figure}
    env.globals["colour"] = lambda i: PALETTE[int(i) % len(PALETTE)]
    return env


def render_page(template: str, **context: Any) -> str:
    """The HTML of the page ``template`` (``overview``, ``segment``, ``members``,
    ``user``, ``model``, ``login``, ``error``) with ``context``."""
    return _environment().get_template(f"{template}.html.j2").render(**context)


# ---------------------------------------------------------------------- formats
def _count(n: Any) -> str:
    return "–" if n is None else f"{int(n):,}"


def _pct(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{100 * float(x):.{digits}f} %"


def _num(x: Any) -> str:
    """A number as people read it: thousands separated, 3 significant digits below 100."""
    if x is None or isinstance(x, bool):
        return "–" if x is None else ("yes" if x else "no")
    if not isinstance(x, int | float):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return "–"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:  # (money and counts: two decimals at most, 32.14 not 32.1)
        return f"{x:.2f}".rstrip("0").rstrip(".")
    text = f"{x:.3g}"
    return f"{x:.4f}" if abs(float(text)) >= 1 else text  # (0.9996, not 1)


def _figure(fig: dict[str, Any], name: str) -> Markup:
    """A chart: a ``<figure>`` captioned by its title (for screen readers; plotly draws
    the title), its ``<div>``, and its figure as JSON, which ``dashboard.js`` draws."""
    title = fig["layout"].get("title", {}).get("text", "chart")
    data = json.dumps(fig, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")
    return Markup(
        f'<figure class="chart-box"><div class="chart" data-figure="{name}"></div>'
        f'<figcaption class="visually-hidden">{escape(title)}</figcaption>'
        f'<script type="application/json" id="{name}">{data}</script></figure>'
    )


# ---------------------------------------------------------------------- charts
def _layout(title: str, x: str, y: str, **more: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "xaxis": {"title": {"text": x}, "automargin": True},
        "yaxis": {"title": {"text": y}, "automargin": True, "rangemode": "tozero"},
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "height": 300,
        "legend": {"orientation": "h", "y": -0.25},
        "font": {"family": "system-ui, sans-serif", "color": "#1d232a"},
        **more,
    }


def sizes_figure(series: dict[int, list[tuple[str, int]]], names: list[str]) -> dict[str, Any]:
    """Segment sizes by day: one line per segment of ``series`` (segment → (day, users))."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"{seg} · {names[seg]}" if seg < len(names) else str(seg),
            "x": [day for day, _ in points],
            "y": [n for _, n in points],
            "line": {"color": PALETTE[seg % len(PALETTE)], "shape": "hv"},
            "hovertemplate": "%{x}: %{y:,} users<extra></extra>",
        }
        for seg, points in sorted(series.items())
    ]
    layout = _layout("Segment sizes over time", "day (UTC)", "users at the end of the day")
    days = sorted({day for points in series.values() for day, _ in points})
    # (one day: a category, not a time axis stretched over milliseconds around it)
    layout["xaxis"] |= {"type": "category"} if len(days) < 2 else {"tickformat": "%Y-%m-%d"}
    return {"data": data, "layout": layout}


def effects_figure(
    distinguishing: list[dict[str, Any]],
    n: int = 12,
    *,
    title: str = "What sets it apart (effect, 95 % interval)",
    axis: str = "difference from all users (standard deviations)",
) -> dict[str, Any]:
    """What sets a segment apart: each column's effect (standardised difference from all
    users, or from another segment) with its 95 % interval, largest first."""
    rows = [d for d in distinguishing if d.get("effect") is not None][:n][::-1]
    ci = [d.get("ci") or [d["effect"], d["effect"]] for d in rows]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [_row_name(d) for d in rows],
            "x": [d["effect"] for d in rows],
            "marker": {"color": ["#1f5fa8" if d["effect"] >= 0 else "#b5471b" for d in rows]},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [hi - d["effect"] for d, (_, hi) in zip(rows, ci, strict=True)],
                "arrayminus": [d["effect"] - lo for d, (lo, _) in zip(rows, ci, strict=True)],
                "color": "#1d232a",
            },
            "hovertemplate": "%{y}: %{x:.2f} sd<extra></extra>",
        }
    ]
    layout = _layout(title, axis, "", height=max(220, 28 * len(rows) + 90))
    layout["yaxis"] |= {"rangemode": "normal"}
    return {"data": data, "layout": layout}


def _row_name(d: dict[str, Any]) -> str:
    """A chart row's name: the column, and the level of a category (``plan = premium``)."""
    return f"{d['column']} = {d['value']}" if d.get("value") is not None else d["column"]


K_CURVES = {  # column → (title, axis, better)
    "silhouette": ("Silhouette by k", "silhouette (higher is better)"),
    "stability": ("Stability by k", "stability, adjusted Rand (higher is better)"),
    "inertia": ("Inertia by k (the elbow)", "within-segment sum of squares"),
    "calinski_harabasz": ("Calinski–Harabasz by k", "score (higher is better)"),
    "davies_bouldin": ("Davies–Bouldin by k", "score (lower is better)"),
    "bic": ("BIC by k (Gaussian mixtures)", "Bayesian information criterion (lower is better)"),
}


def k_figures(scores: list[dict[str, Any]], k: int) -> list[tuple[str, dict[str, Any]]]:
    """The k choice: one small chart per criterion, the chosen k marked."""
    out = []
    for column, (title, axis) in K_CURVES.items():
        points = [(r["k"], r[column]) for r in scores if r.get(column) is not None]
        if not points:
            continue
        chosen = [(x, y) for x, y in points if x == k]
        data = [
            {"type": "scatter", "mode": "lines+markers", "name": column,
             "x": [x for x, _ in points], "y": [y for _, y in points],
             "line": {"color": "#1f5fa8"}, "hovertemplate": "k=%{x}: %{y:.3f}<extra></extra>"},
            {"type": "scatter", "mode": "markers", "name": f"chosen k = {k}",
             "x": [x for x, _ in chosen], "y": [y for _, y in chosen],
             "marker": {"size": 13, "color": "#b5471b", "symbol": "diamond"}},
        ]  # fmt: skip
        layout = _layout(title, "k (segments)", axis, height=260, showlegend=False)
        layout["xaxis"] |= {"dtick": 1}
        out.append((f"k-{column}", {"data": data, "layout": layout}))
    return out
