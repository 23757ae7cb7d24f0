from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from personas import Segmenter
from personas.cluster import KScore, choose_k


@parametrize_with_checks(
    [
        Segmenter(random_state=0, n_bootstrap=2, k_max=5),
        Segmenter(k=3, random_state=0, n_bootstrap=0),
    ]
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_finds_planted_blobs_and_orders_by_size():
    X, y = make_blobs(
        [400, 250, 150, 80], centers=None, n_features=5, cluster_std=1.0, random_state=1
    )
    seg = Segmenter(random_state=0).fit(X)
    assert seg.n_clusters_ == 4
    assert adjusted_rand_score(y, seg.labels_) > 0.95
    sizes = np.bincount(seg.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)
    assert len(seg.scores_) == 11
    assert "k=4" in seg.k_reason_
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    assert seg.transform(X).shape == (len(X), 4)
    assert np.all(seg.segment_stability_ > 0.8)


def test_sample_then_all_rows():
    X, y = make_blobs(6000, centers=3, n_features=4, random_state=2)
    seg = Segmenter(random_state=0, sample_size=1000).fit(X.astype(np.float32))
    assert seg.n_clusters_ == 3
    assert adjusted_rand_score(y, seg.labels_) > 0.98
    assert seg.cluster_centers_.dtype == np.float32


def test_same_seed_same_result():
    X, _ = make_blobs(800, centers=5, random_state=3)
    a = Segmenter(random_state=7).fit(X)
    b = Segmenter(random_state=7).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert [s["silhouette"] for s in a.scores_] == [s["silhouette"] for s in b.scores_]


@pytest.mark.parametrize("k", [0, -1, 2.5, "three", True])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k must be 'auto' or an integer"):
        Segmenter(k=k).fit(np.random.default_rng(0).normal(size=(20, 2)))


def _score(k, sil, stab):
    return KScore(k, sil, 0.0, 1.0, 100.0 / k, stab)


def test_rule_prefers_largest_near_best_stable_k():
    scores = [
        _score(2, 0.30, 0.99),
        _score(3, 0.31, 0.9),
        _score(4, 0.29, 0.85),
        _score(5, 0.25, 0.9),
        _score(6, 0.30, 0.5),
    ]
    k, reason = choose_k(scores)
    assert k == 4  # 0.29 ≥ 0.9 × 0.31; k=6 is as good but unstable
    assert "k=4" in reason and "stability" in reason


def test_rule_without_any_stable_k_says_so():
    scores = [_score(2, 0.1, 0.3), _score(3, 0.2, 0.4)]
    k, reason = choose_k(scores)
    assert k == 3
    assert "no k reached stability" in reason


def test_sample_silhouette_matches_sklearn():
    from sklearn.metrics import silhouette_score

    from personas.cluster._select_k import SampleSilhouette

    X, _ = make_blobs(700, centers=4, random_state=5)
    sil = SampleSilhouette(X)
    rng = np.random.default_rng(0)
    for labels in (rng.integers(0, 3, 700), rng.integers(0, 6, 700)):
        labels[0] = 5  # include a singleton-ish small cluster
        assert sil(labels) == pytest.approx(silhouette_score(X, labels), abs=1e-5)


def test_rule_does_not_go_past_the_elbow():
    # inertia falls steeply to k=3 and then flattens: the elbow is at 3
    inertia = {2: 100.0, 3: 40.0, 4: 36.0, 5: 33.0, 6: 31.0, 7: 29.5}
    scores = [KScore(k, 0.5 if k == 3 else 0.48, 0.0, 1.0, v, 0.95) for k, v in inertia.items()]
    k, reason = choose_k(scores)
    assert k == 3
    assert "elbow" in reason


def test_one_feature_without_structure_gets_few_segments():
    X = np.random.default_rng(0).normal(size=(300, 1))
    assert Segmenter(random_state=0).fit(X).n_clusters_ <= 6
