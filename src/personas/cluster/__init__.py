"""Clustering engines, the choice of k, quality metrics, stability and 2-D maps."""

from personas.cluster._geometry import embed_2d, silhouette_by_segment
from personas.cluster._segmenter import Segmenter
from personas.cluster._select_k import KScore, choose_k, elbow, score_k

__all__ = [
    "KScore",
    "Segmenter",
    "choose_k",
    "elbow",
    "embed_2d",
    "score_k",
    "silhouette_by_segment",
]
