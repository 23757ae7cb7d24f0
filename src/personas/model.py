"""The saved model: the whole fitted path from the input to a segment, a zip with
``manifest.json`` and a skops payload, and batch scoring.

A model trained on an event log holds its profile builder, so it scores events as they
come (``personas predict MODEL LOG --as-of DATE``); one trained on a user table scores
user tables. Loading never executes code: the fitted pipeline is stored with ``skops``,
and a file holding any type outside the known list (personas' own estimators and schema,
scikit-learn's Pipeline and K-Means, numpy) is refused with a clear error.
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

from personas._json import dumps
from personas._version import __version__
from personas.errors import DataError, InputFileError, PersonasError
from personas.io._read import load_table
from personas.io._schema import Schema
from personas.preprocess import TableTyper
from personas.preprocess._basis import OTHER

__all__ = ["Model", "load"]

FORMAT = "personas-model"
FORMAT_VERSION = 2  # 2: the whole pipeline (profile builder when trained on events)
TRUSTED = [
    "personas.profiles._builder.ProfileBuilder",
    "personas.preprocess._basis.TableTyper",
    "personas.io._schema.Schema",
    "personas.io._schema.ColumnSpec",
    "personas.preprocess._basis.BasisBuilder",
    "personas.preprocess._basis.BasisColumn",
    "personas.cluster._segmenter.Segmenter",
    "personas.cluster._mixture.MixtureSegmenter",
    "personas.cluster._ward.WardSegmenter",
    "personas.cluster._kprototypes.KPrototypesSegmenter",
    "personas.cluster._deep.DeepSegmenter",
    "personas.cluster._density.DensitySegmenter",
    "sklearn.cluster._kmeans.KMeans",
]


def _skops_io() -> Any:
    """``skops.io``, imported without importing PyTorch.

    Importing skops.io lists scikit-learn's estimators, which imports every package of
    scikit-learn — its copy of array-api-compat's PyTorch support among them, and so
    PyTorch itself when it is installed (the deep extra): about 2 s of every model load
    and save, for nothing (a deep model is kept as arrays). PyTorch is hidden for that
    import only (the package walk skips what cannot be imported), then importable again.
    """
    import sys

    if "skops.io" in sys.modules or "torch" in sys.modules:
        import skops.io

        return skops.io
    sys.modules["torch"] = None  # type: ignore[assignment]  # (import torch: ImportError)
    try:
        import skops.io
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return skops.io


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
    """A fitted segmentation: the whole path from the input to a segment, and its names.

    ``pipeline`` is a scikit-learn :class:`~sklearn.pipeline.Pipeline`: for a model trained
    on an event log, ``profile`` (a :class:`~personas.ProfileBuilder`) then ``types``,
    ``basis`` and ``segments``; for one trained on a user table, the last three.
    ``get_params``/``set_params`` reach every step's parameters (``basis__min_share``).

    Use :meth:`predict` to score users (from their events or their rows),
    :meth:`save` to write ``model.personas`` and :func:`personas.load` to read it back.

    ``explanation`` is what training found, as plain data (``summary.json``'s segments,
    rules, insights, outcomes, k choice and preprocessing, and the training data's
    quality): the dashboard of ``personas serve`` shows it. None for a model file
    written before it was kept.
    """

    def __init__(
        self,
        *,
        pipeline: Any,
        segment_names: list[str],
        manifest: dict[str, Any] | None = None,
        explanation: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.segment_names = list(segment_names)
        self.manifest = manifest or {}
        self.explanation = explanation

    @classmethod
    def compose(
        cls,
        *,
        schema: Schema,
        builder: Any,
        segmenter: Any,
        segment_names: list[str],
        profile_builder: Any = None,
        manifest: dict[str, Any] | None = None,
    ) -> Model:
        """The model of fitted steps: a profile builder (for an event log, else None),
        the basis builder and segmenter; the typing step keeps the id and the basis."""
        from sklearn.pipeline import Pipeline

        keep = [c for c in [schema.id_column] if c] + list(builder.basis_)
        steps = [("profile", profile_builder)] if profile_builder is not None else []
        steps += [
            ("types", TableTyper(schema, columns=keep).fit(None)),
            ("basis", builder),
            ("segments", segmenter),
        ]
        return cls(pipeline=Pipeline(steps), segment_names=segment_names, manifest=manifest)

    # ------------------------------------------------------------------ parts
    @property
    def input(self) -> str:
        """``"events"`` (the model profiles users from their events) or ``"users"``."""
        return "events" if "profile" in self.pipeline.named_steps else "users"

    @property
    def profile_builder(self) -> Any:
        """The :class:`~personas.ProfileBuilder` (None for a model of a user table)."""
        return self.pipeline.named_steps.get("profile")

    @property
    def schema(self) -> Schema:
        """The roles of the columns the model reads (the id and the basis)."""
        return self.pipeline.named_steps["types"].schema_

    @property
    def builder(self) -> Any:
        """The :class:`~personas.BasisBuilder`."""
        return self.pipeline.named_steps["basis"]

    @property
    def segmenter(self) -> Any:
        """The :class:`~personas.Segmenter`."""
        return self.pipeline.named_steps["segments"]

    @property
    def basis(self) -> list[str]:
        return list(self.builder.basis_)

    @property
    def method(self) -> str:
        """How the segments were found: ``kmeans``, ``gmm``, ``ward``…"""
        return self.segmenter.method

    @property
    def n_segments(self) -> int:
        return int(self.segmenter.n_clusters_)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every step's parameters, as ``step__name`` (scikit-learn's Pipeline)."""
        return self.pipeline.get_params(deep=deep)

    def set_params(self, **params: Any) -> Model:
        self.pipeline.set_params(**params)
        return self

    def __repr__(self) -> str:
        what = "events → profiles → " if self.input == "events" else ""
        return (
            f"<Model: {what}{self.n_segments} segments on {len(self.basis)} basis columns; "
            ".predict(data), .save(path)>"
        )

    # ------------------------------------------------------------------ scoring
    def predict(
        self,
        data: Any,
        *,
        as_of: Any = None,
        source_name: str | None = None,
        **read_options: Any,
    ) -> pd.DataFrame:
        """Score users: their segment, its name, distance to its centre and a margin.

        Parameters
        ----------
        data : DataFrame or path
            For a model trained on an event log: events (a log with its columns; what
            :func:`personas.profile` reads), profiled as of ``as_of``. For a model trained
            on a user table: a table with the model's basis columns (extra columns are
            ignored).
        as_of : date-like, optional
            The instant the events are profiled at (default: midnight after the last
            event); only for a model trained on events.
        source_name : str, optional
            How to name the table in error messages (default: the file name).
        **read_options
            ``table``, ``query`` (a DuckDB database's table, or SQL), and for a user table
            what :func:`personas.read_table` takes.

        Returns
        -------
        pandas.DataFrame
            The id column (``user_id`` for events; or ``row``), ``segment``,
            ``segment_name``, ``distance``, ``confidence`` (1 − distance to the nearest
            centre / distance to the second nearest: 0 on a border, near 1 at a centre;
            for a Gaussian mixture the probability of the user's segment, followed by a
            ``probability_<segment>`` column per segment).
            Its ``attrs`` hold ``notes`` (values that could not be read; how events were
            profiled) and, for events, the ``as_of`` and ``cleaning`` counts.
        """
        if self.input == "events":
            return self.score_events(data, as_of=as_of, source_name=source_name, **read_options)[1]
        if as_of is not None:
            raise DataError(
                "as_of is for a model trained on an event log (it profiles the events as of "
                "that instant); this model scores user tables as they are. Leave it out."
            )
        df, source = load_table(data, **read_options)
        return self._score(df, source_name or source.name)

    def score_events(
        self, events: Any, *, as_of: Any = None, source_name: str | None = None, **read: Any
    ) -> tuple[Any, pd.DataFrame]:
        """The users of ``events`` profiled as of ``as_of`` and scored: their
        :class:`~personas.profiles.Profiling` (one row per user in ``.data``) and the table
        :meth:`predict` returns, in the same order of users. Only for a model trained on
        an event log (the real-time service keeps both)."""
        if self.input != "events":
            raise DataError(
                "This model was trained on a user table: it scores rows of users, not events. "
                "Score a table with predict(), or train a model on an event log."
            )
        profiles = self.profile_builder.profile(events, as_of=as_of, **read)
        scored = self._score(profiles.data, source_name or profiles.source)
        scored.attrs |= {"as_of": profiles.as_of, "cleaning": profiles.cleaning}
        scored.attrs["notes"] = list(profiles.notes) + scored.attrs["notes"]
        return profiles, scored

    def score_rows(self, rows: pd.DataFrame, *, source_name: str = "the rows") -> pd.DataFrame:
        """Score rows that already hold the basis columns (a user table's rows, or the
        profiles of a model trained on events): what :meth:`predict` returns."""
        return self._score(rows, source_name)

    def _score(self, df: pd.DataFrame, source_name: str) -> pd.DataFrame:
        typer = self.pipeline.named_steps["types"]
        id_col = typer.id_column_
        if self.input == "users":
            if id_col in df.columns:
                _refuse_event_log(df[id_col], id_col, source_name, self.basis)
            missing = [c for c in self.basis if c not in df.columns]
            if missing:
                raise DataError(
                    f"{source_name} lacks column(s) {missing}: {len(missing)} of the "
                    f"{len(self.basis)} columns the model was trained on. This model scores "
                    f"user tables, one row per user with the columns {self.basis} (extra "
                    "columns are ignored); an event log is scored by a model trained on "
                    "one (personas segment LOG)."
                )
        typed, changes = typer.type_table(df, source_name=source_name)
        X = self.builder.transform(typed)
        dist = self.segmenter.transform(X)
        if hasattr(self.segmenter, "predict_confidence"):  # (HDBSCAN: one neighbour search)
            labels, confidence = self.segmenter.predict_confidence(X)
            proba = None
        else:
            labels = self.segmenter.predict(X)
            proba, confidence = membership(self.segmenter, X)
        key = id_col if id_col in typed.columns else None
        scored = scored_frame(typed, key, labels, dist, self.segment_names, proba, confidence)
        scored.attrs["notes"] = _unread(changes) + _unseen(typed, self.builder.columns_)
        return scored

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the model as a zip: ``manifest.json`` + ``pipeline.skops`` (+
        ``explanation.json``, plain JSON, when the model has one)."""
        sio = _skops_io()

        path = Path(path)
        pipeline = self.pipeline
        profile = self.profile_builder
        if profile is not None and isinstance(profile.mapping, Path):
            # (a path is no type a model file holds: its text is)
            pipeline = copy.copy(pipeline)
            pipeline.steps = [(n, copy.copy(s)) for n, s in pipeline.steps]
            pipeline.named_steps["profile"].mapping = str(profile.mapping)
        payload = sio.dumps({"pipeline": pipeline})
        manifest = {
            **self.manifest,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "personas_version": __version__,
            "input": self._input_doc(),
            "schema": self.schema.to_dict(),
            "basis": self.basis,
            "segments": [{"id": i, "name": n} for i, n in enumerate(self.segment_names)],
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
        }
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", dumps(manifest, indent=2))
            zf.writestr("pipeline.skops", payload)
            if self.explanation is not None:
                zf.writestr("explanation.json", dumps(self.explanation))
        return path

    def _input_doc(self) -> dict[str, Any]:
        """What the model takes, for people reading the manifest."""
        if self.input == "events":
            pb = self.profile_builder
            return {
                "kind": "events",
                "description": "an event log, profiled as of a date, then segmented",
                "columns": pb.input_columns(),
                "trained_on": pb.source_,
                "trained_as_of": pb.as_of_,
            }
        return {
            "kind": "users",
            "description": "a user table, one row per user",
            "id_column": self.schema.id_column,
            "columns": self.basis,
        }

    @classmethod
    def load(cls, path: str | Path) -> Model:
        sio = _skops_io()

        path = Path(path)
        if path.is_dir() and (path / "model.personas").is_file():
            raise InputFileError(
                f"{str(path)!r} is a folder; the model in it is "
                f"{str(path / 'model.personas')!r}. Give that file."
            )
        if not path.is_file():
            raise InputFileError(f"Model file {str(path)!r} does not exist.")

        def not_ours(why: str) -> InputFileError:
            return InputFileError(
                f"{path.name} is not a personas model file ({why}). Give the model.personas "
                "that `personas segment` wrote, or train one with it."
            )

        try:
            with zipfile.ZipFile(path) as zf:
                manifest = json.loads(zf.read("manifest.json"))
                payload = zf.read("pipeline.skops")
                explained = None
                if "explanation.json" in zf.namelist():
                    explained = json.loads(zf.read("explanation.json"))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise not_ours(f"expected a zip with manifest.json and pipeline.skops: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise not_ours("its manifest does not say it is one")
        version, fmt = manifest.get("personas_version"), manifest.get("format_version", 1)
        major = str(version).split(".")[0]
        if not isinstance(version, str) or not major.isdigit() or not isinstance(fmt, int):
            raise not_ours(f"its versions are {version!r} and format {fmt!r}")
        if int(major) > int(__version__.split(".")[0]) or fmt > FORMAT_VERSION:
            raise PersonasError(
                f"{path.name} was written by personas {version} (model format {fmt}); this "
                f"is personas {__version__}. Upgrade personas to load it."
            )
        if hashlib.sha256(payload).hexdigest() != manifest.get("payload_sha256"):
            raise InputFileError(
                f"{path.name} is damaged: its payload does not match its "
                "manifest. Write the model again."
            )
        try:
            untrusted = [t for t in sio.get_untrusted_types(data=payload) if t not in TRUSTED]
        except Exception as exc:  # (skops' reader: a payload it cannot read)
            raise not_ours(f"its payload cannot be read: {type(exc).__name__}") from None
        if untrusted:
            raise PersonasError(
                f"{path.name} holds types that personas does not load ({untrusted}); loading "
                "it could run code. Only load models written by personas."
            )
        try:
            objects = sio.loads(payload, trusted=TRUSTED)
            names = [str(s["name"]) for s in manifest["segments"]]
            if fmt < 2:  # a basis builder and a segmenter
                schema = Schema.from_dict(manifest["schema"], source_name=path.name)
                builder = objects["builder"]
                builder.schema = schema
                model = cls.compose(
                    schema=schema,
                    builder=builder,
                    segmenter=objects["segmenter"],
                    segment_names=names,
                    manifest=manifest,
                )
            else:
                model = cls(pipeline=objects["pipeline"], segment_names=names, manifest=manifest)
            model._check()
            if isinstance(explained, dict):  # (plain JSON: another shape is left out)
                model.explanation = explained
        except PersonasError:
            raise
        except Exception as exc:  # a payload of known types but not a model's shape
            raise not_ours(f"its content is not a model's: {type(exc).__name__}") from None
        return model

    def _check(self) -> None:
        """That the loaded pipeline has a model's steps, fitted, and a name per segment."""
        from sklearn.pipeline import Pipeline

        steps = list(getattr(self.pipeline, "named_steps", {}))
        if not isinstance(self.pipeline, Pipeline) or steps[-3:] != ["types", "basis", "segments"]:
            raise ValueError(f"steps {steps}")
        if steps[:-3] not in ([], ["profile"]):
            raise ValueError(f"steps {steps}")
        fitted = [("types", "schema_"), ("basis", "columns_"), ("segments", "cluster_centers_")]
        fitted += [("profile", "mapping_")] if steps[0] == "profile" else []
        if not all(hasattr(self.pipeline.named_steps[s], attr) for s, attr in fitted):
            raise ValueError("not fitted")
        if len(self.segment_names) != self.n_segments:
            raise ValueError("segment names")


