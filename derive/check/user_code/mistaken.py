"""A derivation with some of its pieces rewritten, compiled to NumPy: what code with a mistake computes.

A `Rewrite` replaces forward rules (node -> definition), local factors ((child, parent) -> the
∂child/∂parent the chain rule multiplies) and/or post-processes the finished gradients. `Compiled`
runs the same reverse sweep as `derivation.Backprop` over the graph, with the rewritten pieces, as
one generated straight-line function: leaf values -> gradients by canonical name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from derive.core.graph import Graph, Role

__all__ = ["Rewrite", "Compiled", "numpy_code"]

Grads = dict[str, float]


@dataclass(frozen=True)
class Rewrite:
    """One variant of a mistake: replaced forward rules, replaced local factors, a change to the result."""

    where: str
    forward: Mapping[str, sp.Expr] = field(default_factory=dict)           # node -> definition
    local: Mapping[tuple[str, str], sp.Expr] = field(default_factory=dict)  # (child, parent) -> factor
    updated_weights: bool = False     # back-propagate through w − lr·∂E/∂w instead of w
    post: Callable[[Grads], Grads] | None = None


class _Printer(NumPyPrinter):
    """Plain NumPy code for our expressions (np.exp, Heaviside with its value at 0)."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False})

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        at_zero = float(expr.args[1]) if len(expr.args) > 1 else 0.5
        return f"np.where({x} > 0, 1.0, np.where({x} < 0, 0.0, {at_zero!r}))"

    def _module_format(self, fqn, register=True):
        return "np." + fqn.split(".")[-1] if fqn.startswith("numpy.") else fqn


_PRINTER = _Printer()


@lru_cache(maxsize=65536)
def numpy_code(expr: sp.Expr) -> str:
    """One expression as NumPy code (cached: the variants of a network share most of their lines)."""
    return _PRINTER.doprint(expr)


class Compiled:
    """A Rewrite of a graph's derivation as one generated function: leaf values -> gradients."""

    def __init__(self, g: Graph, rw: Rewrite):
        self.g, self.rw = g, rw
        self.function = self._build()

    def _build(self):
        g, rw = self.g, self.rw
        lines = [f"{n.name} = v[{n.name!r}]" for n in g.nodes.values() if n.is_leaf]
        lines += [f"{n.name} = {numpy_code(rw.forward.get(n.name, n.definition))}"
                  for n in g.nodes.values() if not n.is_leaf]
        ref, grads = {}, []
        tops = {n.name for n in g.tops} | {g.total.name}
        for node in reversed(list(g.nodes.values())):
            if node.name in tops:
                ref[node.name] = "1.0"
                continue
            if node.role is Role.TARGET:
                continue
            terms = [f"{ref[c]} * ({self._factor(c, node.name, ref)})" for c in g.children[node.name]]
            expr = " + ".join(terms) or "0.0"
            if node.role in (Role.WEIGHT, Role.BIAS):
                grads.append(f"{node.canonical!r}: {expr}")
                continue
            ref[node.name] = f"_d{len(ref)}"
            lines.append(f"{ref[node.name]} = {expr}")
        lines.append("return {" + ", ".join(grads) + "}")
        source = "def evaluate(v):\n" + "\n".join("    " + line for line in lines) + "\n"
        namespace = {"np": np}
        exec(compile(source, "<derive rewrite>", "exec"), namespace)  # our own generated code only
        return namespace["evaluate"]

    def _factor(self, child: str, parent: str, ref: dict) -> str:
        g, rw = self.g, self.rw
        expr = rw.local.get((child, parent), g.nodes[child].local[parent])
        weight = g.nodes.get(getattr(expr, "name", ""))
        if rw.updated_weights and expr.is_Symbol and weight is not None and weight.role is Role.WEIGHT \
                and g.nodes[parent].role is not Role.WEIGHT:
            step = f"{ref[child]} * ({numpy_code(g.nodes[child].local[weight.name])})"
            return f"({weight.name} - {g.spec.learning_rate!r} * {step})"
        return numpy_code(expr)

    def __call__(self, leaves: Mapping[str, float]) -> Grads:
        with np.errstate(all="ignore"):
            grads = {k: float(v) for k, v in self.function(leaves).items()}
        return self.rw.post(grads) if self.rw.post else grads
