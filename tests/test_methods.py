"""``segment(method=...)`` / ``--method``: every method gives the same kind of result and
a model that scores new users (and its own training users as trained)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from typer.testing import CliRunner

import personas
from personas.cli import app
from personas.errors import PersonasError

METHODS = ["gmm", "hdbscan", "ward", "kprototypes", "deep"]


@pytest.fixture(scope="module")
def users():
    return personas.datasets.make_users(2500, random_state=0)


def needs(method: str) -> None:
    if method == "deep":
        pytest.importorskip("torch", reason="deep segmentation needs the deep extra (torch)")


@pytest.fixture(scope="module", params=METHODS)
def run(request, users):
    needs(request.param)
    return personas.segment(users[0], method=request.param, random_state=0)


def test_every_method_gives_the_whole_result(run, users, tmp_path):
    method = run.model.method
    assert run.summary()["method"] == method
    assert run.model.manifest["parameters"]["method"] == method
    assert 2 <= run.k <= 12 and len(run.segments) == run.k
    assert len({s.name for s in run.segments}) == run.k
    assert all(s.rules for s in run.segments) and run.insights["insights"]
    sizes = [s.size for s in run.segments if s.name != "Unassigned"]  # (HDBSCAN's: last)
    assert sizes == sorted(sizes, reverse=True)
    # segments that mean something: the planted ones are found again, in part at least
    truth = users[1].set_index("user_id").loc[run.labels["user_id"], "segment"]
    found = run.labels["segment"]
    if method == "hdbscan":  # (the users in no dense segment are the last, Unassigned)
        assert run.segments[-1].name == "Unassigned" and "Unassigned" in run.k_reason
        placed = (found != run.k - 1).to_numpy()
        assert placed.mean() > 0.5
        truth, found = truth[placed], found[placed]
    assert adjusted_rand_score(truth, found) > 0.4
    page = run.write_html(tmp_path / "report.html").read_text()
    label = {
        "gmm": "Gaussian mixture",
        "hdbscan": "mutual reachability",
        "ward": "hierarchical clustering",
        "kprototypes": "k-prototypes",
        "deep": "autoencoder",
    }[method]
    assert label in page
    assert ("BIC" in run.to_markdown()) == (method == "gmm")


def test_the_saved_model_scores_its_training_users_as_trained(run, users, tmp_path):
    model = personas.load(run.model.save(tmp_path / "model.personas"))
    assert model.method == run.model.method
    scored = model.predict(users[0])
    np.testing.assert_array_equal(scored["segment"], run.labels["segment"])
    pd.testing.assert_frame_equal(scored, run.labels, check_exact=False, rtol=1e-5)


def test_a_mixture_gives_every_users_probabilities(users):
    run = personas.segment(users[0].head(800), method="gmm", k=3, random_state=0)
    p = run.labels[[f"probability_{j}" for j in range(3)]]
    assert (p.sum(axis=1) - 1).abs().max() < 1e-6
    assert (p.to_numpy().argmax(axis=1) == run.labels["segment"]).all()
    assert (run.labels["confidence"] == p.max(axis=1)).all()


@pytest.mark.parametrize("method", METHODS)
def test_a_model_of_an_event_log_scores_the_log_as_trained(method, users, tmp_path):
    needs(method)
    events = personas.datasets.make_events(users[0].head(600), random_state=1)
    run = personas.segment(events, method=method, random_state=0)
    model = personas.load(run.model.save(tmp_path / "model.personas"))
    scored = model.predict(events).set_index("user_id")["segment"]
    trained = run.labels.set_index("user_id")["segment"]
    assert (scored.loc[trained.index] == trained).all()


@pytest.mark.parametrize("method", ["dbscan", "", None, 3, "kmean"])
def test_an_unknown_method_is_named_with_the_known_ones(method, users):
    with pytest.raises(
        PersonasError, match=r"one of kmeans, gmm, hdbscan, ward, kprototypes, deep.*--method"
    ):
        personas.segment(users[0].head(50), method=method)


def test_the_cli_takes_a_method(users, tmp_path):
    data = tmp_path / "users.parquet"
    users[0].head(600).to_parquet(data)
    runner = CliRunner()
    done = runner.invoke(app, ["segment", str(data), "--method", "gmm", "-k", "3",
                               "-o", str(tmp_path / "out"), "--no-report"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "(Gaussian mixture)" in done.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["method"] == "gmm" and summary["k"] == 3
    labels = pd.read_parquet(tmp_path / "out" / "segments.parquet")
    assert {"probability_0", "probability_1", "probability_2"} <= set(labels.columns)
    wrong = runner.invoke(app, ["segment", str(data), "--method", "spectral"])
    assert wrong.exit_code == 2
    assert "method must be one of kmeans, gmm, hdbscan, ward, kprototypes, deep" in wrong.output
    assert "Traceback" not in wrong.output


def test_thousands_of_segments_are_refused_clearly(users):
    with pytest.raises(PersonasError, match="at most 1,000 segments"):
        personas.segment(users[0], k=1500)


def test_a_method_name_is_read_in_any_case_and_a_near_miss_is_suggested(users):
    run = personas.segment(users[0].head(300), method=" GMM ", k=2, random_state=0)
    assert run.model.method == "gmm"
    with pytest.raises(PersonasError, match="Did you mean 'kmeans'"):
        personas.segment(users[0].head(50), method="kmean")


def test_hdbscan_takes_no_k_and_says_why(users, tmp_path):
    with pytest.raises(PersonasError, match="HDBSCAN finds the number of segments"):
        personas.segment(users[0].head(300), method="hdbscan", k=4)
    data = tmp_path / "users.parquet"
    users[0].head(300).to_parquet(data)
    done = CliRunner().invoke(app, ["segment", str(data), "--method", "hdbscan", "-k", "4"])
    assert done.exit_code != 0 and "HDBSCAN finds the number of segments" in done.output
    assert "Traceback" not in done.output


def test_auto_takes_kmeans_or_the_mixture_by_the_support_of_the_others(users):
    from personas.cluster import choose_method

    data = users[0].head(1200)
    run = personas.segment(data, method="auto", random_state=0)
    assert run.model.method in ("kmeans", "gmm")
    assert run.model.manifest["parameters"]["method"] == "auto"
    assert run.k_reason.startswith("auto chose ") and "support more" in run.k_reason
    # the winner is the candidate whose segments agree most with the other three methods'
    typer = run.model.pipeline.named_steps["types"]
    X = run.model.builder.transform(typer.type_table(data)[0])
    groups = run.model.builder.category_groups()
    best, why, every = choose_method(X, random_state=0, groups=groups)
    assert [r.method for r in every] == ["kmeans", "gmm", "ward", "kprototypes"]
    ari = adjusted_rand_score
    support = {
        r.method: np.mean([ari(r.labels, o.labels) for o in every if o is not r]) for r in every
    }
    expected = "gmm" if support["gmm"] > support["kmeans"] else "kmeans"
    assert best.method == expected == run.model.method
    alone = personas.segment(data, method=run.model.method, random_state=0)
    np.testing.assert_array_equal(alone.labels["segment"], run.labels["segment"])
    assert run.k_reason.endswith(alone.k_reason)
    with pytest.raises(PersonasError, match="one of kmeans, gmm, hdbscan"):
        personas.compare_methods(data, methods=["auto"])


def test_loading_a_model_does_not_import_pytorch(users, tmp_path):
    # (skops lists scikit-learn's estimators, which would import PyTorch: ~2 s a load)
    import subprocess
    import sys

    path = personas.segment(users[0].head(300), k=2, random_state=0).model.save(
        tmp_path / "model.personas"
    )
    code = (
        "import sys, personas; m = personas.load(sys.argv[1]); "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "import importlib.util; ok = importlib.util.find_spec('torch') is None or "
        "__import__('torch') is not None; print('ok', ok)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and "ok True" in done.stdout, done.stderr
