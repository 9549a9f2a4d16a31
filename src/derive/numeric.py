"""The numeric boundary: the derivation turned into straight-line NumPy code, and evaluated.

One program serves every consumer: forward assignments in topological order, then the δ terms
top down, then one line per gradient. The code is generated from the same SymPy objects the
derivation shows, so printed formulas and computed numbers cannot disagree. Every function
broadcasts: pass arrays to evaluate many samples or many networks at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .derivation import Backprop
from .network import Layer, Graph, Role

__all__ = ["Program", "Evaluation", "compile_program", "RUNTIME"]


def _sigmoid(x):
    """σ(x) without overflow for any real x: exp only ever sees −|x|."""
    e = np.exp(-np.abs(x))
    return np.where(np.real(x) >= 0, 1 / (1 + e), e / (1 + e))


def _relu(x):
    return np.maximum(x, 0)


def _heaviside(x, at_zero=0.0):
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, at_zero))


# Names the generated code may call, beside the node variables.
RUNTIME = {"np": np, "_sigmoid": _sigmoid, "_relu": _relu, "_heaviside": _heaviside}

# How an elementwise activation is computed numerically (stable forms), by rule name.
ELEMENTWISE = {"identity": "{x}", "sigmoid": "_sigmoid({x})", "tanh": "np.tanh({x})", "relu": "_relu({x})"}


class _Printer(NumPyPrinter):
    """NumPy code for our expressions: plain names, numbers as floats, our Heaviside convention."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False})
        self.module_imports.clear()

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {float(at_zero)!r})"

    def _module_format(self, fqn, register=True):
        return "np." + fqn.split(".")[-1] if fqn.startswith("numpy.") else fqn


def _code(expr: sp.Expr) -> str:
    return _Printer().doprint(expr)


@dataclass
class Evaluation:
    """Numbers at one point: every named quantity and δ term, and every gradient by canonical name."""

    values: dict[str, float]
    gradients: dict[str, float]
    loss: float
    outputs: list[float]


class Program:
    """Straight-line code for forward, loss and gradients of a network, as Python source and a function."""

    def __init__(self, net: Graph, bp: Backprop):
        self.net = net
        self.bp = bp
        self.leaves = [n.name for n in net.nodes.values() if n.is_leaf]
        self.forward_lines = self._forward_lines()
        self.backward_lines = [f"{d.symbol.name} = {_code(d.definition)}" for d in bp.ordered()]
        self.gradient_lines = [f"_g_{p.canonical} = {_code(bp.gradients[p.canonical])}" for p in net.params]

    def _forward_lines(self) -> list[str]:
        lines = []
        for layer in self.net.layers:
            lines += [f"{n.name} = {_code(n.definition)}" for n in layer.nets]
            if not layer.fused:
                lines += _activation_lines(layer)
        lines += [f"{e.name} = {_code(e.definition)}" for e in self.net.errors]
        lines.append(f"{self.net.total.name} = {_code(self.net.total.definition)}")
        return lines

    @cached_property
    def source(self) -> str:
        """def evaluate(v): the whole program, returning (values, gradients)."""
        names = [n.name for n in self.net.nodes.values()] + [d.symbol.name for d in self.bp.ordered()]
        body = [f"{leaf} = v[{leaf!r}]" for leaf in self.leaves]
        body += self.forward_lines + self.backward_lines + self.gradient_lines
        values = ", ".join(f"{n!r}: {n}" for n in names)
        delta = self.net.notation.delta
        values += "".join(f", {delta.format(name=p.name)!r}: _g_{p.canonical}" for p in self.net.params)
        grads = ", ".join(f"{p.canonical!r}: _g_{p.canonical}" for p in self.net.params)
        body.append(f"return {{{values}}}, {{{grads}}}")
        return "def evaluate(v):\n" + "\n".join("    " + line for line in body) + "\n"

    @cached_property
    def function(self):
        namespace = dict(RUNTIME)
        exec(compile(self.source, "<derive generated>", "exec"), namespace)  # our own generated code only
        return namespace["evaluate"]

    def evaluate(self, leaves: Mapping[str, object] | None = None) -> Evaluation:
        """Evaluate at the given leaf values (default: the spec's), returning floats."""
        point = self.net.leaf_values() if leaves is None else dict(leaves)
        values, grads = self.function(point)
        values = {k: float(v) for k, v in values.items()}
        return Evaluation(values=values, gradients={k: float(v) for k, v in grads.items()},
                          loss=values[self.net.total.name],
                          outputs=[values[o.name] for o in self.net.outputs])


def _activation_lines(layer: Layer) -> list[str]:
    """The activation of one layer, in a stable form (softmax shifted by its maximum)."""
    if layer.activation in ELEMENTWISE:
        template = ELEMENTWISE[layer.activation]
        return [f"{o.name} = {template.format(x=n.name)}" for n, o in zip(layer.nets, layer.outs)]
    if layer.activation == "softmax":
        nets = [n.name for n in layer.nets]
        top = nets[0]
        for name in nets[1:]:
            top = f"np.maximum({top}, {name})"
        lines = [f"_m{layer.number} = {top}"]
        lines += [f"_e{layer.number}_{j} = np.exp({n} - _m{layer.number})" for j, n in enumerate(nets)]
        total = " + ".join(f"_e{layer.number}_{j}" for j in range(len(nets)))
        lines.append(f"_s{layer.number} = {total}")
        lines += [f"{o.name} = _e{layer.number}_{j} / _s{layer.number}" for j, o in enumerate(layer.outs)]
        return lines
    raise NotImplementedError(f"no numeric form for activation {layer.activation!r}")


def compile_program(net: Graph, bp: Backprop) -> Program:
    return Program(net, bp)
