"""Parameters as real code keeps them: one weight matrix and one bias vector per layer.

derive names parameters w1..wN, b1..bK (layer by layer, by destination neuron, then by source
neuron). Code keeps W_l as (n_out, n_in) (`out_in`: Nielsen, PyTorch) or (n_in, n_out) (`in_out`:
CS231n, Keras, file 001's classes) and b_l as (n_out,). `to_matrices` and `from_matrices` convert
between the two, so a user's function in its own shape can be checked name by name.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from derive.errors import SpecError, UserCodeError

__all__ = ["ORIENTATIONS", "Shape", "shape_of", "to_matrices", "from_matrices", "positions", "weight_names",
           "bias_names"]

ORIENTATIONS = ("out_in", "in_out")


class Shape:
    """Where each layer's parameters sit: sizes, the bias scheme and which names are whose."""

    def __init__(self, layers: Sequence[int], bias: str = "per_neuron", train_biases: bool = True):
        self.layers, self.bias, self.train_biases = tuple(layers), bias, train_biases
        self.depth = len(self.layers) - 1

    def weight_names(self, l: int) -> list[str]:
        """Layer l's (from 1) weight names in canonical order: destination-major, as out_in.ravel()."""
        start = sum(a * b for a, b in zip(self.layers[:l - 1], self.layers[1:l]))
        return [f"w{start + i + 1}" for i in range(self.layers[l - 1] * self.layers[l])]

    def bias_names(self, l: int) -> list[str]:
        """Layer l's bias names: one per neuron, one shared, or none."""
        if self.bias == "none":
            return []
        if self.bias == "shared":
            return [f"b{l}"]
        start = sum(self.layers[1:l])
        return [f"b{start + j + 1}" for j in range(self.layers[l])]

    def weight_shape(self, l: int, orientation: str) -> tuple[int, int]:
        n_in, n_out = self.layers[l - 1], self.layers[l]
        return (n_out, n_in) if orientation == "out_in" else (n_in, n_out)


def shape_of(net) -> Shape:
    """The Shape of a derive.Network (its spec's layers and bias scheme)."""
    spec = net.spec
    return Shape(spec.layers, spec.bias, spec.train_biases)


def _orientation(orientation: str) -> str:
    if orientation not in ORIENTATIONS:
        raise SpecError("orientation", f"one of {', '.join(ORIENTATIONS)}", got=orientation)
    return orientation


def to_matrices(net, params: Mapping[str, float] | None = None, orientation: str = "out_in"):
    """(weights, biases): one 2-D float64 array per layer and one 1-D (n_out,) bias array per layer,
    from {canonical name: value} (default the spec's values). A shared bias is its value repeated;
    no biases give zeros."""
    shape = net if isinstance(net, Shape) else shape_of(net)
    params = net.param_values() if params is None else params
    _orientation(orientation)
    weights, biases = [], []
    for l in range(1, shape.depth + 1):
        n_in, n_out = shape.layers[l - 1], shape.layers[l]
        W = np.array([params[n] for n in shape.weight_names(l)], dtype=np.float64).reshape(n_out, n_in)
        weights.append(W if orientation == "out_in" else W.T.copy())
        names = shape.bias_names(l)
        if not names:
            biases.append(np.zeros(n_out))
        elif shape.bias == "shared":
            biases.append(np.full(n_out, float(params[names[0]])))
        else:
            biases.append(np.array([params[n] for n in names], dtype=np.float64))
    return weights, biases


def positions(net, orientation: str = "out_in") -> dict[str, tuple[int, ...]]:
    """canonical name -> (layer, row, column) in the orientation's matrices; biases (layer, row)."""
    shape = net if isinstance(net, Shape) else shape_of(net)
    _orientation(orientation)
    out: dict[str, tuple[int, ...]] = {}
    for l in range(1, shape.depth + 1):
        n_in = shape.layers[l - 1]
        for i, name in enumerate(shape.weight_names(l)):
            j, k = divmod(i, n_in)
            out[name] = (l, j, k) if orientation == "out_in" else (l, k, j)
        for j, name in enumerate(shape.bias_names(l)):
            out[name] = (l, j)
    return out


