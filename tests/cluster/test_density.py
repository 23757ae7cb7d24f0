"""HDBSCAN (``--method hdbscan``): dense segments, an explicit Unassigned one, and the
nearest-exemplar rule that scores new users."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from personas.cluster import DensitySegmenter, make_segmenter


@parametrize_with_checks([DensitySegmenter(random_state=0, n_resamples=1)])
def test_sklearn_contract(estimator, check):
    check(estimator)


def dense_and_scattered(seed: int = 0):
    """Three dense blobs of different sizes, and users scattered widely between them."""
    X, y = make_blobs(
        [600, 300, 150], centers=[[0, 0, 0], [8, 0, 0], [0, 8, 0]], cluster_std=0.6,
        random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    scattered = rng.uniform(-6, 14, size=(60, 3))
    return np.vstack([X, scattered]), np.concatenate([y, np.full(60, -1)])


def test_finds_dense_segments_by_size_and_leaves_the_scattered_users_out():
    X, y = dense_and_scattered()
    seg = DensitySegmenter(random_state=0).fit(X)
    assert seg.n_clusters_ == 4 and seg.noise_segment_ == 3, seg.k_reason_
    sizes = np.bincount(seg.labels_)
    assert list(sizes[:3]) == sorted(sizes[:3], reverse=True)  # dense ones by size
    dense = y >= 0
    assert adjusted_rand_score(y[dense], seg.labels_[dense]) > 0.98
    assert (seg.labels_[~dense] == 3).mean() > 0.5  # most scattered users: unassigned
    assert "HDBSCAN found 3 dense segments" in seg.k_reason_
    assert "lie in none: they are the last segment, Unassigned" in seg.k_reason_
    assert len(seg.scores_) == 1 and seg.scores_[0]["k"] == 4
    assert np.all(seg.segment_stability_[:3] > 0.9)
    assert seg.transform(X).shape == (len(X), 4)


def test_training_rows_and_new_rows_are_placed_by_one_rule():
    X, y = dense_and_scattered(1)
    seg = DensitySegmenter(random_state=0, sample_size=500).fit(X.astype(np.float32))
    np.testing.assert_array_equal(seg.predict(X.astype(np.float32)), seg.labels_)
    # a new user inside a dense blob joins it; one far from everything is unassigned
    centre = seg.cluster_centers_[0].astype(np.float64)
    new = np.array([centre, [100.0, 100.0, 100.0]], dtype=np.float32)
    assert list(seg.predict(new)) == [0, seg.noise_segment_]
    confidence = seg.confidence(X.astype(np.float32))
    both = seg.predict_confidence(X.astype(np.float32))  # (what a model scores with)
    np.testing.assert_array_equal(both[0], seg.labels_)
    np.testing.assert_array_equal(both[1], confidence)
    assert confidence.shape == (len(X),) and (confidence >= 0).all() and (confidence <= 1).all()
    assert confidence[y >= 0].mean() > 0.9


def test_without_unassigned_users_a_far_new_user_joins_a_dense_segment():
    X, _ = make_blobs(600, centers=3, cluster_std=0.3, random_state=0)
    seg = DensitySegmenter(random_state=0).fit(X)
    assert seg.noise_segment_ is None and seg.n_clusters_ == 3
    far = seg.predict([[1e3, 1e3]])
    assert 0 <= far[0] < 3  # (a segment the model has, never -1)
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)


def test_same_seed_same_result():
    X, _ = dense_and_scattered(2)
    a = DensitySegmenter(random_state=3).fit(X)
    b = DensitySegmenter(random_state=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.scores_ == [dict(s, seconds=a.scores_[0]["seconds"]) for s in b.scores_]


def test_without_density_every_user_is_still_somewhere():
    X = np.random.default_rng(0).uniform(size=(400, 2))
    seg = DensitySegmenter(random_state=0).fit(X)
    assert seg.n_clusters_ >= 1 and len(seg.labels_) == 400
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"k": 3}, "HDBSCAN finds the number of segments"),
        ({"min_samples": 0}, "min_samples must be an integer"),
        ({"min_samples": True}, "min_samples must be an integer"),
        ({"min_cluster_share": 1.5}, "min_cluster_share must be between 0 and 1"),
    ],
)
def test_bad_parameters_are_named(params, words):
    with pytest.raises(ValueError, match=words):
        make_segmenter("hdbscan", **params).fit(np.random.default_rng(0).normal(size=(50, 2)))
