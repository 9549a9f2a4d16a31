"""Spec files (TOML) and dicts -> a validated, immutable Spec. Nothing here is evaluated as code."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from derive.core.reading import (DTYPES, boolean, choice, choice_list, known_keys, mapping, number, numbers,
                                read_toml, required, text, validated, whole, whole_list)
from derive.core.limits import MAX_EPOCHS, MAX_SAMPLES, check_count, check_layers, numeral
from derive.errors import SpecError
from derive.core.notation import ERROR_LETTERS, NOTATIONS, notation_from_table, register
from derive.core.primitives import ACTIVATIONS, BIAS_SCHEMES, LOSSES

__all__ = ["Spec", "TrainSettings", "load_spec", "spec_from_dict", "weight_count", "bias_count"]

TOP_KEYS = ("title", "network", "values", "hand", "train", "notation")
NETWORK_KEYS = ("layers", "activations", "loss", "bias", "train_biases", "notation", "error_letter")
VALUES_KEYS = ("inputs", "targets", "weights", "biases", "learning_rate", "reduction")
REDUCTIONS = ("mean", "sum")
TRAIN_KEYS = ("epochs", "stop_below", "dtype", "print_every")
DEFAULT_LEARNING_RATE = 0.01  # Keras' SGD default, used when a spec gives none


@dataclass(frozen=True)
class TrainSettings:
    """Defaults for `derive train` that a spec may carry ([train] table); the command line overrides them."""

    epochs: int = 1
    stop_below: float | None = None
    dtype: str = "float64"
    print_every: int | None = None


@dataclass(frozen=True)
class Spec:
    """A network and the numbers to evaluate it at, exactly as the user wrote them (validated)."""

    layers: tuple[int, ...]
    activations: tuple[str, ...]
    inputs: tuple[float, ...]
    targets: tuple[float, ...]
    weights: tuple[float, ...]
    biases: tuple[float, ...] = ()
    loss: str = "half_sse"
    bias: str = "per_neuron"
    train_biases: bool = True
    notation: str = "net-out"
    error_letter: str = "E"
    learning_rate: float = DEFAULT_LEARNING_RATE
    hand: Mapping[str, str] = field(default_factory=dict)
    train: TrainSettings = TrainSettings()
    title: str = ""
    source: str | None = None
    samples: tuple = ()          # a batch: ((inputs, targets), …) for every sample, inputs/targets the first
    reduction: str = "mean"      # a batch's loss: the mean or the sum of the samples' losses


def weight_count(layers) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


def bias_count(layers, scheme: str) -> int:
    return {"per_neuron": sum(layers[1:]), "shared": len(layers) - 1, "none": 0}[scheme]


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML spec file; every problem is a SpecError naming the file and key."""
    source = str(path)
    data = read_toml(path)
    return spec_from_dict(data, source=source)


def spec_from_dict(data: Mapping[str, Any], *, source: str | None = None) -> Spec:
    """Validate a spec given as nested dicts (the TOML layout) and return it."""
    return validated(_validate, data, source)


