"""A values spec past the weight-by-weight limit, evaluated layer by layer in matrix form.

Past MAX_SCALAR_WEIGHTS (2,000) a net is not built as SymPy symbols, one per weight: its numbers come from
the layer-wise chain rule with the registry's kernels, z_l = W_l a_{l−1} + b_l, a_l = f(z_l) (Activation.array),
δ_L at the output, δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ f′(z_l) (Activation.slope), ∂E/∂W_l = δ_l a_{l−1}ᵀ. The output's
δ is the stable a − t where the loss's `link` is the output activation (sigmoid + bce, softmax + cross-entropy
for targets summing to 1, identity + ½ squared error); otherwise ∂E/∂a (the loss's closed-form local
derivative, from the registry) ⊙ f′(z). The loss is the registry's stable per-sample form (Loss.samples).
Weights are numbered as everywhere (layer by layer, by destination, then source: W_l is (n_out, n_in),
row-major); biases per neuron, one per layer (shared) or none.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from derive.core.limits import MAX_SCALAR_WEIGHTS, check_count, MAX_EPOCHS
from derive.core.primitives import activation, loss as loss_entry
from derive.core.reading import DTYPES
from derive.core.spec import Spec, weight_count
from derive.errors import Diverged, NotSupported, SpecError, StartsPastDtype

__all__ = ["DenseNetwork", "DenseEvaluation", "is_dense", "DENSE_CHECKED"]

DENSE_CHECKED = 1000     # check --numeric past the scalar limit: this many parameters, evenly spread
MAX_DENSE_WORK = 10**10  # train in matrix form: epochs × weights (1e5 epochs of a 100,000-weight net)


def is_dense(spec: Spec) -> bool:
    """A spec past the weight-by-weight derivation's limit (its numbers come from the matrix form)."""
    return weight_count(spec.layers) > MAX_SCALAR_WEIGHTS


@dataclass
class DenseEvaluation:
    """Loss, outputs, every layer's pre-activations and activations, and every gradient (canonical order)."""

    loss: float
    outputs: list[float]
    zs: list[np.ndarray]
    acts: list[np.ndarray]
    deltas: list[np.ndarray]
    gradients: np.ndarray


