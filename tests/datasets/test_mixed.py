from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import personas
from personas.datasets import make_planted


@pytest.fixture(autouse=True)
def one_thread():
    """scikit-learn's K-Means on one thread: on a busy 2-core machine its OpenMP threads
    wait for each other (2 s instead of 0.03 s for 2,000 rows)."""
    with threadpool_limits(limits=1):
        yield


def numeric(users: pd.DataFrame) -> pd.DataFrame:
    return users.drop(columns="user_id").select_dtypes("number")


def eta_squared(values: np.ndarray, segment: np.ndarray) -> float:
    """Share of a column's variance between the segments (the correlation ratio²)."""
    frame = pd.DataFrame({"x": values, "s": segment}).dropna()
    means = frame.groupby("s")["x"].transform("mean")
    return float(
        ((means - frame["x"].mean()) ** 2).sum() / ((frame["x"] - frame["x"].mean()) ** 2).sum()
    )


def cramers_v(values: pd.Series, segment: np.ndarray) -> float:
    table = pd.crosstab(values, segment).to_numpy(dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / table.sum() / (min(table.shape) - 1)))


def test_columns_names_types_and_truth_apart():
    users, truth = make_planted(
        600, n_segments=4, n_numeric=3, n_categorical=2, n_noise=1, random_state=0
    )
    assert list(users.columns) == [
        "user_id", "spend_1", "visits_2", "orders_3", "minutes_4", "plan_a", "channel_b",
    ]  # fmt: skip
    assert list(truth.columns) == ["user_id", "segment"]
    assert truth["user_id"].equals(users["user_id"])
    assert users["user_id"].is_unique and users["user_id"].iloc[0] == "U0000001"
    assert sorted(truth["segment"].unique()) == [0, 1, 2, 3]
    assert numeric(users).shape[1] == 4
    assert users["plan_a"].nunique() == 3 and users["channel_b"].nunique() == 4
    assert not users.isna().any().any()
    planted = users.attrs["personas_planted"]
    assert planted["signal_columns"] == ["spend_1", "visits_2", "orders_3", "plan_a", "channel_b"]
    assert planted["noise_columns"] == ["minutes_4"]


def test_every_column_is_read_as_a_feature():
    # no name reads as an id, a date or personal data; the numbers are numbers
    users, _ = make_planted(300, n_numeric=12, n_categorical=8, n_noise=2, random_state=0)
    roles = personas.validate(users).schema.roles
    assert roles.pop("user_id") == "id"
    assert set(users.columns[1:15]) == {c for c, r in roles.items() if r == "numeric"}
    assert set(users.columns[15:]) == {c for c, r in roles.items() if r == "categorical"}


def test_same_seed_same_table_other_seed_other_table():
    a, ta = make_planted(400, shape="skewed", n_categorical=2, missing_rate=0.1, random_state=5)
    b, tb = make_planted(400, shape="skewed", n_categorical=2, missing_rate=0.1, random_state=5)
    c, tc = make_planted(400, shape="skewed", n_categorical=2, missing_rate=0.1, random_state=6)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ta, tb)
    assert not a["spend_1"].equals(c["spend_1"])
    assert not ta["segment"].equals(tc["segment"])
    g, _ = make_planted(400, random_state=np.random.default_rng(5))
    h, _ = make_planted(400, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(g, h)


def test_sizes_equal_uneven_and_given():
    _, truth = make_planted(1000, n_segments=7, sizes="equal", random_state=0)
    counts = truth["segment"].value_counts().sort_index().to_numpy()
    assert counts.sum() == 1000 and counts.max() - counts.min() <= 1
    _, truth = make_planted(10_000, n_segments=6, random_state=0)  # "uneven"
    shares = truth["segment"].value_counts(normalize=True).sort_index().to_numpy()
    assert (np.diff(shares) < 0).all()  # segment 0 the largest
    assert 0.35 < shares[0] < 0.42 and 0.03 < shares[-1] < 0.05
    assert shares[0] / shares[-1] == pytest.approx(10, rel=0.01)
    _, truth = make_planted(800, n_segments=3, sizes=[1, 1, 2], random_state=0)
    assert truth["segment"].value_counts().sort_index().tolist() == [200, 200, 400]
    _, truth = make_planted(5, n_segments=5, random_state=0)  # one user each
    assert sorted(truth["segment"]) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("shape", "sizes", "n_noise"),
    [("round", "uneven", 0), ("elongated", "uneven", 0), ("skewed", "uneven", 0),
     ("round", "equal", 2), ("skewed", "equal", 2)],
)  # fmt: skip
def test_segments_are_recoverable_at_low_overlap(shape, sizes, n_noise):
    users, truth = make_planted(
        2000, n_segments=6, sizes=sizes, overlap=0.5, shape=shape, n_noise=n_noise, random_state=1
    )
    X = numeric(users).to_numpy(dtype=float)
    if shape == "skewed":
        X = np.log(X + 1)
    X = StandardScaler().fit_transform(X)
    labels = KMeans(6, n_init=10, random_state=0).fit_predict(X)
    assert adjusted_rand_score(truth["segment"], labels) > 0.9


