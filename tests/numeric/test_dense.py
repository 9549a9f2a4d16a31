"""The matrix form for values specs past the weight-by-weight limit (derive.numeric.dense): loss, outputs and
every gradient against tests/reference.py (plain Python floats, sharing no code with derive), for every
activation, loss and bias scheme; and on nets past 2,000 weights, where the scalar path refuses."""

from __future__ import annotations

import random

import numpy as np
import pytest

from derive.core.spec import spec_from_dict
from derive.errors import NotSupported, SpecError
from derive.numeric.dense import DenseNetwork
from reference import gradients as reference_gradients

CASES = [  # (layers, activations, loss, bias scheme)
    ([3, 4, 2], ["sigmoid", "sigmoid"], "half_sse", "per_neuron"),
    ([3, 4, 2], ["tanh", "identity"], "mse", "shared"),
    ([2, 5, 3], ["relu", "softmax"], "cross_entropy", "per_neuron"),
    ([4, 3, 3, 1], ["sigmoid", "tanh", "sigmoid"], "bce", "none"),
    ([2, 3, 2], ["sigmoid", "sigmoid"], "bce", "shared"),
    ([3, 3], ["identity"], "half_sse", "per_neuron"),
]


def spec_dict(layers, acts, loss, scheme, seed=0):
    rng = random.Random(seed)
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    n_b = {"per_neuron": sum(layers[1:]), "shared": len(layers) - 1, "none": 0}[scheme]
    targets = [rng.uniform(0.1, 0.9) for _ in range(layers[-1])]
    if acts[-1] == "softmax":
        targets = [1.0 if i == 1 else 0.0 for i in range(layers[-1])]
    return {"network": {"layers": layers, "activations": acts, "loss": loss, "bias": scheme},
            "values": {"inputs": [rng.uniform(-1, 1) for _ in range(layers[0])], "targets": targets,
                       "weights": [rng.uniform(-1, 1) for _ in range(n_w)],
                       "biases": [rng.uniform(-0.5, 0.5) for _ in range(n_b)], "learning_rate": 0.1}}


@pytest.mark.parametrize("layers, acts, loss, scheme", CASES)
def test_dense_gradients_are_the_reference_ones(layers, acts, loss, scheme):
    data = spec_dict(layers, acts, loss, scheme)
    net = DenseNetwork(spec_from_dict(data))
    v = data["values"]
    E, outs, gw, gb = reference_gradients(layers, acts, loss, v["weights"], v["biases"], scheme, v["inputs"],
                                          v["targets"])
    assert net.loss() == pytest.approx(E, rel=1e-12)
    assert net.evaluation.outputs == pytest.approx(outs, rel=1e-12)
    got = net.gradients()
    for name, value in zip(net.params, gw + gb):
        assert got[name] == pytest.approx(value, rel=1e-10, abs=1e-13), name


def test_a_net_past_the_scalar_limit_answers_in_matrix_form():
    # [100, 100]: 10,000 weights, past MAX_SCALAR_WEIGHTS; reference.py for the numbers
    data = spec_dict([100, 100], ["sigmoid"], "half_sse", "per_neuron", seed=3)
    net = DenseNetwork(spec_from_dict(data))
    v = data["values"]
    E, _, gw, gb = reference_gradients([100, 100], ["sigmoid"], "half_sse", v["weights"], v["biases"],
                                       "per_neuron", v["inputs"], v["targets"])
    grads = net.gradients()
    assert len(grads) == 10_100 and net.loss() == pytest.approx(E, rel=1e-12)
    assert [grads[f"w{i}"] for i in (1, 5000, 10000)] == pytest.approx([gw[0], gw[4999], gw[9999]], rel=1e-10)
    assert grads["b100"] == pytest.approx(gb[99], rel=1e-10)


def test_training_in_matrix_form_lowers_the_loss_and_matches_one_reference_step():
    data = spec_dict([3, 4, 2], ["sigmoid", "sigmoid"], "half_sse", "per_neuron")
    net = DenseNetwork(spec_from_dict(data))
    v = data["values"]
    _, _, gw, gb = reference_gradients([3, 4, 2], ["sigmoid", "sigmoid"], "half_sse", v["weights"], v["biases"],
                                       "per_neuron", v["inputs"], v["targets"])
    one = net.train(epochs=1, lr=0.5)
    expected = [w - 0.5 * g for w, g in zip(v["weights"] + v["biases"], gw + gb)]
    assert list(one.params.values()) == pytest.approx(expected, rel=1e-12)
    many = net.train(epochs=200, lr=0.5)
    assert many.losses[-1] < many.losses[0] and many.epochs_run == 200


def test_coupled_output_without_its_link_and_targets_off_a_distribution_are_one_line():
    with pytest.raises(NotSupported, match="coupled output only with the loss whose link it is"):
        DenseNetwork(spec_from_dict(spec_dict([2, 3], ["softmax"], "half_sse", "none")))
    data = spec_dict([2, 3], ["softmax"], "cross_entropy", "none")
    data["values"]["targets"] = [0.5, 0.9, 0.0]
    with pytest.raises(SpecError, match="targets summing to 1"):
        DenseNetwork(spec_from_dict(data))


def test_training_in_matrix_form_bounds_epochs_times_weights():
    net = DenseNetwork(spec_from_dict(spec_dict([100, 100], ["sigmoid"], "half_sse", "per_neuron")))
    with pytest.raises(SpecError, match="epochs: expected at most 1000000 for 10000 weights"):
        net.train(epochs=5_000_000)
