"""Clustering engines, the choice of k, quality metrics, stability and 2-D maps."""

from personas.cluster._auto import AUTO_CANDIDATES, AUTO_PANEL, choose_method
from personas.cluster._compare import MethodResult, fit_methods
from personas.cluster._deep import DeepSegmenter
from personas.cluster._density import UNASSIGNED, DensitySegmenter
from personas.cluster._geometry import embed_2d, silhouette_by_segment
from personas.cluster._kprototypes import KPrototypesSegmenter, encode_mixed
from personas.cluster._methods import METHODS, Method, make_segmenter
from personas.cluster._mixture import MixtureSegmenter
from personas.cluster._segmenter import Segmenter
from personas.cluster._select_k import KScore, choose_k, choose_k_bic, elbow, score_k
from personas.cluster._ward import WardSegmenter

__all__ = [
    "AUTO_CANDIDATES",
    "AUTO_PANEL",
    "DeepSegmenter",
    "DensitySegmenter",
    "METHODS",
    "KPrototypesSegmenter",
    "KScore",
    "Method",
    "MethodResult",
    "MixtureSegmenter",
    "Segmenter",
    "UNASSIGNED",
    "WardSegmenter",
    "choose_k",
    "choose_method",
    "choose_k_bic",
    "elbow",
    "embed_2d",
    "encode_mixed",
    "fit_methods",
    "make_segmenter",
    "score_k",
    "silhouette_by_segment",
]
