"""derive.strategies: argument validation, shrinking towards the minimal net, every draw valid."""

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import errors as hypothesis_errors

import derive
from derive import strategies as ds
from derive.core.primitives import ACTIVATIONS
from derive.core.spec import Spec, spec_from_dict

FAST = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def minimal(strategy, condition=lambda x: True):
    """The simplest example satisfying `condition`, as hypothesis' own tests find it."""
    return find(strategy, condition, settings=settings(max_examples=2000, database=None, deadline=None,
                                                       suppress_health_check=list(HealthCheck)))


NET = derive.network([2, 1], ["sigmoid"], inputs=[0.1, 0.2], targets=[0.5], weights=[0.3, 0.4])

BAD_ARGUMENTS = [
    (ds.layer_sizes, {"min_layers": 1}, r"min_layers=1 must be at least 2 \(an input and an output layer\)"),
    (ds.layer_sizes, {"min_layers": 2.0}, r"min_layers=2.0 must be an integer, got float"),
    (ds.layer_sizes, {"min_layers": True}, r"min_layers=True must be an integer, got bool"),
    (ds.layer_sizes, {"min_layers": 4, "max_layers": 3}, r"Cannot have max_layers=3 < min_layers=4"),
    (ds.layer_sizes, {"min_width": 0}, r"min_width=0 must be at least 1"),
    (ds.layer_sizes, {"max_width": 0}, r"max_width=0 must be at least 1"),
    (ds.layer_sizes, {"min_width": 3, "max_width": 2}, r"Cannot have max_width=2 < min_width=3"),
    (ds.activations, {"names": "sigmoid"}, r"names='sigmoid' must be a collection of names"),
    (ds.activations, {"names": ["sigmod"]}, r"names contains 'sigmod'.*did you mean 'sigmoid'"),
    (ds.activations, {"names": []}, r"names=\[\] must name at least one of identity"),
    (ds.activations, {"names": ["softmax"]}, r"no activation for a hidden layer"),
    (ds.activations, {"output": "yes"}, r"output='yes' must be True or False"),
    (ds.losses, {"names": ["sse"]}, r"names contains 'sse', expected names from half_sse"),
    (ds.losses, {"names": ["bce"], "output_activation": "relu"}, r"no loss in names=\['bce'\] pairs with "
                                                                 r"output_activation='relu'"),
    (ds.losses, {"output_activation": "sigmod"}, r"output_activation contains 'sigmod'"),
    (ds.bias_schemes, {"names": ["both"]}, r"names contains 'both', expected names from none, per_neuron"),
    (ds.spec_dicts, {"losses": ["bce"], "activations": ["relu", "tanh"]},
     r"no loss in losses=\('bce',\) pairs with an output activation.*bce needs sigmoid"),
    (ds.spec_dicts, {"activations": ["softmax"], "min_layers": 3}, r"min_layers=3 must be 2"),
    (ds.spec_dicts, {"notations": ["greek"]}, r"notations contains 'greek', expected names from net-out"),
    (ds.spec_dicts, {"biases": "none"}, r"biases='none' must be a collection of names"),
    (ds.spec_dicts, {"min_value": float("nan")}, r"min_value=nan must be finite"),
    (ds.spec_dicts, {"max_value": "1"}, r"max_value='1' must be a real number, got str"),
    (ds.spec_dicts, {"min_value": 1.0, "max_value": 0.0}, r"Cannot have max_value=0.0 < min_value=1.0"),
    (ds.specs, {"max_layers": 1}, r"max_layers=1 must be at least 2"),
    (ds.specs, {"train_biases": "yes"}, r"train_biases='yes' must be True, False or None"),
    (ds.networks, {"kink_margin": -0.1}, r"kink_margin=-0.1 must be at least 0"),
    (ds.networks, {"saturation_margin": 0.5}, r"saturation_margin=0.5 must be in \[0, 0.5\)"),
    (ds.networks, {"min_width": 0}, r"min_width=0 must be at least 1"),
    (ds.values_for, {"net": "2-1"}, r"net='2-1' must be a derive.Network, got str"),
    (ds.values_for, {"net": NET, "min_value": float("inf")}, r"min_value=inf must be finite"),
    (ds.from_network, {"net": NET, "max_value": -2.0}, r"Cannot have max_value=-2.0 < min_value=-1.0"),
]


