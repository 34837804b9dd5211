from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Real PubMed-style files kept beside the project (not copied in: several are AGPL).
SAMPLES_DIR = REPO_ROOT.parent / "shared" / "data" / "samples"
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"
FIXTURES_DIR = REPO_ROOT / "fixtures"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared sample files are not beside this checkout")
    return path


@pytest.fixture
def sample_path():
    """sample_path('asreview_pubmed.xml') -> Path, skipping when ../shared is absent."""

    def get(name: str) -> Path:
        return _require(SAMPLES_DIR / name)

    return get


@pytest.fixture
def seed_path():
    def get(name: str) -> Path:
        return _require(SEEDS_DIR / name)

    return get
