"""The public facade: a spec, its graph, its derivation and its numbers, built lazily and once."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from derive.core.limits import check_scalar_size
from derive.core.derivation import Backprop, Derivation
from derive.core.graph import Graph
from derive.core.primitives import LOSSES
from derive.core.spec import Spec, load_spec, spec_from_dict
from derive.errors import NotSupported, SpecError
from derive.numeric.codegen import Evaluation, Program
from derive.numeric.batch_train import train_batch
from derive.numeric.train import train_network

__all__ = ["Network", "load", "network"]


class Network:
    """A network ready to derive, evaluate and check: `derive.load(path)` or `derive.network(...)`."""

    def __init__(self, spec: Spec):
        check_scalar_size(spec.layers, spec.source)   # before the graph: its size is the cost of everything
        self.spec = spec
        self.graph = Graph(spec)

    @cached_property
    def backprop(self) -> Backprop:
        """δ terms for the whole network (linear in its size)."""
        return Backprop(self.graph)

    @cached_property
    def program(self) -> Program:
        """Straight-line NumPy code for forward pass, loss and gradients."""
        return Program(self.graph, self.backprop)

    @cached_property
    def evaluation(self) -> Evaluation:
        """Every value and gradient at the spec's numbers; SpecError if a forward value, the loss or a gradient
        is not finite in float64. A δ term that float64 cannot hold while the gradients are finite (∂E/∂out at
        a saturated sigmoid + bce output is 0/0; the gradients use the stable δ of the net, a − t) is kept,
        named in `unrepresentable`.
        A batch spec has no single set of values: NotSupported (its gradients() and loss() reduce)."""
        self.one_sample("Network.values() and .evaluation hold one sample's values")
        with np.errstate(all="ignore"):
            return self._finite(self.program.evaluate())

    @cached_property
    def sample_evaluations(self) -> list[Evaluation]:
        """Every sample's values and gradients (a one-sample spec: its one evaluation), each checked finite."""
        if not self.spec.samples:
            return [self.evaluation]
        with np.errstate(all="ignore"):
            return [self._finite(self.program.evaluate(leaves), i) for i, leaves in enumerate(self.sample_leaves())]

    def _finite(self, result: Evaluation, sample: int | None = None) -> Evaluation:
        """The evaluation, or SpecError naming the first value or gradient float64 cannot hold; a δ term alone
        that it cannot hold (a saturated output) is named in `unrepresentable`."""
        deltas = {d.symbol.name for d in self.backprop.ordered()}
        checked = {**{k: v for k, v in result.values.items() if k not in deltas}, **result.gradients}
        bad = [k for k, v in checked.items() if not math.isfinite(v)]
        if bad:
            where = "" if sample is None else f"sample {sample + 1}: "
            entry, act = LOSSES[self.spec.loss], self.spec.activations[-1]
            domain = (f" (loss {self.spec.loss!r} is defined on {' or '.join(entry.outputs)} outputs: a {act} output "
                      "can leave the domain of its logs)" if entry.outputs and act not in entry.outputs else "")
            raise SpecError("values", "numbers whose forward pass and gradients stay finite in float64" + domain,
                            got=f"{where}{bad[0]} = {checked[bad[0]]}", source=self.spec.source)
        result.unrepresentable = tuple(k for k in result.values if k in deltas and not math.isfinite(result.values[k]))
        return result

    @property
    def batch_scale(self) -> float:
        """The factor in front of Σ_s E_s: 1/m for a batch's mean, 1 for a sum (and for one sample)."""
        return 1 / len(self.spec.samples) if self.spec.samples and self.spec.reduction == "mean" else 1.0

    @property
    def params(self) -> list[str]:
        """Canonical parameter names: w1..wN, then b1..bK."""
        return [p.canonical for p in self.graph.params]

    @property
    def trained(self) -> list[str]:
        """The parameters gradient descent changes (biases only when train_biases)."""
        return [p.canonical for p in self.graph.trained_params]

    def param_values(self) -> dict[str, float]:
        """The spec's parameter values by canonical name."""
        numbers = list(self.spec.weights) + list(self.spec.biases)
        return dict(zip(self.params, numbers))

    def derivation(self, param: str) -> Derivation:
        """∂E/∂param: paths, closed-form factors, δ form, expanded form."""
        return Derivation(self.graph, self.backprop, param)

    def gradients(self) -> dict[str, float]:
        """∂E/∂p at the spec's values for every trained parameter, by canonical name (a batch: of the
        mean or sum of the samples' losses)."""
        grads = self.evaluation.gradients if not self.spec.samples else self._finite_reduced(self.batch_gradients())
        return {name: grads[name] for name in self.trained}

    def loss(self) -> float:
        if self.spec.samples:
            with np.errstate(all="ignore"):
                per_sample = [self.program.evaluate(leaves).loss for leaves in self.sample_leaves()]
            return self._finite_reduced({"the batch's loss": self.reduce(per_sample)})["the batch's loss"]
        return self.evaluation.loss

    def _finite_reduced(self, numbers: dict[str, float]) -> dict[str, float]:
        """A batch's reduced numbers, or the SpecError a single sample's evaluation gives for a number
        float64 cannot hold (an infinite loss of one sample, -inf + inf over two)."""
        bad = [k for k, v in numbers.items() if not math.isfinite(v)]
        if bad:
            raise SpecError("values", "numbers whose forward pass, loss and gradients stay finite in float64 "
                            "for every sample", got=f"{bad[0]} = {numbers[bad[0]]}", source=self.spec.source)
        return numbers

    # --- batches: the loss is the mean (or sum) of the samples' losses --------------------------------
    def one_sample(self, what: str) -> None:
        """NotSupported for a batch spec where `what` needs one sample (values, training, numerics)."""
        if self.spec.samples:
            raise NotSupported(f"{self.spec.source or 'spec'}: several samples (values.inputs as rows): {what}; "
                               "each sample's are Network.sample_evaluations, the batch's Network.loss() / "
                               "gradients()")

    def sample_leaves(self, params: Mapping[str, float] | None = None) -> list[dict[str, float]]:
        """The leaf values of every sample (one for a one-sample spec), parameters from `params`
        (canonical names; default the spec's)."""
        g = self.graph
        leaves = g.leaf_values()
        if params is not None:
            leaves.update({p.name: params[p.canonical] for p in g.params})
        if not self.spec.samples:
            return [leaves]
        return [{**leaves, **{n.name: v for n, v in zip(g.inputs, x)}, **{n.name: v for n, v in zip(g.targets, t)}}
                for x, t in self.spec.samples]

    def reduce(self, per_sample: list):
        """The batch's reduction of per-sample numbers or {name: number} dicts (a one-sample spec: the one)."""
        scale = 1 / len(per_sample) if self.spec.samples and self.spec.reduction == "mean" else 1.0
        if isinstance(per_sample[0], Mapping):
            return {k: scale * _sum([d[k] for d in per_sample]) for k in per_sample[0]}
        return scale * _sum(per_sample)

    def batch_gradients(self, params: Mapping[str, float] | None = None) -> dict[str, float]:
        """∂E/∂p for every parameter, reduced over the samples, at `params` (default the spec's)."""
        with np.errstate(all="ignore"):
            grads = [self.program.function(leaves)[1] for leaves in self.sample_leaves(params)]
        return self.reduce([{k: float(v) for k, v in g.items()} for g in grads])

    def values(self) -> dict[str, float]:
        """Every named quantity (and δ term) at the spec's values, by notation name."""
        return dict(self.evaluation.values)

    def updated(self) -> dict[str, float]:
        """The trained parameters after one step w ← w − lr·∂E/∂w."""
        lr, grads, now = self.spec.learning_rate, self.gradients(), self.param_values()
        return {name: now[name] - lr * grads[name] for name in self.trained}

    def train(self, epochs: int | None = None, lr: float | None = None, stop_below: float | None = None,
              dtype: str | None = None, loss: str | None = None, print_every: int | None = None,
              progress: bool | None = False, out=None, backend: str = "python"):
        """The notes' gradient-descent loop (derive.numeric.train); unset arguments come from the spec's [train]
        table and learning_rate. `loss` trains the same network under another loss."""
        net = self.with_loss(loss) if loss and loss != self.spec.loss else self
        if self.spec.samples:   # a batch: full-batch gradient descent on the reduced loss
            return train_batch(net, **self._train_settings(epochs, lr, stop_below, dtype, print_every), out=out,
                               backend=backend)
        return train_network(net, **self._train_settings(epochs, lr, stop_below, dtype, print_every),
                             progress=progress, out=out, backend=backend,
                             lr_key="values.learning_rate" if lr is None else "--lr")

    def _train_settings(self, epochs, lr, stop_below, dtype, print_every) -> dict:
        """The loop's settings: the arguments given, the rest from the spec's [train] table and learning_rate."""
        t = self.spec.train
        return dict(epochs=t.epochs if epochs is None else epochs, lr=self.spec.learning_rate if lr is None else lr,
                    stop_below=t.stop_below if stop_below is None else stop_below, dtype=dtype or t.dtype,
                    print_every=t.print_every if print_every is None else print_every)

    def with_loss(self, loss: str) -> "Network":
        """The same network and values under another loss (`--loss`), validated like a spec."""
        if loss not in LOSSES:
            raise SpecError("--loss", f"one of {', '.join(LOSSES)}", got=loss)
        return Network(replace(self.spec, loss=loss))

    def __repr__(self) -> str:
        title = f" {self.spec.title!r}" if self.spec.title else ""
        return f"<derive.Network{title} layers={list(self.spec.layers)} {'-'.join(self.spec.activations)}>"


