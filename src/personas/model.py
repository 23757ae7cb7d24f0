"""The saved model: a zip with ``manifest.json`` and a skops payload, and batch scoring.

Loading never executes code: the fitted pipeline is stored with ``skops``, and a file
holding any type outside the known list (personas' own estimators, scikit-learn's
K-Means, numpy) is refused with a clear error.
"""

from __future__ import annotations

import copy
import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from personas._version import __version__
from personas.errors import DataError, InputFileError, PersonasError
from personas.io._coerce import coerce_frame
from personas.io._readers import load_table
from personas.io._schema import Schema

__all__ = ["Model", "load"]

FORMAT = "personas-model"
FORMAT_VERSION = 1
TRUSTED = [
    "personas.preprocess._basis.BasisBuilder",
    "personas.cluster._segmenter.Segmenter",
    "sklearn.cluster._kmeans.KMeans",
]


def fingerprint(df: pd.DataFrame, n_rows: int = 10_000) -> str:
    """A short hash of a table's columns, shape and content, to recognise training data.

    The content part hashes up to ``n_rows`` evenly spaced rows, so the cost does not grow
    with the table.
    """
    h = hashlib.sha256()
    h.update(json.dumps([list(map(str, df.columns)), list(df.shape)]).encode())
    rows = np.linspace(0, len(df) - 1, min(len(df), n_rows)).astype(np.int64)
    if len(df):
        sample = df.iloc[rows]
        h.update(pd.util.hash_pandas_object(sample, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


class Model:
    """A fitted segmentation: schema + basis builder + segmenter + segment names.

    Use :meth:`predict` to score new users, :meth:`save` to write ``model.personas``
    and :func:`personas.load` to read it back.
    """

    def __init__(
        self,
        *,
        schema: Schema,
        builder: Any,
        segmenter: Any,
        segment_names: list[str],
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.builder = builder
        self.segmenter = segmenter
        self.segment_names = list(segment_names)
        self.manifest = manifest or {}

    @property
    def basis(self) -> list[str]:
        return list(self.builder.basis_)

    @property
    def n_segments(self) -> int:
        return int(self.segmenter.n_clusters_)

    def __repr__(self) -> str:
        return (
            f"<Model: {self.n_segments} segments on {len(self.basis)} basis columns; "
            ".predict(df), .save(path)>"
        )

    # ------------------------------------------------------------------ scoring
    def predict(
        self, data: Any, *, source_name: str | None = None, **read_options: Any
    ) -> pd.DataFrame:
        """Score users: their segment, its name, distance to its centre and a margin.

        Parameters
        ----------
        data : DataFrame or path
            A table with the model's basis columns (extra columns are ignored).
        source_name : str, optional
            How to name the table in error messages (default: the file name).

        Returns
        -------
        pandas.DataFrame
            The id column (or ``row``), ``segment``, ``segment_name``, ``distance``,
            ``confidence`` (1 − distance to the nearest centre / distance to the second
            nearest: 0 on a border, near 1 at a centre).
        """
        df, source = load_table(data, **read_options)
        return self._score(df, source_name or source.name)

    def _score(self, df: pd.DataFrame, source_name: str) -> pd.DataFrame:
        missing = [c for c in self.basis if c not in df.columns]
        if missing:
            raise DataError(
                f"{source_name} lacks column(s) {missing}: {len(missing)} of the "
                f"{len(self.basis)} columns the model was trained on. Give a table with those "
                "columns (extra columns are ignored)."
            )
        id_col = self.schema.id_column
        keep = self.basis + ([id_col] if id_col and id_col in df.columns else [])
        sub_schema = Schema(
            [self.schema.columns[c] for c in keep],
            id_column=id_col if id_col in keep else None,
            missing_values=self.schema.missing_values,
            max_categories=self.schema.max_categories,
        )
        typed, _ = coerce_frame(df[keep], sub_schema, source_name=source_name)
        X = self.builder.transform(typed)
        dist = self.segmenter.transform(X)
        labels = np.argmin(dist, axis=1)
        return scored_frame(
            typed, id_col if id_col in keep else None, labels, dist, self.segment_names
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the model as a zip: ``manifest.json`` + ``pipeline.skops``."""
        import skops.io as sio

        path = Path(path)
        builder = copy.copy(self.builder)
        builder.schema = None  # the schema travels in the manifest, as plain data
        payload = sio.dumps({"builder": builder, "segmenter": self.segmenter})
        manifest = {
            **self.manifest,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "personas_version": __version__,
            "schema": self.schema.to_dict(),
            "basis": self.basis,
            "segments": [{"id": i, "name": n} for i, n in enumerate(self.segment_names)],
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
        }
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=2, default=str))
            zf.writestr("pipeline.skops", payload)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Model:
        import skops.io as sio

        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"Model file {str(path)!r} does not exist.")
        try:
            with zipfile.ZipFile(path) as zf:
                manifest = json.loads(zf.read("manifest.json"))
                payload = zf.read("pipeline.skops")
        except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
            raise InputFileError(
                f"{path.name} is not a personas model file (expected a zip with manifest.json "
                f"and pipeline.skops): {exc}. Train one with `personas segment`."
            ) from exc
        if manifest.get("format") != FORMAT:
            raise InputFileError(f"{path.name} is not a personas model file.")
        major = int(str(manifest.get("personas_version", "0")).split(".")[0])
        if (
            major > int(__version__.split(".")[0])
            or manifest.get("format_version", 0) > FORMAT_VERSION
        ):
            raise PersonasError(
                f"{path.name} was written by personas {manifest.get('personas_version')} "
                f"(model format {manifest.get('format_version')}); this is personas "
                f"{__version__}. Upgrade personas to load it."
            )
        if hashlib.sha256(payload).hexdigest() != manifest.get("payload_sha256"):
            raise InputFileError(
                f"{path.name} is damaged: its payload does not match its "
                "manifest. Write the model again."
            )
        untrusted = [t for t in sio.get_untrusted_types(data=payload) if t not in TRUSTED]
        if untrusted:
            raise PersonasError(
                f"{path.name} holds types that personas does not load ({untrusted}); loading "
                "it could run code. Only load models written by personas."
            )
        objects = sio.loads(payload, trusted=TRUSTED)
        schema = Schema.from_dict(manifest["schema"], source_name=path.name)
        names = [s["name"] for s in manifest["segments"]]
        return cls(
            schema=schema,
            builder=objects["builder"],
            segmenter=objects["segmenter"],
            segment_names=names,
            manifest=manifest,
        )


def load(path: str | Path) -> Model:
    """Load a model written by :meth:`Model.save` (or ``personas segment``).

    Examples
    --------
    >>> import personas  # doctest: +SKIP
    >>> model = personas.load("out/model.personas")  # doctest: +SKIP
    >>> model.predict("new_users.csv").head()  # doctest: +SKIP
    """
    return Model.load(path)


def scored_frame(
    typed: pd.DataFrame,
    id_col: str | None,
    labels: np.ndarray,
    dist: np.ndarray,
    names: list[str],
) -> pd.DataFrame:
    """The stable output table: id (or row), segment, segment_name, distance, confidence."""
    n, k = dist.shape
    rows = np.arange(n)
    d1 = dist[rows, labels]
    if k > 1:
        part = np.partition(dist, 1, axis=1)
        d2 = part[:, 1]
        confidence = np.where(d2 > 0, 1.0 - d1 / np.maximum(d2, 1e-12), 0.0)
    else:
        confidence = np.ones(n)
    key = (
        typed[id_col].reset_index(drop=True).rename(id_col)
        if id_col is not None
        else pd.Series(np.arange(1, n + 1), name="row")
    )
    return pd.DataFrame(
        {
            key.name: key,
            "segment": labels.astype(np.int64),
            "segment_name": pd.Categorical.from_codes(labels, categories=names),
            "distance": d1.astype(np.float64),
            "confidence": np.clip(confidence, 0.0, 1.0).astype(np.float64),
        }
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
