"""`MethodComparison`: every segmentation method on the same data, side by side."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from personas import report, viz
from personas.cluster import fit_methods
from personas.interpret import outcome_rates
from personas.results._base import Result

__all__ = ["MethodComparison"]


class MethodComparison(Result):
    """Every method (``kmeans``, ``gmm``, ``ward``, ``kprototypes``) on the same basis.

    Attributes
    ----------
    methods : list of MethodResult
        Per method: ``method``, ``label``, ``k``, ``k_reason``, ``silhouette`` (on one
        sample of users, in the basis), ``stability`` (of its k: its bootstrap refits'
        mean adjusted Rand index), ``seconds``, ``labels`` and the fitted ``segmenter``.
    agreement : pandas.DataFrame
        Adjusted Rand index between any two methods' segments (1: the same segments).
    outcomes : dict
        Per method, the rate of each outcome column across its segments
        (:func:`personas.interpret.outcome_rates`): ``separation`` is the share of the
        outcome's variance between the segments (η²; it grows with k).
    source : str
    n_rows : int
    """

    _hint = ".to_pandas(), .agreement, .plot(), .write_html()"

    def __init__(self, *, methods, agreement, outcomes, source, n_rows, basis):  # fmt: skip
        self.methods = methods
        names = [m.method for m in methods]
        self.agreement = pd.DataFrame(agreement, index=names, columns=names)
        self.outcomes = outcomes
        self.source = source
        self.n_rows = n_rows
        self.basis = basis

    @classmethod
    def compute(
        cls,
        X: np.ndarray,
        table: pd.DataFrame,
        schema: Any,
        *,
        source: str,
        basis: list[str],
        methods: list[str] | None = None,
        **options: Any,
    ) -> MethodComparison:
        """Fit ``methods`` on the basis ``X`` of ``table`` (``options``: k, k_min, k_max,
        random_state) and measure each; outcomes are the schema's outcome columns."""
        found, agreement = fit_methods(X, methods, **options)
        outcomes = {m.method: outcome_rates(table, m.labels, schema) for m in found}
        return cls(
            methods=found,
            agreement=agreement,
            outcomes=outcomes,
            source=source,
            n_rows=len(table),
            basis=basis,
        )

    def _summary(self) -> str:
        ks = ", ".join(f"{m.method} k={m.k}" for m in self.methods)
        return f"{len(self.methods)} methods on {self.n_rows:,} users ({ks})"

    def outcome_columns(self) -> list[str]:
        return list(dict.fromkeys(o["column"] for v in self.outcomes.values() for o in v))

    def to_pandas(self) -> pd.DataFrame:
        """One row per method: method, label, k, silhouette, stability, seconds, and the
        separation of each outcome column (``separation_<column>``)."""
        rows = []
        for m in self.methods:
            row = {k: v for k, v in m.to_dict().items() if k != "k_reason"}
            for o in self.outcomes.get(m.method, []):
                row[f"separation_{o['column']}"] = o["separation"]
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_rows": self.n_rows,
            "basis": self.basis,
            "methods": [
                m.to_dict()
                | {"outcomes": {o["column"]: o["separation"] for o in self.outcomes[m.method]}}
                for m in self.methods
            ],
            "agreement": {
                a: {b: round(float(v), 4) for b, v in row.items()}
                for a, row in self.agreement.to_dict("index").items()
            },
        }

    def _page(self, fragment: bool) -> str:
        figure = None if fragment else self.plot(interactive=True)
        return report.render_methods(self, figure, fragment=fragment)

    def _charts(self) -> dict[str, Callable[..., Any]]:
        return {"methods": functools.partial(viz.methods, self.to_pandas())}