@pytest.mark.parametrize("strategy, kwargs, message", BAD_ARGUMENTS,
                         ids=[f"{f.__name__}-{'-'.join(k)}-{i}" for i, (f, k, _) in enumerate(BAD_ARGUMENTS)])
def test_bad_arguments_raise_eagerly_with_a_message(strategy, kwargs, message):
    kwargs = dict(kwargs)
    args = [kwargs.pop("net")] if "net" in kwargs else []
    with pytest.raises(ds.InvalidArgument, match=message) as caught:
        strategy(*args, **kwargs)    # eager: raised by the call, before anything is drawn
    assert isinstance(caught.value, (derive.DeriveError, ValueError, TypeError, hypothesis_errors.InvalidArgument))


def test_invalid_argument_is_every_error_a_caller_might_catch():
    for base in (derive.DeriveError, ValueError, TypeError, hypothesis_errors.InvalidArgument):
        assert issubclass(ds.InvalidArgument, base)


# --- shrinking --------------------------------------------------------------------------------

def test_layer_sizes_shrink_to_min_layers_of_min_width():
    assert minimal(ds.layer_sizes()) == (1, 1)
    assert minimal(ds.layer_sizes(min_layers=3, min_width=2)) == (2, 2, 2)
    assert minimal(ds.layer_sizes(), lambda s: len(s) >= 4) == (1, 1, 1, 1)


def test_names_shrink_to_the_simplest():
    assert minimal(ds.activations()) == "identity"
    order = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax")   # the registry's
    for i, name in enumerate(order):
        assert minimal(ds.activations(output=True), lambda a: a not in order[:i]) == name
    assert minimal(ds.activations(), lambda a: a not in order[:5]) == "softplus"
    assert minimal(ds.losses()) == "half_sse"
    assert minimal(ds.losses(output_activation="softmax"), lambda name: name != "half_sse") == "mse"
    assert minimal(ds.bias_schemes()) == "none"


def test_specs_shrink_to_the_minimal_net():
    spec = minimal(ds.specs())
    assert spec.layers == (1, 1) and spec.activations == ("identity",) and spec.loss == "half_sse"
    assert spec.bias == "none" and spec.notation == "net-out"
    assert spec.inputs == spec.targets == spec.weights == (0.0,)


def test_networks_shrink_to_the_minimal_net():
    net = minimal(ds.networks(max_layers=3, max_width=2))
    assert net.spec == minimal(ds.specs())


def test_a_condition_shrinks_to_the_smallest_net_meeting_it():
    spec = minimal(ds.specs(), lambda s: s.loss == "bce" and len(s.layers) == 3)
    assert spec.layers == (1, 1, 1) and spec.activations == ("identity", "sigmoid")
    assert spec.bias == "none" and spec.weights == (0.0, 0.0)


# --- every draw is valid -------------------------------------------------------------------------

@FAST
@given(ds.specs(max_layers=5, max_width=3))
def test_drawn_specs_are_valid_and_pair_loss_with_output(spec):
    assert isinstance(spec, Spec)
    wanted = ds.LOSS_OUTPUTS[spec.loss]
    assert wanted is None or spec.activations[-1] in wanted
    assert "softmax" not in spec.activations[:-1]
    low, high = ds.TARGET_RANGES.get(spec.loss, (-1.0, 1.0))
    assert all(low <= t <= high for t in spec.targets)
    assert all(-1.0 <= v <= 1.0 for v in spec.inputs + spec.weights + spec.biases)


@FAST
@given(ds.spec_dicts(activations=["tanh", "sigmoid"], losses=["bce", "mse"], biases=["shared"],
                     notations=["seven"], train_biases=True, min_layers=3, max_layers=3, min_width=2, max_width=2,
                     min_value=0.5, max_value=0.75))
