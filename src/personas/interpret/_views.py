"""Notebook views of a segmentation's parts: k selection and segment profiles.

Each renders inline in Jupyter (``_repr_html_``), has ``.plot()`` (matplotlib, or plotly
with ``interactive=True``) and ``.to_pandas()``.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from personas.pipeline import Segmentation

__all__ = ["KSelection", "SegmentProfiles"]


class KSelection:
    """Every k tried, its scores, the chosen k and why."""

    def __init__(self, run: Segmentation) -> None:
        self._run = run
        self.k = run.k
        self.reason = run.k_reason
        self.scores = run.scores

    def __repr__(self) -> str:
        return f"<KSelection: k={self.k} chosen among {len(self.scores)} candidates; .plot()>"

    def to_pandas(self) -> pd.DataFrame:
        return self.scores.copy()

    def plot(self, *, interactive: bool = False) -> Any:
        from personas.viz import k_selection

        return k_selection(self._run, interactive=interactive)

    def _repr_html_(self) -> str:
        cols = ["k", "silhouette", "stability", "calinski_harabasz", "davies_bouldin", "inertia"]
        head = "".join(f"<th>{c}</th>" for c in cols)
        rows = "".join(
            "<tr{}>{}</tr>".format(
                ' style="font-weight:600"' if r["k"] == self.k else "",
                "".join(f"<td>{r.get(c, '')}</td>" for c in cols),
            )
            for r in self.scores.to_dict("records")
        )
        return (
            f"<p>{html.escape(self.reason)}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


class SegmentProfiles:
    """Every segment's profile against all users (effects with 95 % intervals)."""

    def __init__(self, run: Segmentation) -> None:
        self._run = run
        self.segments = run.segments

    def __repr__(self) -> str:
        return f"<SegmentProfiles: {len(self.segments)} segments; .to_pandas(), .plot()>"

    def __len__(self) -> int:
        return len(self.segments)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.segments[i]

    def to_pandas(self) -> pd.DataFrame:
        """Long format: one row per segment × column (and level, for categories)."""
        rows = []
        for s in self.segments:
            for p in s["profile"]:
                base = {"segment": s["id"], "name": s["name"], "column": p["column"]}
                if "effect" in p:
                    rows.append(
                        base
                        | {
                            "value": None,
                            "mean": p.get("mean"),
                            "median": p.get("median"),
                            "median_all": p.get("median_all"),
                            "effect": p["effect"],
                            "ci_low": p.get("ci", [None, None])[0],
                            "ci_high": p.get("ci", [None, None])[1],
                        }
                    )
                for level in p.get("over", []) + p.get("under", []):
                    rows.append(
                        base
                        | {
                            "value": level["value"],
                            "share": level["share"],
                            "share_all": level["share_all"],
                            "lift": level["lift"],
                            "effect": level["effect"],
                            "ci_low": level["ci"][0],
                            "ci_high": level["ci"][1],
                        }
                    )
        return pd.DataFrame(rows)

    def plot(self, kind: str = "heatmap", *, interactive: bool = False) -> Any:
        """``heatmap``, ``radar`` or ``snake``."""
        if kind not in ("heatmap", "radar", "snake"):
            raise ValueError(f"kind must be 'heatmap', 'radar' or 'snake', not {kind!r}.")
        return self._run.plot(kind, interactive=interactive)

    def _repr_html_(self) -> str:
        parts = []
        for s in self.segments:
            items = "".join(
                f"<li>{html.escape(t['label'])}: {t['effect']:+.2f}"
                + (f" [{t['ci'][0]:+.2f}, {t['ci'][1]:+.2f}]" if t.get("ci") else "")
                + "</li>"
                for t in s.get("distinguishing", [])[:5]
            )
            parts.append(
                f"<p><b>{s['id']} · {html.escape(s['name'])}</b> — {s['size']:,} users "
                f"({s['share']:.1%})</p><ul>{items}</ul>"
            )
        return "".join(parts)
