"""Jinja environment over the templates shipped as package data, the shared CSS, and
plotly figures as HTML fragments (plotly.js embedded once per page)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("personas.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def css() -> str:
    return resources.files("personas.report").joinpath("templates/base.css").read_text("utf-8")


@cache
def plotly_js() -> str:
    """plotly.js from the installed plotly package (embedded once per report)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def plotly_div(fig: Any, div_id: str) -> Markup:
    """A plotly figure as a ``<div>`` (its script included; plotly.js is not)."""
    return Markup(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config={"displaylogo": False, "responsive": True},
        )
    )
