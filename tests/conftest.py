import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "worked_examples"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
