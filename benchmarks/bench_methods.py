"""Every segmentation method against planted segments: the k found, ARI and seconds.

Usage::

    python benchmarks/bench_methods.py [--users 3000] [--quick] [--csv rows.csv]
        [--scores scores.csv] [--real DIR | --no-real] [--methods kmeans,gmm,ward]
        [--eight] [--seed N]

A grid of ``make_planted`` tables (72 settings; ``--quick``: 6 of them): every
combination of shape (round, elongated, skewed), overlap (0.5 low, 1.0 medium, 1.5 high),
sizes (equal, uneven) and columns (6 numeric; 6 numeric + 2 noise; 4 numeric + 3
categorical; 4 numeric + 3 categorical + 2 noise), each with a planted number of segments
from 3 to 12 (a fixed shuffle, each count 7 or 8 times). For each setting and each method,
``personas.segment(users, method=..., random_state=0)`` (automatic k among 2..12) in this
process: the k found, the adjusted Rand index against the planted segments, and the
seconds of the whole call. Printed: one row per setting; per method the mean ARI, the
share of settings whose k is within ±1 of the planted count, the mean |k − planted| and
the mean k − planted (its sign says under- or over-shooting), also split by mixed
(categorical columns) against numeric-only tables and by each factor; the worst settings
of each method. A planted count of 12 is k_max: there, k can only undershoot.

``--real DIR`` (default ``../shared/datasets`` beside the repository) also runs each
method on three public tables (Telco churn, Bank marketing, Online shoppers): no planted
truth, so the k, the silhouette of the chosen k (``run.scores``, on the method's sample
in the basis) and the seconds. Tables that are absent are skipped with a message.

``--eight`` runs only the first measurement of the methods issue instead: eight Gaussian
segments of uneven size (25 % … 4 %) in 6 columns plus 2 noise columns, 8,000 users, at
three spreads (1.0, 1.5, 2.0): each method's k and adjusted Rand index.

``--methods`` takes ``auto`` too (K-Means or the Gaussian mixture, whichever the other
methods support more). ``--seed N``
draws every table of the grid again with its seed + N: the same settings, other users —
to check a rule chosen on the grid out of sample.

``--csv`` writes the per-setting, per-method rows; ``--scores`` every k's scores
(silhouette, Calinski–Harabasz, Davies–Bouldin, inertia, stability, BIC) of every run,
the real tables' too (their ``setting`` is the table's name), to study the rules that
choose k.
"""

from __future__ import annotations

import argparse
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

import personas
from personas.datasets import make_planted

METHODS = ["kmeans", "gmm", "ward", "kprototypes"]  # (deep: --methods ...,deep)
SHAPES = ["round", "elongated", "skewed"]
OVERLAPS = {"low": 0.5, "medium": 1.0, "high": 1.5}
SIZES = ["equal", "uneven"]
COLUMNS = {  # name: (n_numeric, n_categorical, n_noise)
    "numeric": (6, 0, 0),
    "numeric+noise": (6, 0, 2),
    "mixed": (4, 3, 0),
    "mixed+noise": (4, 3, 2),
}
REAL = {
    "telco_churn": "telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv",
    "bank_marketing": "bank_marketing/bank-full.csv.gz",
    "online_shoppers": "online_shoppers/online_shoppers_intention.csv",
}
DEFAULT_REAL = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def grid(quick: bool) -> list[dict]:
    """The settings: the full factorial of shape × overlap × sizes × columns, each with
    a planted k from a fixed shuffle of 3..12 (balanced: every k 7 or 8 times)."""
    settings = []
    for shape in SHAPES:
        for level in OVERLAPS:
            for sizes in SIZES:
                for columns in COLUMNS:
                    settings.append(
                        {"shape": shape, "overlap": level, "sizes": sizes, "columns": columns}
                    )
    ks = np.random.default_rng(2026).permutation(np.resize(np.arange(3, 13), len(settings)))
    for i, (s, k) in enumerate(zip(settings, ks, strict=True)):
        s.update(setting=i, n_segments=int(k))
    return settings[::13] if quick else settings  # (13: every factor varies)


def run_method(data, method: str) -> tuple[object, float]:
    start = time.perf_counter()
    run = personas.segment(data, method=method, random_state=0)
    return run, time.perf_counter() - start


def chosen_silhouette(run) -> float:
    row = run.scores[run.scores["k"] == run.k]
    return float(row["silhouette"].iloc[0]) if len(row) else float("nan")


