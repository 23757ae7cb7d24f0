"""`DeepSegmenter`: an autoencoder's embedding, K-Means in it, refined by IDEC.

1. An autoencoder (a multilayer perceptron, ``hidden`` units then ``latent_dims``, and its
   mirror) learns to reproduce the basis rows of a sample of ``sample_size`` users;
   its encoder maps every user into a small embedding.
2. K-Means finds the segments in that embedding, k chosen by its rule
   (:class:`personas.Segmenter`, silhouette and stability measured in the embedding).
3. IDEC (Guo et al., 2017; DEC, Xie et al., 2016, with ``gamma=0``) refines encoder and
   centres together: each user's soft assignment to each centre (a Student t kernel) is
   pulled toward a sharpened target distribution, while the decoder keeps the
   embedding faithful to the data (``gamma`` weighs the reconstruction); it stops when
   fewer than ``tol`` of the sample's users change segment between target updates.

The network is trained with PyTorch (the ``deep`` extra, CPU); the fitted encoder and
centres are kept as NumPy arrays, so a saved model scores users — its own training
users as trained — without PyTorch and without pickle. A user's segment is that of
highest soft assignment (``predict_proba``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from personas._optional import import_optional
from personas.cluster._base import BaseSegmenter, emptied, size_order, used
from personas.cluster._segmenter import Segmenter

__all__ = ["DeepSegmenter"]


class DeepSegmenter(BaseSegmenter):
    """Deep segmentation: autoencoder embedding, K-Means, IDEC refinement.

    Parameters
    ----------
    k : "auto" or int, default "auto"
    k_min, k_max : int, default 2 and 12
    latent_dims : int, default 8
        The embedding's dimensions (at most half the basis' columns).
    hidden : tuple of int, default (64, 32)
        Hidden layers of the encoder (the decoder mirrors them).
    epochs : int, default 30
        Autoencoder training passes over the sample.
    refine_epochs : int, default 20
        At most this many IDEC passes over the sample (0: no refinement, K-Means in the
        embedding as it is).
    gamma : float, default 0.1
        Weight of the reconstruction during refinement (0: DEC).
    tol : float, default 0.001
        Refinement stops when fewer than this share of users change segment.
    batch_size : int, default 256
    learning_rate : float, default 1e-3
    sample_size : int, default 20_000
        Users the network is trained on (the embedding of all users is then computed).
    random_state : int, RandomState or None

    Attributes
    ----------
    labels_, cluster_centers_, n_clusters_, scores_, k_reason_, segment_stability_,
    timings_
        As :class:`~personas.Segmenter`; ``cluster_centers_`` are the segments' mean rows
        in the basis; ``scores_`` are K-Means' in the embedding.
    encoder_ : list of (weights, bias) arrays
        The fitted encoder's layers (ReLU between them).
    embedded_centers_ : ndarray of shape (n_clusters_, latent_dims)
    n_refine_epochs_ : int
    """

    method = "deep"

    def __init__(
        self,
        k: Any = "auto",
        *,
        k_min: int = 2,
        k_max: int = 12,
        latent_dims: int = 8,
        hidden: tuple[int, ...] = (64, 32),
        epochs: int = 30,
        refine_epochs: int = 20,
        gamma: float = 0.1,
        tol: float = 0.001,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        sample_size: int = 20_000,
        random_state: Any = None,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.latent_dims = latent_dims
        self.hidden = hidden
        self.epochs = epochs
        self.refine_epochs = refine_epochs
        self.gamma = gamma
        self.tol = tol
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.sample_size = sample_size
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> DeepSegmenter:
        torch = import_optional("torch", purpose="for deep segmentation (--method deep)")
        X, seed, rows = self._start(X)
        S = np.ascontiguousarray(X[rows], dtype=np.float32)
        timings: dict[str, float] = {}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            start = time.perf_counter()
            net = _Autoencoder(torch, X.shape[1], self._dims(X.shape[1]))
            data = torch.from_numpy(S)
            self._train(torch, net, data, seed)
            timings["autoencoder"] = time.perf_counter() - start
            start = time.perf_counter()
            with torch.no_grad():
                Z = net.encode(data).numpy()
            found = Segmenter(k=self.k, k_min=self.k_min, k_max=self.k_max, random_state=seed).fit(
                Z
            )
            timings["choose_k"] = time.perf_counter() - start
            start = time.perf_counter()
            centres, epochs = self._refine(torch, net, data, found.cluster_centers_, seed)
            timings["refine"] = time.perf_counter() - start
        start = time.perf_counter()
        self.encoder_ = net.export()
        self.embedded_centers_ = np.asarray(centres, dtype=np.float32)
        self.order_ = np.arange(len(centres))
        labels = self._soft(X).argmax(axis=1)
        kept = used(labels, len(centres))  # (a centre that is no row's likeliest: none)
        self.order_ = kept[size_order(np.searchsorted(kept, labels), len(kept))]
        k = len(kept)
        labels = self._soft(X).argmax(axis=1)  # segment 0 is the largest
        timings["fit_all_rows"] = time.perf_counter() - start
        self.labels_ = labels.astype(np.intp)
        self.n_clusters_ = k
        self.cluster_centers_ = _means(X, labels, k)
        self.scores_ = found.scores_
        self.k_reason_ = (
            f"In the autoencoder's {self.embedded_centers_.shape[1]}-dimensional embedding, "
            + found.k_reason_[0].lower()
            + found.k_reason_[1:]
            + (f" Refined by IDEC ({epochs} pass{'es' if epochs > 1 else ''})." if epochs else "")
        )
        self.k_reason_ = emptied(self.k_reason_, len(centres), k)
        self.n_refine_epochs_ = int(epochs)
        self.segment_stability_ = np.asarray(found.segment_stability_, dtype=float)[self.order_]
        self.timings_ = timings
        return self

    def _dims(self, d: int) -> list[int]:
        return [int(h) for h in self.hidden] + [max(1, min(int(self.latent_dims), d // 2))]

    def _batches(self, torch, n: int, seed: int, epoch: int):
        g = torch.Generator().manual_seed(seed + epoch)
        order = torch.randperm(n, generator=g)
        return [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]

    def _train(self, torch, net, data, seed: int) -> None:
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        for epoch in range(self.epochs):
            for batch in self._batches(torch, len(data), seed, epoch):
                x = data[batch]
                loss = torch.nn.functional.mse_loss(net.decode(net.encode(x)), x)
                opt.zero_grad()
                loss.backward()
                opt.step()

    def _refine(self, torch, net, data, centres: np.ndarray, seed: int):
        """IDEC: encoder and centres trained on the KL divergence to the target
        distribution (+ ``gamma`` × reconstruction); returns the centres and passes."""
        if self.refine_epochs <= 0 or len(centres) < 2:
            return centres, 0
        mu = torch.nn.Parameter(torch.from_numpy(np.asarray(centres, dtype=np.float32)))
        opt = torch.optim.Adam([*net.parameters(), mu], lr=self.learning_rate)
        previous = None
        done = 0
        for epoch in range(self.refine_epochs):
            with torch.no_grad():
                q = _student(net.encode(data), mu)
                p = _target(q)
                labels = q.argmax(dim=1)
            if previous is not None and (labels != previous).float().mean() < self.tol:
                break
            previous = labels
            for batch in self._batches(torch, len(data), seed + 7919, epoch):
                x = data[batch]
                z = net.encode(x)
                qb = _student(z, mu)
                loss = torch.nn.functional.kl_div(qb.log(), p[batch], reduction="batchmean")
                if self.gamma:
                    loss = loss + self.gamma * torch.nn.functional.mse_loss(net.decode(z), x)
                opt.zero_grad()
                loss.backward()
                opt.step()
            done = epoch + 1
        return mu.detach().numpy(), done

    # ------------------------------------------------------------------ scoring
    def _embed(self, X: np.ndarray) -> np.ndarray:
        h = np.asarray(X, dtype=np.float32)
        for i, (w, b) in enumerate(self.encoder_):
            h = h @ w + b
            if i < len(self.encoder_) - 1:
                np.maximum(h, 0, out=h)
        return h

    def _soft(self, X: np.ndarray) -> np.ndarray:
        """Each row's Student-t soft assignment to each centre (rows sum to 1)."""
        Z = self._embed(X)
        d = (
            np.einsum("ij,ij->i", Z, Z)[:, None]
            - 2 * Z @ self.embedded_centers_.T
            + np.einsum("ij,ij->i", self.embedded_centers_, self.embedded_centers_)[None, :]
        )
        q = 1.0 / (1.0 + np.maximum(d, 0))[:, self.order_]
        return q / q.sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each row's soft assignment to each segment (columns in segment order)."""
        return self._soft(self._checked(X)).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The segment of each row: the one of highest soft assignment."""
        return self._soft(self._checked(X)).argmax(axis=1).astype(np.intp)


def _means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Each segment's mean row in the basis (an empty segment: zeros)."""
    sums = np.zeros((k, X.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, X)
    counts = np.bincount(labels, minlength=k)[:, None]
    return (sums / np.maximum(counts, 1)).astype(X.dtype)


def _student(z, mu):
    """DEC's soft assignment: a Student t kernel (one degree of freedom) to each centre."""
    q = 1.0 / (1.0 + ((z[:, None, :] - mu[None, :, :]) ** 2).sum(dim=2))
    return q / q.sum(dim=1, keepdim=True)


def _target(q):
    """DEC's target distribution: squared assignments over segment frequencies."""
    weight = q**2 / q.sum(dim=0)
    return weight / weight.sum(dim=1, keepdim=True)


class _Autoencoder:
    """A multilayer perceptron encoder and its mirrored decoder (ReLU between layers)."""

    def __init__(self, torch, d: int, dims: list[int]) -> None:
        nn = torch.nn
        sizes = [d, *dims]
        enc, dec = [], []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            enc += [nn.Linear(a, b), nn.ReLU()]
        for a, b in zip(sizes[::-1][:-1], sizes[::-1][1:], strict=True):
            dec += [nn.Linear(a, b), nn.ReLU()]
        self.encoder = nn.Sequential(*enc[:-1])
        self.decoder = nn.Sequential(*dec[:-1])

    def parameters(self):
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def export(self) -> list[tuple[np.ndarray, np.ndarray]]:
        layers = [m for m in self.encoder if hasattr(m, "weight")]
        return [
            (m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in layers
        ]
