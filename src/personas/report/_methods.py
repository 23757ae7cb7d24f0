"""The page of a comparison of segmentation methods (``personas compare-methods``)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from personas._version import __version__
from personas.report._render import css, environment, plotly_div, plotly_js

__all__ = ["render_methods"]


def render_methods(comparison: Any, figure: Any = None, *, fragment: bool = False) -> str:
    """A ``MethodComparison`` as a self-contained page (with its plotly ``figure``) or as
    a fragment for Jupyter: one row per method, the agreement between methods, each
    method's reason for its k and how each outcome column falls across its segments."""
    template = environment().get_template("methods.html.j2")
    return template.render(
        c=comparison,
        table=comparison.to_pandas().to_dict("records"),
        outcome_columns=comparison.outcome_columns(),
        separation={
            m: {o["column"]: o["separation"] for o in entries}
            for m, entries in comparison.outcomes.items()
        },
        agreement=comparison.agreement,
        version=__version__,
        css=Markup(css()),
        plotly_js=Markup(plotly_js()) if figure is not None else "",
        chart=plotly_div(figure, "methods-chart") if figure is not None else None,
        fragment=fragment,
    )
