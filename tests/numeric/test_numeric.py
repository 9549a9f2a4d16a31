"""Numbers: derive's generated code against an independent float computation (tests/reference.py)."""

import random

import numpy as np
import pytest

import derive
import reference

RTOL = 1e-12


def check_against_reference(net):
    s = net.spec
    E, outs, gw, gb = reference.gradients(list(s.layers), list(s.activations), s.loss, list(s.weights),
                                          list(s.biases), s.bias, list(s.inputs), list(s.targets))
    assert net.loss() == pytest.approx(E, rel=RTOL)
    assert net.evaluation.outputs == pytest.approx(outs, rel=RTOL)
    expected = dict(zip(net.params, gw + gb))
    grads = net.gradients()
    for name in net.trained:
        assert grads[name] == pytest.approx(expected[name], rel=RTOL, abs=1e-300), name
        now = net.param_values()[name]
        assert net.updated()[name] == pytest.approx(now - s.learning_rate * expected[name], rel=RTOL)


@pytest.mark.parametrize("example", ["mazur_2_2_2", "wikidocs_2_2_2", "seven_1_1", "seven_2_1", "seven_2_2",
                                     "seven_2_2_2", "seven_2_3", "seven_3_2", "forward_3_layer"])
def test_worked_examples_match_independent_computation(examples, example):
    check_against_reference(derive.load(examples / f"{example}.toml"))


@pytest.mark.parametrize("seed", range(12))
def test_random_nets_match_independent_computation(seed):
    rng = random.Random(seed)
    depth = rng.randint(1, 3)
    layers = [rng.randint(1, 4) for _ in range(depth + 1)]
    acts = [rng.choice(["identity", "sigmoid", "tanh", "relu"]) for _ in range(depth)]
    loss = rng.choice(["half_sse", "mse"])
    if rng.random() < 0.5:
        acts[-1], loss = rng.choice([("sigmoid", "bce"), ("softmax", "cross_entropy")])
    bias = rng.choice(["per_neuron", "shared", "none"])
    nb = {"per_neuron": sum(layers[1:]), "shared": depth, "none": 0}[bias]
    nw = sum(a * b for a, b in zip(layers, layers[1:]))
    u = lambda: rng.uniform(-1, 1)
    targets = [rng.uniform(0.05, 0.95) for _ in range(layers[-1])]
    net = derive.network(layers, acts, inputs=[u() for _ in range(layers[0])], targets=targets,
                         weights=[u() for _ in range(nw)], biases=[u() for _ in range(nb)], loss=loss, bias=bias,
                         learning_rate=0.1)
    check_against_reference(net)


def test_generated_code_broadcasts_over_samples(examples):
    net = derive.load(examples / "mazur_2_2_2.toml")
    point = net.graph.leaf_values()
    batch = {k: np.full(5, v) for k, v in point.items()}
    batch["i1"] = np.linspace(0, 1, 5)
    values, grads = net.program.function(batch)
    for n in range(5):
        single = dict(point, i1=float(batch["i1"][n]))
        _, g = net.program.function(single)
        assert grads["w5"][n] == pytest.approx(g["w5"], rel=1e-15)


def test_sigmoid_never_overflows():
    net = derive.network([1, 1], ["sigmoid"], inputs=[1.0], targets=[0.5], weights=[-1e4], biases=[0.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert net.evaluation.outputs[0] == 0.0
        assert np.isfinite(net.loss())
