"""LaTeX for a batch spec: ∂E/∂w = (1/m)·Σ_s ∂E/∂w|_s (or Σ_s), the chain rule once (it holds for every
sample), each sample's numbers substituted, the reduction, and one update with the batch gradient.

Up to WIDE samples each gets its own numbers step (labelled with its inputs and targets); a larger
batch gets one line per sample: its path products and its ∂E/∂w. `batch_blocks` is the whole
document `derive notes` writes for a batch spec.
"""

from __future__ import annotations

from types import SimpleNamespace

from derive.core.limits import MAX_PATHS
from derive.render.latex.blocks import Equation, Heading, Row, Table, Text
from derive.render.latex.compact import kinds
from derive.render.latex.figure import figure_blocks
from derive.render.latex.identities import identity_blocks, identity_names
from derive.render.latex.names import latex_name
from derive.render.latex.printer import latex, number
from derive.render.latex.steps import (Numbers, _lhs, changed_value, chain, closed, delta_equation,
                                       numbers, update)

__all__ = ["WIDE", "batch_steps", "batch_blocks"]

WIDE = 4   # at most this many samples: each sample's numbers step in full; more: one line per sample


class _Sample:
    """One sample as the steps' `Numbers` see a network: its values and gradients, the rest the batch's."""

    def __init__(self, net, evaluation):
        self._net, self.evaluation = net, evaluation

    def values(self):
        return self.evaluation.values

    def __getattr__(self, name):
        return getattr(self._net, name)


class _Batch(_Sample):
    """The batch as the update step sees it: its gradients (every parameter's) reduced over the samples."""

    def __init__(self, net):
        super().__init__(net, SimpleNamespace(gradients=net.batch_gradients()))


def _at(lhs: str, s) -> str:
    """∂E/∂w evaluated at sample s (s a number, or the letter s itself)."""
    return rf"\left.{lhs}\right|_{{{'s' if s == 's' else f's={s}'}}}"


def _signed_sum(texts: list[str]) -> str:
    """a − b + c: a negative term's sign written once."""
    return texts[0] + "".join(f" - {t[1:]}" if t.startswith("-") else f" + {t}" for t in texts[1:])


def _reduced(net, texts: list[str]) -> str:
    """\\frac{1}{m}\\left(a + b + c\\right) (or a + b + c), signs written once, a long batch elided."""
    if len(texts) > 2 * WIDE:
        texts = texts[:2] + [r"\dots"] + texts[-1:]
    body = _signed_sum(texts)
    m = len(net.spec.samples)
    return rf"\frac{{1}}{{{m}}}\left({body}\right)" if net.spec.reduction == "mean" else body


def _reduction_row(net, lhs: str) -> Row:
    m = len(net.spec.samples)
    front = rf"\frac{{1}}{{{m}}}\sum_{{s=1}}^{{{m}}}" if net.spec.reduction == "mean" else rf"\sum_{{s=1}}^{{{m}}}"
    return Row(lhs, f"= {front} {_at(lhs, 's')}",
               r"\text{(" + f"the {net.spec.reduction} over the {m} samples" + r")}")


def sample_label(net, s: int, digits: int) -> Row:
    """sample s: i1 = 0.5, i2 = −0.2; target_o1 = 0, target_o2 = 1."""
    g, preset = net.graph, net.graph.notation.name
    x, t = net.spec.samples[s - 1]
    ins = r",\ ".join(f"{latex_name(n.name, preset)} = {number(v, digits)}" for n, v in zip(g.inputs, x))
    outs = r",\ ".join(f"{latex_name(n.name, preset)} = {number(v, digits)}" for n, v in zip(g.targets, t))
    return Row(rf"\text{{sample {s}:}}", rf"\quad {ins};\ {outs}")


