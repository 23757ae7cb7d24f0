"""The segmentation methods besides K-Means: the same contract, their own k rules."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from personas.cluster import (
    METHODS,
    KScore,
    MixtureSegmenter,
    Segmenter,
    WardSegmenter,
    choose_k_bic,
    make_segmenter,
)

FAST = {"k_max": 5, "n_bootstrap": 2}


@parametrize_with_checks(
    [
        MixtureSegmenter(random_state=0, **FAST),
        MixtureSegmenter(k=3, random_state=0, n_bootstrap=0),
        WardSegmenter(random_state=0, **FAST),
        WardSegmenter(k=3, random_state=0, n_bootstrap=0),
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


@pytest.mark.parametrize("method", ["gmm", "ward"])
def test_training_rows_score_as_their_training_segments(method):
    # k is chosen on a sample, the model then extends to every row
    X, _ = make_blobs(3000, centers=4, n_features=5, random_state=4)
    seg = make_segmenter(method, random_state=0, sample_size=800).fit(X.astype(np.float32))
    np.testing.assert_array_equal(seg.predict(X.astype(np.float32)), seg.labels_)
    assert seg.cluster_centers_.dtype == np.float32
    assert seg.n_clusters_ == 4


@pytest.mark.parametrize("method", ["gmm", "ward"])
def test_same_seed_same_result(method):
    X, _ = make_blobs(700, centers=5, random_state=3)
    a = make_segmenter(method, random_state=7, **FAST).fit(X)
    b = make_segmenter(method, random_state=7, **FAST).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert [s["silhouette"] for s in a.scores_] == [s["silhouette"] for s in b.scores_]


@pytest.mark.parametrize("method", ["gmm", "ward"])
@pytest.mark.parametrize("k", [0, -1, 2.5, "three", True])
def test_bad_k(method, k):
    with pytest.raises(ValueError, match="k must be 'auto' or an integer"):
        make_segmenter(method, k=k).fit(np.random.default_rng(0).normal(size=(20, 2)))


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(ValueError, match="kmeans, gmm, ward"):
        make_segmenter("dbscan")
    assert set(METHODS) == {"kmeans", "gmm", "ward"}
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


def test_bic_rule_takes_the_elbow_when_the_bic_keeps_falling():
    bics = [1000, 600, 400, 380, 365, 355, 350]
    k, reason = choose_k_bic([score(k, b) for k, b in zip(range(2, 9), bics, strict=True)])
    assert k == 4
    assert "elbow of the BIC curve" in reason and "largest k tried (k=8)" in reason


def test_bic_rule_without_any_stable_k_says_so():
    bics = [998, 997, 999]
    k, reason = choose_k_bic(
        [score(k, b, stability=0.3) for k, b in zip((2, 3, 4), bics, strict=True)]
    )
    assert k == 3
    assert "no k reached stability" in reason
