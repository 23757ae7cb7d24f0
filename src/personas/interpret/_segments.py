"""What a segment is: its size, name, profile on every column, the features that set it
apart, its rules and value — as dataclasses, written to ``summary.json`` by ``to_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["LevelProfile", "LevelShare", "NumberProfile", "Segment", "Term"]


@dataclass
class NumberProfile:
    """A number (or date, as days ago, or yes/no, as the share true) in one segment
    against all users: mean and median, and the standardized difference of the mean
    (``effect``, on the log scale for skewed columns) with its 95 % interval."""

    column: str
    role: str
    in_basis: bool
    unit: str
    mean: float | None
    mean_all: float | None
    median: float | None
    median_all: float | None
    effect: float
    ci: list[float]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class LevelShare:
    """One level (or label) in a segment: its share there and among all users, the lift,
    and for the over- and under-represented ones the effect with its 95 % interval."""

    value: str
    share: float
    share_all: float
    lift: float | None
    effect: float | None = None
    ci: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: self.__dict__[k] for k in ("value", "share", "share_all", "lift")}
        if self.effect is not None:
            out |= {"effect": self.effect, "ci": self.ci}
        return out


@dataclass
class LevelProfile:
    """A category (or multi-label column) in one segment: its most common levels, and
    those clearly more and less common than among all users."""

    column: str
    role: str
    in_basis: bool
    top: list[LevelShare]
    over: list[LevelShare] = field(default_factory=list)
    under: list[LevelShare] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "role": self.role,
            "in_basis": self.in_basis,
            "top": [x.to_dict() for x in self.top],
            "over": [x.to_dict() for x in self.over],
            "under": [x.to_dict() for x in self.under],
        }


@dataclass
class Term:
    """A feature that sets a segment apart, in words (``label``): a number (``kind``
    numeric) or a level or label (with its ``value``, ``share`` and ``lift``)."""

    column: str
    kind: str
    role: str
    effect: float
    ci: list[float]
    label: str
    value: str | None = None
    share: float | None = None
    lift: float | None = None
    in_basis: bool = field(default=False, repr=False)  # (names prefer basis terms)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column, "kind": self.kind, "role": self.role}
        if self.kind != "numeric":
            out["value"] = self.value
        out |= {"effect": self.effect, "ci": self.ci}
        if self.kind != "numeric":
            out |= {"share": self.share, "lift": self.lift}
        out["label"] = self.label
        return out


@dataclass
class Segment:
    """One segment.

    Attributes
    ----------
    id : int
        0 for the largest segment, then by size.
    name : str
        Its strongest distinguishing features, in words.
    size, share : int, float
    stability : float or None
        Mean Jaccard index with its best match in bootstrap refits.
    centroid : dict
        Per column: the segment's median (numbers), share true, or most common level.
    profile : list of NumberProfile or LevelProfile
        One entry per column, basis and descriptors.
    distinguishing : list of Term
        The features that set it apart most, strongest first.
    rules : dict
        The surrogate tree's rules for it, with their precision and recall.
    value : dict
        Its value and risk: revenue share, mean value, mean CLV, P(alive), churn share.
    """

    id: int
    size: int
    share: float
    stability: float | None = None
    name: str = ""
    centroid: dict[str, Any] = field(default_factory=dict)
    profile: list[NumberProfile | LevelProfile] = field(default_factory=list)
    distinguishing: list[Term] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    value: dict[str, float] = field(default_factory=dict)

    def entry(self, column: str) -> NumberProfile | LevelProfile | None:
        """Its profile on ``column`` (None when the column is not profiled)."""
        return next((p for p in self.profile if p.column == column), None)

    def to_dict(self) -> dict[str, Any]:
        """The segment as ``summary.json`` holds it."""
        return {
            "id": self.id,
            "size": self.size,
            "share": self.share,
            "profile": [p.to_dict() for p in self.profile],
            "centroid": dict(self.centroid),
            "stability": self.stability,
            "distinguishing": [t.to_dict() for t in self.distinguishing],
            "name": self.name,
            "rules": self.rules,
            "value": self.value,
        }
