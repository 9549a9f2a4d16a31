"""Spec files (TOML) and dicts -> a validated, immutable Spec. Nothing here is evaluated as code."""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import SpecError
from .notation import ERROR_LETTERS, NOTATIONS
from .rules import ACTIVATIONS, BIAS_SCHEMES, LOSSES

__all__ = ["Spec", "TrainSettings", "load_spec", "spec_from_dict", "weight_count", "bias_count"]

TOP_KEYS = ("title", "network", "values", "hand", "train")
NETWORK_KEYS = ("layers", "activations", "loss", "bias", "train_biases", "notation", "error_letter")
VALUES_KEYS = ("inputs", "targets", "weights", "biases", "learning_rate")
TRAIN_KEYS = ("epochs", "stop_below", "dtype", "print_every")
DTYPES = ("float64", "float32")
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


def weight_count(layers) -> int:
    return sum(a * b for a, b in zip(layers, layers[1:]))


def bias_count(layers, scheme: str) -> int:
    return {"per_neuron": sum(layers[1:]), "shared": len(layers) - 1, "none": 0}[scheme]


def load_spec(path: str | Path) -> Spec:
    """Read and validate a TOML spec file; every problem is a SpecError naming the file and key."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError("(file)", "an existing spec file", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("(file)", f"a readable UTF-8 TOML file ({exc.__class__.__name__})", source=source) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("(toml)", f"valid TOML ({exc})", source=source) from None
    except RecursionError:   # tomllib recurses once per level of nested arrays or inline tables
        raise SpecError("(toml)", "valid TOML nested a few levels deep, not hundreds", source=source) from None
    return spec_from_dict(data, source=source)


def spec_from_dict(data: Mapping[str, Any], *, source: str | None = None) -> Spec:
    """Validate a spec given as nested dicts (the TOML layout) and return it."""
    try:
        return _validate(data, source)
    except SpecError as exc:
        raise exc.in_file(source) if source and exc.source is None else exc


def _validate(data, source) -> Spec:
    _mapping(data, "(top level)")
    if "data" in data and "values" not in data:   # a data-set spec: read by fitspec.load_fit_spec (issue 6)
        raise SpecError("data", "a spec with [values]; a spec with a [data] table trains on a data set: "
                                "derive fit SPEC")
    _known_keys(data, TOP_KEYS, "")
    net = _mapping(_required(data, "network", ""), "network")
    _known_keys(net, NETWORK_KEYS, "network.")

    layers = _int_list(_required(net, "layers", "network."), "network.layers", minimum=1)
    if len(layers) < 2:
        raise SpecError("network.layers", "at least two layer sizes (inputs and outputs)", got=list(layers))
    activations = _name_list(_required(net, "activations", "network."), "network.activations", ACTIVATIONS)
    if len(activations) != len(layers) - 1:
        raise SpecError("network.activations", f"{len(layers) - 1} names, one per layer after the input",
                        got=list(activations))
    for position, name in enumerate(activations[:-1]):
        if name == "softmax":
            raise SpecError(f"network.activations[{position}]", "softmax only on the output layer", got=name)
    loss = _name(net.get("loss", "half_sse"), "network.loss", LOSSES)
    bias = _name(net.get("bias", "per_neuron"), "network.bias", BIAS_SCHEMES)
    train_biases = _bool(net.get("train_biases", True), "network.train_biases")
    notation = _name(net.get("notation", "net-out"), "network.notation", NOTATIONS)
    error_letter = _name(net.get("error_letter", "E"), "network.error_letter", ERROR_LETTERS)

    vals = _mapping(_required(data, "values", ""), "values")
    _known_keys(vals, VALUES_KEYS, "values.")

    inputs = _float_list(_required(vals, "inputs", "values."), "values.inputs", layers[0])
    targets = _float_list(_required(vals, "targets", "values."), "values.targets", layers[-1])
    weights = _float_list(_required(vals, "weights", "values."), "values.weights", weight_count(layers))
    n_biases = bias_count(layers, bias)
    if n_biases == 0 and vals.get("biases"):
        raise SpecError("values.biases", 'no biases, since network.bias = "none"', got=vals["biases"])
    biases = _float_list(vals.get("biases", []) if n_biases else [], "values.biases", n_biases)
    lr = _float(vals.get("learning_rate", DEFAULT_LEARNING_RATE), "values.learning_rate")

    hand = _hand(data.get("hand", {}))
    train = _train(data.get("train", {}))
    title = data.get("title", "")
    if not isinstance(title, str):
        raise SpecError("title", "a string", got=title)
    return Spec(layers=layers, activations=activations, inputs=inputs, targets=targets, weights=weights,
                biases=biases, loss=loss, bias=bias, train_biases=train_biases, notation=notation,
                error_letter=error_letter, learning_rate=lr, hand=hand, train=train, title=title, source=source)


def _hand(table) -> dict[str, str]:
    _mapping(table, "hand")
    for key, value in table.items():
        if not isinstance(value, str):
            raise SpecError(f"hand.{key}", 'a string such as "0.593" (quoted, so its printed digits are kept)',
                            got=value)
        try:
            number = float(value)
        except ValueError:
            raise SpecError(f"hand.{key}", "a decimal number in quotes", got=value) from None
        if not math.isfinite(number):
            raise SpecError(f"hand.{key}", "a finite number", got=value)
    return dict(table)


def _train(table) -> TrainSettings:
    _mapping(table, "train")
    _known_keys(table, TRAIN_KEYS, "train.")
    epochs = _int(table.get("epochs", 1), "train.epochs", minimum=1)
    stop = table.get("stop_below")
    stop = None if stop is None else _float(stop, "train.stop_below")
    dtype = _name(table.get("dtype", "float64"), "train.dtype", DTYPES)
    every = table.get("print_every")
    every = None if every is None else _int(every, "train.print_every", minimum=1)
    return TrainSettings(epochs=epochs, stop_below=stop, dtype=dtype, print_every=every)


# --- small validators: each names the key and what was expected -------------------------------

def _required(table, key, prefix):
    if key not in table:
        raise SpecError(f"{prefix}{key}", "this key to be present")
    return table[key]


def _mapping(value, key):
    if not isinstance(value, Mapping):
        raise SpecError(key, "a table", got=value)
    return value


def _known_keys(table, allowed, prefix):
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SpecError(f"{prefix}{key}", f"one of the known keys {', '.join(allowed)}{hint}")


def _name(value, key, table):
    if not isinstance(value, str) or value not in table:
        close = difflib.get_close_matches(str(value), list(table), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError(key, f"one of {', '.join(table)}{hint}", got=value)
    return value


def _name_list(value, key, table):
    if not isinstance(value, list):
        raise SpecError(key, "a list of names", got=value)
    return tuple(_name(v, f"{key}[{i}]", table) for i, v in enumerate(value))


def _bool(value, key):
    if not isinstance(value, bool):
        raise SpecError(key, "true or false", got=value)
    return value


def _int(value, key, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(key, f"a whole number >= {minimum}", got=value)
    return value


def _int_list(value, key, minimum):
    if not isinstance(value, list):
        raise SpecError(key, "a list of whole numbers", got=value)
    return tuple(_int(v, f"{key}[{i}]", minimum) for i, v in enumerate(value))


def _float(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(key, "a number", got=value)
    if not math.isfinite(value):
        raise SpecError(key, "a finite number", got=value)
    return float(value)


def _float_list(value, key, length):
    if not isinstance(value, list):
        raise SpecError(key, f"a list of {length} numbers", got=value)
    if len(value) != length:
        raise SpecError(key, f"{length} numbers", got=f"{len(value)} numbers")
    return tuple(_float(v, f"{key}[{i}]") for i, v in enumerate(value))
