"""Training on a data set, file 001's way, vectorised in matrix form.

The step that runs is NumPy code generated from the matrix derivation (matrix.MatrixDerivation):
forward, δ terms, gradients (averaged over the batch when `average`), in-place update. Updates are
full-batch (the notes' SingleLayer/DualLayer) or per sample in data order (Neuron, LogisticNeuron),
optionally shuffled every epoch with np.random.permutation from a seed. Each epoch's loss is computed
from that epoch's forward pass (before its update), in stable forms, summed or averaged over samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from derive.numeric.data import Prepared, prepare
from derive.errors import Diverged, NotSupported
from derive.core.fitspec import FitSpec
from derive.core.matrix import MatrixDerivation
from derive.core.primitives import ACTIVATIONS
from derive.core.primitives import loss as loss_entry

__all__ = ["FitResult", "Expectation", "Diverged", "run_fit", "initial_params", "compiled", "kernels", "EXPECT_RTOL"]

EXPECT_RTOL = 1e-10   # the notes print 16 digits; the last may differ by summation order


def kernels() -> dict:
    """The generated code's namespace, from the registry (derive.core.primitives): `_act_<name>` is the
    entry's stable array kernel (softmax row-wise), `_slope_<name>` its f′(z) for the hidden layers the
    matrix form differentiates elementwise. Built when called, so every entry of the registry is in it."""
    namespace = {}
    for name, entry in ACTIVATIONS.items():
        namespace[f"_act_{name}"] = lambda x, entry=entry: entry.array(x, np)
        if entry.slope is not None:
            namespace[f"_slope_{name}"] = lambda z, entry=entry: entry.slope(z, np)
    return namespace


@lru_cache(maxsize=32)
def compiled(layers: tuple, activations: tuple, loss: str, average: bool):
    """The generated (step, forward) functions for a net, and the derivation they come from."""
    md = MatrixDerivation(layers, activations, loss, average=average)
    namespace = kernels()
    exec(compile(md.numpy_source() + md.numpy_forward_source(), "<derive matrix>", "exec"), namespace)
    return namespace["step"], namespace["forward"], md


def _sample_losses(Z: np.ndarray, A: np.ndarray, Y: np.ndarray, loss: str, clip: float | None = None) -> np.ndarray:
    """Each sample's loss by the registry's stable form (from the output's pre-activation where a log is
    involved: never log 0); with `clip`, the notes' way instead where the loss has one: a clipped to
    [clip, 1 − clip] before the log. An unknown loss, or one with no per-sample form, is an error."""
    entry = loss_entry(loss)
    if entry.samples is None:
        raise NotSupported(f"loss {loss!r} has no per-sample form for the matrix path")
    if clip is not None and entry.clipped is not None:
        return entry.clipped(A, Y, np, clip)
    return entry.samples(Z, A, Y, np)


def initial_params(spec: FitSpec, dtype=np.float64) -> dict[str, np.ndarray]:
    """W_l (n_{l-1} × n_l) and b_l (1 × n_l); normal draws as np.random.seed(seed) then np.random.normal,
    layer by layer, W before b (b are never drawn), exactly the notes' call order."""
    init, params = spec.init, {}
    rng = np.random.RandomState(init.seed) if init.weights == "normal" else None
    for l, (a, b) in enumerate(zip(spec.layers, spec.layers[1:]), start=1):
        if rng is not None:
            W = rng.normal(init.mean, init.std, (a, b))
        else:
            W = np.full((a, b), 1.0 if init.weights == "ones" else 0.0)
        params[f"W{l}"] = W.astype(dtype)
        params[f"b{l}"] = np.full((1, b), 1.0 if init.biases == "ones" else 0.0, dtype=dtype)
    return params


@dataclass(frozen=True)
class Expectation:
    """A number printed in the notes beside what derive computed."""

    name: str
    printed: str
    got: float

    @property
    def relative_error(self) -> float:
        want = float(self.printed)
        return abs(self.got - want) / max(abs(want), 1e-300)

    @property
    def ok(self) -> bool:
        return self.relative_error <= EXPECT_RTOL


