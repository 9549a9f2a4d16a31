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


def test_two_mistakes_at_once_are_named_together():
    def both(w, b, x, t):
        dW, db = nielsen_network.buggy_prime_at_activation(w, b, x, t)
        return [dW[0].T, dW[1].T, dW[2]], db              # and the hidden outer products transposed
    report = derive.check_gradients(NET, both, form="matrices", points=2)
    [match] = report.mistakes
    assert (match.mistake.name, match.where) == ("derivative-at-activation", "hidden layers 1–2")
    assert (match.also.mistake.name, match.also.where) == ("transposed-numbering", "hidden layers 1–2")
    assert "together with transposed-numbering" in report.diagnosis
    assert report.as_json()["mistakes"][0]["together_with"]["name"] == "transposed-numbering"


def test_no_known_mistake_says_which_layers_agree_and_a_factor():
    def tripled(w, b, x, t):
        dW, db = nielsen_network.gradients(w, b, x, t)
        return [3 * dW[0], dW[1], dW[2]], db               # layer 1's weights only: no mistake of the library
    report = derive.check_gradients(NET, tripled, form="matrices", points=2)
    assert report.mistakes == [] and report.diagnosis is None
    assert report.located == ("hidden layer 1: 9 of 12 disagree, each 3 × the derivation's; "
                              "hidden layer 2: all 12 agree; output layer 3: all 8 agree")
    assert report.as_json()["located"] == report.located