def load(path: str | Path) -> Network:
    """Load and validate a TOML spec file."""
    return Network(load_spec(path))


def network(layers, activations, *, inputs, targets, weights, biases=(), loss="half_sse", bias=None,
            train_biases=True, notation="net-out", error_letter="E", learning_rate=None,
            hand: Mapping[str, str] | None = None, title: str = "", reduction: str | None = None) -> Network:
    """Build a network in Python with the spec file's keys; validated exactly as a file is. `notation` is a
    preset's name or a [notation] table as a dict (roles left out keep net-out's names)."""
    table = notation if isinstance(notation, Mapping) else None
    net: dict[str, Any] = {"layers": list(layers), "activations": list(activations), "loss": loss,
                           "bias": bias or ("per_neuron" if len(biases) else "none"),
                           "train_biases": train_biases, "notation": "net-out" if table is not None else notation,
                           "error_letter": error_letter}
    values: dict[str, Any] = {"inputs": list(inputs), "targets": list(targets), "weights": list(weights),
                              "biases": list(biases)}
    if learning_rate is not None:
        values["learning_rate"] = learning_rate
    if reduction is not None:        # a batch (inputs and targets as rows): the mean or the sum of its losses
        values["reduction"] = reduction
    data = {"title": title, "network": net, "values": values, "hand": dict(hand or {})}
    if table is not None:
        data["notation"] = dict(table)
    return Network(spec_from_dict(data))


def _sum(values: list[float]) -> float:
    """An exact sum (math.fsum) of finite numbers; with an inf or nan among them, the float sum (inf, nan),
    where fsum would raise on -inf + inf."""
    return math.fsum(values) if all(math.isfinite(v) for v in values) else float(sum(values))
