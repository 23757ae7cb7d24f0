"""The segmentation methods by name, as ``personas segment --method`` takes them."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any, NamedTuple

from personas.cluster._deep import DeepSegmenter
from personas.cluster._density import DensitySegmenter
from personas.cluster._kprototypes import KPrototypesSegmenter
from personas.cluster._mixture import MixtureSegmenter
from personas.cluster._segmenter import Segmenter
from personas.cluster._ward import WardSegmenter

__all__ = ["METHODS", "Method", "make_segmenter"]

# (scoring a deep model needs no PyTorch: its encoder is kept as arrays)


class Method(NamedTuple):
    estimator: type
    label: str  # its name in words
    line: str  # what it is good at
    categories: bool = False  # takes the basis' category groups (``groups=``)
    requires: str | None = None  # an optional package it needs to be fitted

    def available(self) -> bool:
        """Whether it can be fitted here (its optional package is installed)."""
        return self.requires is None or find_spec(self.requires) is not None


METHODS: dict[str, Method] = {
    "kmeans": Method(
        Segmenter,
        "K-Means",
        "compact segments of similar spread; fast on millions of users (the default)",
    ),
    "gmm": Method(
        MixtureSegmenter,
        "Gaussian mixture",
        "segments of different sizes, spreads and shapes, k by BIC, with each user's "
        "membership probabilities",
    ),
    "hdbscan": Method(
        DensitySegmenter,
        "HDBSCAN",
        "dense groups of users, however many, and an explicit Unassigned segment for the "
        "users between them",
    ),
    "ward": Method(
        WardSegmenter,
        "Ward's hierarchical clustering",
        "nested segments grown on a sample, every user in the segment of the nearest centre",
    ),
    "kprototypes": Method(
        KPrototypesSegmenter,
        "k-prototypes",
        "mixed tables: each segment's prototype holds the means of its numbers and one "
        "level (the mode) of each category",
        categories=True,
    ),
    "deep": Method(
        DeepSegmenter,
        "deep segmentation",
        "an autoencoder's embedding of the basis, K-Means in it, refined by IDEC (the deep "
        "extra: PyTorch)",
        requires="torch",
    ),
}


def make_segmenter(method: str, *, groups: Any = None, **params: Any) -> Any:
    """The unfitted estimator of ``method`` with ``params`` (k, k_min, k_max,
    random_state, …); ``groups``: the basis' category groups
    (:meth:`personas.BasisBuilder.category_groups`), for the methods that treat categories
    as categories. An unknown method is a ValueError that lists the known ones."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}.")
    if METHODS[method].categories:
        params["groups"] = groups
    return METHODS[method].estimator(**params)
