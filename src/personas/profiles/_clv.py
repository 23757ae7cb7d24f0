"""Customer lifetime value: BG/NBD and Pareto/NBD for purchase counts, Gamma-Gamma for
spend, fitted by maximum likelihood (scipy), with standard errors and log-likelihoods.

Inputs per customer, in one time unit (e.g. weeks): ``x`` repeat purchases (purchase
days after the first), ``t_x`` time from the first to the last purchase, ``T`` time from
the first purchase to the end of the calibration period, and for Gamma-Gamma ``m`` the
mean value of the repeat purchases. The likelihoods follow Fader, Hardie & Lee (2005),
"Counting your customers the easy way" (BG/NBD), Fader & Hardie (2005), "A note on
deriving the Pareto/NBD model" and Fader, Hardie & Lee (2005), "RFM and CLV" (Gamma-Gamma).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

__all__ = ["Fit", "fit_bgnbd", "fit_gamma_gamma", "fit_pareto_nbd"]


@dataclass
class Fit:
    """A fitted model: parameters, their standard errors, the log-likelihood."""

    model: str
    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    n: int
    converged: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": {k: round(v, 6) for k, v in self.params.items()},
            "std_errors": {k: round(v, 6) for k, v in self.std_errors.items()},
            "log_likelihood": round(self.log_likelihood, 4),
            "n_customers": self.n,
            "converged": self.converged,
        }


def _fit(model: str, names: list[str], nll, start: np.ndarray, n: int) -> Fit:
    """Minimise the negative log-likelihood over log-parameters (all are positive)."""
    res = optimize.minimize(
        nll,
        np.log(start),
        method="Nelder-Mead",
        options={"maxiter": 20_000, "xatol": 1e-9, "fatol": 1e-9},
    )
    res2 = optimize.minimize(nll, res.x, method="L-BFGS-B")
    best = res2 if res2.fun <= res.fun else res
    theta = np.exp(best.x)
    se = _std_errors(lambda p: nll(np.log(p)), theta)
    return Fit(
        model,
        dict(zip(names, map(float, theta), strict=True)),
        dict(zip(names, map(float, se), strict=True)),
        float(-best.fun),
        n,
        bool(res.success or res2.success),
    )


def _std_errors(f, theta: np.ndarray) -> np.ndarray:
    """Square roots of the diagonal of the inverse Hessian of ``f`` at ``theta``."""
    k = len(theta)
    h = 1e-4 * np.maximum(np.abs(theta), 1e-3)
    hess = np.zeros((k, k))
    f0 = f(theta)
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            if i == j:
                val = (f(theta + ei) - 2 * f0 + f(theta - ei)) / h[i] ** 2
            else:
                val = (
                    f(theta + ei + ej)
                    - f(theta + ei - ej)
                    - f(theta - ei + ej)
                    + f(theta - ei - ej)
                ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = val
    try:
        cov = np.linalg.inv(hess)
        return np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)


# ----------------------------------------------------------------------------- BG/NBD


def bgnbd_loglik(r, alpha, a, b, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model."""
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b)
    a2 = a2 - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    last = np.where(x > 0, np.logaddexp(a3, np.where(x > 0, a4, -np.inf)), a3)
    return a1 + a2 + last


def fit_bgnbd(x, t_x, T, *, weights=None) -> Fit:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)

    def nll(log_p):
        r, alpha, a, b = np.exp(log_p)
        ll = bgnbd_loglik(r, alpha, a, b, x, t_x, T)
        return -float(np.sum(w * ll)) if np.all(np.isfinite(ll)) else np.inf

    return _fit("bgnbd", ["r", "alpha", "a", "b"], nll, np.array([1.0, 1.0, 1.0, 1.0]), len(x))