def _unread(changes: list[Any]) -> list[str]:
    """Notes on the values that could not be read (scored as missing, as in training)."""
    what = {"not_a_number": "a number", "not_a_date": "a date", "not_a_boolean": "yes or no",
            "infinite": "a finite number"}  # fmt: skip
    return [
        f"{c.count:,} value(s) of {c.column} are not {what[c.code]} (e.g. rows "
        f"{', '.join(map(str, c.rows[:3]))}): scored as missing, as missing values are."
        for c in changes
        if c.code in what and c.count
    ]


def _unseen(typed: pd.DataFrame, columns: list[Any]) -> list[str]:
    """Notes on the category levels the model never saw in training, and how they were
    scored: as the pooled rarer levels, else as the most common level."""
    notes = []
    for c in columns:
        if c.kind != "onehot" or c.column not in typed.columns:
            continue
        values = typed[c.column].dropna().astype(str)
        new = values[~values.isin(set(c.levels) | set(c.pooled))]
        if new.empty:
            continue
        shown = ", ".join(repr(v) for v in new.value_counts().index[:3])
        how = f"the pooled rarer levels, {OTHER}" if OTHER in c.levels else repr(c.mode)
        notes.append(
            f"{len(new):,} value(s) of {c.column} were never seen in training (e.g. {shown}): "
            f"scored as {how}."
        )
    return notes


