"""A derivation with some of its pieces rewritten, compiled to NumPy: what code with a mistake computes.

A `Rewrite` replaces forward rules (node -> definition), local factors ((child, parent) -> the
∂child/∂parent the chain rule multiplies) and/or post-processes the finished gradients. `Compiled`
runs the same reverse sweep as `derivation.Backprop` over the graph, with the rewritten pieces, as
one generated straight-line function: leaf values -> gradients by canonical name.

Activations that are not rewritten are computed by their registry kernels (`Activation.array`,
stable and free of SymPy's printing of Max and Piecewise): an elementwise out is `_act_<name>(net)`,
a coupled layer (softmax) one `_act_<name>(np.array([nets…]))` shared by its outs. Rewritten forward
rules and every local factor are printed from SymPy, Heaviside, Piecewise, Max and Min as np.where /
np.maximum / np.minimum (never `functools.reduce`, never an integer array from integer branches).

The reverse sweep walks the derivation's own order (`derivation.reverse_sweep`), keeping each
(child, parent) factor apart so that a mistake can rewrite it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from derive.core.derivation import reverse_sweep
from derive.core.graph import Graph, Node, Role
from derive.core.primitives import ACTIVATIONS

__all__ = ["Rewrite", "Compiled", "numpy_code", "kernel_name"]

Grads = dict[str, float]


@dataclass(frozen=True)
class Rewrite:
    """One variant of a mistake: replaced forward rules, replaced local factors, a change to the result."""

    where: str
    forward: Mapping[str, sp.Expr] = field(default_factory=dict)           # node -> definition
    local: Mapping[tuple[str, str], sp.Expr] = field(default_factory=dict)  # (child, parent) -> factor
    updated_weights: bool | frozenset = False   # back-propagate through w − lr·∂E/∂w instead of w (all
                                                # layers, or the layers in the set)
    post: Callable[[Grads], Grads] | None = None


class _Printer(NumPyPrinter):
    """Plain NumPy code for our expressions: np.exp; Heaviside (with its value at 0) and Piecewise as
    np.where with float branches; Max and Min as nested np.maximum / np.minimum."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False})

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        at_zero = float(expr.args[1]) if len(expr.args) > 1 else 0.5
        return f"np.where(({x}) > 0, 1.0, np.where(({x}) < 0, 0.0, {at_zero!r}))"

    def _branch(self, expr) -> str:
        """A Piecewise branch; a number as a float, so that integer branches never make an int array."""
        return repr(float(expr)) if expr.is_Number else self._print(expr)

    def _print_Piecewise(self, expr):
        pieces = list(expr.args)
        if pieces[-1].cond == sp.true:
            code = self._branch(pieces.pop().expr)
        else:
            code = "np.nan"          # no branch holds: undefined, as SymPy's Piecewise is there
        for piece in reversed(pieces):
            code = f"np.where({self._print(piece.cond)}, {self._branch(piece.expr)}, {code})"
        return code

    def _nested(self, function: str, args) -> str:
        codes = [self._print(a) for a in args]
        code = codes[0]
        for other in codes[1:]:
            code = f"{function}({code}, {other})"
        return code

    def _print_Max(self, expr):
        return self._nested("np.maximum", expr.args)

    def _print_Min(self, expr):
        return self._nested("np.minimum", expr.args)

    def _module_format(self, fqn, register=True):
        return "np." + fqn.split(".")[-1] if fqn.startswith("numpy.") else fqn


_PRINTER = _Printer()


@lru_cache(maxsize=65536)
def numpy_code(expr: sp.Expr) -> str:
    """One expression as NumPy code (cached: the variants of a network share most of their lines)."""
    return _PRINTER.doprint(expr)


def kernel_name(activation: str) -> str:
    """The generated code's name for an activation's registry kernel."""
    return f"_act_{activation}"


def _kernel(entry):
    return lambda x: entry.array(x, np)


KERNELS = {kernel_name(name): _kernel(entry) for name, entry in ACTIVATIONS.items()}


class Compiled:
    """A Rewrite of a graph's derivation as one generated function: leaf values -> gradients."""

    def __init__(self, g: Graph, rw: Rewrite):
        self.g, self.rw = g, rw
        self.source = self._source()
        namespace = {"np": np, **KERNELS}
        exec(compile(self.source, "<derive rewrite>", "exec"), namespace)  # our own generated code only
        self.function = namespace["evaluate"]

    def _source(self) -> str:
        g, rw = self.g, self.rw
        lines = [f"{n.name} = v[{n.name!r}]" for n in g.nodes.values() if n.is_leaf]
        for n in g.nodes.values():
            if not n.is_leaf:
                lines += self._forward(n)
        tops, order = reverse_sweep(g)          # the derivation's own traversal, each factor kept apart
        ref, grads = {name: "1.0" for name in tops}, []
        for node in order:
            terms = [f"{ref[c]} * ({self._factor(c, node.name, ref)})" for c in g.children[node.name]]
            expr = " + ".join(terms) or "0.0"
            if node.role in (Role.WEIGHT, Role.BIAS):
                grads.append(f"{node.canonical!r}: {expr}")
                continue
            ref[node.name] = f"_d{len(ref)}"
            lines.append(f"{ref[node.name]} = {expr}")
        lines.append("return {" + ", ".join(grads) + "}")
        return "def evaluate(v):\n" + "\n".join("    " + line for line in lines) + "\n"

    def _forward(self, node: Node) -> list[str]:
        """The lines defining one node: its rewritten rule, its activation's kernel, or its SymPy rule."""
        rw = self.rw
        if node.name in rw.forward:
            return [f"{node.name} = {numpy_code(rw.forward[node.name])}"]
        if node.role is not Role.OUT:
            return [f"{node.name} = {numpy_code(node.definition)}"]
        layer = self.g.layers[node.layer - 1]
        call = kernel_name(layer.activation)
        if not ACTIVATIONS[layer.activation].coupled:
            return [f"{node.name} = {call}({layer.nets[node.index].name})"]
        if any(o.name in rw.forward for o in layer.outs):    # part of the layer rewritten: SymPy's rule
            return [f"{node.name} = {numpy_code(node.definition)}"]
        lines = []
        if node.index == 0:
            nets = ", ".join(n.name for n in layer.nets)
            lines.append(f"_layer{layer.number} = {call}(np.array([{nets}], dtype=float))")
        return lines + [f"{node.name} = _layer{layer.number}[{node.index}]"]

    def _factor(self, child: str, parent: str, ref: dict) -> str:
        g, rw = self.g, self.rw
        expr = rw.local.get((child, parent), g.nodes[child].local[parent])
        weight = g.nodes.get(getattr(expr, "name", ""))
        if rw.updated_weights and expr.is_Symbol and weight is not None and weight.role is Role.WEIGHT \
                and g.nodes[parent].role is not Role.WEIGHT and weight.name in g.nodes[child].local \
                and (rw.updated_weights is True or weight.layer in rw.updated_weights):
            step = f"{ref[child]} * ({numpy_code(g.nodes[child].local[weight.name])})"
            return f"({weight.name} - {g.spec.learning_rate!r} * {step})"
        return numpy_code(expr)

    def __call__(self, leaves: Mapping[str, float]) -> Grads:
        with np.errstate(all="ignore"):
            grads = {k: float(v) for k, v in self.function(leaves).items()}
        return self.rw.post(grads) if self.rw.post else grads
