"""Static charts (matplotlib ``Figure`` objects, never pyplot), drawn from ``_data``.

Figures are built without pyplot, so drawing a report neither needs a display nor
changes the backend of a notebook the user is working in.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd

COLORS = [
    "#4c6ef5",
    "#e8590c",
    "#2f9e44",
    "#c2255c",
    "#7048e8",
    "#1098ad",
    "#f59f00",
    "#5c940d",
    "#d6336c",
    "#364fc7",
    "#a61e4d",
    "#087f5b",
    "#e67700",
    "#862e9c",
    "#495057",
]


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _figure(figsize: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # a canvas of its own: no pyplot, no change to the user's backend
    return fig


def figure_to_data_uri(fig: Any, *, fmt: str = "png", dpi: int = 110) -> str:
    """Encode a figure as a ``data:`` URI (embedded in a self-contained HTML page)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def k_selection_figure(scores: pd.DataFrame, k: int):
    """Every k-selection criterion against k, the chosen k marked."""
    fig = _figure((16, 3.2))
    axes = fig.subplots(1, 5)
    specs = [
        ("silhouette", "Silhouette (higher is better)"),
        ("stability", "Stability, bootstrap ARI (higher)"),
        ("calinski_harabasz", "Calinski–Harabasz (higher)"),
        ("davies_bouldin", "Davies–Bouldin (lower)"),
        ("inertia", "Inertia (elbow)"),
    ]
    if "bic" in scores:  # (a Gaussian mixture's k is chosen by BIC)
        specs[-1] = ("bic", "BIC (lower)")
    for ax, (col, title) in zip(axes, specs, strict=True):
        ax.plot(scores["k"], scores[col], marker="o", color=COLORS[0])
        ax.axvline(k, color="#e8590c", linestyle="--", linewidth=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("k", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xticks(list(scores["k"]))
    fig.tight_layout()
    return fig


def sizes_figure(table: pd.DataFrame):
    """Share of users (and of value, when known) in each segment."""
    names = list(table["segment"])[::-1]
    users = 100 * table["users"].to_numpy()[::-1]
    has_value = table["value"].notna().any()
    fig = _figure((8, 0.5 * len(table) + 0.9))
    ax = fig.subplots()
    y = np.arange(len(names))
    h = 0.4 if has_value else 0.7
    ax.barh(y + (h / 2 if has_value else 0), users, height=h, color=COLORS[0], label="users")
    for i, v in enumerate(users):
        ax.text(v + 0.3, i + (h / 2 if has_value else 0), f"{v:.1f}%", va="center", fontsize=7)
    if has_value:
        value = 100 * table["value"].fillna(0).to_numpy()[::-1]
        label = f"value ({table['value_column'].iloc[0]})"
        ax.barh(y - h / 2, value, height=h, color=COLORS[1], label=label)
        for i, v in enumerate(value):
            ax.text(v + 0.3, i - h / 2, f"{v:.1f}%", va="center", fontsize=7)
        ax.legend(fontsize=8, loc="lower right")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("share (%)")
    fig.tight_layout()
    return fig


def profile_heatmap_figure(table: pd.DataFrame):
    """Standardized differences of each segment from all users, per feature."""
    if table.empty:
        return _empty("no features to show")
    fig = _figure((1.1 * table.shape[1] + 3.5, 0.32 * len(table) + 1.2))
    ax = fig.subplots()
    values = table.to_numpy(dtype=float)
    lim = max(1.0, float(np.nanmax(np.abs(values))))
    im = ax.imshow(values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_yticks(range(len(table)), table.index, fontsize=8)
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], fontsize=8)
    ax.set_xlabel("segment")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:+.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7, label="standardized difference")
    fig.tight_layout()
    return fig


