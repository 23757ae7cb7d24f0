from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas.interpret import compare_segments
from personas.preprocess import BasisBuilder


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n = 4000
    seg = rng.integers(0, 3, n)
    df = pd.DataFrame(
        {
            "spend": np.where(seg == 0, rng.gamma(20, 10, n), rng.gamma(2, 5, n)).round(2),
            "visits": rng.poisson(10, n),  # the same in every segment
            "plan": np.where(seg == 0, "premium", rng.choice(["free", "basic"], n)),
            "tags": np.where(seg == 1, "sports;music", "music"),
        }
    )
    report = personas.validate(df)
    builder = BasisBuilder(report.schema).fit(report.data)
    return report, builder, seg


def test_largest_difference_first_with_intervals(table):
    report, builder, seg = table
    cmp = compare_segments(report.data, report.schema, builder, seg, 0, 1)
    first = cmp.rows[0]
    assert first["column"] in ("spend", "plan", "tags")  # the three planted differences
    assert abs(first["difference"]) > 2
    assert all(r["ci"][0] <= r["difference"] <= r["ci"][1] for r in cmp.rows)
    visits = next(r for r in cmp.rows if r["column"] == "visits")
    assert visits["ci"][0] < 0 < visits["ci"][1]  # no real difference: the interval covers 0
    spend = next(r for r in cmp.rows if r["column"] == "spend")
    assert spend["difference"] > 0 and spend["a"]["median"] > spend["b"]["median"]


def test_levels_and_labels(table):
    report, builder, seg = table
    cmp = compare_segments(report.data, report.schema, builder, seg, 0, 1)
    premium = next(r for r in cmp.rows if r.get("value") == "premium")
    assert premium["a"]["share"] == 1.0 and premium["b"]["share"] == 0.0
    sports = next(r for r in cmp.rows if r["column"] == "tags" and r["value"] == "sports")
    assert sports["difference"] < 0  # segment 1 has the label, segment 0 never
    swapped = compare_segments(report.data, report.schema, builder, seg, 1, 0)
    sports_b = next(r for r in swapped.rows if r["column"] == "tags" and r["value"] == "sports")
    assert sports_b["difference"] == pytest.approx(-sports["difference"])


def test_views(table):
    report, builder, seg = table
    cmp = compare_segments(report.data, report.schema, builder, seg, 0, 2, names=["A", "B", "C"])
    assert "A" in repr(cmp) and "C" in repr(cmp)
    df = cmp.to_pandas()
    assert list(df.columns[:4]) == ["column", "value", "segment 0", "segment 2"]
    assert cmp.to_dict()["b"] == {"id": 2, "name": "C", "size": int((seg == 2).sum())}
    # the result object (what run.compare returns) shows it: inline, as a chart
    from personas.results import SegmentComparison

    view = SegmentComparison.wrap(cmp)
    assert repr(view).startswith("<SegmentComparison: 0 'A' vs 2 'C'")
    assert "<table>" in view._repr_html_() and "&lt;" not in view.to_json()
    assert view.plot().axes and view.plot(interactive=True).data
