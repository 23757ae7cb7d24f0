"""Segmentation at defaults on the real public data sets (../shared/datasets)."""

from __future__ import annotations

import pytest

import personas

pytestmark = pytest.mark.realdata

FILES = {
    "telco": "telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv",
    "bank": "bank_marketing/bank-full.csv.gz",
    "shoppers": "online_shoppers/online_shoppers_intention.csv",
}


@pytest.mark.parametrize("name", list(FILES))
def test_sensible_segments_at_defaults(datasets_dir, name):
    run = personas.segment(datasets_dir / FILES[name], random_state=0)
    schema = run.model.schema
    assert 2 <= run.k <= 12
    assert run.k == len(run.segments) == run.labels["segment"].nunique()
    for col in run.model.basis:  # no ids, PII, text or high-cardinality column in the basis
        assert schema[col].role not in ("id", "pii", "text", "high_cardinality", "ignore")
    assert len(run.labels) == run.validation.n_rows
    assert min(s.share for s in run.segments) > 0.01  # no segment of a handful of rows
    assert len({s.name for s in run.segments}) == run.k
    if name == "telco":
        assert "customerID" not in run.model.basis
        assert list(run.labels.columns)[0] == "customerID"
        # the outcome is described per segment, not clustered on (issue 17)
        assert "Churn" not in run.model.basis
        assert [o["column"] for o in run.summary()["outcomes"]] == ["Churn"]
    else:
        assert list(run.labels.columns)[0] == "row"


def test_an_event_log_is_profiled_then_segmented(datasets_dir):
    # UCI's Online Retail II (2009-2010 sheet): invoice lines, not users
    path = datasets_dir / "online_retail_ii" / "online_retail_ii_2009_2010.csv.gz"
    run = personas.segment(path, random_state=0)
    assert run.events is not None and run.events.mapping["user_id"] == "Customer ID"
    assert len(run.labels) == len(run.events.data) == 4383  # the customers with an id
    assert run.model.basis == ["recency_days", "frequency", "monetary", "tenure_days"]
    assert run.validation.source.name == "online_retail_ii_2009_2010.csv.gz"
    assert "is an event log (525,461 lines" in run.validation.source.notes[0]
    top = max(run.segments, key=lambda s: s.value.get("revenue_share", 0))
    assert top.value["revenue_share"] > 0.5  # the few customers that bring most revenue


def test_a_model_of_online_retail_scores_its_invoice_lines(datasets_dir, tmp_path):
    """The model trained on the log scores the log: every customer gets their training
    segment back (the issue asks for 99.9 % or more)."""
    path = datasets_dir / "online_retail_ii" / "online_retail_ii_2009_2010.csv.gz"
    run = personas.segment(path, random_state=0)
    model = personas.load(run.model.save(tmp_path / "model.personas"))
    scored = model.predict(path)
    both = run.labels.merge(scored, on="user_id", suffixes=("_trained", "_scored"))
    assert len(both) == len(run.labels) == 4383
    assert (both["segment_trained"] == both["segment_scored"]).mean() >= 0.999
    assert len(model.predict(path, as_of="2010-06-01")) < 4383  # who had bought by then