class DenseNetwork:
    """A big values spec in matrix form: gradients, one update, training and the loss at any point."""

    form = "matrix"

    def __init__(self, spec: Spec):
        if spec.samples:
            raise NotSupported(f"{spec.source or 'spec'}: several samples (values.inputs as rows) in a net past "
                               f"{MAX_SCALAR_WEIGHTS} weights: the matrix form here takes one sample")
        self.spec = spec
        self.layers = list(spec.layers)
        self.entries = [activation(a) for a in spec.activations]
        self.loss_entry = loss_entry(spec.loss)
        self._check_supported()
        self.n_weights = weight_count(self.layers)
        self.bias_sizes = {"per_neuron": list(self.layers[1:]), "shared": [1] * (len(self.layers) - 1),
                           "none": [0] * (len(self.layers) - 1)}[spec.bias]

    def _check_supported(self) -> None:
        out, entry = self.spec.activations[-1], self.loss_entry
        if self.entries[-1].coupled and entry.link != out:
            raise NotSupported(f"{self.spec.source or 'spec'}: a {out} output with loss {self.spec.loss!r} past "
                               f"{MAX_SCALAR_WEIGHTS} weights: the matrix form takes a coupled output only with the "
                               f"loss whose link it is")
        if self.entries[-1].coupled and entry.distribution and abs(math.fsum(self.spec.targets) - 1) > 1e-12:
            raise SpecError("values.targets", f"targets summing to 1 (a distribution: loss {self.spec.loss!r} on a "
                                              f"{out} output past {MAX_SCALAR_WEIGHTS} weights)",
                            got=math.fsum(self.spec.targets), source=self.spec.source)

    # --- names and numbers -------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    @cached_property
    def params(self) -> list[str]:
        return [f"w{i + 1}" for i in range(self.n_weights)] + [f"b{i + 1}" for i in range(sum(self.bias_sizes))]

    @cached_property
    def trained(self) -> list[str]:
        return self.params if self.spec.train_biases else self.params[:self.n_weights]

    def place(self, k: int) -> tuple[str, int, int, int | None]:
        """Where parameter k (0-based, canonical order) sits: ("w", layer l from 1, destination j, source i)
        or ("b", l, neuron j, None); a shared bias is ("b", l, 0, None) and feeds every neuron of layer l."""
        if k < self.n_weights:
            for l, (a, b) in enumerate(zip(self.layers, self.layers[1:]), start=1):
                if k < a * b:
                    return "w", l, k // a, k % a
                k -= a * b
        k -= self.n_weights
        for l, size in enumerate(self.bias_sizes, start=1):
            if k < size:
                return "b", l, k, None
            k -= size
        raise IndexError(k)

    def vector(self) -> np.ndarray:
        """Every parameter's value, canonical order (weights, then biases)."""
        return np.array(list(self.spec.weights) + list(self.spec.biases), dtype=np.float64)

    def param_values(self) -> dict[str, float]:
        return dict(zip(self.params, self.vector().tolist()))

    def unpack(self, theta: np.ndarray):
        """(W_l as (n_out, n_in) [, columns], b_l broadcastable to (n_out [, columns])) from a parameter
        vector, or from a matrix with one parameter vector per column."""
        extra = theta.shape[1:]
        ws, bs, k = [], [], 0
        for a, b in zip(self.layers, self.layers[1:]):
            ws.append(theta[k:k + a * b].reshape(b, a, *extra))
            k += a * b
        for n, size in zip(self.layers[1:], self.bias_sizes):
            bias = theta[k:k + size]
            bs.append(np.zeros((n, *extra), dtype=theta.dtype) if size == 0 else
                      np.broadcast_to(bias, (n, *extra)) if size == 1 else bias)
            k += size
        return ws, bs

    # --- forward, loss, backward ---------------------------------------------------------------------
    def forward(self, theta: np.ndarray):
        """Pre-activations and activations of every layer at one parameter vector."""
        ws, bs = self.unpack(theta)
        a = np.asarray(self.spec.inputs, dtype=theta.dtype)
        zs, acts = [], [a]
        for w, b, entry in zip(ws, bs, self.entries):
            z = w @ a + b
            a = entry.array(z[None, :], np)[0] if entry.coupled else entry.array(z, np)
            zs.append(z)
            acts.append(a)
        return zs, acts

    def loss_at(self, zs, acts) -> float:
        """The registry's stable per-sample loss (from the output's pre-activation where it takes logs)."""
        t = np.asarray(self.spec.targets, dtype=acts[-1].dtype)
        return float(self.loss_entry.samples(zs[-1][None, :], acts[-1][None, :], t[None, :], np)[0])

    @cached_property
    def _local(self):
        """∂E_j/∂o_j as a NumPy function of (t, o): the registry's closed form, lambdified once."""
        t, o = sp.symbols("t o", real=True)
        expr = self.loss_entry.local(t, o, len(self.spec.targets), True)
        return sp.lambdify((t, o), sp.sympify(expr), "numpy")

    def output_delta(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """∂E/∂z at the output: a − t where the loss's link is the output activation, else ∂E/∂a ⊙ f′(z)."""
        t = np.asarray(self.spec.targets, dtype=a.dtype)
        if self.loss_entry.link == self.spec.activations[-1]:
            return a - t
        with np.errstate(all="ignore"):
            return np.asarray(self._local(t, a), dtype=a.dtype) * self.entries[-1].slope(z, np)

    def evaluate(self, theta: np.ndarray | None = None) -> DenseEvaluation:
        """Loss, outputs and every gradient at `theta` (default: the spec's values)."""
        theta = self.vector() if theta is None else theta
        ws, _ = self.unpack(theta)
        with np.errstate(all="ignore"):
            zs, acts = self.forward(theta)
            loss = self.loss_at(zs, acts)
            delta = self.output_delta(zs[-1], acts[-1])
            deltas = [delta]
            for l in range(len(ws) - 1, 0, -1):
                delta = (ws[l].T @ delta) * self.entries[l - 1].slope(zs[l - 1], np)
                deltas.insert(0, delta)
        grads = [np.outer(d, a).ravel() for d, a in zip(deltas, acts)]
        for d, size in zip(deltas, self.bias_sizes):
            grads.append(d if size > 1 else np.array([d.sum()]) if size == 1 else np.zeros(0))
        return DenseEvaluation(loss, acts[-1].tolist(), zs, acts, deltas, np.concatenate(grads))

    @cached_property
    def evaluation(self) -> DenseEvaluation:
        """At the spec's values; SpecError if the loss, an output or a gradient is not finite in float64."""
        result = self.evaluate()
        numbers = {"the loss": np.array([result.loss]), "an output": np.asarray(result.outputs),
                   "a gradient": result.gradients}
        bad = next((k for k, v in numbers.items() if not np.all(np.isfinite(v))), None)
        if bad is not None:
            raise SpecError("values", "numbers whose forward pass, loss and gradients stay finite in float64",
                            got=f"{bad} is not finite (matrix form)", source=self.spec.source)
        return result

    def gradients(self) -> dict[str, float]:
        grads = dict(zip(self.params, self.evaluation.gradients.tolist()))
        return {name: grads[name] for name in self.trained}

    def loss(self) -> float:
        return self.evaluation.loss

    def updated(self) -> dict[str, float]:
        lr, now, grads = self.spec.learning_rate, self.param_values(), self.gradients()
        return {name: now[name] - lr * grads[name] for name in self.trained}

    # --- training ------------------------------------------------------------------------------------
    def train(self, epochs: int | None = None, lr: float | None = None, stop_below: float | None = None,
              dtype: str | None = None):
        """Plain gradient descent on the one sample, epochs from 0, each epoch's loss before its update."""
        t = self.spec.train
        epochs = t.epochs if epochs is None else epochs
        lr_key = "values.learning_rate" if lr is None else "--lr"
        lr = self.spec.learning_rate if lr is None else lr
        stop_below = t.stop_below if stop_below is None else stop_below
        dtype = dtype or t.dtype
        if dtype not in DTYPES:
            raise SpecError("dtype", f"one of {', '.join(DTYPES)}", got=dtype)
        check_count(epochs, "epochs", MAX_EPOCHS, "fewer epochs, or stop_below")
        if epochs * self.n_weights > MAX_DENSE_WORK:
            raise SpecError("epochs", f"at most {MAX_DENSE_WORK // self.n_weights} for {self.n_weights} weights "
                                      f"(epochs × weights at most {MAX_DENSE_WORK:.0e} in matrix form, about a "
                                      "minute; fewer epochs, or a data-set spec with derive fit)",
                            got=epochs, source=self.spec.source)
        theta = self.vector().astype(dtype)
        mask = np.zeros(len(self.params), dtype=bool)
        mask[:len(self.trained)] = True          # the trained ones come first (weights, then biases)
        losses, stopped, started = [], None, time.perf_counter()
        step = np.asarray(lr, dtype=dtype)
        for epoch in range(epochs):
            result = self.evaluate(theta)
            losses.append(result.loss)
            if not math.isfinite(result.loss) or not np.all(np.isfinite(result.gradients)):
                if epoch == 0:
                    raise StartsPastDtype("values", f"values whose loss and gradients {dtype} can hold at the start "
                                          "(the values, not the learning rate)", got="not finite before any update",
                                          source=self.spec.source)
                raise Diverged(f"{self.spec.source or 'train'}: training diverged (not a finite number at epoch "
                               f"{epoch}) in {dtype} with {lr_key} = {lr:g}: try a smaller {lr_key}")
            with np.errstate(all="ignore"):
                theta[mask] -= step * result.gradients.astype(dtype)[mask]
            if stop_below is not None and result.loss < stop_below:
                stopped = epoch
                break
        with np.errstate(all="ignore"):
            _, acts = self.forward(theta)
        return DenseTrainResult(dict(zip(self.params, theta.astype(np.float64).tolist())), losses[-1], stopped,
                                losses, len(losses), acts[-1].astype(np.float64).tolist(), dtype,
                                time.perf_counter() - started)

    def __repr__(self) -> str:
        return f"<derive.DenseNetwork layers={self.layers} ({self.n_weights} weights, matrix form)>"


@dataclass
class DenseTrainResult:
    """What a run leaves, as TrainResult (derive.numeric.train) holds it."""

    params: dict[str, float]
    loss: float
    stopped_at_epoch: int | None
    losses: list[float]
    epochs_run: int
    outputs: list[float]
    dtype: str
    seconds: float = 0.0
    diverged = None

    def as_json(self) -> dict:
        return {"epochs_run": self.epochs_run, "stopped_at_epoch": self.stopped_at_epoch, "loss": float(self.loss),
                "params": self.params, "outputs": self.outputs}