def radar_figure(table: pd.DataFrame, names: list[str]):
    """Each segment's profile on the strongest features, as a closed polygon."""
    if table.empty or len(table) < 3:
        return _empty("a radar needs three features or more")
    angles = np.linspace(0, 2 * np.pi, len(table), endpoint=False)
    fig = _figure((7.5, 6))
    ax = fig.add_subplot(projection="polar")
    for j, name in enumerate(names):
        v = table.iloc[:, j].fillna(0).to_numpy()
        ax.plot(np.append(angles, angles[0]), np.append(v, v[0]), color=_color(j), label=name)
        ax.fill(np.append(angles, angles[0]), np.append(v, v[0]), color=_color(j), alpha=0.08)
    ax.set_xticks(angles, [str(i)[:28] for i in table.index], fontsize=7)
    ax.tick_params(axis="y", labelsize=6)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.05, 1.0))
    ax.set_title("standardized difference from all users", fontsize=9)
    fig.tight_layout()
    return fig


def snake_figure(table: pd.DataFrame, names: list[str]):
    """Each segment's standardized differences as a line over the features (snake plot)."""
    if table.empty:
        return _empty("no features to show")
    fig = _figure((max(7, 0.6 * len(table) + 3), 4))
    ax = fig.subplots()
    x = np.arange(len(table))
    for j, name in enumerate(names):
        ax.plot(x, table.iloc[:, j].to_numpy(), marker="o", color=_color(j), label=name)
    ax.axhline(0, color="#868e96", linewidth=0.8)
    ax.set_xticks(x, [str(i)[:28] for i in table.index], rotation=40, ha="right", fontsize=7)
    ax.set_ylabel("standardized difference")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig


def map_figure(m: dict[str, Any], names: list[str]):
    """A 2-D map of a sample of users, coloured by segment."""
    fig = _figure((7, 5))
    ax = fig.subplots()
    xy, labels = m["xy"], m["labels"]
    for s, name in enumerate(names):
        sel = labels == s
        ax.scatter(xy[sel, 0], xy[sel, 1], s=5, alpha=0.5, color=_color(s), label=name)
    ax.set_xlabel(m["axes"][0])
    ax.set_ylabel(m["axes"][1])
    ax.legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig


def silhouette_figure(sil: dict[str, Any], names: list[str]):
    """Silhouette values of a sample of users, grouped by segment (wider = better fit)."""
    if not sil["values"]:
        return _empty("one segment: no silhouette")
    fig = _figure((7, 0.25 * len(names) + 4))
    ax = fig.subplots()
    y = 0
    for s, values in sil["values"].items():
        ax.fill_betweenx(np.arange(y, y + len(values)), 0, values, color=_color(s), alpha=0.8)
        ax.text(-0.05, y + len(values) / 2, str(s), fontsize=8, ha="right", va="center")
        y += len(values) + 10
    ax.axvline(sil["mean"], color="#e8590c", linestyle="--", linewidth=1)
    ax.set_xlabel(f"silhouette (mean {sil['mean']:.2f}, dashed; {sil['n']:,} users)")
    ax.set_yticks([])
    ax.set_title("silhouette by segment", fontsize=9)
    fig.tight_layout()
    return fig


def distributions_figure(d: dict[str, Any], names: list[str]):
    """Box plots of one column per segment (log scale for skewed columns)."""
    fig = _figure((8, 0.45 * len(names) + 1.4))
    ax = fig.subplots()
    data = [d["values"][s] for s in range(len(names))]
    ax.boxplot(
        data[::-1],
        orientation="horizontal",
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": "#dbe4ff"},
        medianprops={"color": "#e8590c"},
    )
    ax.set_yticks(range(1, len(names) + 1), names[::-1], fontsize=8)
    if d["log"]:
        ax.set_xscale("log")
    ax.set_xlabel(d["title"])
    fig.tight_layout()
    return fig


