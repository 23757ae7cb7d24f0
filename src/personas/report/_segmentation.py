"""The segmentation report: one self-contained HTML file (plotly.js embedded once, no
network), and the same facts as Markdown.

Sections: insights, segment overview, one part per segment (profile, rules, value, risk,
insights, example users without personal data), choosing k, data & quality, EDA,
preprocessing, method notes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import Markup

from personas._version import __version__
from personas.io._names import personal_ids
from personas.report._render import css, environment, plotly_div, plotly_js

HIDDEN_ROLES = ("pii", "text", "ignore")


def _divs(figures: dict[str, Any]) -> dict[str, Any]:
    """The report's figures as HTML fragments (per-column charts as lists)."""
    out: dict[str, Any] = {}
    for name, fig in figures.items():
        if isinstance(fig, list):
            out[name] = [plotly_div(f, f"chart-{name}-{i}") for i, f in enumerate(fig)]
        else:
            out[name] = plotly_div(fig, f"chart-{name}")
    return out


def segment_facts(run: Any) -> list[dict[str, Any]]:
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
                "insights": [i for i in insights.get("insights", []) if i["segment"] == seg.id],
                "examples": examples.get(seg.id, {"columns": [], "rows": []}),
            }
        )
    return out


def example_users(run: Any, n: int = 3, max_columns: int = 8) -> dict[int, Any]:
    """The users nearest each segment's centre, on its most distinguishing columns.

    Personal data, free text and ignored columns are never shown.
    """
    schema = run.validation.schema
    data = run.validation.data
    shown_ok = {c for c, spec in schema.columns.items() if spec.role not in HIDDEN_ROLES}
    id_col = schema.id_column
    if id_col in data.columns and personal_ids(id_col, data[id_col]):
        id_col = None  # (ids that are e-mail addresses or names: rows are numbered instead)
    labels = run.labels
    out: dict[int, Any] = {}
    for seg in run.segments:
        cols = []
        for t in seg.distinguishing:
            if t.column in shown_ok and t.column in data.columns and t.column not in cols:
                cols.append(t.column)
        cols = cols[:max_columns]
        members = np.flatnonzero(labels["segment"].to_numpy() == seg.id)
        if not len(members):
            continue
        nearest = members[np.argsort(labels["distance"].to_numpy()[members], kind="stable")[:n]]
        rows = []
        for r in nearest:
            key = str(data[id_col].iloc[r]) if id_col in data.columns else f"row {r + 1}"
            rows.append([key] + [_cell(data[c].iloc[r]) for c in cols])
        out[seg.id] = {"columns": [id_col or "row"] + cols, "rows": rows}
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