def batch_steps(d, net, digits: int = 3, which=("chain", "closed", "numbers", "update")) -> Equation:
    """The steps of ∂E/∂p on a batch as one aligned equation (the chosen steps among chain, closed,
    numbers, update; shared and delta are one-sample steps and are left out)."""
    lhs = _lhs(d)
    evals = net.sample_evaluations
    grads = [e.gradients[d.param.canonical] for e in evals]
    total = net.reduce(grads)
    rows = [_reduction_row(net, lhs)]
    if d.path_count > MAX_PATHS:
        rows += delta_equation(d).rows
    else:
        each = (chain(d).rows if "chain" in which else []) + \
            (closed(d, factors="numbers" not in which).rows if "closed" in which else [])
        rows += [Row(_at(lhs, "s") if r.lhs == lhs else r.lhs, r.rhs, r.note) for r in each]   # for every s
    if "numbers" in which:
        rows += _sample_numbers(d, net, digits, evals)
        rows.append(Row(lhs, f"= {_reduced(net, [number(g, digits) for g in grads])} = {number(total, digits)}"))
    if "update" in which:
        rows += update(d, Numbers(_Batch(net), digits)).rows
    return Equation(rows)


def _sample_numbers(d, net, digits, evals) -> list[Row]:
    """Each sample's numbers step (a small batch) or one line per sample (paths' products, its ∂E/∂p)."""
    lhs, rows = _lhs(d), []
    if len(evals) <= WIDE and d.path_count <= MAX_PATHS:
        for s, e in enumerate(evals, 1):
            rows.append(sample_label(net, s, digits))
            rows += [Row(_at(lhs, s) if r.lhs == lhs else r.lhs, r.rhs, r.note)
                     for r in numbers(d, Numbers(_Sample(net, e), digits)).rows]
        return rows
    for s, e in enumerate(evals, 1):
        g = e.gradients[d.param.canonical]
        if d.path_count <= MAX_PATHS and len(d.paths) > 1:
            nums = Numbers(_Sample(net, e), digits)
            products = [number(_product(path, nums), digits) for path in d.paths[:3]]
            more = r" + \dots" if len(d.paths) > 3 else ""
            rows.append(Row(_at(lhs, s), f"= {_signed_sum(products)}{more} = {number(g, digits)}"))
        else:
            rows.append(Row(_at(lhs, s), f"= {number(g, digits)}"))
    return rows


def _product(path, nums) -> float:
    out = 1.0
    for f in path:
        out *= nums.of(f.closed)
    return out


# --- the document --------------------------------------------------------------------------------------

def batch_blocks(net, digits: int = 3, which=("chain", "closed", "numbers", "update"), full: bool = False) -> list:
    """`derive notes` on a batch spec: the network, the samples, each sample's forward pass and loss, the
    batch loss, one parameter of each kind derived on the batch (`full`: every one), the batch gradients
    and the update."""
    spec, g, preset = net.spec, net.graph, net.graph.notation.name
    m = len(spec.samples)
    which = [s for s in which if s in ("chain", "closed", "numbers", "update")]
    desc = (f"A {'-'.join(map(str, spec.layers))} network; activations "
            f"{', '.join(a.replace('_', ' ') for a in spec.activations)}; loss {spec.loss.replace('_', ' ')}; "
            f"biases {spec.bias.replace('_', ' ')}; learning rate ${number(spec.learning_rate)}$. A batch of {m} "
            f"samples: the loss is the {spec.reduction} of the samples' losses, so every gradient is the "
            f"{spec.reduction} of the samples' gradients, each by the same chain rule. Numbers are rounded to "
            f"{digits} significant digits.")
    out = [Heading("The network and its samples", 1), Text(desc)] + figure_blocks(net)
    out += [_samples_table(net, digits)] + _forward(net, digits) + _loss(net, digits)
    out += [Heading("The derivatives on the batch", 1),
            Text("For a parameter $w$: $\\partial E/\\partial w$ at each sample $s$ by the chain rule (the paths "
                 "and closed forms are the same for every sample, the numbers are the sample's), then the "
                 f"{spec.reduction} over the samples, then one step of gradient descent.")]
    chosen = g.params if full else [params[0] for _, params in kinds(g)]
    for p in chosen:
        d = net.derivation(p.canonical)
        out += [Heading(rf"$\partial {latex_name(g.total.name, preset)} / \partial {latex_name(p.name, preset)}$", 2),
                batch_steps(d, net, digits, which)]
    out += _gradients_table(net, digits)
    names = identity_names(spec.activations, spec.loss)
    if names:
        out += [Heading("The local derivatives, derived", 1)] + identity_blocks(names, preset)
    return out