def planted(args, settings: list[dict], methods: list[str]) -> tuple[pd.DataFrame, list]:
    rows, scores = [], []
    header = (
        f"{'#':>3} {'shape':<10}{'overlap':<8}{'sizes':<7}{'columns':<14}{'k*':>3}  "
        + "  ".join(f"{m + ' k':>8}{'ARI':>6}{'s':>6}" for m in methods)
    )
    print(header)
    for s in settings:
        n_numeric, n_categorical, n_noise = COLUMNS[s["columns"]]
        users, truth = make_planted(
            args.users,
            n_segments=s["n_segments"],
            sizes=s["sizes"],
            overlap=OVERLAPS[s["overlap"]],
            shape=s["shape"],
            n_numeric=n_numeric,
            n_categorical=n_categorical,
            n_noise=n_noise,
            random_state=s["setting"] + args.seed,
        )
        line = (
            f"{s['setting']:>3} {s['shape']:<10}{s['overlap']:<8}{s['sizes']:<7}"
            f"{s['columns']:<14}{s['n_segments']:>3}  "
        )
        cells = []
        for method in methods:
            row = dict(s, method=method, mixed=n_categorical > 0, noise=n_noise > 0)
            try:
                run, seconds = run_method(users, method)
            except Exception as error:  # a crash is a result: record it, go on
                traceback.print_exc()
                row.update(k=np.nan, ari=np.nan, seconds=np.nan, error=repr(error)[:200])
                cells.append(f"{'error':>8}{'':>6}{'':>6}")
                rows.append(row)
                continue
            found = truth[["user_id"]].merge(run.labels[["user_id", "segment"]], how="left")
            ari = adjusted_rand_score(truth["segment"], found["segment"].fillna(-1))
            row.update(
                k=run.k,
                ari=ari,
                seconds=seconds,
                fit_seconds=run.timings.get("segment", np.nan),
                silhouette=chosen_silhouette(run),
                k_reason=run.k_reason,
                error="",
            )
            rows.append(row)
            for score in run.scores.to_dict("records"):
                del score["seconds"]
                scores.append(
                    {"setting": s["setting"], "method": method, "planted": s["n_segments"]} | score
                )
            cells.append(f"{run.k:>8}{ari:>6.3f}{seconds:>6.1f}")
        print(line + "  ".join(cells), flush=True)
    return pd.DataFrame(rows), scores


