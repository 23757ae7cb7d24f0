"""`Result`: the small base every result object shares.

A result holds data (what a lower stage computed) and shows it: a one-line ``repr``,
an inline view in Jupyter (``_repr_mimebundle_``), ``to_dict``/``to_json``,
``to_pandas``, a self-contained page (``html``/``write_html``) and charts (``plot``).
The HTML comes from :mod:`personas.report` and the charts from :mod:`personas.viz`, which
take plain data; the stages below never import either.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from personas._json import default, dumps

__all__ = ["Result", "json_default"]

R = TypeVar("R", bound="Result")


json_default = default  # (the name results export)


class Result:
    """What every result object can do; subclasses say what they hold.

    A subclass implements ``_summary`` (the ``repr`` line), ``to_dict``, ``to_pandas``,
    ``_page(fragment)`` (its HTML) and ``_charts`` (chart name → drawing function).
    """

    #: What the repr points at.
    _hint = ".to_pandas(), .to_json(), .plot(), .write_html()"

    @classmethod
    def wrap(cls: type[R], data: Any) -> R:
        """This result of ``data``, a lower stage's plain result (the same attributes)."""
        out = cls.__new__(cls)
        out.__dict__.update(data.__dict__)
        return out

    # ------------------------------------------------------------------ to implement
    # (``to_dict`` and ``to_pandas`` too, often by the data class a result extends)
    def _summary(self) -> str:
        raise NotImplementedError

    def _page(self, fragment: bool) -> str:
        raise NotImplementedError

    def _charts(self) -> dict[str, Callable[..., Any]]:
        return {}

    # ------------------------------------------------------------------ shared
    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._summary()}; {self._hint}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._page(fragment=True)}

    def _repr_html_(self) -> str:
        return self._page(fragment=True)

    def to_json(self, path: str | Path | None = None) -> str:
        """``to_dict`` as JSON; written to ``path`` when given."""
        text = dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def html(self) -> str:
        """A self-contained HTML page (no network needed to open it)."""
        return self._page(fragment=False)

    def write_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def plot(self, kind: str | None = None, *, interactive: bool = False, **options: Any) -> Any:
        """Draw one chart: a matplotlib Figure, or a plotly Figure with ``interactive=True``.

        ``kind`` is one of the result's charts (the first by default); ``options`` go to
        the chart.
        """
        charts = self._charts()
        if not charts:
            raise ValueError(f"A {type(self).__name__} has no chart.")
        kind = kind if kind is not None else next(iter(charts))
        if kind not in charts:
            raise ValueError(f"Unknown chart {kind!r}; choose one of {sorted(charts)}.")
        chart = charts[kind]
        params = inspect.signature(chart).parameters.values()
        if any(p.kind == p.VAR_KEYWORD for p in params):
            return chart(interactive=interactive, **options)
        known = [
            p.name
            for p in inspect.signature(chart).parameters.values()
            if p.kind == p.KEYWORD_ONLY or p.kind == p.POSITIONAL_OR_KEYWORD
        ]
        unknown = [o for o in options if o not in known]
        if unknown:
            takes = [p for p in known if p != "interactive"]
            raise ValueError(
                f"The {kind} chart takes no option {unknown[0]!r}; its options are "
                f"{takes or 'none'}."
            )
        return chart(interactive=interactive, **options)
