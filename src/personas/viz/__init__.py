"""One function per chart (static matplotlib figures; interactive forms come later)."""

from personas.viz._static import (
    figure_to_data_uri,
    k_selection_figure,
    pca_figure,
    profile_heatmap_figure,
    sizes_figure,
)

__all__ = [
    "figure_to_data_uri",
    "k_selection_figure",
    "pca_figure",
    "profile_heatmap_figure",
    "sizes_figure",
]
