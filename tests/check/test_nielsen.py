"""Nielsen's network.py (worked_examples/nielsen_network.py, its backprop written from memory) checked
through the matrix form on a net with two hidden layers: right, and with five bugs planted in its
layer loop, each named and placed. The right code is the independent computation here."""

import sys
from pathlib import Path

import pytest

import derive

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
sys.path.insert(0, str(EXAMPLES))
import nielsen_network  # noqa: E402

NET = derive.load(EXAMPLES / "nielsen_3_3_3_2.toml")

NAMED = {
    "sigmoid_for_prime": ("activation-in-backward", "hidden layers 1–2"),
    "prime_at_activation": ("derivative-at-activation", "hidden layers 1–2"),
    "outer_transposed": ("transposed-numbering", "hidden layers 1–2"),
    "output_updated_first": ("updated-weights", "output layer 3 updated first, lr 0.5"),
    "updated_in_loop": ("updated-weights", "lr 0.5"),
}


def test_nielsen_backprop_agrees():
    report = derive.check_gradients(NET, nielsen_network.gradients, form="matrices", points=5)
    assert report.agree and len(report.params) == 32


@pytest.mark.parametrize("bug", sorted(nielsen_network.BUGS))
def test_each_bug_in_the_layer_loop_is_named(bug):
    fn = getattr(nielsen_network, f"buggy_{bug}")
    report = derive.check_gradients(NET, fn, form="matrices", points=3)
    assert not report.agree
    assert [(m.mistake.name, m.where) for m in report.mistakes] == [NAMED[bug]], report.diagnosis
    hidden = {p.canonical for p in NET.graph.params if p.layer in (1, 2)}
    assert set(report.disagreeing) <= hidden            # the loop's bugs leave the output layer right
