"""The contracts in docs/ hold: every complete spec in docs/spec-format.md loads as the page says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import derive
from derive.core.fitspec import fit_spec_from_dict
from derive.core.spec import spec_from_dict

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"
BLOCKS = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.S)
COMPLETE = [b for b in BLOCKS if "[network]" in b and ("[values]" in b or "[data]" in b)]


def test_the_page_has_a_complete_example_of_each_spec_kind():
    assert any("[values]" in b for b in COMPLETE) and any("[data]" in b for b in COMPLETE)


@pytest.mark.parametrize("text", COMPLETE, ids=[f"block{i}" for i in range(len(COMPLETE))])
def test_every_complete_spec_on_the_page_loads(text):
    data = tomllib.loads(text)
    if "data" in data:
        spec = fit_spec_from_dict(data)
        assert spec.layers[0] >= 1
    else:
        net = derive.Network(spec_from_dict(data))
        assert set(net.gradients()) == set(net.trained)
