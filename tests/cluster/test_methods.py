"""The segmentation methods besides K-Means: the same contract, their own k rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from personas.cluster import (
    METHODS,
    KPrototypesSegmenter,
    KScore,
    MixtureSegmenter,
    Segmenter,
    WardSegmenter,
    choose_k_bic,
    encode_mixed,
    make_segmenter,
)

FAST = {"k_max": 5, "n_bootstrap": 2}


@parametrize_with_checks(
    [
        MixtureSegmenter(random_state=0, **FAST),
        MixtureSegmenter(k=3, random_state=0, n_bootstrap=0),
        WardSegmenter(random_state=0, **FAST),
        WardSegmenter(k=3, random_state=0, n_bootstrap=0),
        KPrototypesSegmenter(random_state=0, **FAST),
        KPrototypesSegmenter(k=3, random_state=0, n_bootstrap=0),
    ]
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def uneven_blobs(seed: int = 1):
    """Four blobs of different sizes and spreads (what K-Means' equal-spread borders cut)."""
    return make_blobs(
        [500, 300, 150, 60],
        centers=[[0, 0, 0], [7, 0, 0], [0, 8, 0], [0, 0, 8]],
        cluster_std=[2.0, 1.0, 0.6, 0.4],
        random_state=seed,
    )


@pytest.mark.parametrize("method, agreement", [("gmm", 0.95), ("ward", 0.85)])
def test_finds_uneven_blobs_and_orders_by_size(method, agreement):
    X, y = uneven_blobs()
    seg = make_segmenter(method, random_state=0).fit(X)
    assert seg.n_clusters_ == 4, seg.k_reason_
    # (nearest-centre borders lie halfway between centres, whatever the spreads)
    assert adjusted_rand_score(y, seg.labels_) > agreement
    sizes = np.bincount(seg.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)
    assert len(seg.scores_) == 11
    assert seg.k_reason_.startswith("k=4")
    assert seg.transform(X).shape == (len(X), 4)
    assert seg.cluster_centers_.shape == (4, 3)
    assert np.all(seg.segment_stability_ > 0.7)
    assert seg.method == method


@pytest.mark.parametrize("method", ["gmm", "ward", "kprototypes"])
def test_training_rows_score_as_their_training_segments(method):
    # k is chosen on a sample, the model then extends to every row
    X, _ = make_blobs(3000, centers=4, n_features=5, random_state=4)
    seg = make_segmenter(method, random_state=0, sample_size=800).fit(X.astype(np.float32))
    np.testing.assert_array_equal(seg.predict(X.astype(np.float32)), seg.labels_)
    assert seg.cluster_centers_.dtype == np.float32
    assert seg.n_clusters_ == 4


@pytest.mark.parametrize("method", ["gmm", "ward", "kprototypes"])
def test_same_seed_same_result(method):
    X, _ = make_blobs(700, centers=5, random_state=3)
    a = make_segmenter(method, random_state=7, **FAST).fit(X)
    b = make_segmenter(method, random_state=7, **FAST).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert [s["silhouette"] for s in a.scores_] == [s["silhouette"] for s in b.scores_]


@pytest.mark.parametrize("method", ["gmm", "ward", "kprototypes"])
@pytest.mark.parametrize("k", [0, -1, 2.5, "three", True])
def test_bad_k(method, k):
    with pytest.raises(ValueError, match="k must be 'auto' or an integer"):
        make_segmenter(method, k=k).fit(np.random.default_rng(0).normal(size=(20, 2)))


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(ValueError, match="kmeans, gmm, hdbscan, ward, kprototypes, deep"):
        make_segmenter("dbscan")
    assert set(METHODS) == {"kmeans", "gmm", "hdbscan", "ward", "kprototypes", "deep"}
    assert Segmenter.method == "kmeans"


def test_mixture_probabilities():
    X, _ = uneven_blobs()
    seg = MixtureSegmenter(k=4, random_state=0).fit(X)
    p = seg.predict_proba(X)
    assert p.shape == (len(X), 4)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(p.argmax(axis=1), seg.labels_)
    assert "bic" in seg.scores_[0]


def test_mixture_on_a_wide_basis_uses_principal_components():
    X, y = make_blobs(1200, centers=3, n_features=30, random_state=5)
    seg = MixtureSegmenter(random_state=0, max_dims=8, k_max=6).fit(X)
    assert seg.projection_.shape == (8, 30)
    assert seg.n_clusters_ == 3
    assert adjusted_rand_score(y, seg.labels_) > 0.99
    narrow = MixtureSegmenter(k=2, random_state=0, n_bootstrap=0).fit(X[:, :5])
    assert narrow.projection_ is None


def score(k, bic, stability=0.9, silhouette=0.3):
    return KScore(k, silhouette, 100.0, 1.0, 1000.0 / k, stability, bic=bic)


def test_bic_rule_takes_the_lowest_bic_among_stable_k():
    scores = [score(2, 900), score(3, 700), score(4, 650, stability=0.5), score(5, 720)]
    k, reason = choose_k_bic(scores)
    assert k == 3  # k=4 has a lower BIC but is not stable
    assert "lowest BIC" in reason and "stability ≥ 0.75" in reason


def test_bic_rule_says_when_the_bic_keeps_falling():
    bics = [1000, 600, 400, 380, 365, 355, 350]
    k, reason = choose_k_bic([score(k, b) for k, b in zip(range(2, 9), bics, strict=True)])
    assert k == 8
    assert "still falls at the largest k tried: a larger --k-max" in reason


def test_bic_rule_without_any_stable_k_says_so():
    bics = [998, 997, 999]
    k, reason = choose_k_bic(
        [score(k, b, stability=0.3) for k, b in zip((2, 3, 4), bics, strict=True)]
    )
    assert k == 3
    assert "no k reached stability" in reason


def mixed_table(n: int = 1200, k: int = 4, seed: int = 0):
    """Numbers and categories driven by ``k`` planted segments, with missing values."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    centres = rng.normal(0, 4, size=(k, 3))
    table = pd.DataFrame({f"x{j}": rng.normal(centres[truth, j], 1.0) for j in range(3)})
    for j in range(3):
        table[f"c{j}"] = np.where(rng.random(n) < 0.7, truth, rng.integers(0, k, n)).astype(str)
        table.loc[rng.random(n) < 0.05, f"c{j}"] = None
    table.loc[rng.random(n) < 0.05, "x0"] = np.nan
    return table, truth


def test_k_prototypes_finds_mixed_segments_with_missing_values():
    table, truth = mixed_table()
    X, groups = encode_mixed(table, categorical=["c0", "c1", "c2"])
    assert np.isnan(X).any()  # numbers missing, categories missing (all-zero groups)
    seg = KPrototypesSegmenter(groups=groups, random_state=0).fit(X)
    assert seg.n_clusters_ == 4, seg.k_reason_
    assert adjusted_rand_score(truth, seg.labels_) > 0.9
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    weight = np.abs(np.nan_to_num(X[:, groups[0][0] : groups[0][1]])).max()
    for a, b in groups:  # each prototype names one level of each category: its mode
        block = seg.cluster_centers_[:, a:b]
        assert ((block == 0) | np.isclose(block, weight)).all()
        assert (np.isclose(block, weight).sum(axis=1) == 1).all()
    assert seg.transform(X).shape == (len(X), 4) and np.isfinite(seg.transform(X)).all()
    assert seg.cost_ > 0


def test_k_prototypes_reaches_kmodes_cost():
    kmodes = pytest.importorskip("kmodes.kprototypes", reason="kmodes (the test extra)")
    table, _ = mixed_table(600, 3, seed=1)
    table = table.dropna()  # kmodes refuses missing values
    categorical = ["c0", "c1", "c2"]
    gamma = 0.7
    X, groups = encode_mixed(table, categorical=categorical, gamma=gamma)
    ours = KPrototypesSegmenter(k=3, groups=groups, n_bootstrap=0, random_state=0).fit(X)
    theirs = kmodes.KPrototypes(n_clusters=3, gamma=gamma, n_init=4, random_state=0).fit(
        table.to_numpy(dtype=object), categorical=[3, 4, 5]
    )
    assert ours.cost_ <= theirs.cost_ * (1 + 1e-9)
    assert adjusted_rand_score(theirs.labels_, ours.labels_) > 0.95


def test_mixed_coding_and_its_errors():
    table = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["a", None, "b"]})
    X, groups = encode_mixed(table, categorical=["c"], gamma=2.0)
    assert groups == [(1, 3)]
    np.testing.assert_array_equal(X[:, 1:], [[1, 0], [0, 0], [0, 1]])  # sqrt(2 / 2) = 1
    with pytest.raises(ValueError, match="lacks"):
        encode_mixed(table, categorical=["nope"])
    with pytest.raises(ValueError, match="groups must be non-overlapping column ranges"):
        KPrototypesSegmenter(groups=[(0, 2), (1, 3)]).fit(X)


@pytest.mark.parametrize("method", ["kmeans", "gmm", "ward", "kprototypes"])
def test_no_empty_segment_when_k_exceeds_the_distinct_rows(method):
    # three kinds of users only: k=5 cannot give five segments, and says so
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), [300, 200, 100], axis=0)
    seg = make_segmenter(method, k=5, random_state=0, n_bootstrap=0).fit(X)
    assert seg.n_clusters_ == 3 == len(seg.cluster_centers_)
    assert list(np.bincount(seg.labels_)) == [300, 200, 100]
    assert "Only 3 of the 5 segments hold users" in seg.k_reason_
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    auto = make_segmenter(method, random_state=0, n_bootstrap=2).fit(X)
    assert auto.n_clusters_ == 3, auto.k_reason_  # (k = the distinct rows is a candidate)


def test_k_prototypes_without_categories_says_it_is_k_means():
    X, _ = make_blobs(300, centers=3, random_state=0)
    seg = KPrototypesSegmenter(random_state=0, n_bootstrap=0).fit(X)
    assert "no categorical column: k-prototypes is K-Means here" in seg.k_reason_
