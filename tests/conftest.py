import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "worked_examples"
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Hypothesis profiles (README, "The test suite"): `quick` by default, `full` with DERIVE_FULL=1 or
# --hypothesis-profile=full (which hypothesis' plugin loads after this file). tests/budget.py scales the
# slow property tests' own counts by the profile loaded.
settings.register_profile("quick", max_examples=25)
settings.register_profile("full", max_examples=100)
settings.load_profile("full" if os.environ.get("DERIVE_FULL") == "1" else "quick")


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