#: How each method finds segments and chooses k, for the report's "Method" section.
METHOD_TEXT = {
    "kmeans": (
        "Segments are found with K-Means on the basis matrix. k is chosen on a sample of up "
        "to 10,000 rows: for each k, K-Means with 4 starts, then silhouette (on 5,000 rows), "
        "Calinski–Harabasz, Davies–Bouldin, inertia and stability (mean adjusted Rand index "
        "of K-Means refitted, again with 4 starts, on 5 bootstrap resamples). Rule: among "
        "the k with stability ≥ 0.75, the largest k whose silhouette is within 10% of the "
        "best, not past the elbow of the inertia curve (or the best-silhouette k, if "
        "larger). The final model is fitted on all rows from the sample's centres."
    ),
    "gmm": (
        "Segments are found with a Gaussian mixture (full covariances: each segment has its "
        "own size, spread and shape) on the basis matrix, or on its first 16 principal "
        "components when it is wider. k is chosen on a sample of up to 10,000 rows: for "
        "each k, a mixture started from the best of 4 K-Means starts, its BIC, silhouette "
        "(on 5,000 rows, in the basis), Calinski–Harabasz, Davies–Bouldin and stability "
        "(mean adjusted Rand index of mixtures refitted on 3 bootstrap resamples). Rule: "
        "among the k with stability ≥ 0.75, the lowest BIC — or, when the BIC still falls "
        "at the largest k tried, the elbow of the BIC curve. The final mixture is fitted "
        "on all rows from the sample's; each user belongs to the segment of highest "
        "probability, and segments.parquet holds every segment's probability."
    ),
    "ward": (
        "Segments are found with Ward's hierarchical clustering of a sample of up to 5,000 "
        "rows of the basis matrix; each cut of its tree gives the segments' centres, and "
        "every user belongs to the segment of the nearest centre. k is chosen by the "
        "K-Means rule over the same criteria (silhouette, stability over 5 trees grown on "
        "bootstrap resamples, the elbow of the within-segment sum of squares)."
    ),
    "hdbscan": (
        "Segments are found with HDBSCAN (scikit-learn's) on the first 3 principal "
        "components of the basis of a sample of up to 10,000 rows: groups of users denser "
        "than their surroundings, the smallest holding at least 1% of the sample (10 users "
        "or more), each user's density read from its 5 nearest neighbours. Their number is "
        "HDBSCAN's own; the users in no dense group are the last segment, Unassigned. Every "
        "user is placed by the sample's users: the one at the smallest mutual reachability "
        "distance gives its segment, unless it is unassigned or the user lies beyond its "
        "segment's reach. Confidence: the share of the user's 5 nearest sample users in the "
        "same segment. Stability: HDBSCAN refitted on 3 subsamples of 80%."
    ),
    "kprototypes": (
        "Segments are found with k-prototypes on the basis matrix: a segment's prototype "
        "holds the mean of each number and the most frequent level (the mode) of each "
        "category, and a user's distance to it adds the squared differences of the "
        "numbers and a fixed cost for each category whose level differs (the basis' "
        "weights give every column an equal say). k is chosen by the K-Means rule on a "
        "sample of up to 10,000 rows (4 starts per k, stability over 5 bootstrap refits); "
        "the final prototypes come from all rows, started from the sample's."
    ),
    "deep": (
        "Segments are found by deep segmentation: an autoencoder (layers of 64 and 32 units "
        "and an embedding of 8 dimensions, or half the basis' columns if fewer) learns to "
        "reproduce the basis rows of a sample of up to 20,000 users; K-Means, with k chosen "
        "by its rule, finds the segments in the embedding; IDEC then refines encoder and "
        "centres together (a Student t soft assignment pulled toward a sharpened target, "
        "the reconstruction kept). Each user belongs to the segment of highest soft "
        "assignment, and segments.parquet holds every segment's."
    ),
}


def render_segmentation(run: Any, figures: dict[str, Any], eda: str | None) -> str:
    """A segmentation (``personas.Segmentation``) as a page, with its ``figures``
    (plotly, as ``report_figures`` gathers them) and the HTML section of its EDA."""
    summary = run.summary()
    v = run.validation.to_dict()
    quality = {k: v[k] for k in ("n_rows", "n_columns", "n_errors", "n_warnings", "roles")}
    findings = [f for f in v["findings"] if f["level"] in ("error", "warning")][:25]
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
        method_text=METHOD_TEXT[run.model.method],
        scores=run.scores.to_dict("records"),
        has_bic="bic" in run.scores,
        segments=run.segments,
        facts=segment_facts(run),
        preprocessing=run.preprocessing,
        quality=quality,
        findings=findings,
        charts=_divs(figures),
        insights=insights,
        outcomes=getattr(run, "outcomes", []),
        rules=run.rules,
        eda=Markup(eda) if eda is not None else None,
        value_column=(insights.get("columns") or {}).get("value"),
        has_clv=any("mean_clv" in s.value for s in run.segments),
        churn_column=(insights.get("columns") or {}).get("churn"),
    )


