from __future__ import annotations

import pytest

from alpr_lib.samples import SampleData, generate_sample


@pytest.fixture(scope="session")
def sample() -> SampleData:
    """The default sample (300k reads), built once for all sample-data tests."""
    return generate_sample()
