"""check --numeric past the weight-by-weight limit: the matrix form's gradients against central differences,
for an evenly spread sample of the parameters (every parameter would be 2·P forward passes of a P-weight net).

The differences are taken of the same forward pass the gradients come from (derive.numeric.dense), with the
step and tolerance of derive.check.numerical (central differences, h = ε^(1/3)·max(|p|, 1)); one parameter is
moved at a time.
"""

from __future__ import annotations

import numpy as np

from derive.check.numerical import NumericReport, _row, tolerances
from derive.core.reading import DTYPES
from derive.errors import SpecError
from derive.numeric.dense import DENSE_CHECKED, DenseNetwork

__all__ = ["check_numeric_dense", "sample"]


def sample(n: int, k: int = DENSE_CHECKED) -> list[int]:
    """k parameter indices spread evenly over 0 … n − 1 (all of them when n ≤ k), the first and last included."""
    if n <= k:
        return list(range(n))
    return sorted(set(np.linspace(0, n - 1, k).round().astype(int).tolist()))


def _loss(net: DenseNetwork, theta: np.ndarray) -> float:
    zs, acts = net.forward(theta)
    return net.loss_at(zs, acts)


def check_numeric_dense(net: DenseNetwork, dtype: str = "float64") -> NumericReport:
    """The matrix form's gradients of a sample of DENSE_CHECKED parameters against central differences."""
    if dtype not in DTYPES:
        raise SpecError("--dtype", f"one of {', '.join(DTYPES)}", got=dtype)
    real = np.dtype(dtype).type
    theta = net.vector().astype(dtype)
    with np.errstate(all="ignore"):
        result = net.evaluate(theta)
        if not (np.isfinite(result.loss) and np.all(np.isfinite(result.gradients))):
            raise SpecError("values", f"numbers whose loss and gradients stay finite in {dtype}",
                            got="not finite (matrix form)", source=net.spec.source)
        names = net.trained
        chosen = sample(len(names))
        eps = float(np.finfo(real).eps)
        n = len(chosen)
        central = {}
        for i in chosen:             # one parameter moved at a time: two forward passes each, no copies
            h = eps ** (1 / 3) * max(abs(float(theta[i])), 1.0)
            keep = theta[i]
            up, down = real(keep + h), real(keep - h)
            theta[i] = up
            e_up = _loss(net, theta)
            theta[i] = down
            e_down = _loss(net, theta)
            theta[i] = keep
            central[names[i]] = (e_up - e_down) / (float(up) - float(down))
    scale = max((abs(v) for v in central.values()), default=0.0)
    rows = []
    for i in chosen:
        p = names[i]
        rtol, atol = tolerances("central difference", dtype, result.loss, max(abs(float(theta[i])), 1.0), scale)
        rows.append(_row(p, float(result.gradients[i]), central[p], None, None, "central difference", central[p],
                         rtol, atol))
    notes = [f"matrix form (a net of {net.n_weights} weights): {n} of {len(names)} trained parameters checked"
             + (", spread evenly from the first to the last" if n < len(names) else "")
             + "; central differences (no complex step past the weight-by-weight limit)"]
    return NumericReport(rows, dtype, float(result.loss), notes)
