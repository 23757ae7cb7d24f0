"""Small HTML views of result objects (Jupyter), and the page of a profiling.

Every piece of HTML is made here or in the other renderers of this package: the result
objects hold data and call these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import Markup

from personas._version import __version__
from personas.report._render import css, environment, plotly_div, plotly_js

__all__ = ["render_fragment", "render_profiles"]


def render_fragment(kind: str, *args: Any) -> str:
    """The inline view of one result: ``segmentation`` (a segmentation), ``k_selection``
    (scores as records, k, the reason), ``segment_profiles`` (the segments) or
    ``comparison`` (a comparison of two segments)."""
    macros = environment().get_template("fragments.html.j2").module
    return str(getattr(macros, kind)(*args))


def render_profiles(profiles: Any, figures: dict[str, Any], *, fragment: bool = False) -> str:
    """A profiling (``personas.Profiles``) as a page or a fragment: the columns used,
    the cleaning counts, the notes, every feature's definition with its median, and the
    ``figures`` (plotly: ``rfm``)."""
    data = profiles.data
    medians, filled = {}, {}
    for name in profiles.features:
        if name not in data.columns:
            continue
        col = data[name]
        filled[name] = f"{col.notna().mean():.0%}"
        if col.dtype.kind in "if":
            values = col.to_numpy(dtype=float, na_value=np.nan)
            if np.isfinite(values).any():
                medians[name] = f"{np.nanmedian(values):,.4g}"
    rfm = figures.get("rfm")
    template = environment().get_template("profiles.html.j2")
    return template.render(
        p=profiles,
        medians=medians,
        filled=filled,
        version=__version__,
        css=Markup(css()),
        plotly_js=Markup(plotly_js()) if rfm is not None and not fragment else "",
        rfm_chart=plotly_div(rfm, "profiles-rfm") if rfm is not None and not fragment else None,
        fragment=fragment,
    )