def _refuse_event_log(ids: pd.Series, id_col: str, source_name: str, basis: list[str]) -> None:
    """A clear error when a model of user tables is given an event log: ``ids`` repeat,
    two rows per id or more on average (as ``personas segment`` tells a log)."""
    n_ids = int(ids.nunique(dropna=True))
    if len(ids) >= 2 * max(n_ids, 1) and len(ids) >= 2:
        raise DataError(
            f"{source_name} repeats the ids of {id_col!r} ({len(ids):,} rows for {n_ids:,} "
            "ids): it reads as an event log, but this model scores user tables, one row per "
            f"user with the columns {basis}. Give one row per user, or train a model on the "
            "log itself (personas segment LOG), which scores logs."
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


def membership(segmenter: Any, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A method's membership probabilities (a Gaussian mixture's ``predict_proba``) or
    its own confidence (HDBSCAN's ``confidence``) of the rows ``X``; None where it has
    neither."""
    if hasattr(segmenter, "predict_proba"):
        return segmenter.predict_proba(X), None
    if hasattr(segmenter, "confidence"):
        return None, segmenter.confidence(X)
    return None, None


def scored_frame(
    typed: pd.DataFrame,
    id_col: str | None,
    labels: np.ndarray,
    dist: np.ndarray,
    names: list[str],
    proba: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
) -> pd.DataFrame:
    """The stable output table: id (or row), segment, segment_name, distance, confidence
    — and with membership probabilities ``proba`` (a Gaussian mixture's), one
    ``probability_<segment>`` column per segment, the confidence being the probability of
    the user's segment. Without either, the confidence is the margin between the nearest
    and the second nearest centre, unless the method gives its own (``confidence``)."""
    n, k = dist.shape
    rows = np.arange(n)
    d1 = dist[rows, labels]
    if proba is not None:
        confidence = proba[rows, labels]
    elif confidence is not None:
        pass
    elif k > 1:
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
    out = pd.DataFrame(
        {
            key.name: key,
            "segment": labels.astype(np.int64),
            "segment_name": pd.Categorical.from_codes(labels, categories=names),
            "distance": d1.astype(np.float64),
            "confidence": np.clip(confidence, 0.0, 1.0).astype(np.float64),
        }
    )
    if proba is not None:
        for j in range(k):
            out[f"probability_{j}"] = proba[:, j].astype(np.float64)
    return out


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
