"""Spec files for training on a data set (`derive fit`): a [network] plus [data], [init], [fit], [expect].

A fit spec has no [values] (the numbers come from the data set), so it is read by `load_fit_spec`,
not by `load_spec`; its [network] table is validated by the core's own rules (spec.spec_from_dict),
the other tables here. Nothing is evaluated as code. The schema is documented in
docs/data-and-matrix-form.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from derive.errors import SpecError
from derive.core.primitives import ACTIVATIONS, LOSSES
from derive.core.reading import (DTYPES, boolean, choice, known_keys, mapping, number, read_toml, required, text,
                                validated, whole, whole_list)
from derive.core.spec import spec_from_dict, weight_count
from derive.core.limits import MAX_EPOCHS, check_count, check_layers, numeral, seed_number

__all__ = ["FitSpec", "DataSettings", "InitSettings", "FitSettings", "load_fit_spec", "fit_spec_from_dict",
           "is_fit_spec", "OUTPUT_PAIRS", "HIDDEN_ACTIVATIONS"]

TOP_KEYS = ("title", "network", "data", "init", "fit", "expect")
NETWORK_KEYS = ("layers", "activations", "loss")
DATA_KEYS = ("dataset", "features", "test_size", "random_state", "divide_by", "scale")
INIT_KEYS = ("weights", "biases", "seed", "mean", "std")
FIT_KEYS = ("epochs", "learning_rate", "updates", "average", "shuffle", "seed", "report_loss", "loss_clip",
            "dtype")
SCALES = ("none", "standard")
WEIGHT_INITS = ("ones", "zeros", "normal")
BIAS_INITS = ("zeros", "ones")
UPDATES = ("full_batch", "per_sample")
LOSS_REPORTS = ("sum", "mean")
# from the registry: the output activation and loss pairs whose ∂L/∂Z is −(Y − A) (file 001: each loss
# with its `link`), and the hidden activations (every one not restricted to the output layer; a coupled
# one, whose ∂A/∂Z is no Hadamard factor, neither)
OUTPUT_PAIRS = {(entry.link, name) for name, entry in LOSSES.items() if entry.link is not None}
HIDDEN_ACTIVATIONS = tuple(name for name, entry in ACTIVATIONS.items() if not (entry.output_only or entry.coupled))


@dataclass(frozen=True)
class Dataset:
    """A data set scikit-learn ships (loaded by numeric.data): its loader, number of feature columns and task."""

    name: str
    loader: str
    n_features: int
    task: str            # regression | binary | multiclass
    n_classes: int = 1   # outputs the network needs (one-hot width for multiclass)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("diabetes", "load_diabetes", 10, "regression"),
        Dataset("breast_cancer", "load_breast_cancer", 30, "binary"),
        Dataset("digits", "load_digits", 64, "multiclass", 10),
    )
}


@dataclass(frozen=True)
class DataSettings:
    dataset: str
    features: tuple[int, ...] | None = None   # column indices; None: all
    test_size: float | None = None            # None: no split, train on everything
    random_state: int | None = None
    divide_by: float | None = None
    scale: str = "none"


@dataclass(frozen=True)
class InitSettings:
    weights: str = "ones"    # ones | zeros | normal (np.random.seed(seed), normal(mean, std) layer by layer)
    biases: str = "zeros"
    seed: int = 0
    mean: float = 0.0
    std: float = 1.0


@dataclass(frozen=True)
class FitSettings:
    epochs: int = 100
    learning_rate: float = 1.0
    updates: str = "full_batch"
    average: bool = True       # gradients divided by the batch size m
    shuffle: bool = False      # per-sample: np.random.permutation of the samples every epoch
    seed: int | None = None    # for shuffle
    report_loss: str = "sum"   # the epoch's loss summed over samples, or their mean
    loss_clip: float | None = None   # the notes' np.clip(a, c, 1 − c) before the log; None: exact stable loss
    dtype: str = "float64"


@dataclass(frozen=True)
class FitSpec:
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    data: DataSettings
    init: InitSettings = InitSettings()
    fit: FitSettings = FitSettings()
    expect: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    source: str | None = None

    @property
    def param_names(self) -> list[str]:
        """Matrix names, layer by layer: W1, b1, W2, b2, …"""
        return [f"{kind}{l}" for l in range(1, len(self.layers)) for kind in ("W", "b")]


def is_fit_spec(data: Mapping[str, Any]) -> bool:
    """A spec with a [data] table is for `derive fit`."""
    return isinstance(data, Mapping) and "data" in data


def load_fit_spec(path: str | Path) -> FitSpec:
    """Read and validate a fit spec file; every problem is a SpecError naming the file and key."""
    source = str(path)
    data = read_toml(path)
    return fit_spec_from_dict(data, source=source)


def fit_spec_from_dict(data: Mapping[str, Any], *, source: str | None = None) -> FitSpec:
    return validated(_validate, data, source)


def _validate(data, source) -> FitSpec:
    mapping(data, "(top level)")
    known_keys(data, TOP_KEYS, "")
    layers, activations, loss = _network(mapping(required(data, "network", ""), "network"))
    settings = _data(mapping(required(data, "data", ""), "data"))
    n_in = len(settings.features) if settings.features is not None else DATASETS[settings.dataset].n_features
    if layers[0] != n_in:
        raise SpecError("network.layers[0]", f"{n_in} (the number of selected features of {settings.dataset})",
                        got=layers[0])
    n_out = DATASETS[settings.dataset].n_classes
    if layers[-1] != n_out:
        raise SpecError("network.layers[-1]", f"{n_out} output(s) for {settings.dataset}", got=layers[-1])
    init = _init(mapping(data.get("init", {}), "init"))
    fit = _fit(mapping(data.get("fit", {}), "fit"))
    spec = FitSpec(layers=layers, activations=activations, loss=loss, data=settings, init=init, fit=fit,
                   title=_title(data.get("title", "")), source=source)
    return FitSpec(**{**spec.__dict__, "expect": _expect(mapping(data.get("expect", {}), "expect"), spec)})


def _network(net):
    """The core's own validation of layers, activation and loss names, then what matrix form supports."""
    known_keys(net, NETWORK_KEYS, "network.")
    layers = whole_list(required(net, "layers", "network."), "network.layers", minimum=1)
    if len(layers) < 2:
        raise SpecError("network.layers", "at least two layer sizes (inputs and outputs)", got=list(layers))
    check_layers(layers, "network.layers")   # before the placeholder lists below are made
    placeholder = {"inputs": [0.0] * layers[0], "targets": [0.0] * layers[-1],
                   "weights": [0.0] * weight_count(layers), "biases": [0.0] * sum(layers[1:])}
    core = spec_from_dict({"network": dict(net), "values": placeholder})
    out = (core.activations[-1], core.loss)
    if out not in OUTPUT_PAIRS:
        pairs = ", ".join(f"{a} with {l}" for a, l in sorted(OUTPUT_PAIRS))
        raise SpecError("network.loss", f"an output activation and loss whose ∂L/∂Z is −(Y − A): {pairs}",
                        got=f"{out[0]} with {out[1]}")
    for position, name in enumerate(core.activations[:-1]):
        if name not in HIDDEN_ACTIVATIONS:
            raise SpecError(f"network.activations[{position}]", f"one of {', '.join(HIDDEN_ACTIVATIONS)} "
                            "(hidden layers in matrix form)", got=name)
    return core.layers, core.activations, core.loss


