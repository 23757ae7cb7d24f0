from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import personas
from personas.errors import SchemaError
from personas.interpret import Playbook, Segment, derive_insights, find_meanings, segment_signals
from personas.interpret._insights import SIGNALS, _churn_flag

BOOK = Playbook.default()


def _satisfying(rule) -> dict[str, float]:
    """Signals that meet every condition of ``rule`` by a margin (others neutral)."""
    sig = {name: 1.0 for name in SIGNALS}
    sig.update(recency_effect=0.0, tenure_effect=0.0, activity_effect=0.0, discount_effect=0.0)
    sig.update(trend_effect=0.0)
    sig.update(size_share=0.2, value_share=0.2, churn_rate=0.1, free_share=0.2)
    for name, op, x in rule.when:
        sig[name] = x + 0.5 if op in (">=", ">") else x - 0.5 if op in ("<=", "<") else x
    return sig


def _violating(sig: dict[str, float], cond) -> dict[str, float]:
    name, op, x = cond
    bad = dict(sig)
    bad[name] = x - 0.01 if op in (">=", ">") else x + 0.01
    if op == ">":
        bad[name] = x
    if op == "<":
        bad[name] = x
    return bad


@pytest.mark.parametrize("rule", BOOK.rules, ids=lambda r: r.id)
def test_each_rule_fires_exactly_when_its_evidence_holds(rule):
    seg = [Segment(id=0, name="A", size=100, share=1.0)]
    sig = _satisfying(rule)
    fired = [i["rule"] for i in derive_insights([sig], seg, Playbook([rule]))["insights"]]
    assert fired == [rule.id]
    for cond in rule.when:  # break one condition at a time: the rule stays silent
        out = derive_insights([_violating(sig, cond)], seg, Playbook([rule]))
        assert out["insights"] == [], f"{rule.id} fired although {cond} fails"
    # at the boundary itself, >= and <= hold
    edge = dict(sig)
    for name, op, x in rule.when:
        if op in (">=", "<="):
            edge[name] = x
    assert derive_insights([edge], seg, Playbook([rule]))["insights"]


def test_insights_cite_their_numbers():
    rule = next(r for r in BOOK.rules if r.id == "retain_at_risk_value")
    sig = _satisfying(rule) | {"value_share": 0.31, "size_share": 0.12, "churn_rate": 0.42}
    insight = derive_insights([sig], [Segment(id=3, name="X", size=10, share=1.0)], BOOK)[
        "insights"
    ][0]
    assert insight["segment"] == 3 and insight["priority"] == "high"
    assert "31% of value from 12% of users" in insight["because"]
    assert "churn 42%" in insight["because"]
    assert insight["evidence"]["value_index"] == pytest.approx(sig["value_index"])


def test_without_value_or_churn_columns_nothing_is_claimed():
    df = pd.DataFrame(
        {"age": np.random.default_rng(0).integers(18, 80, 600), "city": ["a", "b", "c"] * 200}
    )
    report = personas.validate(df)
    meanings = find_meanings(report.data, report.schema)
    assert meanings["value"] is None and meanings["churn"] is None
    labels = np.arange(600) % 2
    segments = [Segment(id=i, name=n, size=0, share=0.5) for i, n in enumerate("AB")]
    sig, why_not = segment_signals(report.data, report.schema, labels, segments, meanings)
    assert all("value_share" not in s and "churn_rate" not in s for s in sig)
    out = derive_insights(sig, segments, BOOK, why_not)
    assert out["insights"] == []
    assessed = {n["rule"] for n in out["not_assessed"]}
    assert {"retain_at_risk_value", "investigate_churn"} <= assessed
    assert any("no value column" in limit for limit in out["limits"])
    assert any("no churn" in limit for limit in out["limits"])


def test_meanings_found_by_name_on_demo_data():
    users, _ = personas.datasets.make_users(800, random_state=0)
    report = personas.validate(users)
    m = find_meanings(report.data, report.schema)
    assert m["value"] == "total_spend"
    assert m["churn"] == "renewal_status"  # through its "cancelled" level
    assert m["recency"] == "last_active_date" and m["tenure"] == "signup_date"
    assert m["plan"] == "membership_type"
    assert {"sessions", "website_visits"} <= set(m["activity"])
    assert "total_spend" not in m["activity"]


def test_churn_flags():
    yes_no = pd.Series(["Yes", "No", None, "No"], name="Churn")
    assert _churn_flag(yes_no).tolist()[:2] == [1.0, 0.0]
    assert np.isnan(_churn_flag(yes_no)[2])
    status = pd.Series(["active", "cancelled", "none"], name="renewal_status")
    assert _churn_flag(status).tolist() == [0.0, 1.0, 0.0]
    # yes/no that is not about churn (e.g. marketing opt-in) is not a churn column
    assert _churn_flag(pd.Series([True, False], name="opt_in", dtype="boolean")) is None
    assert _churn_flag(pd.Series(["yes", "no"], name="subscribed")) is None