def test_spec_dicts_respect_every_bound(data):
    spec = spec_from_dict(data)
    assert spec.layers == (2, 2, 2) and spec.bias == "shared" and spec.notation == "seven" and spec.train_biases
    assert set(spec.activations) <= {"tanh", "sigmoid"}
    assert spec.loss == "mse" or spec.activations[-1] == "sigmoid"
    assert all(0.5 <= v <= 0.75 for v in spec.inputs + spec.weights + spec.biases)


@FAST
@given(ds.networks(max_layers=4, max_width=3, activations=["relu", "leaky_relu", "sigmoid", "softmax"],
                   losses=["bce", "cross_entropy"]))
def test_networks_stay_off_kinks_and_poles(net):
    values = net.values()
    for layer in net.graph.layers:
        if layer.activation in ("relu", "leaky_relu"):
            assert all(abs(values[n.name]) >= 0.01 for n in layer.nets)
    assert all(1e-3 <= values[o.name] <= 1 - 1e-3 for o in net.graph.outputs)


@FAST
@given(ds.networks(max_layers=4, max_width=3, activations=["leaky_relu"], min_value=-3.0, max_value=3.0,
                   kink_margin=0.5))
def test_a_leaky_relu_kink_margin_is_kept(net):
    values = net.values()
    assert all(abs(values[n.name]) >= 0.5 for layer in net.graph.layers for n in layer.nets)


@pytest.mark.parametrize("name", ["leaky_relu", "softplus"])
def test_the_new_activations_are_drawn_in_hidden_and_output_layers(name):
    assert minimal(ds.activations(), lambda a: a == name) == name
    assert minimal(ds.specs(), lambda s: name in s.activations).activations == (name,)
    spec = minimal(ds.specs(activations=[name], min_layers=3), lambda s: s.activations == (name, name))
    assert spec.layers == (1, 1, 1) and spec.loss in ("half_sse", "mse")
    with pytest.raises(hypothesis_errors.NoSuchExample):        # bce and cross_entropy need σ or softmax
        minimal(ds.losses(output_activation=name), lambda loss: loss not in ("half_sse", "mse"))


@FAST
@given(ds.networks(max_layers=3, max_width=2, activations=["leaky_relu", "softplus"]))
def test_networks_of_the_new_activations_are_drawn(net):
    assert set(net.spec.activations) <= {"leaky_relu", "softplus"}
    assert net.spec.loss in ("half_sse", "mse")


@FAST
@given(ds.from_network(NET, min_value=-3.0, max_value=3.0))
def test_from_network_keeps_the_structure_and_draws_values(net):
    assert net.spec.layers == NET.spec.layers and net.spec.activations == NET.spec.activations
    assert all(-3.0 <= v <= 3.0 for v in net.spec.inputs + net.spec.weights)
    assert all(0.0 <= t <= 1.0 or NET.spec.loss not in ds.TARGET_RANGES for t in net.spec.targets)


def test_values_for_gives_every_leaf_of_the_net():
    values = minimal(ds.values_for(NET))
    assert set(values) == set(NET.graph.leaf_values())
    assert all(v == 0.0 for v in values.values())


def test_importing_derive_does_not_import_hypothesis():
    code = "import sys, derive, derive.cli; sys.exit('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_pairing_tables_are_the_registrys_and_unchanged_for_the_old_names():
    assert ds.LOSS_OUTPUTS == {"half_sse": None, "mse": None, "bce": ("sigmoid",),
                               "cross_entropy": ("softmax", "sigmoid")}
    assert ds.LOSS_OUTPUTS == {name: rule.outputs for name, rule in derive.core.primitives.LOSSES.items()}
    assert ds.HIDDEN_FORBIDDEN == ("softmax",)
    assert ds.TARGET_RANGES == {"bce": (0.0, 1.0), "cross_entropy": (0.0, 1.0)}


def test_every_activation_has_a_loss_it_pairs_with():
    for name in ACTIVATIONS:
        assert any(wanted is None or name in wanted for wanted in ds.LOSS_OUTPUTS.values())
    assert set(ds.LOSS_OUTPUTS) == set(derive.core.primitives.LOSSES)
