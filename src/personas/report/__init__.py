"""Self-contained HTML, JSON and Markdown renderings of result objects."""

from personas.report._validation import render_validation

__all__ = ["render_validation"]
