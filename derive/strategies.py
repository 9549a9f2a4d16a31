"""Hypothesis strategies for derive's networks, their values and whole specs, in hypothesis' own style.

    from derive import strategies as ds
    @given(ds.networks(max_layers=3, max_width=3))
    def test_my_backprop(net): derive.testing.assert_gradients_match(my_backprop, net)

Every strategy validates its arguments when called (not when drawn) and raises `InvalidArgument`,
which is a `derive.DeriveError`, hypothesis' own `InvalidArgument` (a `TypeError`) and a `ValueError`.
This is the only module of derive that imports hypothesis.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import Any, Collection, Mapping

import numpy as np
from hypothesis import errors as _hypothesis_errors
from hypothesis import strategies as st

from derive.numeric.network import Network
from derive.errors import DeriveError
from derive.core.notation import ERROR_LETTERS, NOTATIONS
from derive.core.primitives import ACTIVATIONS, BIAS_SCHEMES, LOSSES
from derive.core.spec import Spec, bias_count, spec_from_dict, weight_count

__all__ = ["InvalidArgument", "LOSS_OUTPUTS", "TARGET_RANGES", "TARGET_KINDS", "DISTRIBUTION_LOSSES", "layer_sizes", "activations", "losses",
           "bias_schemes", "spec_dicts", "specs", "networks", "values_for", "from_network"]


class InvalidArgument(DeriveError, _hypothesis_errors.InvalidArgument, ValueError):
    """A strategy was called with a bad argument; the message says which and what was expected."""


# Which output activations each loss pairs with (None: any), as the registry says (`Loss.outputs`):
# bce needs outputs in (0, 1); cross_entropy takes the log of every output, so they must be positive.
LOSS_OUTPUTS: dict[str, tuple[str, ...] | None] = {name: rule.outputs for name, rule in LOSSES.items()}
# Targets a loss makes sense for (default: the values' own [min_value, max_value]): the losses that
# take logs of the outputs (bce, cross_entropy) want targets in [0, 1].
TARGET_RANGES: dict[str, tuple[float, float]] = {name: (0.0, 1.0) for name, rule in LOSSES.items()
                                                 if rule.takes_logs}
# Losses whose targets form a distribution over the outputs (cross_entropy): drawn one-hot by default
# (`targets="one_hot"`), as any distribution (`"distribution"`, summing to 1), or each in [0, 1] (`"any"`).
# The textbook δ = a − t of softmax + cross-entropy holds only when the targets sum to 1.
DISTRIBUTION_LOSSES: tuple[str, ...] = tuple(name for name, rule in LOSSES.items() if rule.distribution)
TARGET_KINDS = ("one_hot", "distribution", "any")
# Activations the spec allows on the output layer only (softmax), from the registry's `output_only`.
HIDDEN_FORBIDDEN: tuple[str, ...] = tuple(name for name, a in ACTIVATIONS.items() if a.output_only)
# Activations with a kink (relu, leaky_relu: not analytic), whose pre-activations keep off 0.
KINKED: tuple[str, ...] = tuple(name for name, a in ACTIVATIONS.items() if not a.analytic)
# Orders in which choices shrink: the simplest first.
BIAS_ORDER = ("none", "per_neuron", "shared")


# --- argument validation, eager, with hypothesis-style messages ----------------------------------

def _check_int(value, name: str, minimum: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be at least {minimum}{why}")


def _check_float(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgument(f"{name}={value!r} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidArgument(f"{name}={value!r} must be finite")


def _check_order(low, high, low_name: str, high_name: str) -> None:
    if high < low:
        raise InvalidArgument(f"Cannot have {high_name}={high!r} < {low_name}={low!r}")


def _check_names(value, name: str, known: Collection[str]) -> tuple[str, ...]:
    """A non-empty collection of known names, kept in the table's (shrinking) order."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        raise InvalidArgument(f"{name}={value!r} must be a collection of names such as {tuple(known)[:2]!r}, "
                              f"not {type(value).__name__}")
    for item in value:
        if not isinstance(item, str) or item not in known:
            close = difflib.get_close_matches(str(item), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidArgument(f"{name} contains {item!r}, expected names from {', '.join(known)}{hint}")
    if not value:
        raise InvalidArgument(f"{name}={value!r} must name at least one of {', '.join(known)}")
    return tuple(k for k in known if k in value)


def _check_bounds(min_layers, max_layers, min_width, max_width) -> tuple[int, int]:
    _check_int(min_layers, "min_layers", 2, " (an input and an output layer)")
    _check_int(min_width, "min_width", 1)
    max_layers = min_layers + 2 if max_layers is None else max_layers
    max_width = min_width + 3 if max_width is None else max_width
    _check_int(max_layers, "max_layers", 2, " (an input and an output layer)")
    _check_int(max_width, "max_width", 1)
    _check_order(min_layers, max_layers, "min_layers", "max_layers")
    _check_order(min_width, max_width, "min_width", "max_width")
    return max_layers, max_width


def _check_values(min_value, max_value) -> None:
    _check_float(min_value, "min_value")
    _check_float(max_value, "max_value")
    _check_order(min_value, max_value, "min_value", "max_value")


def _check_targets(targets) -> None:
    if targets not in TARGET_KINDS:
        raise InvalidArgument(f"targets={targets!r} must be one of {', '.join(map(repr, TARGET_KINDS))}")


def _check_samples(samples) -> None:
    if samples is None:
        return
    if not (isinstance(samples, tuple) and len(samples) == 2):
        raise InvalidArgument(f"samples={samples!r} must be None or a (min, max) pair of sample counts")
    _check_int(samples[0], "samples[0]", 1)
    _check_int(samples[1], "samples[1]", 1)
    _check_order(samples[0], samples[1], "samples[0]", "samples[1]")


def _target_values(loss: str, n: int, kind: str, low: float, high: float) -> st.SearchStrategy[list[float]]:
    """A sample's targets: one-hot or a distribution for DISTRIBUTION_LOSSES (by `kind`), else floats."""
    if loss not in DISTRIBUTION_LOSSES or kind == "any":
        return _float_lists(n, *TARGET_RANGES.get(loss, (low, high)))
    if kind == "one_hot":
        return st.integers(0, n - 1).map(lambda k: [1.0 if i == k else 0.0 for i in range(n)])
    return _float_lists(n, 0.0, 1.0).map(lambda ws: [(w + 1e-3) / (sum(ws) + n * 1e-3) for w in ws])


def _check_margins(kink_margin, saturation_margin) -> None:
    _check_float(kink_margin, "kink_margin")
    _check_float(saturation_margin, "saturation_margin")
    if kink_margin < 0:
        raise InvalidArgument(f"kink_margin={kink_margin!r} must be at least 0")
    if not 0 <= saturation_margin < 0.5:
        raise InvalidArgument(f"saturation_margin={saturation_margin!r} must be in [0, 0.5)")


# --- names ---------------------------------------------------------------------------------------

def layer_sizes(*, min_layers: int = 2, max_layers: int | None = None, min_width: int = 1,
                max_width: int | None = None) -> st.SearchStrategy[tuple[int, ...]]:
    """A spec's `layers` (input layer first): min_layers..max_layers sizes, each min_width..max_width.

    max_layers defaults to min_layers + 2, max_width to min_width + 3. Shrinks towards
    min_layers layers of min_width neurons (a 1-1 net by default).
    """
    max_layers, max_width = _check_bounds(min_layers, max_layers, min_width, max_width)
    sizes = st.integers(min_width, max_width)
    return st.lists(sizes, min_size=min_layers, max_size=max_layers).map(tuple)


def activations(*, names: Collection[str] | None = None, output: bool = False) -> st.SearchStrategy[str]:
    """An activation name from `names` (default: all); softmax only when `output` is true.

    Shrinks towards the first in the registry's order: identity, sigmoid, tanh, relu, leaky_relu,
    softplus, softmax.
    """
    allowed = _check_names(ACTIVATIONS if names is None else names, "names", tuple(ACTIVATIONS))
    if not isinstance(output, bool):
        raise InvalidArgument(f"output={output!r} must be True or False")
    usable = allowed if output else tuple(a for a in allowed if a not in HIDDEN_FORBIDDEN)
    if not usable:
        raise InvalidArgument(f"names={names!r} leaves no activation for a hidden layer "
                              f"({', '.join(HIDDEN_FORBIDDEN)} only on the output layer)")
    return st.sampled_from(usable)


def _pairs(loss: str, activation: str) -> bool:
    wanted = LOSS_OUTPUTS[loss]
    return wanted is None or activation in wanted


def losses(*, names: Collection[str] | None = None, output_activation: str | None = None
           ) -> st.SearchStrategy[str]:
    """A loss name from `names` (default: all) that pairs with `output_activation` (see LOSS_OUTPUTS).

    Shrinks towards half_sse, then mse, bce, cross_entropy.
    """
    allowed = _check_names(LOSSES if names is None else names, "names", tuple(LOSSES))
    if output_activation is not None:
        _check_names([output_activation], "output_activation", tuple(ACTIVATIONS))
        allowed = tuple(loss for loss in allowed if _pairs(loss, output_activation))
        if not allowed:
            raise InvalidArgument(f"no loss in names={names!r} pairs with output_activation="
                                  f"{output_activation!r} (see derive.strategies.LOSS_OUTPUTS)")
    return st.sampled_from(allowed)


def bias_schemes(*, names: Collection[str] | None = None) -> st.SearchStrategy[str]:
    """A bias scheme from `names` (default: all); shrinks towards none, then per_neuron, shared."""
    allowed = _check_names(BIAS_SCHEMES if names is None else names, "names", BIAS_ORDER)
    return st.sampled_from(allowed)


# --- whole specs ---------------------------------------------------------------------------------

def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _float_lists(n: int, low: float, high: float) -> st.SearchStrategy[list[float]]:
    return st.lists(_floats(low, high), min_size=n, max_size=n)


@st.composite
def _spec_dict(draw, sizes, act_names, loss_names, bias_names, notation_names, train_biases, low, high,
               targets="one_hot", samples=None):
    layers = list(draw(sizes))
    hidden = [a for a in act_names if a not in HIDDEN_FORBIDDEN]
    # one draw for the (loss, output activation) pair, so that it shrinks along one list
    loss, output = draw(st.sampled_from([(l, a) for l in loss_names for a in act_names if _pairs(l, a)]))
    acts = [draw(st.sampled_from(hidden)) for _ in layers[2:]] + [output]
    bias = draw(st.sampled_from(bias_names))
    network = {"layers": layers, "activations": acts, "loss": loss, "bias": bias,
               "train_biases": draw(st.booleans()) if train_biases is None else train_biases,
               "notation": draw(st.sampled_from(notation_names)),
               "error_letter": draw(st.sampled_from(tuple(ERROR_LETTERS)))}
    values = {"inputs": draw(_float_lists(layers[0], low, high)),
              "targets": draw(_target_values(loss, layers[-1], targets, low, high)),
              "weights": draw(_float_lists(weight_count(layers), low, high)),
              "biases": draw(_float_lists(bias_count(layers, bias), low, high)),
              "learning_rate": draw(_floats(0.001, 1.0))}
    if samples is not None:      # a batch: rows of inputs and targets, and its reduction
        m = draw(st.integers(*samples))
        values["inputs"] = [values["inputs"]] + [draw(_float_lists(layers[0], low, high)) for _ in range(m - 1)]
        values["targets"] = [values["targets"]] + [draw(_target_values(loss, layers[-1], targets, low, high))
                                                   for _ in range(m - 1)]
        values["reduction"] = draw(st.sampled_from(("mean", "sum")))
    return {"title": "", "network": network, "values": values}


def spec_dicts(*, min_layers: int = 2, max_layers: int | None = None, min_width: int = 1,
               max_width: int | None = None, activations: Collection[str] | None = None,
               losses: Collection[str] | None = None, biases: Collection[str] | None = None,
               notations: Collection[str] | None = None, train_biases: bool | None = None,
               min_value: float = -1.0, max_value: float = 1.0, targets: str = "one_hot",
               samples: tuple[int, int] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Spec dicts in the TOML layout ({"title", "network", "values"}) that `spec_from_dict` accepts.

    Losses pair with the output activation (LOSS_OUTPUTS); bce targets lie in [0, 1]; cross_entropy
    targets are one-hot (`targets="one_hot"`, the default), any distribution summing to 1
    (`"distribution"`) or each in [0, 1] (`"any"`); every other number in [min_value, max_value].
    `samples=(lo, hi)` draws a batch of lo..hi samples (rows of inputs and targets, a reduction). Values are raw: they may sit on a relu
    (or leaky_relu) kink (use `networks` for gradient checks). `train_biases` None draws it. Shrinks towards a 1-1
    identity net, half_sse, no bias, net-out notation, every value 0.
    """
    max_layers, max_width = _check_bounds(min_layers, max_layers, min_width, max_width)
    acts = _check_names(ACTIVATIONS if activations is None else activations, "activations", tuple(ACTIVATIONS))
    loss_names = _check_names(LOSSES if losses is None else losses, "losses", tuple(LOSSES))
    bias_names = _check_names(BIAS_SCHEMES if biases is None else biases, "biases", BIAS_ORDER)
    notation_names = _check_names(NOTATIONS if notations is None else notations, "notations", tuple(NOTATIONS))
    _check_values(min_value, max_value)
    _check_targets(targets)
    _check_samples(samples)
    if train_biases is not None and not isinstance(train_biases, bool):
        raise InvalidArgument(f"train_biases={train_biases!r} must be True, False or None (drawn)")
    if not any(_pairs(l, a) for l in loss_names for a in acts):
        needs = "; ".join(f"{l} needs {' or '.join(LOSS_OUTPUTS[l])}" for l in loss_names)
        raise InvalidArgument(f"no loss in losses={loss_names!r} pairs with an output activation in "
                              f"activations={acts!r}: {needs}")
    if all(a in HIDDEN_FORBIDDEN for a in acts):
        if min_layers > 2:
            raise InvalidArgument(f"activations={acts!r} leaves no activation for a hidden layer, "
                                  f"so min_layers={min_layers!r} must be 2")
        max_layers = 2
    sizes = layer_sizes(min_layers=min_layers, max_layers=max_layers, min_width=min_width, max_width=max_width)
    return _spec_dict(sizes, acts, loss_names, bias_names, notation_names, train_biases, float(min_value),
                      float(max_value), targets, samples)


def specs(**kwargs) -> st.SearchStrategy[Spec]:
    """Validated `derive.core.spec.Spec` objects: `spec_dicts(**kwargs)` passed through `spec_from_dict`.

    Takes the keyword arguments of `spec_dicts` and shrinks as it does.
    """
    return spec_dicts(**kwargs).map(spec_from_dict)


def networks(*, kink_margin: float = 0.01, saturation_margin: float = 1e-3, **kwargs
             ) -> st.SearchStrategy[Network]:
    """`derive.Network` objects built from `specs(**kwargs)`, at values fit for a gradient check.

    Excluded (filtered out): pre-activations of a kinked activation (relu, leaky_relu: `KINKED`)
    within `kink_margin` of 0 (the derivative jumps there), bce/cross_entropy outputs within `saturation_margin` of 0 or 1 (log nears its pole), and
    any non-finite value or gradient — at every sample of a batch (`samples=`). Wide value ranges therefore
    filter more. Shrinks as `specs`.
    """
    _check_margins(kink_margin, saturation_margin)
    return specs(**kwargs).map(Network).filter(   # a batch: every sample's values
        lambda net: all(_well_conditioned(net, leaves, kink_margin, saturation_margin) for leaves in net.sample_leaves()))


def values_for(net: Network, *, min_value: float = -1.0, max_value: float = 1.0, kink_margin: float = 0.01,
               saturation_margin: float = 1e-3, targets: str = "one_hot") -> st.SearchStrategy[dict[str, float]]:
    """Values for every leaf of `net` (inputs, targets, weights, biases), keyed by node name.

    The dict is what `net.program.function` takes. Numbers lie in [min_value, max_value] (bce targets
    in [0, 1]; cross_entropy targets by `targets`, as in `spec_dicts`), with the exclusions of
    `networks`. Shrinks towards all zeros (the first class, for one-hot targets).
    """
    if not isinstance(net, Network):
        raise InvalidArgument(f"net={net!r} must be a derive.Network, got {type(net).__name__}")
    _check_values(min_value, max_value)
    _check_margins(kink_margin, saturation_margin)
    _check_targets(targets)
    g = net.graph
    others = {n.name: _floats(min_value, max_value) for n in g.nodes.values() if n.is_leaf and n not in g.targets}
    names = [t.name for t in g.targets]
    drawn = st.tuples(st.fixed_dictionaries(others),
                      _target_values(net.spec.loss, len(names), targets, min_value, max_value))
    return drawn.map(lambda pair: {**pair[0], **dict(zip(names, pair[1]))}).filter(
        lambda v: _well_conditioned(net, v, kink_margin, saturation_margin))


def from_network(net: Network, **kwargs) -> st.SearchStrategy[Network]:
    """Networks of `net`'s structure at values drawn by `values_for(net, **kwargs)`."""
    return values_for(net, **kwargs).map(lambda v: _with_values(net, v))


# --- helpers -------------------------------------------------------------------------------------

def _with_values(net: Network, values: Mapping[str, float]) -> Network:
    g = net.graph
    spec = dataclasses.replace(
        net.spec,
        inputs=tuple(values[n.name] for n in g.inputs), targets=tuple(values[n.name] for n in g.targets),
        weights=tuple(values[p.name] for p in g.params if p.canonical.startswith("w")),
        biases=tuple(values[p.name] for p in g.params if p.canonical.startswith("b")))
    return Network(spec)


def _well_conditioned(net: Network, values: Mapping[str, float], kink_margin: float,
                      saturation_margin: float) -> bool:
    """Whether a finite-difference gradient check is meaningful at these values (see `networks`)."""
    with np.errstate(all="ignore"):
        computed, grads = net.program.function(dict(values))
    numbers = np.array(list(computed.values()) + list(grads.values()), dtype=float)
    if not np.all(np.isfinite(numbers)):
        return False
    for layer in net.graph.layers:
        if layer.activation in KINKED and any(abs(computed[n.name]) < kink_margin for n in layer.nets):
            return False
    if net.spec.loss in TARGET_RANGES:
        outs = [computed[o.name] for o in net.graph.outputs]
        if any(not saturation_margin <= o <= 1 - saturation_margin for o in outs):
            return False
    return True