def weight_names(net) -> list[str]:
    shape = net if isinstance(net, Shape) else shape_of(net)
    return [n for l in range(1, shape.depth + 1) for n in shape.weight_names(l)]


def bias_names(net) -> list[str]:
    shape = net if isinstance(net, Shape) else shape_of(net)
    return [n for l in range(1, shape.depth + 1) for n in shape.bias_names(l)]


def from_matrices(net, dweights, dbiases=None, orientation: str = "out_in", *, label: str = "from_matrices"):
    """{canonical name: gradient} from per-layer gradient arrays in the orientation's layout.

    Anything reshapeable to a layer's shape is accepted when only unit axes differ ((n_out, 1) for
    (n_out,), say); one number for a layer's biases is broadcast over it, as NumPy's `b -= db` does. A shared bias may be one number or the per-neuron terms (summed); biases may be
    None where they are not trained (or there are none). A wrong count or shape is a UserCodeError
    naming the layer, the expected and the given shape."""
    shape = net if isinstance(net, Shape) else shape_of(net)
    _orientation(orientation)
    dweights = _per_layer(dweights, shape.depth, f"{label}: dweights")
    out: dict[str, float] = {}
    for l, g in enumerate(dweights, start=1):
        want = shape.weight_shape(l, orientation)
        W = _fit(g, want, f"{label}: dweights[{l - 1}] (layer {l}, {orientation})")
        out.update(zip(shape.weight_names(l), (W if orientation == "out_in" else W.T).ravel().tolist()))
    if shape.bias == "none" or (dbiases is None and not shape.train_biases):
        return out
    if dbiases is None:
        raise UserCodeError(f"{label}: returned no bias gradients (None); expected one array per layer, "
                            "since the spec trains its biases")
    dbiases = _per_layer(dbiases, shape.depth, f"{label}: dbiases")
    for l, g in enumerate(dbiases, start=1):
        if g is None and not shape.train_biases:
            continue
        where = f"{label}: dbiases[{l - 1}] (layer {l})"
        n_out = shape.layers[l]
        if shape.bias == "shared":
            b = _array(g, where)
            if b.size not in (1, n_out):
                raise UserCodeError(f"{where}: expected one number or {n_out} per-neuron terms (a shared bias), "
                                    f"got shape {b.shape}")
            out[shape.bias_names(l)[0]] = float(b.sum())
        else:
            out.update(zip(shape.bias_names(l), _fit(g, (n_out,), where, bias=True).tolist()))
    return out


def _per_layer(arrays, depth: int, where: str) -> list:
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, (list, tuple)):
        raise UserCodeError(f"{where}: expected a list of {depth} arrays (one per layer), "
                            f"got {type(arrays).__name__}")
    if len(arrays) != depth:
        raise UserCodeError(f"{where}: expected {depth} arrays (one per layer), got {len(arrays)}")
    return list(arrays)


def _array(value, where: str) -> np.ndarray:
    try:
        a = np.asarray(value)
    except Exception as exc:  # a ragged list, an object NumPy cannot hold
        raise UserCodeError(f"{where}: not an array of numbers ({type(exc).__name__}: {exc})") from exc
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise UserCodeError(f"{where}: expected real numbers, got an array of {a.dtype}")
    if not np.isfinite(a).all():
        raise UserCodeError(f"{where}: holds {a[~np.isfinite(a)].ravel()[0]}, expected finite numbers")
    return a


def _fit(value, want: tuple[int, ...], where: str, bias: bool = False) -> np.ndarray:
    """value as an array of shape `want`, when it has that shape up to unit axes; for a bias also one
    number, broadcast over the layer as `b -= db` would (each neuron's is then checked on its own)."""
    a = _array(value, where)
    if a.shape == want or tuple(d for d in a.shape if d != 1) == tuple(d for d in want if d != 1):
        return a.reshape(want).astype(np.float64)
    if bias and a.size == 1:
        return np.full(want, float(a.reshape(())))
    hint = ""
    if bias and a.ndim == 2 and a.shape[1] == want[0]:
        hint = " (one row per sample: the bias gradient not summed over the batch, bias-not-summed)"
    raise UserCodeError(f"{where}: expected shape {want}, got shape {a.shape}{hint}")
