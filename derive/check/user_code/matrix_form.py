"""A user's gradient function in the matrix form: FUNC(weights, biases, x, t) -> (dweights, dbiases).

Real backprop code keeps one weight matrix per layer ((n_out, n_in) `out_in` or (n_in, n_out)
`in_out`) and a bias vector per layer; `matrix_caller` turns such a function into what the checker
compares — {canonical name: gradient} at a parameter point — through derive.numeric.layout. Every
problem with what the function returns is one UserCodeError naming the layer and both shapes.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from derive.check.user_code.load import interrupted, user_error
from derive.errors import UserCodeError
from derive.numeric.layout import Shape, from_matrices, to_matrices

__all__ = ["FORMS", "MatrixGrads", "matrix_caller", "spec_sample"]

FORMS = ("dict", "matrices")


class MatrixGrads(dict):
    """The user's gradients by canonical name, remembering the least precise float dtype they came in."""

    dtype: np.dtype = np.dtype(np.float64)


def spec_sample(net) -> tuple[np.ndarray, np.ndarray]:
    """The spec's sample as the matrix form passes it: x (n_in,) and t (n_out,), 1-D float64; a batch
    spec's samples as rows, (m, n_in) and (m, n_out)."""
    if net.spec.samples:
        return (np.array([x for x, _ in net.spec.samples], dtype=np.float64),
                np.array([t for _, t in net.spec.samples], dtype=np.float64))
    return np.array(net.spec.inputs, dtype=np.float64), np.array(net.spec.targets, dtype=np.float64)


def matrix_caller(shape: Shape, fn: Callable, x: np.ndarray, t: np.ndarray,
                  orientation: str = "out_in") -> Callable[[Mapping[str, float]], MatrixGrads]:
    """point -> the user's gradients by canonical name: fn(weights, biases, x, t) on fresh copies
    (code that updates its arguments in place cannot change the next call), result mapped back."""
    label = _label(fn)

    def call(point: Mapping[str, float]) -> MatrixGrads:
        weights, biases = to_matrices(shape, point, orientation)
        try:
            result = fn(weights, biases, x.copy(), t.copy())
        except KeyboardInterrupt:     # one line, no traceback (derive's own Ctrl-C handling is not involved)
            raise UserCodeError(interrupted(label)) from None
        except BaseException as exc:  # SystemExit too: the user's code must not end derive
            error = user_error(f"{label} raised", exc, getattr(fn, "__derive_source__", None))
            if isinstance(exc, ValueError):        # a shape clash, most likely: say what was passed
                error = _with_shapes(error, weights, x, orientation)
            raise error from exc
        dweights, dbiases = _pair(result, label)
        out = MatrixGrads(from_matrices(shape, dweights, dbiases, orientation, label=label))
        out.dtype = _least_precise(dweights, dbiases)
        return out
    return call


def _with_shapes(error: UserCodeError, weights, x, orientation: str) -> UserCodeError:
    other = "in_out" if orientation == "out_in" else "out_in"
    shapes = ", ".join(str(w.shape) for w in weights)
    better = UserCodeError(f"{error} (derive passed weights {orientation}: shapes {shapes}, x {x.shape}; "
                           f"if your code keeps them {other}, pass --orientation {other})")
    better.user_traceback = getattr(error, "user_traceback", None)
    return better


def _pair(result, label: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = f"a {type(result).__name__}" + (f" of {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise UserCodeError(f"{label}: expected it to return (dweights, dbiases), got {got}")
    return result


def _least_precise(*groups) -> np.dtype:
    dtypes = [np.asarray(a).dtype for group in groups if group is not None for a in group if a is not None]
    floats = [d for d in dtypes if np.issubdtype(d, np.floating)]
    return max(floats, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64))


def _label(fn) -> str:
    source = getattr(fn, "__derive_source__", None)
    name = getattr(fn, "__name__", repr(fn))
    return f"{source}:{name}" if source else name
