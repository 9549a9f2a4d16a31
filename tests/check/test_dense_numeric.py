"""check --numeric past the weight-by-weight limit (derive.check.dense): the matrix form's gradients against
central differences on an evenly spread sample of parameters; it agrees on a right net and names a planted
error."""

from __future__ import annotations

import random

from derive.check.dense import check_numeric_dense, sample
from derive.core.spec import spec_from_dict
from derive.numeric.dense import DenseNetwork


def spec_dict(layers, acts, loss, scheme, seed=0):
    """A one-sample values spec with seeded numbers in [−1, 1] (per-neuron biases)."""
    rng = random.Random(seed)
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    return {"network": {"layers": layers, "activations": acts, "loss": loss, "bias": scheme},
            "values": {"inputs": [rng.uniform(-1, 1) for _ in range(layers[0])],
                       "targets": [rng.uniform(0.1, 0.9) for _ in range(layers[-1])],
                       "weights": [rng.uniform(-1, 1) for _ in range(n_w)],
                       "biases": [rng.uniform(-0.5, 0.5) for _ in range(sum(layers[1:]))]}}


def test_numeric_check_in_matrix_form_agrees_and_samples():
    net = DenseNetwork(spec_from_dict(spec_dict([60, 60], ["tanh"], "mse", "per_neuron")))
    report = check_numeric_dense(net)
    assert report.ok and len(report.rows) == 1000 and report.rows[0].param == "w1"
    assert report.rows[-1].param == net.trained[-1]
    assert sample(5) == [0, 1, 2, 3, 4] and sample(10_000, 3) == [0, 5000, 9999]


def test_a_numeric_check_in_matrix_form_can_fail():
    net = DenseNetwork(spec_from_dict(spec_dict([3, 4, 2], ["sigmoid", "sigmoid"], "half_sse", "per_neuron")))
    wrong = net.evaluate()
    wrong.gradients[0] *= 2                 # a planted error in w1's gradient
    net.__dict__["evaluate"] = lambda theta=None: wrong
    assert check_numeric_dense(net).failures == ["w1"]
