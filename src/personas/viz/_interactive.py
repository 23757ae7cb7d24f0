"""Interactive charts (plotly ``Figure`` objects), drawn from ``_data`` like ``_static``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from personas.viz._static import COLORS, _color

BOTTOM_LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0, "font": {"size": 11}}
LAYOUT = {
    "template": "plotly_white",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
}


def _go():
    import plotly.graph_objects as go

    return go


def _fig(title: str, **layout: Any):
    go = _go()
    fig = go.Figure()
    fig.update_layout(title={"text": title, "font": {"size": 14}}, **LAYOUT, **layout)
    return fig


def k_selection_figure(scores: pd.DataFrame, k: int):
    from plotly.subplots import make_subplots

    specs = [
        ("silhouette", "Silhouette ↑"),
        ("stability", "Stability (bootstrap ARI) ↑"),
        ("calinski_harabasz", "Calinski–Harabasz ↑"),
        ("davies_bouldin", "Davies–Bouldin ↓"),
        ("inertia", "Inertia (elbow)"),
    ]
    if "bic" in scores:  # (a Gaussian mixture's k is chosen by BIC)
        specs[-1] = ("bic", "BIC ↓")
    fig = make_subplots(rows=1, cols=5, subplot_titles=[t for _, t in specs])
    for i, (col, _) in enumerate(specs, start=1):
        fig.add_scatter(
            x=scores["k"],
            y=scores[col],
            mode="lines+markers",
            name=col,
            row=1,
            col=i,
            marker={"color": COLORS[0]},
            showlegend=False,
            hovertemplate="k=%{x}<br>" + col + "=%{y:.4g}<extra></extra>",
        )
        fig.add_vline(x=k, line_dash="dash", line_color=COLORS[1], row=1, col=i)
    fig.update_layout(height=300, title={"text": f"Choosing k (k={k} chosen)"}, **LAYOUT)
    return fig


def sizes_figure(table: pd.DataFrame):
    fig = _fig("Segment sizes" + (" and value" if table["value"].notna().any() else ""))
    fig.add_bar(
        y=table["segment"],
        x=100 * table["users"],
        orientation="h",
        name="users",
        marker_color=COLORS[0],
        hovertemplate="%{y}<br>%{x:.1f}% of users<extra></extra>",
    )
    if table["value"].notna().any():
        col = table["value_column"].iloc[0]
        fig.add_bar(
            y=table["segment"],
            x=100 * table["value"],
            orientation="h",
            name=f"value ({col})",
            marker_color=COLORS[1],
            hovertemplate="%{y}<br>%{x:.1f}% of " + str(col) + "<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        xaxis_title="share (%)",
        yaxis={"autorange": "reversed"},
        height=120 + 40 * len(table),
    )
    return fig


def profile_heatmap_figure(table: pd.DataFrame):
    fig = _fig("How each segment differs from all users (standardized differences)")
    if table.empty:
        return fig
    values = table.to_numpy(dtype=float)
    lim = max(1.0, float(np.nanmax(np.abs(values))))
    fig.add_heatmap(
        z=values,
        x=[f"segment {c}" for c in table.columns],
        y=list(table.index),
        colorscale="RdBu_r",
        zmin=-lim,
        zmax=lim,
        text=np.round(values, 1),
        texttemplate="%{text:+.1f}",
        hovertemplate="%{y}<br>%{x}: %{z:+.2f}<extra></extra>",
        colorbar={"title": {"text": "effect"}},
    )
    fig.update_layout(height=160 + 24 * len(table), yaxis={"autorange": "reversed"})
    return fig


def radar_figure(table: pd.DataFrame, names: list[str]):
    fig = _fig("Segment profiles on the strongest features")
    if table.empty:
        return fig
    theta = [str(i) for i in table.index] + [str(table.index[0])]
    for j, name in enumerate(names):
        r = list(table.iloc[:, j].fillna(0)) + [float(table.iloc[0, j] or 0)]
        fig.add_scatterpolar(
            r=r, theta=theta, name=name, line_color=_color(j), fill="toself", opacity=0.6
        )
    fig.update_layout(
        height=620,
        polar={"radialaxis": {"title": {"text": "effect"}}, "domain": {"y": [0.25, 1]}},
        legend=BOTTOM_LEGEND | {"y": 0.18},
    )
    return fig


def snake_figure(table: pd.DataFrame, names: list[str]):
    fig = _fig("Snake plot: standardized differences by feature")
    for j, name in enumerate(names):
        fig.add_scatter(
            x=[str(i) for i in table.index],
            y=table.iloc[:, j],
            mode="lines+markers",
            name=name,
            line_color=_color(j),
        )
    fig.add_hline(y=0, line_color="#868e96")
    fig.update_layout(
        height=560,
        yaxis_title="standardized difference",
        xaxis={"tickangle": -35, "automargin": True},
        legend=BOTTOM_LEGEND | {"y": -0.45},
        margin={"l": 60, "r": 20, "t": 50, "b": 200},
    )
    return fig


def map_figure(m: dict[str, Any], names: list[str]):
    fig = _fig(f"Map of users ({m['method'].upper()} of the basis matrix, sample)")
    xy, labels = m["xy"], m["labels"]
    for s, name in enumerate(names):
        sel = labels == s
        fig.add_scatter(  # SVG, not WebGL: renders everywhere, 5,000 points at most
            x=xy[sel, 0],
            y=xy[sel, 1],
            mode="markers",
            name=name,
            marker={"size": 4, "color": _color(s), "opacity": 0.6},
            hoverinfo="name",
        )
    fig.update_layout(height=520, xaxis_title=m["axes"][0], yaxis_title=m["axes"][1])
    return fig


def silhouette_figure(sil: dict[str, Any], names: list[str]):
    fig = _fig(f"Silhouette by segment (mean {sil.get('mean', float('nan')):.2f})")
    y0 = 0
    for s, values in sil["values"].items():
        y = np.arange(y0, y0 + len(values))
        fig.add_scatter(
            x=values,
            y=y,
            fill="tozerox",
            mode="lines",
            name=names[s],
            line={"color": _color(s), "width": 0.5},
        )
        y0 += len(values) + 10
    if sil["values"]:
        fig.add_vline(x=sil["mean"], line_dash="dash", line_color=COLORS[1])
    fig.update_layout(height=460, xaxis_title="silhouette", yaxis={"visible": False})
    return fig


def distributions_figure(d: dict[str, Any], names: list[str]):
    fig = _fig(f"{d['title']} by segment")
    for s, name in enumerate(names):
        fig.add_box(x=d["values"][s], name=name, marker_color=_color(s), boxpoints=False)
    fig.update_layout(
        height=140 + 40 * len(names),
        showlegend=False,
        xaxis={"type": "log" if d["log"] else "linear", "title": d["title"]},
        yaxis={"autorange": "reversed"},
    )
    return fig


def category_mix_figure(table: pd.DataFrame, column: str):
    fig = _fig(f"{column}: mix within each segment")
    for j, level in enumerate(table.columns):
        fig.add_bar(
            y=list(table.index),
            x=table[level],
            orientation="h",
            name=str(level),
            marker_color=_color(j),
            hovertemplate="%{y}<br>" + str(level) + ": %{x:.0%}<extra></extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=140 + 40 * len(table),
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"autorange": "reversed"},
    )
    return fig


def tree_figure(rules: Any, names: list[str]):
    """The surrogate tree as an icicle: each box a node, its split and majority segment."""
    t = rules.tree.tree_
    ids, parents, labels, values, hover = [], [], [], [], []

    def walk(node: int, parent: str, text: str) -> None:
        node_id = f"n{node}"
        counts = t.value[node][0]
        major = int(np.argmax(counts))
        ids.append(node_id)
        parents.append(parent)
        labels.append(f"{text}<br>→ segment {major}")
        values.append(float(t.weighted_n_node_samples[node]))
        hover.append(f"{text}<br>majority: {names[major]} ({counts[major] / counts.sum():.0%})")
        if t.children_left[node] != t.children_right[node]:
            feat = rules.feature_names[t.feature[node]]
            thr = t.threshold[node]
            walk(int(t.children_left[node]), node_id, f"{feat} ≤ {thr:.4g}")
            walk(int(t.children_right[node]), node_id, f"{feat} > {thr:.4g}")

    walk(0, "", "all users")
    go = _go()
    fig = go.Figure(
        go.Icicle(
            ids=ids,
            parents=parents,
            labels=labels,
            values=values,
            branchvalues="total",
            hovertext=hover,
            hoverinfo="text",
            tiling={"orientation": "v"},
        )
    )
    fig.update_layout(
        title={"text": f"Surrogate tree (depth {rules.depth}, fidelity {rules.fidelity:.0%})"},
        height=520,
        **LAYOUT,
    )
    return fig


def eda_associations_figure(table: pd.DataFrame):
    fig = _fig("Associations between columns (Spearman |ρ|, Cramér's V, η)")
    if table.empty:
        return fig
    fig.add_heatmap(
        z=table.to_numpy(dtype=float),
        x=list(table.columns),
        y=list(table.index),
        colorscale="Blues",
        zmin=0,
        zmax=1,
        hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>",
    )
    fig.update_layout(height=200 + 22 * len(table), yaxis={"autorange": "reversed"})
    return fig


def bars_figure(values: pd.Series, title: str, xlabel: str, *, color: int, empty: str,
                hover: str = "%{x:,}"):  # fmt: skip
    fig = _fig(title)
    fig.add_bar(
        y=[str(i) for i in values.index],
        x=values.to_numpy(),
        orientation="h",
        marker_color=_color(color),
        hovertemplate="%{y}: " + hover + "<extra></extra>",
    )
    fig.update_layout(
        height=140 + 26 * max(len(values), 1), xaxis_title=xlabel, yaxis={"autorange": "reversed"}
    )
    return fig


def histogram_figure(values: np.ndarray, title: str, log: bool):
    values = values[np.isfinite(values)]
    fig = _fig(f"Distribution of {title}")
    positive = log and values.size and values.min() > 0
    fig.add_histogram(
        x=np.log10(values) if positive else values,
        marker_color=COLORS[0],
        nbinsx=40,
        hovertemplate="%{y:,} users<extra></extra>",
    )
    fig.update_layout(
        height=320,
        xaxis_title=f"log10 {title}" if positive else title,
        yaxis_title="users",
        bargap=0.02,
    )
    return fig


def differences_figure(table: pd.DataFrame, title: str):
    fig = _fig(title)
    d = table["difference"].to_numpy()
    fig.add_bar(
        y=[str(v) for v in table["label"]],
        x=d,
        orientation="h",
        marker_color=[COLORS[0] if v >= 0 else COLORS[1] for v in d],
        error_x={
            "type": "data",
            "symmetric": False,
            "array": table["ci_high"].to_numpy() - d,
            "arrayminus": d - table["ci_low"].to_numpy(),
        },
        hovertemplate="%{y}: %{x:+.2f}<extra></extra>",
    )
    fig.update_layout(
        height=140 + 24 * max(len(table), 1),
        xaxis_title="standardized difference [95 % CI]",
        yaxis={"autorange": "reversed"},
    )
    return fig


def methods_figure(table: pd.DataFrame):
    from plotly.subplots import make_subplots

    specs = [
        ("silhouette", "Silhouette, same sample ↑"),
        ("stability", "Stability of its k ↑"),
        ("seconds", "Seconds"),
    ]
    names = [f"{m} (k={k})" for m, k in zip(table["method"], table["k"], strict=True)]
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t for _, t in specs], shared_yaxes=True)
    for i, (col, _) in enumerate(specs, start=1):
        fig.add_bar(
            y=names,
            x=table[col],
            orientation="h",
            row=1,
            col=i,
            marker_color=COLORS[0],
            showlegend=False,
            hovertemplate="%{y}<br>" + col + " = %{x:.4g}<extra></extra>",
        )
    fig.update_layout(
        height=120 + 40 * len(table), title={"text": "Methods on the same data"}, **LAYOUT
    )
    fig.update_yaxes(autorange="reversed")
    return fig
