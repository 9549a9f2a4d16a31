"""Plain text for a batch spec: E = (1/m)·Σ_s E[s] (or Σ_s E[s]), every sample's numbers beside each other.

A batch spec's derivation is the one-sample derivation (the same paths and closed forms for every
sample) evaluated once per sample and reduced: ∂E/∂w = (1/m)·Σ_s ∂E[s]/∂w for the mean, Σ_s for the
sum. Sample s's quantities are written with [s] after the name (out_o1[2], ∂E_total[2]/∂w1). Up to
WIDE samples the numbers stand in one column per sample; a larger batch gets one row per sample.
"""

from __future__ import annotations

import math

import sympy as sp

from derive.core.derivation import Derivation
from derive.core.limits import MAX_PATHS
from derive.render.text import formula, number, partial, path_text, table

__all__ = ["WIDE", "reduction_text", "batch_gradients_text", "batch_chain_text", "path_products"]

WIDE = 6   # at most this many samples: one column per sample; more: one row per sample


def reduction_text(net, total: str, param: str | None = None) -> str:
    """"1/3 · (E[1] + E[2] + E[3])" (or the sum) for the loss `total`, or the same of ∂E[s]/∂param."""
    m = len(net.spec.samples)
    def one(s):
        return f"{total}[{s}]" if param is None else f"∂{total}[{s}]/∂{param}"
    terms = " + ".join(one(s) for s in range(1, m + 1)) if m <= WIDE else f"{one(1)} + … + {one(m)}"
    return f"1/{m} · ({terms})" if net.spec.reduction == "mean" else terms


def _scale_text(net) -> str:
    return f"1/{len(net.spec.samples)} · " if net.spec.reduction == "mean" else ""


def _sample_columns(net) -> list[str]:
    return [f"sample {s}" for s in range(1, len(net.spec.samples) + 1)]


def forward_table(net) -> str:
    """Every computed quantity for every sample: one column per sample, or (a large batch) one row per
    sample with its inputs, outputs and loss."""
    g, evals = net.graph, net.sample_evaluations
    if len(evals) <= WIDE:
        names = [n.name for n in g.nodes.values() if not n.is_leaf or n in g.inputs or n in g.targets]
        rows = [[name] + [number(e.values[name]) for e in evals] for name in names]
        return table(rows, ["quantity"] + _sample_columns(net))
    names = [n.name for n in g.inputs + g.outputs + g.targets] + [g.total.name]
    rows = [[str(s)] + [number(e.values[name]) for name in names] for s, e in enumerate(evals, 1)]
    return table(rows, ["sample"] + names)


def batch_gradients_text(net) -> str:
    """`derive gradients` on a batch: the samples' forward values, the batch loss, the batch gradients
    and one update."""
    g = net.graph
    total = g.total.name
    grads, updated, now = net.gradients(), net.updated(), net.param_values()
    by_canonical = g.names_by_canonical
    rows = [(name if by_canonical[name] == name else f"{by_canonical[name]} ({name})", number(now[name]),
             number(grads[name]), number(updated[name])) for name in net.trained]
    m, how = len(net.spec.samples), net.spec.reduction
    title = net.spec.title or net.spec.source or "network"
    return "\n".join([
        title, "", f"a batch of {m} samples; the loss is the {how} of their losses (values.reduction = {how!r})",
        "", forward_table(net), "",
        f"{total} = {reduction_text(net, total)} = {number(net.loss())}", "",
        table(rows, ["param", "value", f"∂{total}/∂param ({how} over samples)",
                     f"after one step (lr {net.spec.learning_rate:g})"]),
    ])


def path_products(d: Derivation, values: dict[str, float]) -> list[float]:
    """Each path's product of local derivatives at one sample's values."""
    subs = {sp.Symbol(k, real=True): v for k, v in values.items()}
    return [math.prod(float(f.closed.xreplace(subs)) for f in path) for path in d.paths]


def batch_chain_text(d: Derivation, net) -> str:
    """`derive chain` on a batch: ∂E/∂p = (1/m)·Σ_s ∂E[s]/∂p, the per-sample chain rule once (its paths
    and closed forms hold for every sample), then each factor and path at every sample's numbers."""
    lhs, each = partial(d.total, d.param.name), f"∂{d.total}[s]/∂{d.param.name}"
    evals = net.sample_evaluations
    per_sample = [e.gradients[d.param.canonical] for e in evals]
    value = net.reduce(per_sample)
    head = [f"{lhs} = {reduction_text(net, d.total, d.param.name)}", "", "each sample s by the same chain rule:"]
    tail = ["", f"{lhs} = {_scale_text(net)}(" + _signed(per_sample) + f") = {number(value)}"]
    if d.path_count > MAX_PATHS:
        head.append(f"  {d.path_count} paths: more than {MAX_PATHS}, so not written out; the δ form instead: "
                    f"{each} = {sp.sstr(d.delta_form, order='none')}")
        rows = [[str(s)] + [number(g)] for s, g in enumerate(per_sample, 1)]
        return "\n".join(head + ["", table(rows, ["sample", each])] + tail)
    head.append(f"{each} = " + "\n    + ".join(path_text(p) for p in d.paths))
    factors = _factors(d)
    head.append("")
    if len(evals) <= WIDE:
        rows = [[partial(f.num, f.den), formula(f.closed)] + [number(_at(f, e.values)) for e in evals]
                for f in factors]
        rows += [[f"path {i}", "product"] + [number(path_products(d, e.values)[i - 1]) for e in evals]
                 for i in range(1, len(d.paths) + 1)] if len(d.paths) > 1 else []
        rows.append([each, "sum of paths"] + [number(g) for g in per_sample])
        body = table(rows, ["factor", "closed form"] + _sample_columns(net))
    else:
        closed = [f"  {partial(f.num, f.den)} = {formula(f.closed)}" for f in factors]
        rows = [[str(s)] + [number(p) for p in path_products(d, e.values)] + [number(g)]
                for s, (e, g) in enumerate(zip(evals, per_sample), 1)]
        body = "\n".join(closed + ["", table(rows, ["sample"] + [f"path {i}" for i in range(1, len(d.paths) + 1)]
                                             + [each])])
    return "\n".join(head + [body] + tail)


def _factors(d: Derivation) -> list:
    """Every distinct factor of the paths, in the order they first appear."""
    seen, out = set(), []
    for path in d.paths:
        for f in path:
            if (f.num, f.den) not in seen:
                seen.add((f.num, f.den))
                out.append(f)
    return out


def _at(f, values: dict[str, float]) -> float:
    return float(f.closed.xreplace({sp.Symbol(k, real=True): v for k, v in values.items()}))


def _signed(xs: list[float]) -> str:
    if len(xs) > WIDE:
        return f"{number(xs[0])} {'−' if xs[1] < 0 else '+'} {number(abs(xs[1]))} + … ({len(xs)} samples)"
    return number(xs[0]) + "".join(f" {'−' if x < 0 else '+'} {number(abs(x))}" for x in xs[1:])
