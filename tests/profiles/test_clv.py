"""Lifetime-value models: our likelihoods against the published CDNOW fits.

The CDNOW data ship inside the Lifetimes wheel on PyPI; the realdata tests download that
wheel into a temporary folder (the project does not vendor it) and skip where they cannot.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

import personas
from personas.profiles._clv import (
    bgnbd_expected,
    bgnbd_p_alive,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
)

# Fader, Hardie & Lee (2005a, BG/NBD), Fader & Hardie (2005, Pareto/NBD note) and
# Fader, Hardie & Lee (2005b, Gamma-Gamma): CDNOW 1/10 sample, 2,357 customers, weeks.
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def lifetimes_wheel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lifetimes")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            str(folder),
            "lifetimes==0.11.3",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    wheels = list(folder.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        pytest.skip(f"could not download the Lifetimes wheel (CDNOW data): {done.stderr[-300:]}")
    return zipfile.ZipFile(wheels[0])


def _close(fit, published, rel):
    for k, v in published.items():
        assert fit.params[k] == pytest.approx(v, rel=rel), (k, fit.params[k], v)


@pytest.mark.realdata
def test_fits_match_the_published_cdnow_parameters(lifetimes_wheel):
    raw = lifetimes_wheel.read("lifetimes/datasets/cdnow_customers_summary_with_transactions.csv")
    s = pd.read_csv(io.BytesIO(raw))
    bg = fit_bgnbd(s["x"], s["t_x"], s["T"])
    _close(bg, BGNBD, 0.005)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert all(se > 0 for se in bg.std_errors.values())
    pn = fit_pareto_nbd(s["x"], s["t_x"], s["T"])
    _close(pn, PARETO, 0.005)
    assert pn.log_likelihood == pytest.approx(-9595.0, abs=0.1)
    gg = fit_gamma_gamma(s["x"], s["zbar"])
    _close(gg, GAMMA, 0.005)
    assert gg.n == 946  # customers with a repeat purchase


@pytest.mark.realdata
def test_profile_command_reproduces_the_fit_from_the_transactions(lifetimes_wheel, tmp_path):
    # The file as published: columns separated by runs of spaces, no header (master id,
    # sample id, yyyymmdd date, CDs, amount); personas reads it as it is.
    path = tmp_path / "CDNOW_sample.txt"
    path.write_bytes(lifetimes_wheel.read("lifetimes/datasets/CDNOW_sample.txt"))
    out = tmp_path / "out"
    from typer.testing import CliRunner

    from personas.cli import app

    result = CliRunner().invoke(
        app,
        [
            "profile",
            str(path),
            "-o",
            str(out),
            "--as-of",
            "1998-07-01",
            "--clv",
            "--calibration-end",
            "1997-09-30",
            "--time-unit",
            "week",
            "--keep-duplicates",
        ],
    )
    assert result.exit_code == 0, result.output
    import json

    clv = json.loads((out / "summary.json").read_text())["clv"]
    for name, published in (("bgnbd", BGNBD), ("pareto_nbd", PARETO), ("gamma_gamma", GAMMA)):
        for k, v in published.items():
            assert clv[name]["params"][k] == pytest.approx(v, rel=0.005), (name, k)
    assert clv["bgnbd"]["n_customers"] == 2357
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mapping"] == {"user_id": "column0", "timestamp": "column2", "amount": "column4"}
    data = pd.read_parquet(out / "profiles.parquet")
    assert data["p_alive"].between(0, 1).all() and (data["clv"] >= 0).all()


def test_bgnbd_recovers_simulated_parameters():
    rng = np.random.default_rng(0)
    n, T = 6000, 52.0
    r, alpha, a, b = 0.5, 5.0, 0.8, 3.0
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    fit = fit_bgnbd(x, t_x, np.full(n, T))
    for k, v in {"r": r, "alpha": alpha, "a": a, "b": b}.items():
        assert fit.params[k] == pytest.approx(v, rel=0.35), (k, fit.params[k])
    params = fit.params
    # more purchases expected from an active, frequent customer than from a lapsed one
    active = bgnbd_expected(params, 10, [10], [50], [52])[0]
    lapsed = bgnbd_expected(params, 10, [10], [5], [52])[0]
    assert active > lapsed
    assert bgnbd_p_alive(params, [0], [0], [52])[0] == 1.0
    assert bgnbd_p_alive(params, [10], [5], [52])[0] < 0.1


def test_clv_needs_repeat_purchases():
    log = pd.DataFrame(
        {"user_id": ["a", "b"], "timestamp": ["2024-01-01", "2024-01-02"], "amount": [1.0, 2.0]}
    )
    with pytest.raises(personas.errors.DataError, match="Too few repeat purchases"):
        personas.profile(log, clv=True)
