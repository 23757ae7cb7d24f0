from __future__ import annotations

import numpy as np
import pandas as pd

import personas


def test_findings_about_the_whole_table_render(tmp_path):
    """A finding that concerns the whole table (exact duplicate rows) has no column: the
    segmentation, validation and EDA reports show it, as a bank's or a shop's export with
    duplicated rows needs (it was an internal error)."""
    rng = np.random.default_rng(0)
    users = pd.DataFrame(
        {
            "visits": rng.poisson(5, 300),
            "spend": rng.gamma(2.0, 50.0, 300).round(2),
            "channel": rng.choice(["web", "app", "store"], 300),
        }
    )
    users = pd.concat([users, users.iloc[:40]], ignore_index=True)  # exact duplicates
    report = personas.validate(users)
    assert any(f.column is None for f in report.findings)
    report.write_html(tmp_path / "validation.html")
    run = personas.segment(users, random_state=0)
    run.write_html(tmp_path / "report.html")
    assert "duplicate" in (tmp_path / "report.html").read_text()
    personas.eda(users).write_html(tmp_path / "eda.html")
