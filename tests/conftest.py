from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("PERSONAS_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATASETS = SHARED / "datasets"


@pytest.fixture
def seed() -> int:
    return 0


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The real public data sets in ../shared/datasets (tests using it skip where absent)."""
    if not DATASETS.is_dir():
        pytest.skip(f"real data sets not found at {DATASETS} (../shared/datasets is absent)")
    return DATASETS


@pytest.fixture(scope="session")
def small_users():
    from personas.datasets import make_users

    return make_users(3000, random_state=0)


def write(path: Path, text: str | bytes, encoding: str = "utf-8") -> Path:
    if isinstance(text, str):
        path.write_bytes(text.encode(encoding))
    else:
        path.write_bytes(text)
    return path