def test_demo_segments_get_the_planted_actions():
    users, truth = personas.datasets.make_users(4000, random_state=2)
    run = personas.segment(users, random_state=0)
    by_rule: dict[str, set[str]] = {}
    majority = pd.crosstab(run.labels["segment"], truth["segment_name"]).idxmax(axis=1)
    for i in run.insights["insights"]:
        by_rule.setdefault(i["rule"], set()).add(majority[i["segment"]])
    assert "Loyal premium" in by_rule["reward_loyal_value"]
    assert "Bargain hunters" in by_rule["discount_led"]
    assert "New users" in by_rule["onboard_new_inactive"]
    assert by_rule["retain_at_risk_value"] <= {"Lapsing high spenders"}
    assert "Engaged free browsers" in by_rule["upgrade_engaged_free"]


def test_user_playbook_adds_replaces_and_maps_columns(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text(
        """
[columns]
value = "avg_order_value"

[[rule]]
id = "discount_led"
title = "Deal lovers"
action = "Send the weekly deals e-mail."
priority = "low"
when = ["discount_effect >= 0.4"]

[[rule]]
id = "big_segment"
title = "A big segment"
action = "Check it."
when = ["size_share >= 0.2"]
because = "{size_share:.0%} of users"
"""
    )
    book = Playbook.load(path)
    ids = [r.id for r in book.rules]
    assert ids.count("discount_led") == 1 and "big_segment" in ids
    assert len(ids) == len(BOOK.rules) + 1
    assert next(r for r in book.rules if r.id == "discount_led").priority == "low"
    assert book.columns == {"value": "avg_order_value"}
    path.write_text(path.read_text().replace("[columns]", "replace = true\n[columns]"))
    assert [r.id for r in Playbook.load(path).rules] == ["discount_led", "big_segment"]


@pytest.mark.parametrize(
    "text, match",
    [
        (
            '[[rule]]\nid="x"\ntitle="t"\naction="a"\nwhen=["spend >= 1"]',
            "cannot read the condition",
        ),
        (
            '[[rule]]\nid="x"\ntitle="t"\naction="a"\nwhen=["size_share => 1"]',
            "book.toml, rule 'x'",
        ),
        ('[[rule]]\nid="x"\ntitle="t"\nwhen=["size_share >= 1"]', "lacks \\['action'\\]"),
        ('[[rule]]\nid="x"\ntitle="t"\naction="a"\nwhen=[]\npriority="urgent"', "priority"),
        ('[[rule]]\nid="x"\ntitle="t"\naction="a"\nwhen=[]\nbecause="{spend}"', "not a signal"),
        ("[colums]\nvalue='x'", "unknown top-level key"),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_bad_playbooks_are_clear_errors(tmp_path, text, match):
    path = tmp_path / "book.toml"
    path.write_text(text)
    with pytest.raises(SchemaError, match=match):
        Playbook.load(path)


def test_playbook_naming_a_missing_column_is_an_error():
    users, _ = personas.datasets.make_users(300, random_state=0)
    report = personas.validate(users)
    with pytest.raises(SchemaError, match="'revenue' as the value column"):
        find_meanings(report.data, report.schema, {"value": "revenue"})


def test_a_total_beats_a_rate_for_value():
    df = pd.DataFrame(
        {
            "MonthlyCharges": np.linspace(20, 100, 300),
            "TotalCharges": np.linspace(20, 5000, 300),
            "tenure": np.arange(300) % 70,
        }
    )
    report = personas.validate(df)
    assert find_meanings(report.data, report.schema)["value"] == "TotalCharges"


def test_falling_activity_of_valuable_users_is_a_retention_insight():
    rng = np.random.default_rng(4)
    n = 3000
    seg = np.arange(n) % 3
    df = pd.DataFrame(
        {
            "revenue": np.where(seg == 0, 900.0, 100.0) + rng.normal(0, 5, n),
            "visits_trend_30d": np.where(seg == 0, -0.6, 0.1) + rng.normal(0, 0.1, n),
            "visits": rng.poisson(8, n),
        }
    )
    report = personas.validate(df)
    from personas.interpret import profile_segments
    from personas.preprocess import BasisBuilder

    builder = BasisBuilder(report.schema).fit(report.data)
    segments = profile_segments(report.data, report.schema, builder, seg)
    meanings = find_meanings(report.data, report.schema)
    assert meanings["trend"] == ["visits_trend_30d"] and meanings["value"] == "revenue"
    assert meanings["activity"] == ["visits"]
    sig, why_not = segment_signals(report.data, report.schema, seg, segments, meanings)
    assert sig[0]["trend_effect"] < -0.3
    fired = derive_insights(sig, segments, BOOK, why_not)["insights"]
    assert {(i["segment"], i["rule"]) for i in fired} >= {(0, "retain_falling_value")}
    assert not any(i["rule"] == "retain_falling_value" and i["segment"] != 0 for i in fired)


def test_alternative_rules_say_it_once():
    rules = [r for r in BOOK.rules if r.title == "Reward and protect the most valuable users"]
    assert len(rules) == 2  # by recency, or by churn
    sig = {
        "size_share": 0.1,
        "value_share": 0.5,
        "value_index": 4.0,
        "recency_effect": -0.5,
        "churn_rate": 0.02,
        "churn_index": 0.2,
    }
    fired = derive_insights([sig], [Segment(id=0, name="A", size=1, share=1.0)], Playbook(rules))[
        "insights"
    ]
    assert [i["rule"] for i in fired] == ["reward_loyal_value"]
    del sig["recency_effect"]  # no recency column: the churn alternative speaks
    out = derive_insights(
        [sig], [Segment(id=0, name="A", size=1, share=1.0)], Playbook(rules), {"recency": "x"}
    )
    assert [i["rule"] for i in out["insights"]] == ["reward_loyal_value_low_churn"]
    assert out["missing_signals"] == ["recency"]


def _two_groups(name, yes, no, rng_seed=5, n=800, other=None):
    """Users in two behaviour groups; ``name`` is yes for 55 % of one group, 5 % of the
    other (and ``other``, when given, is a second outcome unrelated to the groups)."""
    rng = np.random.default_rng(rng_seed)
    heavy = np.arange(n) < n // 2
    users = pd.DataFrame(
        {"client_id": [f"c{i}" for i in range(n)],
         "visits": rng.poisson(np.where(heavy, 12, 2)),
         "basket": np.where(heavy, rng.normal(90, 8, n), rng.normal(25, 4, n)).round(2),
         name: np.where(rng.random(n) < np.where(heavy, 0.55, 0.05), yes, no)}
    )  # fmt: skip
    if other:
        users[other] = np.where(rng.random(n) < 0.2, yes, no)
    return users


@pytest.mark.parametrize(
    ("name", "yes", "no", "rule"),
    [("responded", "Yes", "No", "aim_at_likely_outcome"),
     ("Converted", 1, 0, "aim_at_likely_outcome"),
     ("is_fraud", "Y", "N", "contain_outcome_risk")],
)  # fmt: skip
def test_an_outcome_gives_insights_that_cite_its_lift_and_separation(name, yes, no, rule):
    run = personas.segment(_two_groups(name, yes, no), random_state=0)
    fired = [i for i in run.insights["insights"] if i["rule"] == rule]
    assert len(fired) == 1 and name in fired[0]["title"] and name in fired[0]["action"]
    (outcome,) = run.outcomes
    top = max(outcome["segments"], key=lambda s: s["rate"])
    assert fired[0]["segment"] == top["segment"]
    assert f"{top['lift']:.1f}× the average" in fired[0]["because"]
    assert (
        f"the segments explain {outcome['separation']:.0%} of its variance" in (fired[0]["because"])
    )
    others = {"aim_at_likely_outcome", "contain_outcome_risk"} - {rule}
    assert not [i for i in run.insights["insights"] if i["rule"] in others]


def test_of_two_outcomes_the_better_separated_speaks_and_the_playbook_can_choose():
    users = _two_groups("subscribed", "yes", "no", other="default")
    run = personas.segment(users, random_state=0)
    said = {i["rule"]: i for i in run.insights["insights"]}
    assert "subscribed" in said["aim_at_likely_outcome"]["title"]
    assert "contain_outcome_risk" not in said  # (default: no segment stands out)
    bad = Playbook([], columns={"outcome": "visits"})
    with pytest.raises(SchemaError, match="'visits' as the outcome column.*yes/no"):
        personas.segment(users, random_state=0, playbook=bad)


def test_rule_texts_may_name_the_outcome(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[[rule]]\nid = "x"\ntitle = "Where {outcome} is {promo}"\naction = "a"\n'
        'when = ["outcome_index >= 2"]\nbecause = "{outcome}: {churn}"\n'
    )
    with pytest.raises(SchemaError, match=r"`because` refers to 'churn'.*\['outcome'\]"):
        Playbook.load(path)
    path.write_text(path.read_text().replace(": {churn}", " {outcome_index:.1f}x"))
    assert Playbook.load(path).rules[-1].title == "Where {outcome} is {promo}"  # (as written)


def test_a_playbook_file_names_the_outcome_and_a_non_yes_no_outcome_is_left_alone(tmp_path):
    users = _two_groups("subscribed", "yes", "no", other="responded")
    book = tmp_path / "book.toml"
    book.write_text('[columns]\noutcome = "responded"\n')
    run = personas.segment(users, random_state=0, playbook=book)
    said = [i for i in run.insights["insights"] if i["rule"] == "aim_at_likely_outcome"]
    assert all("responded" in i["title"] for i in said)
    schema = personas.Schema.infer(users)
    schema.columns["basket"].role = "outcome"  # (numbers, not yes/no: no outcome signals)
    run = personas.segment(users, schema=schema, basis=["visits"], random_state=0)
    assert {o["column"] for o in run.outcomes} >= {"subscribed"}