@dataclass
class FitResult:
    spec: FitSpec
    params: dict[str, np.ndarray]
    losses: list[float]                 # one per epoch, summed or averaged as spec.fit.report_loss
    accuracy: float | None              # on the test split (classification only)
    n_train: int
    n_test: int
    epochs: int
    learning_rate: float
    expectations: list[Expectation] = field(default_factory=list)

    @property
    def loss(self) -> float:
        """The last epoch's loss (computed before its update), as the notes print losses[-1]."""
        return self.losses[-1]

    @property
    def agrees(self) -> bool:
        return all(e.ok for e in self.expectations)

    def value(self, name: str) -> float:
        if name == "loss":
            return self.loss
        if name == "accuracy":
            return float(self.accuracy)
        return float(self.params[name].reshape(-1)[0])

    def to_json(self, losses: bool = True) -> dict:
        out = {"title": self.spec.title, "spec": self.spec.source, "epochs_run": self.epochs,
               "learning_rate": self.learning_rate, "updates": self.spec.fit.updates,
               "n_train": self.n_train, "n_test": self.n_test,
               "loss": self.loss, "loss_report": self.spec.fit.report_loss, "accuracy": self.accuracy,
               "params": {k: v.tolist() for k, v in self.params.items()},
               "expect": [{"name": e.name, "notes": e.printed, "got": e.got, "relative_error": e.relative_error,
                           "ok": e.ok} for e in self.expectations]}
        if losses:
            out["losses"] = list(self.losses)
        return out


def run_fit(spec: FitSpec, *, epochs: int | None = None, learning_rate: float | None = None,
            data: Prepared | None = None) -> FitResult:
    """Train per the spec (epochs and learning rate may be overridden) and measure what it reports."""
    dtype = np.dtype(spec.fit.dtype)
    data = data if data is not None else prepare(spec.data, dtype)
    epochs = spec.fit.epochs if epochs is None else epochs
    lr = spec.fit.learning_rate if learning_rate is None else learning_rate
    step, forward, _ = compiled(spec.layers, spec.activations, spec.loss, spec.fit.average)
    params = initial_params(spec, dtype)
    names = list(params)
    loop = _per_sample if spec.fit.updates == "per_sample" else _full_batch
    with np.errstate(all="ignore"):     # divergence (or a log of 0) is reported below, once, never warned
        losses = loop(step, data.X_train, data.Y_train, [params[n] for n in names], lr, epochs, spec)
    _check_finite(losses, params, spec, lr)
    if spec.fit.report_loss == "mean":
        losses = [value / len(data.X_train) for value in losses]
    accuracy = None
    if data.X_test is not None and data.task != "regression":
        with np.errstate(all="ignore"):     # finite parameters can still overflow on a test row: z = ±inf classifies
            Z = forward(data.X_test, *[params[n] for n in names])
        accuracy = _accuracy(Z, data.Y_test, data.task)
    result = FitResult(spec, params, losses, accuracy, len(data.X_train),
                       0 if data.X_test is None else len(data.X_test), epochs, lr)
    result.expectations = [Expectation(k, v, result.value(k)) for k, v in spec.expect.items()]
    return result


def _check_finite(losses, params, spec, lr) -> None:
    bad = next((epoch for epoch, value in enumerate(losses) if not np.isfinite(value)), None)
    if bad is None and all(np.isfinite(p).all() for p in params.values()):
        return
    where = f"from epoch {bad}" if bad is not None else "in the parameters"
    raise Diverged(f"{spec.source or 'fit'}: training diverged (not a finite number {where}) "
                   f"with learning rate {lr:g}: expected a smaller fit.learning_rate / --lr")


def _full_batch(step, X, Y, params, lr, epochs, spec) -> list[float]:
    losses = []
    for _ in range(epochs):
        Z, A = step(X, Y, *params, lr)
        losses.append(float(_sample_losses(Z, A, Y, spec.loss, spec.fit.loss_clip).sum()))
    return losses


def _per_sample(step, X, Y, params, lr, epochs, spec) -> list[float]:
    """One update per sample; each sample's loss is taken from its forward pass (before its update) and
    the epoch's losses are added up once, vectorised, at the end of the epoch."""
    rng = np.random.RandomState(spec.fit.seed) if spec.fit.shuffle else None
    rows_X = [X[i:i + 1] for i in range(len(X))]
    rows_Y = [Y[i:i + 1] for i in range(len(Y))]
    Zs, As = np.empty_like(Y), np.empty_like(Y)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(np.arange(len(X))) if rng is not None else np.arange(len(X))
        for k, i in enumerate(order):
            Zs[k], As[k] = step(rows_X[i], rows_Y[i], *params, lr)
        losses.append(float(_sample_losses(Zs, As, Y[order], spec.loss, spec.fit.loss_clip).sum()))
    return losses


def _accuracy(Z: np.ndarray, Y: np.ndarray, task: str) -> float:
    """Binary: z > 0 (σ(z) > 0.5) against the 0/1 target; multi-class: argmax against the one-hot target."""
    if task == "binary":
        return float(np.mean((Z > 0) == (Y > 0.5)))
    return float(np.mean(np.argmax(Z, axis=1) == np.argmax(Y, axis=1)))
