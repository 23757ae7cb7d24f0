"""One function per chart, each drawing plain data in a static (matplotlib) or an
interactive (plotly) form.

>>> fig = personas.viz.sizes(table)                      # matplotlib Figure
>>> fig = personas.viz.sizes(table, interactive=True)    # plotly Figure

Results draw themselves through these: ``run.plot("sizes")``, ``eda.plot("missing")``.
"""

from personas.viz._charts import (
    associations,
    category_mix,
    counts,
    differences,
    distributions,
    histogram,
    k_selection,
    methods,
    missing,
    profile_heatmap,
    radar,
    segment_map,
    silhouette,
    sizes,
    snake,
    surrogate_tree,
)
from personas.viz._static import figure_to_data_uri

__all__ = [
    "associations",
    "category_mix",
    "counts",
    "differences",
    "distributions",
    "figure_to_data_uri",
    "histogram",
    "k_selection",
    "methods",
    "missing",
    "profile_heatmap",
    "radar",
    "segment_map",
    "silhouette",
    "sizes",
    "snake",
    "surrogate_tree",
]
