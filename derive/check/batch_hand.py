"""What a [hand] value means on a batch spec, and its exact value.

On a batch the names keep their usual meaning for the batch as a whole: the total error (`E_total`)
is the batch loss (1/m)·Σ_s E_total[s] (or the sum), `dE_total/dw5` the batch gradient, `w5+` the
parameter after one batch update, and a parameter (`w5`) its value. Every other quantity (an output
`o1`, a partial `dE_o1/dh1`) has one value per sample, so a batch spec's [hand] table cannot name
it: one line says so. Exact values are the per-sample exact values (quantities.Evaluator at each
sample's inputs and targets) reduced exactly; an update is `propagated` when redone from the
printed batch gradient.
"""

from __future__ import annotations

from typing import Mapping

import sympy as sp

from derive.errors import SpecError
from derive.check.quantities import Evaluator, Quantity, Recipe, as_number, exact_number

__all__ = ["BatchEvaluator", "batch_quantity"]


def batch_quantity(net, key: str, q: Quantity) -> Quantity:
    """q when a batch spec's [hand] table can name it (the loss, a parameter, ∂loss/∂param, an update)."""
    g = net.graph
    params = {p.name for p in g.params}
    total = g.total.name
    if q.kind == "updated" or (q.kind == "value" and q.a in (total, *params)) \
            or (q.kind == "partial" and q.a == total and q.b in params):
        return q
    raise SpecError(f"hand.{key}", f"the batch loss ({total}), a parameter, a gradient d{total}/dw1 or an "
                    f"update w1+ (a batch spec's [hand] names the batch; {key} has one value per sample)",
                    got=key, source=net.spec.source)


class BatchEvaluator:
    """Exact batch values: each sample's exact value (Evaluator at its leaves), reduced by the spec's
    mean (1/m, exactly) or sum; with printed values, an update redone from the printed batch gradient."""

    def __init__(self, net, printed: Mapping[Quantity, sp.Rational] | None = None):
        self.graph = net.graph
        self.lr = exact_number(net.spec.learning_rate)
        self.printed = dict(printed or {})
        m = len(net.spec.samples)
        self.scale = sp.Rational(1, m) if net.spec.reduction == "mean" else sp.S.One
        self.samples = [Evaluator(net.graph, net.spec.learning_rate, leaves=leaves) for leaves in net.sample_leaves()]
        self._memo: dict[Quantity, sp.Expr] = {}

    def get(self, q: Quantity) -> sp.Expr:
        """q's exact batch value."""
        if q not in self._memo:
            self._memo[q] = self._compute(q)
        return self._memo[q]

    def _compute(self, q: Quantity) -> sp.Expr:
        if q.kind == "updated":
            return as_number(self._param(q.a) - self.lr * self.get(self._gradient(q.a)))
        if q.kind == "value" and q.a != self.graph.total.name:
            return self._param(q.a)
        return as_number(self.scale * sp.Add(*[e.get(q) for e in self.samples]))

    def recipes(self, q: Quantity) -> list[Recipe]:
        """An update redone from the printed batch gradient, where the table prints it; nothing else
        (the per-sample values a batch value comes from are not printable names)."""
        grad = self._gradient(q.a) if q.kind == "updated" else None
        if grad is None or grad not in self.printed:
            return []
        printed = self.printed[grad]
        value = as_number(self._param(q.a) - self.lr * printed)
        return [Recipe(q, [], [], value, {grad: printed}, gradient=printed)]

    def _gradient(self, param: str) -> Quantity:
        return Quantity("partial", self.graph.total.name, param)

    def _param(self, name: str) -> sp.Expr:
        return self.samples[0].get(Quantity("value", name))
