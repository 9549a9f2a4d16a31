"""check --numeric past the weight-by-weight limit: the matrix form's gradients against central differences,
for an evenly spread sample of the parameters (every parameter would be 2·P forward passes of a P-weight net).

The differences are taken of the same forward pass the gradients come from (derive.numeric.dense), with the
step and tolerance of derive.check.numerical (central differences, h = ε^(1/3)·max(|p|, 1)); a parameter of layer
l is moved in z_l and only the layers from l up are run again, on blocks of moved points.
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


WORK = 50_000_000   # numbers computed for all moved points together (about 2 s), which sets the sample's size


def sample_size(net: DenseNetwork) -> int:
    """How many parameters to move: DENSE_CHECKED, fewer where a moved point costs much (a parameter of layer l
    runs the layers from l up again: [1, 100000]'s every point is 100,000 outputs), never under 50."""
    sizes, cost, above = net.layers, {}, 0
    for l in range(len(sizes) - 1, 0, -1):
        above += sizes[l] + (sizes[l + 1] * sizes[l] if l + 1 < len(sizes) else 0)
        cost[l] = above
    per_layer = [(sizes[l - 1] * sizes[l] + sizes[l], cost[l]) for l in range(1, len(sizes))]
    mean = sum(n * c for n, c in per_layer) / sum(n for n, _ in per_layer)
    return int(min(DENSE_CHECKED, max(50, WORK // (2 * mean))))


CHUNK = 64   # moved points a batch: a (layer width × 64) block per layer


def _moved_losses(net: DenseNetwork, theta: np.ndarray, moves: list[tuple[int, object]]) -> list[float]:
    """The loss with one parameter moved, for every (index, new value) in `moves`. A parameter of layer l
    changes only z_l (by the move times its source's activation), so each batch of moves starts there from
    the unmoved forward pass and runs the layers above it on a block of columns."""
    zs, acts = net.forward(theta)
    ws, bs = net.unpack(theta)
    t = np.asarray(net.spec.targets, dtype=theta.dtype)
    out = [0.0] * len(moves)
    by_layer: dict[int, list[int]] = {}
    for m, (k, _) in enumerate(moves):
        by_layer.setdefault(net.place(k)[1], []).append(m)
    for l, members in by_layer.items():
        for start in range(0, len(members), CHUNK):
            batch = members[start:start + CHUNK]
            z = np.repeat(zs[l - 1][:, None], len(batch), axis=1)
            for col, m in enumerate(batch):
                k, new = moves[m]
                kind, _, j, i = net.place(k)
                change = new - theta[k]
                if kind == "w":
                    z[j, col] += change * acts[l - 1][i]
                elif net.bias_sizes[l - 1] == 1:
                    z[:, col] += change
                else:
                    z[j, col] += change
            for layer in range(l, len(ws) + 1):
                if layer > l:
                    z = ws[layer - 1] @ a + bs[layer - 1][:, None]
                entry = net.entries[layer - 1]
                a = entry.array(z.T.copy(), np).T if entry.coupled else entry.array(z, np)
            losses = net.loss_entry.samples(z.T, a.T, np.broadcast_to(t, (len(batch), t.size)), np)
            for col, m in enumerate(batch):
                out[m] = float(losses[col])
    return out


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
        chosen = sample(len(names), sample_size(net))
        eps = float(np.finfo(real).eps)
        n = len(chosen)
        steps = []
        for i in chosen:
            h = eps ** (1 / 3) * max(abs(float(theta[i])), 1.0)
            steps.append((real(theta[i] + h), real(theta[i] - h)))
        moved = _moved_losses(net, theta, [(i, up) for i, (up, _) in zip(chosen, steps)]
                              + [(i, down) for i, (_, down) in zip(chosen, steps)])
        central = {names[i]: (moved[c] - moved[n + c]) / (float(up) - float(down))
                   for c, (i, (up, down)) in enumerate(zip(chosen, steps))}
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