def test_overlap_blurs_the_segments():
    def ari(overlap):
        users, truth = make_planted(1000, n_segments=5, overlap=overlap, n_noise=0, random_state=2)
        X = StandardScaler().fit_transform(numeric(users))
        labels = KMeans(5, n_init=4, random_state=0).fit_predict(X)
        return adjusted_rand_score(truth["segment"], labels)

    assert ari(0.5) > 0.9 > 0.7 > ari(2.0)


def test_categorical_columns_carry_the_segments_and_noise_does_not():
    users, truth = make_planted(
        3000, n_segments=5, n_numeric=2, n_categorical=4, n_noise=2, random_state=3
    )
    seg = truth["segment"].to_numpy()
    planted = users.attrs["personas_planted"]
    for col in ["plan_a", "channel_b", "device_c", "region_d"]:
        assert cramers_v(users[col], seg) > 0.25, col
        assert users[col].nunique() == 3 + "abcd".index(col[-1])  # 3 to 6 levels
    for col in planted["noise_columns"]:
        assert eta_squared(users[col].to_numpy(), seg) < 0.01, col
    for col in ["spend_1", "visits_2"]:
        assert eta_squared(users[col].to_numpy(), seg) > 0.3, col
    # sharper at low overlap, flatter at high overlap
    sharp = make_planted(3000, n_segments=5, n_categorical=2, overlap=0.5, random_state=3)
    flat = make_planted(3000, n_segments=5, n_categorical=2, overlap=2.0, random_state=3)
    assert cramers_v(sharp[0]["plan_a"], sharp[1]["segment"]) > cramers_v(
        flat[0]["plan_a"], flat[1]["segment"]
    )


def test_skewed_columns_are_positive_and_skewed_counts_are_whole():
    users, _ = make_planted(3000, shape="skewed", n_noise=0, random_state=4)
    X = numeric(users)
    assert (X > 0).all().all()
    assert (X.skew() > 1).all()
    assert users["visits_2"].dtype.kind == "i" and users["spend_1"].dtype.kind == "f"
    round_users, _ = make_planted(3000, shape="round", n_noise=0, random_state=4)
    assert (numeric(round_users).skew().abs() < 1).all()


def test_elongated_segments_are_anisotropic():
    def shape_of(shape):
        users, truth = make_planted(
            4000, n_segments=2, shape=shape, n_numeric=4, n_noise=0, random_state=0
        )
        rows = numeric(users)[truth["segment"].to_numpy() == 0].to_numpy(dtype=float)
        corr = np.corrcoef(rows, rowvar=False)  # (the columns' units differ)
        eig = np.linalg.eigvalsh(corr)
        return np.abs(corr - np.eye(4)).max(), np.sqrt(eig.max() / eig.min())

    assert shape_of("round") < (0.1, 1.2)
    correlation, axes = shape_of("elongated")
    assert correlation > 0.4 and axes > 2.5


def test_missing_values_at_the_rate_asked():
    users, truth = make_planted(4000, n_categorical=2, missing_rate=0.1, random_state=0)
    share = users.drop(columns="user_id").isna().mean()
    assert ((share > 0.08) & (share < 0.12)).all()
    assert users["user_id"].notna().all() and truth["segment"].notna().all()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_users": 0}, "n_users"),
        ({"n_users": 3, "n_segments": 4}, "n_users"),
        ({"n_users": 10.0}, "n_users"),
        ({"n_segments": 0}, "n_segments"),
        ({"n_segments": True}, "n_segments"),
        ({"sizes": "tiny"}, "sizes"),
        ({"sizes": [1, 2]}, "sizes"),
        ({"sizes": [1, 1, 1, 1, 1, -1]}, "sizes"),
        ({"overlap": 0}, "overlap"),
        ({"overlap": float("nan")}, "overlap"),
        ({"overlap": "high"}, "overlap"),
        ({"shape": "square"}, "shape"),
        ({"n_numeric": -1}, "n_numeric"),
        ({"n_categorical": 27}, "n_categorical"),
        ({"n_noise": 1.5}, "n_noise"),
        ({"n_numeric": 0, "n_categorical": 0}, "n_numeric"),
        ({"missing_rate": 0.6}, "missing_rate"),
        ({"missing_rate": -0.1}, "missing_rate"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_planted(**({"n_users": 100} | kwargs))
