"""A user's gradient function in the matrix form: FUNC(weights, biases, x, t) -> (dweights, dbiases).

Real backprop code keeps one weight matrix per layer ((n_out, n_in) `out_in` or (n_in, n_out)
`in_out`) and a bias vector per layer; `matrix_caller` turns such a function into what the checker
compares — {canonical name: gradient} at a parameter point — through derive.numeric.layout. Every
problem with what the function returns is one UserCodeError naming the layer and both shapes.
"""

from __future__ import annotations

import numbers
from typing import Callable, Mapping

import numpy as np

from derive.check.user_code.load import DEFAULT_TIMEOUT, ContainedFunction, interrupted, user_error
from derive.errors import UserCodeError
from derive.numeric.layout import Shape, from_matrices, to_matrices

__all__ = ["FORMS", "MatrixGrads", "matrix_caller", "spec_sample", "ContainedMatrixFunction"]

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
            if isinstance(fn, ContainedMatrixFunction):   # checked in the child, as here, before it comes back
                result = fn.checked(shape, orientation, weights, biases, x.copy(), t.copy())
            else:
                try:
                    result = fn(weights, biases, x.copy(), t.copy())
                except KeyboardInterrupt:     # the user's own: one line, no traceback
                    raise UserCodeError(interrupted(label)) from None
        except KeyboardInterrupt:
            raise
        except UserCodeError as exc:   # from the child process: already one line, their traceback kept
            if getattr(exc, "raised", None) == "ValueError":
                raise _with_shapes(exc, weights, x, orientation) from None
            raise
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


# --- contained: FUNC(weights, biases, x, t) in a child process (check-code's matrix form) ---------------

class ContainedMatrixFunction(ContainedFunction):
    """FILE.py:FUNC in the matrix form, imported and called in a child process (load.ContainedFunction): a
    loop past `timeout`, an exit, a crash, a print to fd 1 or a monkeypatch of derive end in one line, never
    a pass. Called like the function itself; what it returns comes back as plain arrays (checked here)."""

    def __init__(self, target: str, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(target, timeout, serve=_served_matrices)
        path, _, name = self.target.rpartition(":")
        self.__derive_source__, self.__name__ = path, name   # the label matrix_caller writes: FILE.py:FUNC

    def __call__(self, weights, biases, x, t):
        return self.checked(None, None, weights, biases, x, t)

    def checked(self, shape: Shape | None, orientation: str | None, weights, biases, x, t):
        """(dweights, dbiases) as plain arrays; with `shape`, what it returned is first read in the child
        as from_matrices reads it here (the same one-line errors)."""
        result, _ = self.request(([np.asarray(w) for w in weights], [np.asarray(b) for b in biases],
                                  np.asarray(x), np.asarray(t), shape, orientation))
        return result


def _served_matrices(fn, weights, biases, x, t, shape, orientation):
    """One call in the child: ("ok", (dweights, dbiases) as plain arrays, None), ("error", line, traceback)
    or ("raised", line, (traceback, the exception's type))."""
    label = _label(fn)
    try:
        result = fn(weights, biases, x, t)
    except KeyboardInterrupt:      # raised by the user's code: one line, no traceback (it is no bug)
        return "error", interrupted(label), None
    except BaseException as exc:   # SystemExit too: the user's, reported as theirs
        error = user_error(f"{label} raised", exc, getattr(fn, "__derive_source__", None))
        return "raised", str(error), (error.user_traceback, type(exc).__name__)
    try:
        dweights, dbiases = _pair(result, label)
        if shape is not None:
            from_matrices(shape, dweights, dbiases, orientation, label=label)
        return "ok", (_plain(dweights, label), _plain(dbiases, label)), None
    except UserCodeError as exc:
        return "error", str(exc), getattr(exc, "user_traceback", None)
    except BaseException as exc:   # a returned object that raises while it is read
        error = user_error(f"{label}: reading what it returned raised", exc, getattr(fn, "__derive_source__", None))
        return "error", str(error), error.user_traceback


def _plain(group, label: str):
    """A returned list of per-layer arrays as NumPy arrays of numbers (None and plain numbers kept): nothing
    else is sent back."""
    if group is None or isinstance(group, (numbers.Number, np.generic)):
        return group
    items = list(group) if isinstance(group, (list, tuple)) else None
    if items is None:
        return _array(group, label)
    return [a if a is None or isinstance(a, (numbers.Number, np.generic)) else _array(a, label) for a in items]


def _array(a, label: str) -> np.ndarray:
    try:
        out = np.asarray(a)
    except (ValueError, TypeError) as exc:
        raise UserCodeError(f"{label}: returned {type(a).__name__}, not an array of numbers ({exc})") from None
    if out.dtype.kind not in "biufc":
        raise UserCodeError(f"{label}: returned {type(a).__name__} {out.dtype} where an array of numbers belongs")
    return out
