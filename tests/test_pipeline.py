"""segment(): quality on planted segments, determinism, outputs, the model file, predict."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import personas
from personas.errors import DataError, InputFileError, PersonasError


@pytest.fixture(scope="module")
def planted():
    users, truth = personas.datasets.make_users(6000, random_state=11)
    return users, truth, personas.segment(users, random_state=0)


def test_recovers_the_planted_segments(planted):
    users, truth, run = planted
    assert run.k == truth["segment"].nunique() == 6
    assert adjusted_rand_score(truth["segment"], run.labels["segment"]) >= 0.9


def test_names_are_distinct_and_describe_the_segment(planted):
    _, truth, run = planted
    names = [s.name for s in run.segments]
    assert len(set(names)) == len(names)
    # the segment holding most "Loyal premium" users is named after premium / high spend
    top = pd.crosstab(run.labels["segment"], truth["segment_name"])["Loyal premium"].idxmax()
    assert "Premium" in names[top] or "high total spend" in names[top]


def test_same_random_state_same_output(planted):
    users, _, run = planted
    again = personas.segment(users, random_state=0)
    pd.testing.assert_frame_equal(run.labels, again.labels)
    assert [s.name for s in run.segments] == [s.name for s in again.segments]


def test_random_state_none_is_random_in_every_stage():
    users, _ = personas.datasets.make_users(1500, random_state=3)
    runs = [personas.segment(users, k=4, random_state=None) for _ in range(2)]
    # the k scores (sample, starts, bootstrap refits) and the report's sample of users
    scores = [run.scores.drop(columns="seconds") for run in runs]
    assert not scores[0].equals(scores[1])
    assert not np.array_equal(runs[0].basis_sample[0], runs[1].basis_sample[0])
    fixed = [personas.segment(users, k=4, random_state=5) for _ in range(2)]
    scores = [run.scores.drop(columns="seconds") for run in fixed]
    assert scores[0].equals(scores[1])
    assert np.array_equal(fixed[0].basis_sample[0], fixed[1].basis_sample[0])


def test_outputs_have_stable_names(planted, tmp_path):
    _, _, run = planted
    assert list(run.labels.columns) == [
        "user_id",
        "segment",
        "segment_name",
        "distance",
        "confidence",
    ]
    assert run.labels["confidence"].between(0, 1).all()
    doc = json.loads(run.to_json(tmp_path / "summary.json"))
    assert doc["k"] == 6
    assert "user_id" not in doc["basis"] and "email" not in doc["basis"]
    assert len(doc["k_selection"]) == 11
    for entry in doc["k_selection"]:
        assert {
            "k",
            "silhouette",
            "calinski_harabasz",
            "davies_bouldin",
            "inertia",
            "stability",
        } <= set(entry)
    for seg in doc["segments"]:
        assert {"id", "name", "size", "share", "profile"} <= set(seg)
    assert sum(s["size"] for s in doc["segments"]) == len(run.labels)
    assert "city" in {p["column"] for p in doc["segments"][0]["profile"]}  # a descriptor


def test_every_segment_has_faithful_rules(planted, tmp_path):
    _, _, run = planted
    assert run.rules.fidelity >= 0.85
    doc = json.loads(run.to_json(tmp_path / "summary.json"))
    assert doc["rules"]["fidelity"] == pytest.approx(run.rules.fidelity, abs=1e-3)
    for seg in doc["segments"]:
        rules = seg["rules"]
        assert rules["rules"], f"segment {seg['id']} has no rule"
        assert 0 <= rules["precision"] <= 1 and 0 <= rules["recall"] <= 1
        assert all(r["rule"] and r["support"] > 0 for r in rules["rules"])
    # recent sign-ups are planted: the segment of new users has a rule on signup_date
    new = next(s for s in doc["segments"] if "recent signup" in s["name"].lower())
    assert "signup_date" in new["rules"]["rules"][0]["rule"]
    assert new["rules"]["precision"] > 0.9


def test_compare_two_segments(planted):
    _, _, run = planted
    by_id = run.compare(0, 1)
    by_name = run.compare(run.segments[0].name, run.segments[1].name)
    assert by_id.rows == by_name.rows
    assert abs(by_id.rows[0]["difference"]) > 1
    with pytest.raises(ValueError, match="Segment ids run from 0 to 5"):
        run.compare(0, 6)
    with pytest.raises(ValueError, match="No segment is named"):
        run.compare(0, "Nobody")


def test_model_round_trip_scores_training_data_identically(planted, tmp_path):
    users, _, run = planted
    path = run.model.save(tmp_path / "model.personas")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["basis"] == run.model.basis
    assert manifest["training_data"]["n_rows"] == len(users)
    assert [s["name"] for s in manifest["segments"]] == [s.name for s in run.segments]
    model = personas.load(path)
    scored = model.predict(users)
    np.testing.assert_array_equal(scored["segment"], run.labels["segment"])
    # unseen categories and missing values are handled as in training
    new = users.head(50).copy()
    new["device_type"] = "smartwatch"
    new["income"] = np.nan
    assert len(model.predict(new)) == 50


def test_predict_names_missing_columns(planted):
    users, _, run = planted
    with pytest.raises(DataError, match=r"lacks column\(s\) \['sessions'\]"):
        run.model.predict(users.drop(columns="sessions"))


def test_model_file_refuses_unknown_types_and_newer_versions(planted, tmp_path):
    import skops.io as sio

    _, _, run = planted
    path = run.model.save(tmp_path / "m.personas")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    evil = sio.dumps({"builder": pd.Timestamp("2020-01-01"), "segmenter": None})
    import hashlib

    bad = dict(manifest, payload_sha256=hashlib.sha256(evil).hexdigest())
    with zipfile.ZipFile(tmp_path / "evil.personas", "w") as zf:
        zf.writestr("manifest.json", json.dumps(bad))
        zf.writestr("pipeline.skops", evil)
    with pytest.raises(PersonasError, match="holds types that personas does not load"):
        personas.load(tmp_path / "evil.personas")
    newer = dict(manifest, personas_version="99.0.0")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "new.personas", "w") as zf:
        zf.writestr("manifest.json", json.dumps(newer))
        zf.writestr("pipeline.skops", src.read("pipeline.skops"))
    with pytest.raises(PersonasError, match="written by personas 99.0.0.*Upgrade"):
        personas.load(tmp_path / "new.personas")
    (tmp_path / "junk.personas").write_text("not a zip")
    with pytest.raises(InputFileError, match="not a personas model file"):
        personas.load(tmp_path / "junk.personas")


def test_a_model_of_an_event_log_scores_events(planted, tmp_path):
    """The saved model is the whole path: events → profiles → basis → segments."""
    from sklearn.base import clone

    users, _ = personas.datasets.make_users(1500, random_state=4)
    events = personas.datasets.make_events(users, random_state=4)
    run = personas.segment(events, random_state=0)
    model = run.model
    assert model.input == "events"
    assert list(model.pipeline.named_steps) == ["profile", "types", "basis", "segments"]
    assert model.get_params()["profile__top_levels"] == 5
    assert model.get_params()["basis__min_share"] == 0.01
    path = model.save(tmp_path / "model.personas")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["input"]["kind"] == "events" and manifest["format_version"] == 2
    assert manifest["input"]["columns"]["user_id"] == "user_id"
    loaded = personas.load(path)
    scored = loaded.predict(events)  # the training log: each user their training segment
    both = run.labels.merge(scored, on="user_id", suffixes=("_trained", "_scored"))
    assert len(both) == len(run.labels) == len(scored)
    assert (both["segment_trained"] == both["segment_scored"]).mean() >= 0.999
    # the same users earlier on: fewer events, other segments for some
    earlier = loaded.predict(events, as_of="2025-01-01")
    assert 0 < len(earlier) <= len(scored) and set(earlier["segment"]) <= set(range(run.k))
    # the pipeline refits end to end on a log
    refit = clone(model.pipeline).set_params(segments__k=3).fit(events)
    assert len(set(refit.predict(events))) == 3
    # the wrong kind of input, both ways
    with pytest.raises(DataError, match="a user table is scored by a model trained on a user"):
        loaded.predict(users)
    _, _, table_run = planted
    with pytest.raises(DataError, match="reads as an event log, but this model scores user"):
        table_run.model.predict(events)
    with pytest.raises(DataError, match="as_of is for a model trained on an event log"):
        table_run.model.predict(users, as_of="2025-01-01")


def test_a_model_file_of_format_1_still_loads():
    """A file written by personas before the pipeline (format 1: a basis builder and a
    segmenter, its fitted state as dicts) scores as it did: tests/data holds one, written
    by that version, with the users it scored and their segments."""
    data = Path(__file__).parent / "data"
    old = personas.load(data / "format1.personas")
    assert old.input == "users" and old.manifest["format_version"] == 1
    users = pd.read_parquet(data / "format1_users.parquet")
    expected = pd.read_csv(data / "format1_segments.csv")
    np.testing.assert_array_equal(old.predict(users)["segment"], expected["segment"])


@pytest.mark.parametrize(
    "tamper",
    [
        {"personas_version": "dev"},
        {"format_version": "2"},
        {"segments": None},
        "a list",
        "garbage payload",
        "no pipeline",
        "a bare estimator",
        "one name short",
    ],
)
def test_damaged_or_foreign_model_files_are_refused_clearly(planted, tmp_path, tamper):
    import hashlib

    import skops.io as sio
    from sklearn.cluster import KMeans

    _, _, run = planted
    path = run.model.save(tmp_path / "model.personas")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        payload = zf.read("pipeline.skops")
    if isinstance(tamper, dict):
        manifest |= tamper
    elif tamper == "a list":
        manifest = [manifest]
    elif tamper == "garbage payload":
        payload = b"PK\x03\x04 not a skops file"
    elif tamper == "no pipeline":
        payload = sio.dumps({"builder": None})
    elif tamper == "a bare estimator":
        payload = sio.dumps({"pipeline": KMeans(2)})
    else:
        manifest["segments"] = manifest["segments"][:-1]
    if isinstance(manifest, dict):
        manifest["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    bad = tmp_path / "bad.personas"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("pipeline.skops", payload)
    with pytest.raises(InputFileError, match="bad.personas is not a personas model file"):
        personas.load(bad)
    # a folder holding a model: the file to give
    with pytest.raises(InputFileError, match="is a folder; the model in it is"):
        personas.load(tmp_path)


def test_a_model_says_what_it_scores_and_what_it_could_not_read(planted, tmp_path):
    users, _, run = planted
    # a user table without the id column of the model, and its basis columns
    with pytest.raises(DataError, match="This model scores user tables, one row per user"):
        run.model.predict(users.drop(columns=["user_id", "age"]))
    odd = users.head(30).astype({"income": "object"})
    odd.loc[odd.index[:4], "income"] = "unknown amount"
    scored = run.model.predict(odd)
    assert len(scored) == 30
    assert any("4 value(s) of income are not a number" in n for n in scored.attrs["notes"])


def test_a_profile_mapping_file_travels_in_the_model(tmp_path):
    users, _ = personas.datasets.make_users(300, random_state=6)
    events = personas.datasets.make_events(users, random_state=6)
    (tmp_path / "events.toml").write_text('[events]\nuser_id = "user_id"\n')
    builder = personas.ProfileBuilder(tmp_path / "events.toml").fit(events)
    from personas.cluster import Segmenter
    from personas.model import Model
    from personas.preprocess import BasisBuilder

    profiles = builder.transform(events)
    report = personas.validate(profiles, schema=None)
    basis = BasisBuilder(report.schema, basis=["frequency", "tenure_days"]).fit(report.data)
    seg = Segmenter(k=2, random_state=0).fit(basis.transform(report.data))
    model = Model.compose(schema=report.schema, builder=basis, segmenter=seg,
                          segment_names=["a", "b"], profile_builder=builder)  # fmt: skip
    loaded = personas.load(model.save(tmp_path / "m.personas"))
    assert loaded.profile_builder.mapping == str(tmp_path / "events.toml")
    assert len(loaded.predict(events)) == len(profiles)


def test_forced_k_and_basis():
    users, _ = personas.datasets.make_users(1500, random_state=2)
    run = personas.segment(
        users, k=3, basis=["purchases", "total_spend", "sessions"], random_state=0
    )
    assert run.k == 3
    assert run.model.basis == ["purchases", "total_spend", "sessions"]
    assert run.k_reason == "k=3 was given"


def test_unusable_table_is_refused():
    df = pd.DataFrame({"user_id": ["a", "a", "b"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="should be unique"):
        personas.segment(df)


def test_result_object_views(planted, tmp_path):
    _, _, run = planted
    assert repr(run).startswith("<Segmentation: 6 segments of 6,000 users")
    assert "<table>" in run._repr_html_()
    assert list(run.to_pandas().columns) == ["id", "name", "size", "share", "stability"]
    page = run.write_html(tmp_path / "report.html").read_text()
    for section in [
        "Insights",
        "Segment overview",
        "Segments",
        "Choosing k",
        "Data &amp; quality",
        "EDA",
        "Preprocessing",
        "Method",
    ]:
        assert f">{section}</h2>" in page, section
    assert page.count("* plotly.js v") == 1  # plotly.js embedded once
    assert page.count("Plotly.newPlot") >= 8
    assert "Example users" in page and "@" not in page.split("Example users")[1][:5000]
    # no resource is loaded from the network (outside the embedded plotly.js, whose code
    # mentions map-tile URLs; the browser test checks that no request leaves the file)
    head, _, rest = page.partition("<script>")
    body = head + rest.partition("</script>")[2]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", body)
    md = run.to_markdown(tmp_path / "report.md")
    assert md.startswith("# Segments of DataFrame")
    assert "## Insights" in md and "## Choosing k" in md
    assert md.count("## Segment ") == 1 + run.k  # the overview and one per segment


@pytest.mark.parametrize(
    "kind",
    [
        "sizes",
        "heatmap",
        "radar",
        "snake",
        "map",
        "silhouette",
        "k_selection",
        "distributions",
        "category_mix",
        "tree",
    ],
)
def test_every_chart_has_a_static_and_an_interactive_form(planted, kind, tmp_path):
    _, _, run = planted
    static = run.plot(kind)
    static.savefig(tmp_path / f"{kind}.svg")
    assert (tmp_path / f"{kind}.svg").stat().st_size > 1000
    interactive = run.plot(kind, interactive=True)
    assert interactive.data, f"{kind}: an empty plotly figure"
    with pytest.raises(ValueError, match="Unknown chart"):
        run.plot("pie")


def test_umap_map_needs_its_extra(planted):
    _, _, run = planted
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(personas.errors.MissingDependencyError, match=r"personas\[umap\]"):
            run.plot("map", method="umap")
    else:
        assert run.plot("map", method="umap", interactive=True).data


def test_schema_file_chooses_the_basis(tmp_path):
    users, _ = personas.datasets.make_users(1200, random_state=3)
    schema = tmp_path / "schema.toml"
    schema.write_text('basis = ["purchases", "sessions", "membership_type"]\n')
    run = personas.segment(users, k=3, schema=schema, random_state=0)
    assert run.model.basis == ["purchases", "sessions", "membership_type"]
    # an explicit basis argument wins over the file
    run = personas.segment(users, k=2, schema=schema, basis=["age"], random_state=0)
    assert run.model.basis == ["age"]


def test_a_validation_report_can_be_segmented_and_is_left_as_it_was():
    users, _ = personas.datasets.make_users(1500, random_state=4)
    report = personas.validate(users)
    columns = list(report.data.columns)
    run = personas.segment(report, k=3, random_state=0)
    assert run.k == 3
    assert list(report.data.columns) == columns  # PII still there in the caller's report
    assert run.validation is report


@pytest.mark.parametrize(
    ("k", "match"),
    [
        (500, "k=500 segments cannot be found in the 300"),
        (0, "k must be 'auto' or a whole number"),
        ("six", "k must be 'auto' or a whole number"),
    ],
)
def test_impossible_k_is_a_clear_error(k, match):
    users, _ = personas.datasets.make_users(300, random_state=0)
    with pytest.raises(DataError, match=match):
        personas.segment(users, k=k)


def test_a_single_segment_is_allowed(tmp_path):
    users, _ = personas.datasets.make_users(300, random_state=0)
    run = personas.segment(users, k=1, random_state=0)
    assert run.labels["segment"].eq(0).all()
    assert run.write_html(tmp_path / "r.html").is_file()


def test_notebook_views(planted):
    _, _, run = planted
    ks = run.k_selection
    assert "k=6 chosen among 11" in repr(ks)
    assert "<table>" in ks._repr_html_() and run.k_reason[:20] in ks._repr_html_()
    assert len(ks.to_pandas()) == 11
    assert ks.plot().axes and ks.plot(interactive=True).data
    profiles = run.profiles
    assert len(profiles) == 6 and profiles[0].id == 0
    long = profiles.to_pandas()
    assert {"segment", "column", "effect", "ci_low", "ci_high"} <= set(long.columns)
    assert (long["ci_low"] <= long["effect"]).all() and (long["effect"] <= long["ci_high"]).all()
    assert "<ul>" in profiles._repr_html_()
    for kind in ("heatmap", "radar", "snake"):
        assert profiles.plot(kind, interactive=True).data
    with pytest.raises(ValueError, match="Unknown chart .pie.; choose one of .+heatmap"):
        profiles.plot("pie")


@pytest.mark.parametrize(
    ("name", "values"),
    [("Churn", ("Yes", "No")), ("Exited", (1, 0)), ("Attrition_Flag", ("yes", "no")),
     ("is_churned", (True, False)), ("y", ("yes", "no"))],
)  # fmt: skip
def test_an_outcome_is_described_per_segment_not_clustered_on(tmp_path, name, values):
    """A yes/no column named for an outcome (churn, exited, attrition…) is the outcome the
    segments should explain: not in the default basis, its rate and lift per segment in
    summary.json and the report, in the basis when named; the schema file can set it."""
    rng = np.random.default_rng(3)
    n = 600
    spend = np.concatenate([rng.normal(20, 3, n // 2), rng.normal(80, 5, n // 2)])
    churn = np.where(rng.random(n) < np.where(spend < 50, 0.6, 0.1), values[0], values[1])
    users = pd.DataFrame(
        {"member": [f"m{i}" for i in range(n)], "spend": spend.round(2),
         "visits": rng.poisson(np.where(spend < 50, 2, 9)), name: churn}
    )  # fmt: skip
    report = personas.validate(users)
    assert report.schema[name].role == "outcome"
    run = personas.segment(users, random_state=0)
    assert name not in run.model.basis
    (outcome,) = run.summary()["outcomes"]
    assert outcome["column"] == name and 0.3 < outcome["rate"] < 0.4
    rates = [s["rate"] for s in outcome["segments"]]
    assert max(rates) > 0.5 and min(rates) < 0.2 and outcome["separation"] > 0.1
    run.write_html(tmp_path / "report.html")
    assert "Outcomes" in (tmp_path / "report.html").read_text()
    assert f"Outcome: {name}" in run.to_markdown()
    named = personas.segment(users, basis=["spend", name], random_state=0)
    assert name in named.model.basis
    scored = run.model.predict(users.drop(columns=[name]))  # no outcome needed to score
    assert len(scored) == n


@pytest.mark.parametrize(
    ("user", "order", "date", "amount"),
    [("customer", "order_no", "order_date", "amount"),
     ("Kundennummer", "Rechnungsnummer", "Bestelldatum", "Betrag"),
     ("client", None, "date", "total")],
)  # fmt: skip
def test_a_log_keyed_by_a_user_column_beside_unique_order_numbers_is_profiled(
    user, order, date, amount
):
    """An order log whose user column is named for the user but not as an id
    ("customer", "Kundennummer"), beside a unique order number (which the table's
    inference takes for its id), is an event log: its users are segmented, not its
    lines."""
    rng = np.random.default_rng(11)
    n = 900
    who = rng.integers(0, 150, n)
    log = pd.DataFrame(
        {user: [f"K{u:04d}" for u in who],
         date: pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
         amount: (rng.gamma(2, 20, n) * np.where(who < 50, 4, 1)).round(2)}
    )  # fmt: skip
    if order:
        log[order] = [f"R{i:06d}" for i in range(n)]
    run = personas.segment(log, random_state=0)
    assert len(run.labels) == log[user].nunique()
    assert "is an event log" in run.validation.source.notes[0]


def test_levels_never_seen_in_training_are_said_when_scoring():
    users, _ = personas.datasets.make_users(400, random_state=2)
    model = personas.segment(users, random_state=0).model
    new = users.head(30).assign(membership_type="platinum")
    scored = model.predict(new)
    (note,) = [n for n in scored.attrs["notes"] if "never seen" in n]
    assert "30 value(s) of membership_type" in note and "'platinum'" in note
    assert not [n for n in model.predict(users.head(30)).attrs["notes"] if "never seen" in n]


def test_user_ids_that_are_email_addresses_stay_out_of_the_report(tmp_path):
    """A shop's order export keyed by e-mail (no customer number): a log by its e-mail
    column, and the report shows no address (example users are numbered instead)."""
    rng = np.random.default_rng(5)
    n = 1200
    who = rng.integers(0, 200, n)
    log = pd.DataFrame(
        {"Id": [f"#{1000 + i}" if i % 3 == 0 else None for i in range(n)],
         "Email": [f"buyer{u:03d}@example.com" for u in who],
         "Created at": pd.Timestamp("2024-01-01", tz="UTC")
         + pd.to_timedelta(rng.integers(0, 300 * 24, n), "h"),
         "Total": rng.gamma(2, 30, n).round(2)}
    )  # fmt: skip
    run = personas.segment(log, random_state=0)
    assert len(run.labels) == log["Email"].nunique()
    run.write_html(tmp_path / "report.html")
    assert "@example.com" not in (tmp_path / "report.html").read_text()


def test_a_customer_table_with_a_repeating_customer_column_stays_a_table():
    """A unique customer_id beside a "customer" column of names that repeat, and a date:
    a table of customers, not a log of the names."""
    rng = np.random.default_rng(8)
    n = 600
    users = pd.DataFrame(
        {"customer_id": [f"C{i:05d}" for i in range(n)],
         "customer": rng.choice(["Anna Rossi", "Ben Ott", "Cleo Dubois", "Dan Li"], n),
         "signup": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
         "spend": rng.gamma(2, 50, n).round(2), "visits": rng.poisson(6, n)}
    )  # fmt: skip
    run = personas.segment(users, random_state=0)
    assert len(run.labels) == n
    assert not any("is an event log" in note for note in run.validation.source.notes)


def test_every_entry_point_reads_a_query_alone(tmp_path):
    """personas.validate(query=...) and the others, without a data argument first."""
    users, _ = personas.datasets.make_users(300, random_state=1)
    path = tmp_path / "users.parquet"
    users.to_parquet(path)
    query = f"SELECT * FROM '{path}'"
    assert personas.validate(query=query).n_rows == 300
    assert len(personas.read_table(query=query)) == 300
    assert personas.eda(query=query).n_rows == 300
    assert len(personas.segment(query=query, random_state=0).labels) == 300
    log = personas.datasets.make_events(users, random_state=1)
    log_path = tmp_path / "events.parquet"
    log.to_parquet(log_path)
    assert len(personas.profile(query=f"SELECT * FROM '{log_path}'").data) > 0
    # an event log a query reads is profiled and segmented, as the file itself is
    by_query = personas.segment(query=f"SELECT * FROM '{log_path}'", random_state=0)
    by_file = personas.segment(log_path, random_state=0)
    assert by_query.labels["segment"].tolist() == by_file.labels["segment"].tolist()
    assert by_query.model.input == "events"
