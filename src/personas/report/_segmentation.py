"""The self-contained HTML report of a segmentation (static images embedded, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from personas._version import __version__
from personas.report._render import css, environment

if TYPE_CHECKING:
    from personas.pipeline import Segmentation


def render_segmentation(run: Segmentation) -> str:
    from personas.viz import (
        figure_to_data_uri,
        k_selection_figure,
        pca_figure,
        profile_heatmap_figure,
        sizes_figure,
    )

    summary = run.summary()
    scores = run.scores
    k_image = figure_to_data_uri(k_selection_figure(scores, run.k)) if len(scores) > 1 else None
    pca_image = None
    sample = getattr(run, "basis_sample", None)
    if sample is not None and sample[0].shape[1] >= 2 and len(sample[0]) > 2:
        names = [s["name"] for s in run.segments]
        pca_image = figure_to_data_uri(pca_figure(sample[0], sample[1], names))
    v = run.validation.to_dict()
    quality = {k: v[k] for k in ("n_rows", "n_columns", "n_errors", "n_warnings", "roles")}
    template = environment().get_template("segmentation.html.j2")
    return template.render(
        css=Markup(css()),
        version=__version__,
        source=summary["source"]["name"],
        created=summary["created"],
        n_rows=summary["n_rows"],
        basis=summary["basis"],
        k=run.k,
        k_reason=run.k_reason,
        scores=scores.to_dict("records"),
        segments=run.segments,
        preprocessing=run.preprocessing,
        quality=quality,
        k_image=k_image,
        sizes_image=figure_to_data_uri(sizes_figure(run.segments)),
        heatmap_image=figure_to_data_uri(profile_heatmap_figure(run.segments)),
        pca_image=pca_image,
        insights=getattr(run, "insights", None) or {"insights": [], "limits": [], "columns": {}},
        rules_note=(
            f"depth {run.rules.depth}, fidelity {run.rules.fidelity:.0%} on "
            f"{run.rules.n_test:,} held-out users"
            if getattr(run, "rules", None) is not None
            else "not computed"
        ),
    )