def render_markdown(run: Any) -> str:
    """The report's facts as Markdown (no charts): segments, insights, rules, k, data."""
    facts = segment_facts(run)
    insights = run.insights or {}
    lines = [
        f"# Segments of {_md(run.validation.source.name)}",
        "",
        f"{len(run.labels):,} users · {run.k} segments · "
        f"basis: {_md(', '.join(run.model.basis))} · personas {__version__}",
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
    lines += [""] + [f"- {_md(limit)}" for limit in insights.get("limits", [])]
    for o in getattr(run, "outcomes", []):
        title = f"{_md(o['column'])} ({100 * o['rate']:.1f}% overall, separation {o['separation']})"
        lines += ["", f"## Outcome: {title}", "", "| segment | users | rate | lift |"]
        lines.append("|---|---|---|---|")
        for r in o["segments"]:
            lines.append(
                f"| {r['segment']} | {r['n']:,} | {_cell(r['rate'])} | {_cell(r['lift'])} |"
            )
    lines += ["", "## Segment overview", ""]
    lines += [
        "| id | name | users | share | value share | churn | mean CLV | P(alive) | stability |"
    ]
    lines += ["|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for seg, f in zip(run.segments, facts, strict=True):
        worth = seg.value
        clv = f"{worth['mean_clv']:,.2f}" if "mean_clv" in worth else "—"
        alive = f"{worth['mean_p_alive']:.2f}" if "mean_p_alive" in worth else "—"
        lines.append(
            f"| {seg.id} | {_md(seg.name)} | {seg.size:,} | {seg.share:.1%} | "
            f"{_pct(f['value_share'])} | {_pct(f['churn_rate'])} | {clv} | {alive} | "
            f"{'—' if seg.stability is None else seg.stability} |"
        )
    for seg, f in zip(run.segments, facts, strict=True):
        lines += ["", f"## Segment {seg.id} · {_md(seg.name)}", ""]
        lines.append(f"{seg.size:,} users ({seg.share:.1%}).")
        lines += ["", "| what sets it apart | effect [95% CI] |", "|---|---:|"]
        for t in seg.distinguishing:
            ci_text = f" [{t.ci[0]:+.2f}, {t.ci[1]:+.2f}]" if t.ci else ""
            lines.append(f"| {_md(t.label)} | {t.effect:+.2f}{ci_text} |")
        rules = (seg.rules or {}).get("rules", [])
        if rules:
            lines += ["", "Rules (precision / recall on held-out users):", ""]
            lines += [
                f"- `{_code(r['rule'])}` ({r['precision']:.0%} / {r['recall']:.0%})" for r in rules
            ]
        for i in f["insights"]:
            lines.append(
                f"- **{_md(i['title'])}** ({i['priority']}): {_md(i['action'])} "
                f"— {_md(i['because'])}"
            )
    lines += ["", "## Choosing k", "", _md(METHOD_TEXT[run.model.method]), ""]
    lines += [_md(run.k_reason), ""]
    if len(run.scores):
        bic = "bic" in run.scores
        lines += ["| k | silhouette | stability | Calinski–Harabasz | Davies–Bouldin |"
                  + (" BIC |" if bic else "")]  # fmt: skip
        lines += ["|---:|---:|---:|---:|---:|" + ("---:|" if bic else "")]
        for s in run.scores.to_dict("records"):
            lines.append(
                f"| {s['k']} | {s['silhouette']} | {s['stability']} | "
                f"{s['calinski_harabasz']} | {s['davies_bouldin']} |"
                + (f" {s['bic']} |" if bic else "")
            )
    return "\n".join(lines) + "\n"


def _md(text: Any) -> str:
    """Text for Markdown prose and tables: what it holds (a column named "<script>") is
    shown, never run by the page that renders the Markdown as HTML."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def _code(text: Any) -> str:
    """Text for a code span (shown as it is; a backtick in it would end the span)."""
    return str(text).replace("`", "'").replace("|", "\\|")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"
