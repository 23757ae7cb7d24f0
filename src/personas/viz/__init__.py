"""One function per chart, each with a static (matplotlib) and an interactive (plotly) form.

>>> fig = personas.viz.sizes(run)                      # matplotlib Figure
>>> fig = personas.viz.sizes(run, interactive=True)    # plotly Figure
"""

from personas.viz._charts import (
    CHARTS,
    category_mix,
    distributions,
    eda_associations,
    eda_missing,
    k_selection,
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
    "CHARTS",
    "category_mix",
    "distributions",
    "eda_associations",
    "eda_missing",
    "figure_to_data_uri",
    "k_selection",
    "profile_heatmap",
    "radar",
    "segment_map",
    "silhouette",
    "sizes",
    "snake",
    "surrogate_tree",
]