def _data(table) -> DataSettings:
    known_keys(table, DATA_KEYS, "data.")
    dataset = choice(required(table, "dataset", "data."), "data.dataset", DATASETS)
    features = table.get("features", "all")
    if features == "all":
        features = None
    else:
        features = whole_list(features, "data.features", minimum=0)
        limit = DATASETS[dataset].n_features
        for i, column in enumerate(features):
            if column >= limit:
                raise SpecError(f"data.features[{i}]", f"a column index below {limit} ({dataset})", got=column)
        if not features:
            raise SpecError("data.features", '"all" or a non-empty list of column indices', got=[])
    test_size = table.get("test_size")
    if test_size is not None:
        test_size = number(test_size, "data.test_size")
        if not 0 < test_size < 1:
            raise SpecError("data.test_size", "a fraction between 0 and 1", got=test_size)
    random_state = table.get("random_state")
    random_state = None if random_state is None else seed_number(random_state, "data.random_state")
    divide_by = table.get("divide_by")
    if divide_by is not None:
        divide_by = number(divide_by, "data.divide_by")
        if divide_by == 0:
            raise SpecError("data.divide_by", "a nonzero number", got=divide_by)
    scale = choice(table.get("scale", "none"), "data.scale", SCALES)
    return DataSettings(dataset, features, test_size, random_state, divide_by, scale)


