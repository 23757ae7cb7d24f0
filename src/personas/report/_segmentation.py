"""The segmentation report: one self-contained HTML file (plotly.js embedded once, no
network), and the same facts as Markdown.

Sections: insights, segment overview, one part per segment (profile, rules, value, risk,
insights, example users without personal data), choosing k, data & quality, EDA,
preprocessing, method notes.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
from markupsafe import Markup

from personas._version import __version__
from personas.report._render import css, environment

if TYPE_CHECKING:
    from personas.pipeline import Segmentation

HIDDEN_ROLES = ("pii", "text", "ignore")


@cache
def plotly_js() -> str:
    """plotly.js from the installed plotly package (embedded once per report)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _div(fig: Any, div_id: str) -> Markup:
    return Markup(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )


def charts(run: Segmentation) -> dict[str, Any]:
    """Every interactive chart of the report, as HTML fragments."""
    from personas import viz
    from personas.viz import _data

    out: dict[str, Any] = {"sizes": _div(viz.sizes(run, interactive=True), "chart-sizes")}
    out["heatmap"] = _div(viz.profile_heatmap(run, interactive=True), "chart-heatmap")
    effects = _data.effects(run, 8)
    if len(effects) >= 3:
        out["radar"] = _div(viz.radar(run, interactive=True), "chart-radar")
    out["snake"] = _div(viz.snake(run, interactive=True), "chart-snake")
    if getattr(run, "basis_sample", None) is not None and run.basis_sample[0].shape[1] >= 2:
        out["map"] = _div(viz.segment_map(run, interactive=True), "chart-map")
        if run.k > 1:
            out["silhouette"] = _div(viz.silhouette(run, interactive=True), "chart-silhouette")
    if len(run.scores) > 1:
        out["k"] = _div(viz.k_selection(run, interactive=True), "chart-k")
    if run.rules is not None and run.k > 1:
        out["tree"] = _div(viz.surrogate_tree(run, interactive=True), "chart-tree")
    numeric, categorical = _data.default_columns(run, 3)
    out["distributions"] = [
        _div(viz.distributions(run, c, interactive=True), f"chart-dist-{i}")
        for i, c in enumerate(numeric)
    ]
    out["mix"] = [
        _div(viz.category_mix(run, c, interactive=True), f"chart-mix-{i}")
        for i, c in enumerate(categorical[:2])
    ]
    return out


def segment_facts(run: Segmentation) -> list[dict[str, Any]]:
    """Per segment: value and risk signals, its insights and example users."""
    insights = run.insights or {}
    signals = insights.get("signals") or [{} for _ in run.segments]
    examples = example_users(run)
    out = []
    for seg, sig in zip(run.segments, signals, strict=True):
        out.append(
            {
                "value_share": sig.get("value_share"),
                "value_index": sig.get("value_index"),
                "churn_rate": sig.get("churn_rate"),
                "churn_index": sig.get("churn_index"),
                "insights": [i for i in insights.get("insights", []) if i["segment"] == seg["id"]],
                "examples": examples.get(seg["id"], {"columns": [], "rows": []}),
            }
        )
    return out


def example_users(run: Segmentation, n: int = 3, max_columns: int = 8) -> dict[int, Any]:
    """The users nearest each segment's centre, on its most distinguishing columns.

    Personal data, free text and ignored columns are never shown.
    """
    schema = run.validation.schema
    data = run.validation.data
    shown_ok = {c for c, spec in schema.columns.items() if spec.role not in HIDDEN_ROLES}
    id_col = schema.id_column
    labels = run.labels
    out: dict[int, Any] = {}
    for seg in run.segments:
        cols = []
        for t in seg.get("distinguishing", []):
            if t["column"] in shown_ok and t["column"] in data.columns and t["column"] not in cols:
                cols.append(t["column"])
        cols = cols[:max_columns]
        members = np.flatnonzero(labels["segment"].to_numpy() == seg["id"])
        if not len(members):
            continue
        nearest = members[np.argsort(labels["distance"].to_numpy()[members], kind="stable")[:n]]
        rows = []
        for r in nearest:
            key = str(data[id_col].iloc[r]) if id_col in data.columns else f"row {r + 1}"
            rows.append([key] + [_cell(data[c].iloc[r]) for c in cols])
        out[seg["id"]] = {"columns": [id_col or "row"] + cols, "rows": rows}
    return out


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    try:
        import pandas as pd

        if pd.isna(v):
            return "—"
    except (TypeError, ValueError):
        pass
    if isinstance(v, float):
        return f"{v:,.4g}"
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")
    return str(v)