def _columns(net) -> list[str]:
    m = len(net.spec.samples)
    return [f"sample {s}" for s in range(1, m + 1)] if m <= 2 * WIDE else []


def _samples_table(net, digits) -> Table:
    g, preset = net.graph, net.graph.notation.name
    header = ["sample"] + [f"${latex_name(n.name, preset)}$" for n in g.inputs + g.targets]
    rows = [[str(s)] + [number(v, digits) for v in (*x, *t)] for s, (x, t) in enumerate(net.spec.samples, 1)]
    return Table(header, rows, "The samples (inputs and targets):")


def _forward(net, digits) -> list:
    """Every quantity's definition once, then its value at every sample (a column per sample, or, for a
    large batch, a row per sample with the outputs and the loss)."""
    g, preset = net.graph, net.graph.notation.name
    computed = [n for n in g.nodes.values() if n.definition is not None]
    rows = [Row(latex_name(n.name, preset), f"= {latex(n.definition, preset)}") for n in computed]
    out = [Heading("Forward pass and loss, sample by sample", 1), Equation(rows)]
    evals = net.sample_evaluations
    if _columns(net):
        table = [[latex_name(n.name, preset)] + [number(e.values[n.name], digits) for e in evals] for n in computed]
        out.append(Table(["quantity"] + _columns(net), table, "Their values at each sample:"))
    else:
        names = [n.name for n in g.outputs] + [g.total.name]
        table = [[str(s)] + [number(e.values[n], digits) for n in names] for s, e in enumerate(evals, 1)]
        out.append(Table(["sample"] + [f"${latex_name(n, preset)}$" for n in names], table,
                         "Each sample's outputs and loss:"))
    return out


def _loss(net, digits) -> list:
    g, preset = net.graph, net.graph.notation.name
    total = latex_name(g.total.name, preset)
    losses = [number(e.loss, digits) for e in net.sample_evaluations]
    return [Heading("The batch loss", 1),
            Equation([_reduction_row(net, total),
                      Row("", f"= {_reduced(net, losses)} = {number(net.loss(), digits)}")])]


def _gradients_table(net, digits) -> list:
    """Every parameter: each sample's ∂E/∂p (a small batch), the batch's, and the value after one update."""
    g, preset = net.graph, net.graph.notation.name
    total = latex_name(g.total.name, preset)
    grads, now, new = net.batch_gradients(), net.param_values(), net.updated()
    nums = Numbers(_Batch(net), digits)
    small = len(net.spec.samples) <= WIDE
    rows = []
    for p in g.params:
        per = [number(e.gradients[p.canonical], digits) for e in net.sample_evaluations] if small else []
        after = changed_value(now[p.canonical], new[p.canonical], nums) if p.canonical in new else r"\text{not trained}"
        rows.append([latex_name(p.name, preset)] + per + [number(grads[p.canonical], digits), after])
    header = (["parameter"] + ([f"sample {s}" for s in range(1, len(net.spec.samples) + 1)] if small else [])
              + [f"batch ({net.spec.reduction})", "after one update"])
    return [Heading("Every gradient on the batch, and one update", 1),
            Text(f"$\\partial {total}/\\partial p$ for every parameter $p$" + (" at each sample and" if small else "")
                 + f" on the batch, and $p$ after one step of gradient descent (learning rate "
                   f"${number(net.spec.learning_rate)}$)."),
            Table(header, rows)]
