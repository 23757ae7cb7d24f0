"""Self-contained HTML and Markdown renderings of result objects (which hold the data),
and the pages of the dashboard of ``personas serve``."""

from personas.report._dashboard import (
    ASSETS,
    asset,
    effects_figure,
    k_figures,
    render_page,
    sizes_figure,
)
from personas.report._eda import render_eda
from personas.report._fragments import render_fragment, render_profiles
from personas.report._methods import render_methods
from personas.report._segmentation import render_markdown, render_segmentation
from personas.report._validation import render_validation

__all__ = [
    "ASSETS",
    "asset",
    "effects_figure",
    "k_figures",
    "render_eda",
    "render_fragment",
    "render_markdown",
    "render_methods",
    "render_page",
    "render_profiles",
    "render_segmentation",
    "render_validation",
    "sizes_figure",
]
