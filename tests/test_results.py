"""Every result object shares one interface: repr, Jupyter's mime bundle, to_dict/to_json,
to_pandas, html/write_html and plot (static and interactive)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import personas
from personas._json import plain
from personas.results import Result


@pytest.fixture(scope="module")
def results():
    users, _ = personas.datasets.make_users(1200, random_state=7)
    events = personas.datasets.make_events(users, random_state=7)
    # names the pages show (a column of the table, of the log), to be escaped
    users = users.rename(columns={"total_spend": "<b>spend</b>"})
    events = events.rename(columns={"amount": "<b>spend</b>"})
    run = personas.segment(users, k=4, random_state=0)
    return {
        "validation": (personas.validate(users), ["missing"]),
        "eda": (personas.eda(users), ["missing", "associations"]),
        "profiles": (personas.profile(events, as_of="2025-06-30"), ["rfm", "distribution"]),
        "segmentation": (run, ["sizes", "heatmap", "k_selection"]),
        "k_selection": (run.k_selection, ["k_selection"]),
        "segment_profiles": (run.profiles, ["heatmap", "radar", "snake"]),
        "comparison": (run.compare(0, 1), ["differences"]),
    }


KINDS = [
    "validation",
    "eda",
    "profiles",
    "segmentation",
    "k_selection",
    "segment_profiles",
    "comparison",
]


@pytest.mark.parametrize("kind", KINDS)
def test_one_interface(results, kind, tmp_path):
    result, charts = results[kind]
    assert isinstance(result, Result)
    text = repr(result)
    assert text.startswith(f"<{type(result).__name__}: ") and "\n" not in text
    bundle = result._repr_mimebundle_()
    assert bundle["text/plain"] == text and "<" in bundle["text/html"]
    assert "<b>spend</b>" not in bundle["text/html"]  # what is shown is escaped
    # to_dict as JSON every parser reads: NaN and infinities as null
    expected = json.loads(json.dumps(plain(result.to_dict()), default=str))
    got = json.loads(result.to_json(), parse_constant=lambda c: c)
    for when in (got, expected):  # (the time of writing: a second may pass between them)
        when.pop("created", None)
    assert got == expected
    assert isinstance(result.to_pandas(), pd.DataFrame)
    page = result.write_html(tmp_path / "page.html").read_text(encoding="utf-8")
    assert "<html" in page or "<div" in page
    assert "<b>spend</b>" not in page
    if kind in ("validation", "eda", "profiles", "comparison"):  # (they show the name)
        assert "&lt;b&gt;spend&lt;/b&gt;" in page
    for chart in charts:
        figure = result.plot(chart)
        figure.savefig(tmp_path / f"{chart}.png")
        assert result.plot(chart, interactive=True).data, f"{kind}: empty {chart}"
    with pytest.raises(ValueError, match="Unknown chart 'pie'; choose one of"):
        result.plot("pie")
    with pytest.raises(ValueError, match=f"The {charts[0]} chart takes no option 'colour'"):
        result.plot(charts[0], colour="red")


def test_a_profiles_page_says_how_the_log_was_read(results):
    profiles, _ = results["profiles"]
    page = profiles.html()
    assert page.startswith("<!DOCTYPE html>")
    assert "Columns used" in page and "Cleaning" in page and "RFM segments" in page
    assert "recency_days" in page and "Plotly.newPlot" in page
    with pytest.raises(ValueError, match="No numeric profile column 'plan'"):
        profiles.plot("distribution", column="plan")
