"""Online Retail II replayed through POST /v1/events in shuffled batches: every user's
served profile and segment equal the batch path's at the same as_of."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import personas

pytestmark = pytest.mark.realdata
pytest.importorskip("fastapi", reason="the serve extra (pip install 'personas[serve]')")
from fastapi.testclient import TestClient  # noqa: E402

from personas.serve import Engine, create_app  # noqa: E402
from personas.store import open_store  # noqa: E402

KEY = "replay-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
AS_OF = "2010-12-10T00:00:00Z"
BATCH = 10_000


def test_online_retail_replayed_gives_the_batch_profiles_and_segments(datasets_dir, tmp_path):
    path = str(datasets_dir / "online_retail_ii" / "online_retail_ii_2009_2010.csv.gz")
    model = personas.segment(path, random_state=0).model
    events = model.profile_builder.read_events(path)
    events = events[events["user_id"].notna()].reset_index(drop=True)
    events["event_id"] = [f"line-{i}" for i in range(len(events))]
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True).map(lambda t: t.isoformat())
    records = [
        {k: v for k, v in row.items() if v is not None and v == v}
        for row in events.astype(object).to_dict("records")
    ]
    order = np.random.default_rng(0).permutation(len(records))
    client = TestClient(create_app(Engine(model, open_store(tmp_path / "s.db")), api_keys=[KEY]))
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        batch = [records[i] for i in order[start : start + BATCH]]
        answer = client.post("/v1/events", json={"events": batch}, headers=AUTH)
        assert answer.status_code == 200, answer.text[:500]
        assert answer.json()["rejected"] == []
    print(f"replayed {len(records):,} events in {time.perf_counter() - started:.0f} s")
    engine = client.app.state.engine
    # Every user profiled again as of AS_OF from their stored events (the periodic
    # re-score; GET ?as_of= would do it one user at a time), then read back over HTTP
    engine.rescore(now=pd.Timestamp(AS_OF).timestamp() - 1)
    profiling, scored = model.score_events(path, as_of=AS_OF)
    assert len(profiling.data) > 4000
    bad = []
    for i, expected in enumerate(profiling.data.to_dict("records")):
        got = client.get(f"/v1/users/{expected['user_id']}", headers=AUTH).json()
        assert got["as_of"] == profiling.as_of
        if got["segment"] != int(scored["segment"].iloc[i]):
            bad.append((expected["user_id"], "segment"))
        for feature, value in expected.items():
            served = got["profile"][feature]
            if pd.isna(value):
                ok = served is None
            elif isinstance(value, int | float | np.number):
                ok = served is not None and abs(served - value) <= 1e-9 * max(1.0, abs(value))
            else:
                ok = served == value
            if not ok:
                bad.append((expected["user_id"], feature, served, value))
    assert bad == [], bad[:10]
    user = profiling.data["user_id"].iloc[0]  # (and one user on demand, as of AS_OF)
    one = client.get(f"/v1/users/{user}", params={"as_of": AS_OF}, headers=AUTH).json()
    assert one["profile"] == client.get(f"/v1/users/{user}", headers=AUTH).json()["profile"]