def _init(table) -> InitSettings:
    known_keys(table, INIT_KEYS, "init.")
    std = number(table.get("std", 1.0), "init.std")
    if std < 0:
        raise SpecError("init.std", "a standard deviation >= 0", got=std)
    return InitSettings(weights=choice(table.get("weights", "ones"), "init.weights", WEIGHT_INITS),
                        biases=choice(table.get("biases", "zeros"), "init.biases", BIAS_INITS),
                        seed=seed_number(table.get("seed", 0), "init.seed"),
                        mean=number(table.get("mean", 0.0), "init.mean"), std=std)


def _fit(table) -> FitSettings:
    known_keys(table, FIT_KEYS, "fit.")
    seed = table.get("seed")
    clip = table.get("loss_clip")
    if clip is not None:
        clip = number(clip, "fit.loss_clip")
        if not 0 < clip < 0.5:
            raise SpecError("fit.loss_clip", "a number between 0 and 0.5 (the notes use 1e-10)", got=clip)
    epochs = check_count(whole(table.get("epochs", 100), "fit.epochs", minimum=1), "fit.epochs", MAX_EPOCHS,
                         "fewer epochs")
    return FitSettings(epochs=epochs,
                       learning_rate=number(table.get("learning_rate", 1.0), "fit.learning_rate"),
                       updates=choice(table.get("updates", "full_batch"), "fit.updates", UPDATES),
                       average=boolean(table.get("average", True), "fit.average"),
                       shuffle=boolean(table.get("shuffle", False), "fit.shuffle"),
                       seed=None if seed is None else seed_number(seed, "fit.seed"),
                       report_loss=choice(table.get("report_loss", "sum"), "fit.report_loss", LOSS_REPORTS),
                       loss_clip=clip,
                       dtype=choice(table.get("dtype", "float64"), "fit.dtype", DTYPES))


def _expect(table, spec: FitSpec) -> dict[str, str]:
    """Numbers as printed in the notes, as strings (digits kept): loss, accuracy, or a one-entry parameter."""
    single = [name for name, size in zip(spec.param_names, _param_sizes(spec.layers)) if size == 1]
    allowed = ("loss", "accuracy", *single)
    for key, value in table.items():
        if key not in allowed:
            raise SpecError(f"expect.{key}", f"one of {', '.join(allowed)}")
        if not isinstance(value, str):
            raise SpecError(f"expect.{key}", 'a number in quotes, as printed (e.g. "0.956140350877193")', got=value)
        numeral(value, f"expect.{key}")
        if not math.isfinite(float(value)):
            raise SpecError(f"expect.{key}", "a finite number", got=value)
    if "accuracy" in table and DATASETS[spec.data.dataset].task == "regression":
        raise SpecError("expect.accuracy", "no accuracy for a regression data set (diabetes)")
    if "accuracy" in table and spec.data.test_size is None:
        raise SpecError("expect.accuracy", "a test split (data.test_size) to measure accuracy on")
    return dict(table)


def _param_sizes(layers) -> list[int]:
    return [size for a, b in zip(layers, layers[1:]) for size in (a * b, b)]


def _title(title) -> str:
    return text(title, "title")
