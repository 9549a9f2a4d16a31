"""derive.strategies targets=: cross-entropy targets one-hot (default), a distribution, or anything in [0, 1].

The textbook softmax + cross-entropy backprop (δ = a − t, written here) is right exactly when the
targets sum to 1: with the default it passes, with targets="any" derive catches the assumption."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import derive
from derive import strategies as ds
from derive.testing import assert_gradients_match

FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                      HealthCheck.filter_too_much])
NET = derive.network([2, 3], ["softmax"], loss="cross_entropy", inputs=[0.1, 0.2], targets=[0, 1, 0],
                     weights=[0.3, 0.4, -0.2, 0.1, 0.5, -0.3], biases=[0.0, 0.1, -0.1])


def textbook(weights, biases, x, t):
    z = weights[0] @ x + biases[0]
    a = np.exp(z - z.max())
    a /= a.sum()
    return [np.outer(a - t, x)], [a - t]


@FAST
@given(ds.spec_dicts(losses=["cross_entropy"], activations=["softmax"]))
def test_one_hot_by_default(spec):
    t = spec["values"]["targets"]
    assert sorted(t) == [0.0] * (len(t) - 1) + [1.0]


@FAST
@given(ds.spec_dicts(losses=["cross_entropy"], activations=["softmax"], targets="distribution"))
def test_distribution_sums_to_one(spec):
    t = spec["values"]["targets"]
    assert all(v >= 0 for v in t) and math.isclose(sum(t), 1.0, rel_tol=1e-12)


@FAST
@given(ds.from_network(NET))
def test_the_textbook_delta_passes_on_one_hot_targets(net):
    assert_gradients_match(textbook, net, form="matrices")


def test_targets_any_finds_the_textbook_assumption():
    net = derive.network([2, 3], ["softmax"], loss="cross_entropy", inputs=[0.1, 0.2], targets=[0.5, 0.5, 0.5],
                         weights=[0.3, 0.4, -0.2, 0.1, 0.5, -0.3], biases=[0.0, 0.1, -0.1])
    with pytest.raises(AssertionError):         # Σt = 1.5: δ = a·Σt − t, not a − t
        assert_gradients_match(textbook, net, form="matrices")


def test_a_bad_targets_kind_is_refused():
    with pytest.raises(ds.InvalidArgument, match="targets='onehot' must be one of"):
        ds.spec_dicts(targets="onehot")
    with pytest.raises(ds.InvalidArgument, match="targets="):
        ds.values_for(NET, targets=1)


@FAST
@given(ds.specs(samples=(2, 4), losses=["cross_entropy"], activations=["softmax"]))
def test_batches_are_drawn(spec):
    assert 2 <= len(spec.samples) <= 4 and spec.reduction in ("mean", "sum")
    assert all(sorted(t) == [0.0] * (len(t) - 1) + [1.0] for _, t in spec.samples)


@settings(max_examples=15, deadline=None, database=None)
@given(ds.specs(samples=(1, 3), max_layers=3, max_width=2, activations=["sigmoid"], losses=["half_sse"],
                biases=["per_neuron"]))
def test_the_batch_derivation_is_the_reduction_of_the_samples(spec):
    net = derive.Network(spec)
    one = [derive.Network(dataclasses.replace(spec, inputs=x, targets=t, samples=())).gradients()
           for x, t in spec.samples]
    k = 1 / len(one) if spec.reduction == "mean" else 1.0
    for name, g in net.gradients().items():
        assert g == pytest.approx(k * math.fsum(o[name] for o in one), rel=1e-9, abs=1e-12)


def test_bad_samples_are_refused():
    with pytest.raises(ds.InvalidArgument, match=r"samples=\(3, 2\)|Cannot have samples\[1\]=2 < samples\[0\]=3"):
        ds.spec_dicts(samples=(3, 2))
    with pytest.raises(ds.InvalidArgument, match="must be None or a"):
        ds.spec_dicts(samples=3)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds.networks(activations=["relu", "leaky_relu"], samples=(2, 4), max_layers=4, max_width=3))
def test_batch_networks_keep_every_sample_off_the_kinks(net):
    """Every sample of a drawn batch, not only the first, has its kinked pre-activations away from 0."""
    for leaves in net.sample_leaves():
        values, _ = net.program.function(leaves)
        for layer in net.graph.layers:
            if layer.activation in ("relu", "leaky_relu"):
                assert all(abs(values[n.name]) >= 0.01 for n in layer.nets)