def _validate(data, source) -> Spec:
    mapping(data, "(top level)")
    if "data" in data and "values" not in data:   # a data-set spec: read by fitspec.load_fit_spec (issue 6)
        raise SpecError("data", "a spec with [values]; a spec with a [data] table trains on a data set: "
                                "derive fit SPEC")
    known_keys(data, TOP_KEYS, "")
    net = mapping(required(data, "network", ""), "network")
    known_keys(net, NETWORK_KEYS, "network.")

    layers = whole_list(required(net, "layers", "network."), "network.layers", minimum=1)
    if len(layers) < 2:
        raise SpecError("network.layers", "at least two layer sizes (inputs and outputs)", got=list(layers))
    check_layers(layers, "network.layers")
    activations = choice_list(required(net, "activations", "network."), "network.activations", ACTIVATIONS)
    if len(activations) != len(layers) - 1:
        raise SpecError("network.activations", f"{len(layers) - 1} names, one per layer after the input",
                        got=list(activations))
    for position, name in enumerate(activations[:-1]):
        if ACTIVATIONS[name].output_only:
            raise SpecError(f"network.activations[{position}]", f"{name} only on the output layer", got=name)
    loss = choice(net.get("loss", "half_sse"), "network.loss", LOSSES)
    bias = choice(net.get("bias", "per_neuron"), "network.bias", BIAS_SCHEMES)
    train_biases = boolean(net.get("train_biases", True), "network.train_biases")
    notation = choice(net.get("notation", "net-out"), "network.notation", NOTATIONS)
    if "notation" in data:   # a notation written in the spec: roles left out keep network.notation's names
        notation = register(notation_from_table(data["notation"], base=notation))
    error_letter = choice(net.get("error_letter", "E"), "network.error_letter", ERROR_LETTERS)

    vals = mapping(required(data, "values", ""), "values")
    known_keys(vals, VALUES_KEYS, "values.")

    inputs, targets, samples = _samples(vals, layers)
    reduction = choice(vals.get("reduction", "mean"), "values.reduction", REDUCTIONS)
    if "reduction" in vals and not samples:
        raise SpecError("values.reduction", "several samples (values.inputs and values.targets as lists of rows)",
                        got=vals["reduction"])
    weights = numbers(required(vals, "weights", "values."), "values.weights", weight_count(layers))
    n_biases = bias_count(layers, bias)
    if n_biases == 0 and vals.get("biases"):
        raise SpecError("values.biases", 'no biases, since network.bias = "none"', got=vals["biases"])
    biases = numbers(vals.get("biases", []) if n_biases else [], "values.biases", n_biases)
    lr = number(vals.get("learning_rate", DEFAULT_LEARNING_RATE), "values.learning_rate")

    hand = _hand(data.get("hand", {}))
    train = _train(data.get("train", {}))
    title = text(data.get("title", ""), "title")
    return Spec(layers=layers, activations=activations, inputs=inputs, targets=targets, weights=weights,
                biases=biases, loss=loss, bias=bias, train_biases=train_biases, notation=notation,
                error_letter=error_letter, learning_rate=lr, hand=hand, train=train, title=title, source=source,
                samples=samples, reduction=reduction)


def _samples(vals, layers):
    """(inputs, targets, samples): one sample as two lists of numbers, or a batch as two lists of rows."""
    raw_in = required(vals, "inputs", "values.")
    if not (isinstance(raw_in, list) and raw_in and all(isinstance(r, list) for r in raw_in)):
        inputs = numbers(raw_in, "values.inputs", layers[0])
        return inputs, numbers(required(vals, "targets", "values."), "values.targets", layers[-1]), ()
    check_count(len(raw_in), "values.inputs", MAX_SAMPLES, "a data-set spec ([data], [init]) for more samples")
    raw_t = required(vals, "targets", "values.")
    if not (isinstance(raw_t, list) and all(isinstance(r, list) for r in raw_t)) or len(raw_t) != len(raw_in):
        raise SpecError("values.targets", f"{len(raw_in)} rows of {layers[-1]} numbers, one per row of values.inputs",
                        got=raw_t)
    rows = tuple((numbers(x, f"values.inputs[{i}]", layers[0]), numbers(t, f"values.targets[{i}]", layers[-1]))
                 for i, (x, t) in enumerate(zip(raw_in, raw_t)))
    return rows[0][0], rows[0][1], rows


def _hand(table) -> dict[str, str]:
    mapping(table, "hand")
    for key, value in table.items():
        numeral(value, f"hand.{key}")
        if not math.isfinite(float(value)):
            raise SpecError(f"hand.{key}", "a finite number", got=value)
    return dict(table)


def _train(table) -> TrainSettings:
    mapping(table, "train")
    known_keys(table, TRAIN_KEYS, "train.")
    epochs = check_count(whole(table.get("epochs", 1), "train.epochs", minimum=1), "train.epochs", MAX_EPOCHS,
                         "fewer epochs, or stop_below")
    stop = table.get("stop_below")
    stop = None if stop is None else number(stop, "train.stop_below")
    dtype = choice(table.get("dtype", "float64"), "train.dtype", DTYPES)
    every = table.get("print_every")
    every = None if every is None else whole(every, "train.print_every", minimum=1)
    return TrainSettings(epochs=epochs, stop_below=stop, dtype=dtype, print_every=every)
