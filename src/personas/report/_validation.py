"""The HTML page of a validation (``personas.ValidationReport``; self-contained, no network)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from personas._version import __version__
from personas.io._schema import ROLES
from personas.report._render import css, environment


def render_validation(report: Any, *, fragment: bool = False) -> str:
    """Render a validation report as a full HTML page, or as a fragment for Jupyter."""
    template = environment().get_template("validation.html.j2")
    return template.render(
        r=report, roles=ROLES, version=__version__, css=Markup(css()), fragment=fragment
    )