def render_segmentation(run: Segmentation) -> str:
    summary = run.summary()
    v = run.validation.to_dict()
    quality = {k: v[k] for k in ("n_rows", "n_columns", "n_errors", "n_warnings", "roles")}
    findings = [f for f in v["findings"] if f["level"] in ("error", "warning")][:25]
    eda = run.eda  # on a bounded sample of the segmented table
    template = environment().get_template("segmentation.html.j2")
    insights = run.insights or {"insights": [], "limits": [], "columns": {}, "not_assessed": []}
    return template.render(
        css=Markup(css()),
        plotly_js=Markup(plotly_js()),
        version=__version__,
        source=summary["source"]["name"],
        created=summary["created"],
        n_rows=summary["n_rows"],
        basis=summary["basis"],
        k=run.k,
        k_reason=run.k_reason,
        scores=run.scores.to_dict("records"),
        segments=run.segments,
        facts=segment_facts(run),
        preprocessing=run.preprocessing,
        quality=quality,
        findings=findings,
        charts=charts(run),
        insights=insights,
        rules=run.rules,
        eda=Markup(eda.html_section()) if eda is not None else None,
        value_column=(insights.get("columns") or {}).get("value"),
        has_clv=any("mean_clv" in s.get("value", {}) for s in run.segments),
        churn_column=(insights.get("columns") or {}).get("churn"),
    )


def render_markdown(run: Segmentation) -> str:
    """The report's facts as Markdown (no charts): segments, insights, rules, k, data."""
    facts = segment_facts(run)
    insights = run.insights or {}
    lines = [
        f"# Segments of {run.validation.source.name}",
        "",
        f"{len(run.labels):,} users · {run.k} segments · basis: {', '.join(run.model.basis)} · "
        f"personas {__version__}",
        "",
        "## Insights",
        "",
    ]
    if insights.get("insights"):
        lines += ["| priority | segment | insight | evidence | action |", "|---|---|---|---|---|"]
        for i in insights["insights"]:
            lines.append(
                f"| {i['priority']} | {i['segment']} · {_md(i['segment_name'])} | "
                f"{_md(i['title'])} | {_md(i['because'])} | {_md(i['action'])} |"
            )
    else:
        lines.append("No playbook rule fired.")
    lines += [""] + [f"- {limit}" for limit in insights.get("limits", [])]
    lines += ["", "## Segment overview", ""]
    lines += [
        "| id | name | users | share | value share | churn | mean CLV | P(alive) | stability |"
    ]
    lines += ["|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for seg, f in zip(run.segments, facts, strict=True):
        worth = seg.get("value", {})
        clv = f"{worth['mean_clv']:,.2f}" if "mean_clv" in worth else "—"
        alive = f"{worth['mean_p_alive']:.2f}" if "mean_p_alive" in worth else "—"
        lines.append(
            f"| {seg['id']} | {_md(seg['name'])} | {seg['size']:,} | {seg['share']:.1%} | "
            f"{_pct(f['value_share'])} | {_pct(f['churn_rate'])} | {clv} | {alive} | "
            f"{'—' if seg['stability'] is None else seg['stability']} |"
        )
    for seg, f in zip(run.segments, facts, strict=True):
        lines += ["", f"## Segment {seg['id']} · {_md(seg['name'])}", ""]
        lines.append(f"{seg['size']:,} users ({seg['share']:.1%}).")
        lines += ["", "| what sets it apart | effect [95% CI] |", "|---|---:|"]
        for t in seg.get("distinguishing", []):
            ci = t.get("ci")
            ci_text = f" [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else ""
            lines.append(f"| {_md(t['label'])} | {t['effect']:+.2f}{ci_text} |")
        rules = seg.get("rules", {}).get("rules", [])
        if rules:
            lines += ["", "Rules (precision / recall on held-out users):", ""]
            lines += [f"- `{r['rule']}` ({r['precision']:.0%} / {r['recall']:.0%})" for r in rules]
        for i in f["insights"]:
            lines.append(
                f"- **{_md(i['title'])}** ({i['priority']}): {_md(i['action'])} "
                f"— {_md(i['because'])}"
            )
    lines += ["", "## Choosing k", "", run.k_reason, ""]
    if len(run.scores):
        lines += ["| k | silhouette | stability | Calinski–Harabasz | Davies–Bouldin |"]
        lines += ["|---:|---:|---:|---:|---:|"]
        for s in run.scores.to_dict("records"):
            lines.append(
                f"| {s['k']} | {s['silhouette']} | {s['stability']} | "
                f"{s['calinski_harabasz']} | {s['davies_bouldin']} |"
            )
    return "\n".join(lines) + "\n"


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"
