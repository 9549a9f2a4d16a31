"""check-code on a data-set spec ([data], [init]): a matrix-form function against the matrix derivation.

The point is the [init] weights, the batch the first N training samples, the loss their mean when
[fit] average = true (else their sum); the derivation is derive.core.matrix's, compiled once to
vectorised NumPy, so a 64-100-10 net on 1,437 samples is checked in milliseconds. Where the user's
numbers differ, the diagnosis runs on a small net of the same depth, activations and loss (the
matrix form is size-generic): derive calls the function there and says so.
"""

from __future__ import annotations

import functools

import numpy as np

from derive.core.primitives import LOSSES
from derive.core.limits import MAX_POINTS, check_count
from derive.check.user_code.compare import (GradientReport, common_scale, compare_points, check_gradients, locate,
                                            random_points)
from derive.check.user_code.matrix_form import matrix_caller
from derive.check.user_code.mistakes import BATCH_REDUCTION, Match
from derive.core.fitspec import FitSpec
from derive.errors import SpecError
from derive.numeric.data import prepare
from derive.numeric.fit import initial_params, kernels
from derive.numeric.layout import Shape, positions, to_matrices
from derive.core.matrix import MatrixDerivation
from derive.numeric.network import network

__all__ = ["check_dataset", "matrix_gradients", "small_net"]


@functools.lru_cache(maxsize=16)
def matrix_gradients(layers: tuple, activations: tuple, loss: str, average: bool):
    """gradients(X, Y, W1, b1, …) -> [∂L/∂W1, ∂L/∂b1, …], generated from the matrix derivation
    (W_l as (n_in, n_out), b_l as (1, n_out))."""
    md = MatrixDerivation(layers, activations, loss, average=average)
    namespace = kernels()
    exec(compile(md.numpy_gradients_source(), "<derive matrix gradients>", "exec"), namespace)  # our code
    return namespace["gradients"]


def _derived(fit: FitSpec, shape: Shape, X, Y, point: dict) -> dict[str, float]:
    """The matrix derivation's gradients at a canonical point, by canonical name."""
    weights, biases = to_matrices(shape, point, "in_out")
    args = [a for W, b in zip(weights, biases) for a in (W, b[None, :])]
    grads = matrix_gradients(fit.layers, fit.activations, fit.loss, fit.fit.average)(X, Y, *args)
    out: dict[str, float] = {}
    for l in range(1, shape.depth + 1):
        out.update(zip(shape.weight_names(l), grads[2 * l - 2].T.ravel().tolist()))
        out.update(zip(shape.bias_names(l), grads[2 * l - 1].ravel().tolist()))
    return out


def _start(fit: FitSpec, shape: Shape) -> dict[str, float]:
    """The [init] weights and biases by canonical name."""
    params, point = initial_params(fit), {}
    for l in range(1, shape.depth + 1):
        point.update(zip(shape.weight_names(l), params[f"W{l}"].T.ravel().tolist()))
        point.update(zip(shape.bias_names(l), params[f"b{l}"].ravel().tolist()))
    return point


def check_dataset(fit: FitSpec, fn, *, orientation: str = "out_in", batch: int | None = None, rtol: float = 1e-6,
                  atol: float = 1e-9, points: int = 0, seed: int = 0, data=None) -> GradientReport:
    """fn(weights, biases, X, Y) -> (dweights, dbiases) against the matrix derivation on the first
    `batch` training samples (default all) at the [init] point and `points` random points near it."""
    check_count(points, "points", MAX_POINTS, "a few random points test a function as well as many")
    data = data if data is not None else prepare(fit.data)
    m = len(data.X_train) if batch is None else batch
    if m > len(data.X_train):
        raise SpecError("--batch", f"at most the {len(data.X_train)} training samples", got=batch, source=fit.source)
    X, Y = data.X_train[:m], data.Y_train[:m]
    shape = Shape(fit.layers)
    start = _start(fit, shape)
    at = [start] + random_points(start, points, seed)
    call = matrix_caller(shape, fn, X, Y, orientation)
    got = [call(point) for point in at]
    expected = [_derived(fit, shape, X, Y, point) for point in at]
    report = GradientReport(compare_points(got, expected, rtol, atol), at, rtol, atol, origin="the [init] values",
                            positions=positions(shape, orientation), orientation=orientation)
    reduction = "mean" if fit.fit.average else "sum"
    report.notes.append(f"batch: the first {m} training samples, loss the {reduction} of their losses")
    if not report.agree:
        report.scale = common_scale(got, expected, rtol, atol)
        _diagnose_small(report, fit, fn, orientation, m)
        if not report.mistakes and report.scale is None:
            layer_of = {n: l for l in range(1, shape.depth + 1) for n in shape.weight_names(l) + shape.bias_names(l)}
            report.located = locate(report, got, expected, layer_of, shape.depth, rtol)
    return report


