from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas.interpret import surrogate_rules
from personas.preprocess import BasisBuilder


@pytest.fixture(scope="module")
def thresholds():
    """Three segments defined by planted thresholds, with gaps between them.

    0: income below 40k; 1: income above 90k and fewer than 10 visits;
    2: income above 90k and 20 visits or more. Some incomes are missing in segment 0.
    """
    rng = np.random.default_rng(1)
    n = 6000
    seg = rng.integers(0, 3, n)
    income = np.where(seg == 0, rng.uniform(15_000, 40_000, n), rng.uniform(90_000, 160_000, n))
    visits = np.where(seg == 2, rng.integers(20, 40, n), rng.integers(0, 10, n))
    plan = np.where(seg == 0, "free", rng.choice(["basic", "premium"], n))
    income = income.round(0).astype(float)
    income[(seg == 0) & (rng.random(n) < 0.05)] = np.nan
    df = pd.DataFrame({"income": income, "visits": visits, "plan": plan})
    report = personas.validate(df)
    builder = BasisBuilder(report.schema).fit(report.data)
    return report.data, builder, seg


def test_rules_recover_planted_thresholds(thresholds):
    data, builder, seg = thresholds
    found = surrogate_rules(data, builder, seg, random_state=0)
    assert found.fidelity > 0.97
    assert found.depth <= 3
    for s in range(3):
        assert found.precision[s] > 0.95 and found.recall[s] > 0.95
    # segment 2's rule separates visits in the planted gap (10 ≤ threshold ≤ 20)
    rule = found.rules[2][0]
    visits = next(c for c in rule.conditions if c.column == "visits")
    assert visits.low is not None and 9 <= visits.low < 20
    assert "visits ≥" in rule.text()
    # the income split between low and high incomes lies in the planted gap
    thresholds_income = [
        c.low if c.low is not None else c.high
        for s in range(3)
        for r in found.rules[s]
        for c in r.conditions
        if c.column == "income"
    ]
    assert thresholds_income and all(40_000 <= t <= 90_000 for t in thresholds_income)


def test_rule_text_is_readable(thresholds):
    data, builder, seg = thresholds
    found = surrogate_rules(data, builder, seg, random_state=0)
    texts = [r.text() for s in range(3) for r in found.rules[s]]
    assert any("income ≤" in t or "income >" in t for t in texts)
    assert all("=" not in t.replace("≤", "").replace("≥", "") for t in texts)
    d = found.to_dict()
    assert d["fidelity"] == pytest.approx(found.fidelity, abs=1e-3)
    assert set(d["segments"]) == {"0", "1", "2"}
    assert d["segments"]["2"]["rules"][0]["rule"] == found.rules[2][0].text()


def test_missing_values_are_said(thresholds):
    data, builder, seg = thresholds
    found = surrogate_rules(data, builder, seg, random_state=0)
    # missing incomes are all in segment 0, so its income rule takes them
    low_income = [
        c for r in found.rules[0] for c in r.conditions if c.column == "income" and c.high
    ]
    if low_income:  # the tree may also use plan = free, which says it without income
        assert low_income[0].with_missing
        assert "(or missing)" in low_income[0].text()
    other = [
        c for s in (1, 2) for r in found.rules[s] for c in r.conditions if c.column == "income"
    ]
    assert not any(c.with_missing for c in other)


def test_levels_read_as_is_and_is_not():
    from personas.interpret._rules import Condition

    assert Condition("plan", "level", is_=["free"]).text() == "plan is free"
    assert Condition("plan", "level", is_not=["free"]).text() == "plan is not free"
    assert (
        Condition("plan", "level", is_not=["free", "basic"]).text() == "plan not in {free, basic}"
    )
    assert Condition("visits", "numeric", low=11.5, integer=True).text() == "visits ≥ 12"
    assert Condition("income", "numeric", low=81_950.0).text() == "income > 82k"
    assert (
        Condition("income", "numeric", low=40_000.0, high=90_500.0).text() == "40k < income ≤ 90.5k"
    )
    assert Condition("age", "numeric", low=42.5, high=92.5, integer=True).text() == "43 ≤ age ≤ 92"
    assert Condition("opt_in", "boolean", truth=True).text() == "opt_in is true"
    assert Condition("signup", "datetime", high=30.5).text() == "days since signup ≤ 30.5"


def test_a_number_missing_for_most_users_splits_as_missing_or_known():
    """pdays blank for the 70 % never contacted: when the segments are the contacted and
    the others, the tree splits the missing values from every present one (an infinite
    threshold) — "pdays is missing", "pdays is known" — where it was an internal error."""
    rng = np.random.default_rng(2)
    n = 1000
    contacted = rng.random(n) < 0.3
    data = pd.DataFrame(
        {"pdays": np.where(contacted, rng.integers(1, 400, n), np.nan).astype(float),
         "balance": rng.normal(1000, 200, n).round(2)}
    )  # fmt: skip
    report = personas.validate(data)
    builder = BasisBuilder(report.schema).fit(report.data)
    found = surrogate_rules(report.data, builder, contacted.astype(int), random_state=0)
    texts = {r.text() for rules in found.rules.values() for r in rules}
    assert {"pdays is missing", "pdays is known"} <= texts, texts
