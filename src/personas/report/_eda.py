"""The EDA report: a page of its own (`personas eda`) or a section of the segment report."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from personas._version import __version__
from personas.io._names import personal_ids
from personas.report._render import css, environment, plotly_div, plotly_js

SKRUB_ROWS = 10_000
HIDDEN = ("pii", "text", "ignore")  # roles whose values are never shown


def render_eda(report: Any, figures: dict[str, Any], *, fragment: bool = False) -> str:
    """An exploration (``personas.EDA``) as a page, or as a section (``fragment``), with
    its ``figures`` (plotly: ``missing``, ``associations``)."""
    missing, assoc = figures.get("missing"), figures.get("associations")
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
        missing_chart=plotly_div(missing, "eda-missing") if missing and missing.data else None,
        assoc_chart=plotly_div(assoc, "eda-assoc") if assoc and assoc.data else None,
        table_report=Markup(table_report_html(report) or ""),
    )


def table_report_html(report: Any) -> str | None:
    """skrub's TableReport of the exploration's sample (personal data and free text left
    out), without links out of the page."""
    if report.sample is None:
        return None
    import skrub

    shown = [
        c
        for c in report.sample.columns
        if report.columns.get(c, {}).get("role") not in HIDDEN
        and not (
            report.columns.get(c, {}).get("role") == "id" and personal_ids(c, report.sample[c])
        )
    ]  # (ids that are e-mail addresses are personal data too)
    frame = report.sample[shown].head(SKRUB_ROWS)
    html = skrub.TableReport(frame, verbose=0, title=None).html_snippet()
    # The report must not point outside the file: keep link texts, drop their targets.
    return re.sub(r"""\shref=(["'])https?://[^"']*\1""", "", html)