SMALL_BATCH = 2   # samples of the small diagnosis net: a batch, so its reduction and its axis show there too


def small_net(fit: FitSpec, seed: int = 0):
    """A net of the same depth, activations and loss, 3 inputs, 4 units per hidden layer, 3 outputs
    (1 for a one-output net), a batch of SMALL_BATCH samples reduced as the data-set spec's loss is
    ([fit] average: the mean, else the sum), seeded values; one-hot targets for cross-entropy."""
    layers = [3] + [4] * (len(fit.layers) - 2) + [3 if fit.layers[-1] > 1 else 1]
    rng = np.random.default_rng(seed)
    n_w, n_out = sum(a * b for a, b in zip(layers, layers[1:])), layers[-1]

    def target(s: int) -> list[float]:
        if not LOSSES[fit.loss].takes_logs:     # a squared error: any targets
            return rng.uniform(0.1, 0.9, n_out).tolist()
        if n_out == 1:
            return [1.0 - s % 2]
        t = np.zeros(n_out)
        t[(1 + s) % n_out] = 1.0
        return t.tolist()
    inputs = [rng.normal(0, 1, layers[0]).tolist() for _ in range(SMALL_BATCH)]
    targets = [target(s) for s in range(SMALL_BATCH)]
    return network(layers, list(fit.activations), loss=fit.loss, inputs=inputs, targets=targets,
                   weights=rng.normal(0, 0.7, n_w).tolist(), biases=rng.normal(0, 0.5, sum(layers[1:])).tolist(),
                   bias="per_neuron", reduction="mean" if fit.fit.average else "sum",
                   title="small net for the diagnosis")


def _diagnose_small(report: GradientReport, fit: FitSpec, fn, orientation: str, m: int) -> None:
    """The known mistakes, found on a small net of the same shape with the user's function called there."""
    if report.scale is not None and m > 1 and any(abs(report.scale - k) <= 1e-6 * k for k in (m, 1 / m)):
        summed = abs(report.scale - m) <= 1e-6 * m
        report.mistakes = [Match(BATCH_REDUCTION, f"{'summed' if summed else 'averaged'}, m = {m}")]
        return
    net = small_net(fit)
    try:
        small = check_gradients(net, fn, form="matrices", orientation=orientation, points=3, seed=1)
    except Exception as exc:    # the user's code fails on the small net: say so, keep the big verdict
        report.notes.append(f"(no diagnosis: on a small {'-'.join(map(str, net.spec.layers))} net your function "
                            f"failed: {exc})")
        return
    size = "-".join(map(str, net.spec.layers))
    if small.agree:
        report.notes.append(f"on a small {size} net with a batch of {SMALL_BATCH} samples your function agrees: the "
                            "difference comes with the larger batch or the data")
        return
    report.mistakes = [_with_batch(match, m) for match in small.mistakes]
    said = "" if small.mistakes else f": {small.diagnosis or 'no mistake in the library gives its numbers'}"
    report.notes.append(f"(the diagnosis was made on a small {size} net of the same depth, activations and loss, "
                        f"a batch of {SMALL_BATCH} samples: derive called your function there{said})")


def _with_batch(match: Match, m: int) -> Match:
    """A match on the small net, its batch-reduction (if any) told for the checked batch's m."""
    also = _with_batch(match.also, m) if match.also is not None else None
    where = match.where
    if match.mistake is BATCH_REDUCTION:
        where = f"{match.where.split(',')[0]}, m = {m}"
    return Match(match.mistake, where, also)
