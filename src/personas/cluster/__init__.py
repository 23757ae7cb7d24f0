"""Clustering engines, the choice of k, quality metrics and stability."""

from personas.cluster._segmenter import Segmenter
from personas.cluster._select_k import KScore, choose_k, elbow, score_k

__all__ = ["KScore", "Segmenter", "choose_k", "elbow", "score_k"]
