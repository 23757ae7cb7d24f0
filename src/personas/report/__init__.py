"""Self-contained HTML, JSON and Markdown renderings of result objects."""

from personas.report._eda import render_eda
from personas.report._segmentation import render_markdown, render_segmentation
from personas.report._validation import render_validation

__all__ = ["render_eda", "render_markdown", "render_segmentation", "render_validation"]
