"""The EDA report: a page of its own (`personas eda`) or a section of the segment report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from personas._version import __version__
from personas.report._render import css, environment

if TYPE_CHECKING:
    from personas.io import EDA


def render_eda(report: EDA, *, fragment: bool = False) -> str:
    from personas import viz
    from personas.report._segmentation import _div as div
    from personas.report._segmentation import plotly_js

    missing = viz.eda_missing(report, interactive=True)
    assoc = viz.eda_associations(report, interactive=True)
    template = environment().get_template("eda.html.j2")
    return template.render(
        fragment=fragment,
        css=Markup(css()),
        plotly_js=Markup(plotly_js()) if not fragment else "",
        version=__version__,
        report=report,
        source=report.source.name,
        columns=report.columns,
        alerts=report.alerts,
        pairs=report.associations.head(12).to_dict("records"),
        missing_chart=div(missing, "eda-missing") if missing.data else None,
        assoc_chart=div(assoc, "eda-assoc") if assoc.data else None,
        table_report=Markup(report.table_report_html() or ""),
    )