def eight_gaussians(seed: int, spread: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Eight Gaussian segments of uneven size in 6 columns, plus 2 noise columns."""
    rng = np.random.default_rng(seed)
    counts = (np.array([0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04]) * 8000).astype(int)
    centres = rng.normal(0, 4, size=(8, 6))
    X = np.vstack([rng.normal(c, spread * rng.uniform(0.7, 1.3), size=(n, 6))
                   for c, n in zip(centres, counts, strict=True)])  # fmt: skip
    X = np.hstack([X, rng.normal(0, 1, size=(len(X), 2))])
    users = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    users.insert(0, "user_id", [f"u{i}" for i in range(len(users))])
    return users, np.repeat(np.arange(8), counts)


def eight(methods: list[str]) -> None:
    print(f"{'spread':>6}" + "".join(f"{m + ' k':>16}{'ARI':>7}" for m in methods))
    for seed, spread in [(0, 1.0), (1, 1.5), (2, 2.0)]:
        users, truth = eight_gaussians(seed, spread)
        cells = []
        for method in methods:
            run, _ = run_method(users, method)
            ari = adjusted_rand_score(truth, run.labels["segment"])
            cells.append(f"{run.k:>16}{ari:>7.3f}")
        print(f"{spread:>6}" + "".join(cells), flush=True)


def summarise(table: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    t = table.assign(
        err=table["k"] - table["n_segments"],
        within1=(table["k"] - table["n_segments"]).abs() <= 1,
        exact=table["k"] == table["n_segments"],
    )
    keys = ["method"] + ([by] if by else [])
    g = t.groupby(keys, sort=True, observed=True)  # (ordered categories: see `report`)
    out = pd.DataFrame(
        {
            "settings": g.size(),
            "errors": g["k"].apply(lambda k: int(k.isna().sum())),
            "mean ARI": g["ari"].mean(),
            "median ARI": g["ari"].median(),
            "k exact": g["exact"].mean(),
            "k within ±1": g["within1"].mean(),
            "mean |k-k*|": g["err"].apply(lambda e: e.abs().mean()),
            "mean k-k*": g["err"].mean(),
            "mean s": g["seconds"].mean(),
        }
    )
    return out


def report(table: pd.DataFrame, methods: list[str]) -> None:
    pd.set_option("display.width", 140)
    pd.set_option("display.max_columns", 20)
    fmt = {"float_format": lambda v: f"{v:.3f}"}
    order = {
        "method": methods,
        "shape": SHAPES,
        "overlap": list(OVERLAPS),
        "sizes": SIZES,
        "columns": list(COLUMNS),
    }
    table = table.assign(**{c: pd.Categorical(table[c], levels) for c, levels in order.items()})
    print("\nSummary per method (all settings)")
    print(summarise(table).to_string(**fmt))
    labelled = table.assign(
        tables=pd.Categorical(
            np.where(table["mixed"], "mixed", "numeric-only"), ["numeric-only", "mixed"]
        )
    )
    print("\nMixed (categorical columns) against numeric-only")
    print(summarise(labelled, "tables").to_string(**fmt))
    for factor in ["overlap", "shape", "sizes", "columns"]:
        print(f"\nBy {factor}")
        print(summarise(table, factor).to_string(**fmt))
    kbands = table.assign(
        planted=pd.cut(table["n_segments"], [2, 5, 8, 11, 12], labels=["3-5", "6-8", "9-11", "12"])
    )
    print("\nBy planted k")
    print(summarise(kbands, "planted").to_string(**fmt))
    print("\nWorst settings per method (lowest ARI)")
    cols = ["setting", "shape", "overlap", "sizes", "columns", "n_segments", "k", "ari"]
    for method in methods:
        worst = table[table["method"] == method].sort_values("ari").head(6)
        print(f"  {method}")
        print(worst[cols].to_string(index=False, **fmt))
    errors = table[table["error"].astype(bool)]
    if len(errors):
        print("\nErrors")
        print(errors[["setting", "method", "error"]].to_string(index=False))


def real(folder: Path, methods: list[str], scores: list) -> None:
    print(f"\nReal tables in {folder} (no planted truth)")
    if not folder.is_dir():
        print(f"  skipped: {folder} does not exist (pass --real DIR)")
        return
    print(
        f"  {'table':<17}{'rows':>7}"
        + "".join(f"{m + ' k':>10}{'sil':>7}{'s':>7}" for m in methods)
    )
    for name, rel in REAL.items():
        path = folder / rel
        if not path.exists():
            print(f"  {name:<17} skipped: {path} is absent")
            continue
        cells, n = [], 0
        for method in methods:
            try:
                run, seconds = run_method(str(path), method)
            except Exception as error:
                traceback.print_exc()
                cells.append(f"{'error':>10}{'':>7}{'':>7}")
                print(f"  {name} {method}: {error!r}"[:300])
                continue
            n = len(run.labels)
            for score in run.scores.to_dict("records"):
                del score["seconds"]
                scores.append({"setting": name, "method": method, "planted": np.nan} | score)
            cells.append(f"{run.k:>10}{chosen_silhouette(run):>7.3f}{seconds:>7.1f}")
        print(f"  {name:<17}{n:>7}" + "".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="6 settings of the grid")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--csv", type=Path, help="write the per-setting rows here")
    parser.add_argument("--scores", type=Path, help="write every run's per-k scores here")
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="the real tables' folder")
    parser.add_argument("--no-real", action="store_true", help="skip the real tables")
    parser.add_argument("--eight", action="store_true", help="only the eight-Gaussian case")
    parser.add_argument(
        "--seed", type=int, default=0,
        help="added to each table's seed: another draw of the same grid (a check out of sample)",
    )  # fmt: skip
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if args.eight:
        eight(methods)
        return
    start = time.perf_counter()
    settings = grid(args.quick)
    print(f"{len(settings)} settings × {len(methods)} methods, {args.users:,} users each\n")
    table, scores = planted(args, settings, methods)
    if args.csv:
        table.to_csv(args.csv, index=False)
    report(table, methods)
    print(f"\nPlanted grid: {time.perf_counter() - start:.0f} s")
    if not args.no_real:
        real_start = time.perf_counter()
        real(args.real, methods, scores)
        print(f"Real tables: {time.perf_counter() - real_start:.0f} s")
    if args.scores:
        pd.DataFrame(scores).to_csv(args.scores, index=False)
    print(f"Total: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