def bgnbd_expected(params: dict[str, float], t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next ``t`` time units, given each customer's history."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    first = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return first * bgnbd_p_alive(params, x, t_x, T)


def bgnbd_p_alive(params: dict[str, float], x, t_x, T) -> np.ndarray:
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return np.where(x > 0, 1.0 / (1.0 + odds), 1.0)


# ----------------------------------------------------------------------------- Pareto/NBD


def pareto_nbd_loglik(r, alpha, s, beta, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of the Pareto/NBD model (Fader & Hardie, 2005 note)."""
    rsx = r + s + x
    if alpha >= beta:
        big, b2 = alpha, s + 1
        z1, z2 = (alpha - beta) / (alpha + t_x), (alpha - beta) / (alpha + T)
    else:
        big, b2 = beta, r + x
        z1, z2 = (beta - alpha) / (beta + t_x), (beta - alpha) / (beta + T)
    f1 = special.hyp2f1(rsx, b2, rsx + 1, z1)
    f2 = special.hyp2f1(rsx, b2, rsx + 1, z2)
    log_a0_1 = np.log(f1) - rsx * np.log(big + t_x)
    log_a0_2 = np.log(f2) - rsx * np.log(big + T)
    # A0 = exp(log_a0_1) - exp(log_a0_2) (> 0 because t_x <= T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a0 = log_a0_1 + np.log1p(-np.exp(log_a0_2 - log_a0_1))
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    term1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    term2 = np.log(s) - np.log(rsx) + log_a0
    return head + np.logaddexp(term1, term2)


def fit_pareto_nbd(x, t_x, T) -> Fit:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))

    def nll(log_p):
        r, alpha, s, beta = np.exp(log_p)
        ll = pareto_nbd_loglik(r, alpha, s, beta, x, t_x, T)
        return -float(np.sum(ll)) if np.all(np.isfinite(ll)) else np.inf

    start = np.array([0.5, 5.0, 0.5, 5.0])
    return _fit("pareto_nbd", ["r", "alpha", "s", "beta"], nll, start, len(x))


# ----------------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_loglik(p, q, v, x, m) -> np.ndarray:
    """Per-customer log-likelihood of mean repeat spend ``m`` over ``x`` purchases."""
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + m * x)
    )


def fit_gamma_gamma(x, m) -> Fit:
    """Fit on customers with at least one repeat purchase and a positive mean value."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]

    def nll(log_p):
        p, q, v = np.exp(log_p)
        ll = gamma_gamma_loglik(p, q, v, x, m)
        return -float(np.sum(ll)) if np.all(np.isfinite(ll)) else np.inf

    return _fit("gamma_gamma", ["p", "q", "v"], nll, np.array([1.0, 1.0, 1.0]), len(x))


def gamma_gamma_expected_value(params: dict[str, float], x, m) -> np.ndarray:
    """Expected value of a future purchase given ``x`` repeat purchases averaging ``m``."""
    p, q, v = params["p"], params["q"], params["v"]
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    population = p * v / (q - 1)
    cond = (p * (v + x * m)) / (p * x + q - 1)
    return np.where(x > 0, cond, population)


# ----------------------------------------------------------------------------- from events

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


def clv_summary(e: Any, calibration_end: Any, unit: str) -> Any:
    """Per customer, from purchase events (an Ibis table with uid, ts, amount, is_purchase):
    ``x`` repeat purchase days, ``t_x``, ``T`` (in ``unit``s, whole days as in the published
    studies; purchases on the calibration end date count) and ``m``, the mean value of the
    repeat purchase days."""
    import ibis

    days = UNIT_DAYS[unit]
    end = ibis.date(calibration_end.year, calibration_end.month, calibration_end.day)
    buy = e.filter(e.is_purchase)  # zero-value purchases are still transactions here
    daily = (
        buy.mutate(day=buy.ts.date())
        .filter(lambda t: t.day <= end)
        .group_by(["uid", "day"])
        .aggregate(value=lambda t: t.amount.sum())
    )
    per = daily.group_by("uid").aggregate(
        n_days=daily.count(),
        first_day=daily.day.min(),
        last_day=daily.day.max(),
        total=daily.value.sum(),
        first_value=daily.value.argmin(daily.day),
    )
    return per.mutate(
        x=per.n_days - 1,
        t_x=per.last_day.delta(per.first_day, unit="day").cast("float64") / days,
        T=end.delta(per.first_day, unit="day").cast("float64") / days,
        m=((per.total - per.first_value) / (per.n_days - 1).nullif(0)).fill_null(0.0),
    ).select("uid", "x", "t_x", "T", "m")


def fit_clv(summary, *, unit: str, horizon_days: float = 365.0, annual_discount: float = 0.10):
    """Fit the three models; per customer: expected purchases, P(alive), expected value, CLV.

    CLV is the BG/NBD expected purchases over the horizon, month by month, times the
    Gamma-Gamma expected value of a purchase, discounted at ``annual_discount`` a year.
    """
    x, t_x, T, m = (summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T", "m"))
    bg = fit_bgnbd(x, t_x, T)
    pn = fit_pareto_nbd(x, t_x, T)
    gg = fit_gamma_gamma(x, m)
    days = UNIT_DAYS[unit]
    steps = np.arange(1, int(np.ceil(horizon_days / (365.25 / 12))) + 1) * (365.25 / 12)
    steps = np.minimum(steps, horizon_days)
    value = gamma_gamma_expected_value(gg.params, x, m)
    clv = np.zeros(len(x))
    previous = np.zeros(len(x))
    for d in steps:
        cumulative = bgnbd_expected(bg.params, d / days, x, t_x, T)
        clv += (cumulative - previous) * value / (1 + annual_discount) ** (d / 365.25)
        previous = cumulative
    out = summary.copy()
    out["expected_purchases"] = previous
    out["p_alive"] = bgnbd_p_alive(bg.params, x, t_x, T)
    out["expected_value"] = value
    out["clv"] = clv
    doc = {
        "time_unit": unit,
        "horizon_days": horizon_days,
        "annual_discount": annual_discount,
        "bgnbd": bg.to_dict(),
        "pareto_nbd": pn.to_dict(),
        "gamma_gamma": gg.to_dict(),
    }
    return out, doc