def category_mix_figure(table: pd.DataFrame, column: str):
    """Share of each level of one category within every segment (stacked bars)."""
    fig = _figure((8.5, 0.45 * len(table) + 1.4))
    ax = fig.subplots()
    left = np.zeros(len(table))
    for j, level in enumerate(table.columns):
        v = table[level].to_numpy()[::-1]
        ax.barh(range(len(table)), v, left=left, color=_color(j), label=str(level)[:24])
        left += v
    ax.set_yticks(range(len(table)), list(table.index)[::-1], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of the segment's users, by {column}")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig


def tree_figure(rules: Any, names: list[str]):
    """The surrogate decision tree, each node with its split and majority segment."""
    from sklearn.tree import plot_tree

    depth = rules.depth
    fig = _figure((min(28, 3.2 * 2**depth), 2.2 * (depth + 1)))
    ax = fig.subplots()
    plot_tree(
        rules.tree,
        feature_names=rules.feature_names,
        class_names=[str(i) for i in range(len(names))],
        filled=True,
        impurity=False,
        proportion=True,
        fontsize=6,
        ax=ax,
    )
    ax.set_title(f"surrogate tree: depth {depth}, fidelity {rules.fidelity:.0%}", fontsize=9)
    return fig


def _empty(message: str):
    fig = _figure((6, 1))
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center")
    return fig


def eda_associations_figure(table: pd.DataFrame):
    """Association between every pair of columns (Spearman |ρ|, Cramér's V or η)."""
    if table.empty:
        return _empty("fewer than two columns to associate")
    fig = _figure((0.35 * len(table) + 3, 0.35 * len(table) + 2))
    ax = fig.subplots()
    im = ax.imshow(table.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(table)), table.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(table)), table.index, fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7, label="association")
    fig.tight_layout()
    return fig


def bars_figure(values: pd.Series, title: str, xlabel: str, *, color: int, empty: str,
                hover: str = ""):  # fmt: skip
    """Horizontal bars: one per label of ``values``, in its order (``hover``: the
    interactive form's value format)."""
    if values.empty:
        return _empty(empty)
    fig = _figure((7, 0.35 * len(values) + 1.2))
    ax = fig.subplots()
    ax.barh([str(i) for i in values.index][::-1], values.to_numpy()[::-1], color=_color(color))
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def histogram_figure(values: np.ndarray, title: str, log: bool):
    """The distribution of one column (log-spaced bins for skewed positive values)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return _empty("no values")
    fig = _figure((7, 3.2))
    ax = fig.subplots()
    bins: Any = 40
    if log and values.min() > 0:
        bins = np.geomspace(values.min(), values.max(), 40) if values.max() > values.min() else 1
        ax.set_xscale("log")
    ax.hist(values, bins=bins, color=COLORS[0])
    ax.set_xlabel(title)
    ax.set_ylabel("users")
    fig.tight_layout()
    return fig


def differences_figure(table: pd.DataFrame, title: str):
    """Standardized differences with their 95 % intervals, largest first (``label``,
    ``difference``, ``ci_low``, ``ci_high``)."""
    if table.empty:
        return _empty("no differences")
    fig = _figure((7.5, 0.32 * len(table) + 1.3))
    ax = fig.subplots()
    y = np.arange(len(table))[::-1]
    d = table["difference"].to_numpy()
    err = np.vstack([d - table["ci_low"].to_numpy(), table["ci_high"].to_numpy() - d])
    colors = [COLORS[0] if v >= 0 else COLORS[1] for v in d]
    ax.barh(y, d, xerr=err, color=colors, error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.axvline(0, color="#868e96", linewidth=0.8)
    ax.set_yticks(y, [str(v)[:40] for v in table["label"]], fontsize=7)
    ax.set_xlabel("standardized difference [95 % CI]")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def methods_figure(table: pd.DataFrame):
    """Each method's silhouette, stability and seconds, side by side (k in the labels)."""
    specs = [
        ("silhouette", "Silhouette, same sample (higher)"),
        ("stability", "Stability of its k (higher)"),
        ("seconds", "Seconds"),
    ]
    fig = _figure((12, 0.45 * len(table) + 1.4))
    axes = fig.subplots(1, 3, sharey=True)
    names = [f"{m} (k={k})" for m, k in zip(table["method"], table["k"], strict=True)][::-1]
    y = np.arange(len(names))
    for ax, (col, title) in zip(axes, specs, strict=True):
        values = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)[::-1]
        ax.barh(y, np.nan_to_num(values), color=COLORS[0], height=0.6)
        for i, v in enumerate(values):
            ax.text(np.nan_to_num(v), i, " —" if np.isnan(v) else f" {v:.3g}", va="center",
                    fontsize=7)  # fmt: skip
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].set_yticks(y, names)
    fig.tight_layout()
    return fig
