"""``personas.compare_methods`` / ``run.compare_methods()`` / ``personas compare-methods``:
every method on the same basis, measured alike."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import personas
from personas.cli import app
from personas.errors import PersonasError

# every method that can run here (deep segmentation needs the deep extra)
EVERY = ["kmeans", "gmm", "hdbscan", "ward", "kprototypes"] + (
    ["deep"] if importlib.util.find_spec("torch") else []
)


@pytest.fixture(scope="module")
def users():
    users, truth = personas.datasets.make_users(1200, random_state=2)
    # an outcome the planted segments drive (a churn-like yes/no column)
    rate = truth["segment"].map({0: 0.05, 1: 0.1, 2: 0.6, 3: 0.2, 4: 0.05, 5: 0.8})
    users["churned"] = np.where(np.random.default_rng(0).random(len(users)) < rate, "yes", "no")
    return users


@pytest.fixture(scope="module")
def found(users):
    return personas.compare_methods(users, random_state=0)


def test_every_method_is_measured_alike(found, users):
    table = found.to_pandas()
    assert list(table["method"]) == EVERY
    assert list(table.columns[:6]) == ["method", "label", "k", "silhouette", "stability", "seconds"]
    assert table["silhouette"].between(-1, 1).all() and (table["seconds"] > 0).all()
    assert table["stability"].between(0, 1).all()
    # the same k and segments as `personas segment --method` on the same data
    for m in found.methods:
        run = personas.segment(users, method=m.method, random_state=0)
        assert m.k == run.k and m.k_reason == run.k_reason
        np.testing.assert_array_equal(m.labels, run.labels["segment"])
    agreement = found.agreement.to_numpy()
    np.testing.assert_allclose(agreement, agreement.T)
    np.testing.assert_allclose(np.diag(agreement), 1.0)
    assert (agreement[~np.eye(len(EVERY), dtype=bool)] < 1).all()


def test_outcomes_are_told_per_method(found):
    table = found.to_pandas()
    assert found.outcome_columns() == ["churned"]
    assert table["separation_churned"].between(0, 1).all()
    # the segments carry the planted churn rates: far more than chance
    assert table["separation_churned"].max() > 0.2


def test_the_comparison_renders_and_serialises(found, tmp_path):
    doc = json.loads(found.to_json(tmp_path / "methods.json"))
    assert [m["method"] for m in doc["methods"]] == EVERY
    assert set(doc["methods"][0]["outcomes"]) == {"churned"}
    assert doc["agreement"]["gmm"]["gmm"] == 1.0 and doc["n_rows"] == 1200
    page = found.write_html(tmp_path / "methods.html").read_text()
    for m in found.methods:
        assert f"<b>{m.method}</b>" in page
    assert "Agreement between methods" in page and "separation of churned" in page
    assert 'id="methods-chart"' in page and "<script>" in page
    assert "methods-chart" not in found._repr_html_()  # (Jupyter: the tables only)
    assert f"{len(EVERY)} methods on 1,200 users" in repr(found)
    assert found.plot().axes and found.plot(interactive=True).data


def test_a_run_compares_methods_on_its_own_basis(users):
    run = personas.segment(users.head(600), random_state=0)
    found = run.compare_methods(["ward", "kmeans", "ward"])
    assert [m.method for m in found.methods] == ["ward", "kmeans"]
    assert found.methods[1].k == run.k
    np.testing.assert_array_equal(found.methods[1].labels, run.labels["segment"])


@pytest.mark.parametrize("methods", [["kmeans", "dbscan"], "gmm", []])
def test_unknown_methods_are_named(users, methods):
    with pytest.raises(PersonasError, match="--methods"):
        personas.compare_methods(users.head(50), methods=methods)


def test_the_cli_compares_methods(users, tmp_path):
    data = tmp_path / "users.parquet"
    users.head(500).to_parquet(data)
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(app, ["compare-methods", str(data), "--methods", "kmeans,ward",
                               "-o", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "kmeans" in done.output and "ward" in done.output and "gmm" not in done.output
    assert "Agreement (adjusted Rand index" in " ".join(done.output.split())
    assert sorted(p.name for p in out.iterdir()) == ["methods.csv", "methods.html", "methods.json"]
    wrong = runner.invoke(app, ["compare-methods", str(data), "--methods", "kmeans,nope"])
    assert wrong.exit_code == 2 and "Traceback" not in wrong.output
    assert "kprototypes, deep, not 'nope' (--methods)" in wrong.output
    empty = runner.invoke(app, ["compare-methods", str(data), "--methods", " , "])
    assert empty.exit_code == 2 and "methods must be a list of method names" in empty.output
