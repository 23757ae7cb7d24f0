"""Deep segmentation: an autoencoder's embedding, K-Means in it, IDEC; scored without
PyTorch."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from personas.errors import MissingDependencyError

torch = pytest.importorskip("torch", reason="deep segmentation needs the deep extra (torch)")

from personas.cluster import DeepSegmenter  # noqa: E402

FAST = {"epochs": 8, "refine_epochs": 4}


def blobs():
    return make_blobs(1200, centers=4, n_features=10, cluster_std=1.0, random_state=0)


def test_finds_blobs_and_scores_them_as_trained():
    X, y = blobs()
    seg = DeepSegmenter(random_state=0).fit(X)
    assert seg.n_clusters_ == 4, seg.k_reason_
    assert adjusted_rand_score(y, seg.labels_) > 0.95
    assert seg.k_reason_.startswith("In the autoencoder's 5-dimensional embedding, k=4")
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    p = seg.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(p.argmax(axis=1), seg.labels_)
    sizes = np.bincount(seg.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)
    assert seg.cluster_centers_.shape == (4, 10) and seg.embedded_centers_.shape == (4, 5)
    assert np.isfinite(seg.segment_stability_).all()


def test_same_seed_same_segments():
    X, _ = blobs()
    a = DeepSegmenter(k=4, random_state=3, **FAST).fit(X)
    b = DeepSegmenter(k=4, random_state=3, **FAST).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    for (wa, ba), (wb, bb) in zip(a.encoder_, b.encoder_, strict=True):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(ba, bb)


def test_a_fitted_model_scores_without_pytorch(monkeypatch):
    X, _ = blobs()
    seg = DeepSegmenter(k=4, random_state=0, **FAST).fit(X)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if PyTorch were not installed
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    with pytest.raises(MissingDependencyError, match=r"personas\[deep\]"):
        DeepSegmenter(k=2, **FAST).fit(X)


def test_fitting_leaves_pytorchs_global_seed_alone():
    X, _ = blobs()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DeepSegmenter(k=3, random_state=0, **FAST).fit(X)
    assert torch.equal(torch.rand(3), expected)
