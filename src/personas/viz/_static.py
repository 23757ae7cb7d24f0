"""Static charts of a segmentation (matplotlib ``Figure`` objects, never pyplot).

Figures are built without pyplot, so drawing a report neither needs a display nor
changes the backend of a notebook the user is working in.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd


def _figure(figsize: tuple[float, float]):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


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
    for ax, (col, title) in zip(axes, specs, strict=True):
        ax.plot(scores["k"], scores[col], marker="o", color="#4c6ef5")
        ax.axvline(k, color="#e8590c", linestyle="--", linewidth=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("k", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xticks(list(scores["k"]))
    fig.tight_layout()
    return fig


def sizes_figure(segments: list[dict[str, Any]]):
    """Share of users in each segment."""
    names = [f"{s['id']}: {s['name']}" for s in segments]
    shares = [100 * s["share"] for s in segments]
    fig = _figure((8, 0.45 * len(segments) + 0.8))
    ax = fig.subplots()
    ax.barh(names[::-1], shares[::-1], color="#4c6ef5")
    for i, v in enumerate(shares[::-1]):
        ax.text(v + 0.3, i, f"{v:.1f}%", va="center", fontsize=8)
    ax.set_xlabel("share of users (%)")
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def profile_heatmap_figure(segments: list[dict[str, Any]], max_features: int = 25):
    """Standardized differences of each segment from the population, per feature."""
    rows: dict[str, dict[int, float]] = {}
    for s in segments:
        for p in s["profile"]:
            if "effect" in p:
                rows.setdefault(p["column"], {})[s["id"]] = p["effect"]
    numeric = {k: v for k, v in rows.items() if v}
    if not numeric:
        fig = _figure((6, 1))
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "no numeric features to show", ha="center")
        return fig
    table = pd.DataFrame(numeric).T.reindex(columns=[s["id"] for s in segments])
    table = table.loc[table.abs().max(axis=1).sort_values(ascending=False).index[:max_features]]
    fig = _figure((1.1 * len(segments) + 3, 0.32 * len(table) + 1.2))
    ax = fig.subplots()
    lim = max(1.0, float(np.nanmax(np.abs(table.to_numpy()))))
    im = ax.imshow(table.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_yticks(range(len(table)), table.index, fontsize=8)
    ax.set_xticks(range(len(segments)), [str(s["id"]) for s in segments], fontsize=8)
    ax.set_xlabel("segment")
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = table.iat[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:+.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.7, label="standardized difference")
    fig.tight_layout()
    return fig


def pca_figure(
    X: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    *,
    max_points: int = 5000,
    random_state: int = 0,
):
    """A 2-D PCA map of a sample of users, coloured by segment."""
    from matplotlib import colormaps
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(random_state)
    rows = rng.choice(len(X), min(len(X), max_points), replace=False)
    pca = PCA(n_components=2, random_state=random_state).fit(X[rows])
    xy = pca.transform(X[rows])
    fig = _figure((7, 5))
    ax = fig.subplots()
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    for s, name in enumerate(names):
        m = labels[rows] == s
        ax.scatter(xy[m, 0], xy[m, 1], s=5, alpha=0.5, color=cmap(s % cmap.N), label=f"{s}: {name}")
    ev = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%})")
    ax.legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    return fig
