"""The numeric boundary: the derivation turned into straight-line code, and evaluated.

One program serves every consumer: forward assignments in topological order, then the δ terms
top down, then one line per gradient. The code is generated from the same SymPy objects the
derivation shows, so printed formulas and computed numbers cannot disagree. Two dialects: NumPy
(broadcasts over arrays, keeps their dtype) and plain Python floats with `math` (the fastest way
for CPython to run one network on one sample). Both use stable forms: sigmoid and softmax never
overflow, and the logs of bce/cross_entropy on a sigmoid/softmax output are taken from the
pre-activation (log σ(z) = −softplus(−z)), so they never see 0.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache, partial
from typing import Callable, Mapping

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from derive.core.derivation import Backprop
from derive.core.primitives import ACTIVATIONS, LOSSES, Activation, activation
from derive.core.graph import Layer, Graph
from derive.errors import SpecError

__all__ = ["Program", "Evaluation", "Dialect", "NUMPY", "SCALAR", "PLAIN", "compile_program", "RUNTIME"]


def _heaviside(x, at_zero=0.0):
    """H(x) in x's own dtype (no float64 constants leaking into float32 arithmetic)."""
    return np.where(x > 0, 1, np.where(x < 0, 0, at_zero)).astype(np.result_type(x, np.float32))


def _positive_first(terms: list) -> list:
    """Terms of a sum with a positive one first: `t - o`, one operation, rather than `-o + t`, two."""
    for i, term in enumerate(terms):
        if not term.could_extract_minus_sign():
            return [term] + terms[:i] + terms[i + 1:]
    return terms


class _NumPyPrinter(NumPyPrinter):
    """NumPy code for our expressions: plain names, numbers as Python floats (weak: they keep the
    arrays' dtype), our Heaviside convention."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False})
        self.module_imports.clear()

    def _print_Heaviside(self, expr):
        at_zero = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"_heaviside({self._print(expr.args[0])}, {float(at_zero)!r})"

    def _module_format(self, fqn, register=True):
        return "np." + fqn.split(".")[-1] if fqn.startswith("numpy.") else fqn

    def _as_ordered_terms(self, expr, order=None):
        return _positive_first(list(super()._as_ordered_terms(expr, order=order)))


class _ScalarPrinter(PythonCodePrinter):
    """Python-float code: math functions bound to local names (_exp, _log), Heaviside inline."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})

    def _module_format(self, fqn, register=True):
        return "_" + fqn.split(".")[-1]

    def _as_ordered_terms(self, expr, order=None):
        return _positive_first(list(super()._as_ordered_terms(expr, order=order)))

    def _print_Heaviside(self, expr):
        x = self._print(expr.args[0])
        at_zero = float(expr.args[1]) if len(expr.args) > 1 else 0.5
        return f"(1.0 if {x} > 0.0 else ({at_zero!r} if {x} == 0.0 else 0.0))"

    walrus = True   # CPython: x² as a product, a compound base named once (float ** 2 is a slow call)

    def _print_Pow(self, expr, rational=False):
        if expr.exp == 2 and (expr.base.is_Symbol or self.walrus):
            base = self._print(expr.base)
            return f"{base}*{base}" if expr.base.is_Symbol else f"((_p := {base})*_p)"
        return super()._print_Pow(expr, rational=rational)


@dataclass(frozen=True)
class Dialect:
    """How one target language writes the few things SymPy's printers do not: each activation (from
    its registry entry), exp, log, max and the overflow-free tail of softplus."""

    name: str
    printer: type
    template: Callable[[Activation], str]   # an elementwise activation's line, in {x}
    exp: str
    log: str
    maximum: str                       # max of two, in {a} and {b}
    positive: str                      # max(x, 0)
    softplus_tail: str                 # log(1 + exp(−|x|)), never overflows

    def activation(self, name: str) -> str:
        return self.template(activation(name))


NUMPY = Dialect(
    "numpy", _NumPyPrinter, lambda entry: f"_act_{entry.name}({{x}})",
    exp="np.exp({x})", log="np.log({x})", maximum="np.maximum({a}, {b})", positive="np.maximum({x}, 0)",
    softplus_tail="np.log1p(np.exp(-np.abs({x})))")

SCALAR = Dialect(
    "scalar", _ScalarPrinter, lambda entry: entry.scalar,
    exp="_exp({x})", log="_log({x})", maximum="_max({a}, {b})", positive="({x} if {x} > 0.0 else 0.0)",
    softplus_tail="_log1p(_exp(-_abs({x})))")


# the notes' plain forms where the registry has them (sigmoid's 1/(1 + e^−x)): cheaper, but math.exp raises
# OverflowError at the extremes, where the training loop falls back to SCALAR for the epochs concerned
PLAIN = replace(SCALAR, name="plain", template=lambda entry: entry.plain or entry.scalar)


def numpy_runtime(xp) -> dict:
    """The names NumPy-dialect code calls, on the array namespace `xp`: every registry kernel as
    `_act_<name>(x)` and, where the entry has one, `_into_<name>(x, out)`."""
    names = {"np": xp, "_heaviside": _heaviside}
    for name, entry in ACTIVATIONS.items():
        names[f"_act_{name}"] = partial(entry.array, xp=xp)
        if entry.into is not None:
            names[f"_into_{name}"] = partial(entry.into, xp=xp)
    return names


# Names the generated code may call, beside the node variables.
RUNTIME = numpy_runtime(np)
SCALAR_RUNTIME = {"_exp": math.exp, "_log": math.log, "_log1p": math.log1p, "_tanh": math.tanh,
                  "_abs": abs, "_max": max, "_sqrt": math.sqrt}


def _evaluated(expr: sp.Expr) -> sp.Expr:
    """The same expression with the display-only unevaluated sums evaluated: −(−o + t) → o − t."""
    if expr.is_Atom:
        return expr
    return expr.func(*[_evaluated(a) for a in expr.args])


_PRINTERS: dict[type, object] = {}


@lru_cache(maxsize=1 << 16)
def _printed(printer: type, expr: sp.Expr) -> str:
    """One expression as code (remembered: every load of the same network prints the same lines again)."""
    if printer not in _PRINTERS:
        _PRINTERS[printer] = printer()
    return _PRINTERS[printer].doprint(_evaluated(expr))


@dataclass
class Evaluation:
    """Numbers at one point: every named quantity and δ term, and every gradient by canonical name."""

    values: dict[str, float]
    gradients: dict[str, float]
    loss: float
    outputs: list[float]
    unrepresentable: tuple[str, ...] = ()   # δ terms float64 cannot hold (the gradients do not use them)


class Program:
    """Straight-line code for forward, loss and gradients of a network, as Python source and a function."""

    def __init__(self, net: Graph, bp: Backprop):
        self.net = net
        self.bp = bp
        self.leaves = [n.name for n in net.nodes.values() if n.is_leaf]
        self.log_rewrites, self.delta_rewrites = _stable_rewrites(net, bp)
        self.forward_lines, self.backward_lines, self.gradient_lines = self.lines(NUMPY)

    def lines(self, dialect: Dialect) -> tuple[list[str], list[str], list[str]]:
        """(forward, backward, gradient) assignment lines in one dialect (printed once per dialect)."""
        cache = self.__dict__.setdefault("_lines", {})
        if dialect.name not in cache:
            cache[dialect.name] = self._print_lines(dialect)
        forward, backward, gradient = cache[dialect.name]
        return list(forward), list(backward), list(gradient)

    def _print_lines(self, dialect: Dialect) -> tuple[list[str], list[str], list[str]]:
        code = partial(_printed, dialect.printer)
        forward = []
        for layer in self.net.layers:
            forward += [f"{n.name} = {code(n.definition)}" for n in layer.nets]
            if not layer.fused:
                forward += _activation_lines(layer, dialect)
        forward += _log_lines(self.net, dialect, self.log_rewrites)
        subs = {old: new for old, (new, _) in self.log_rewrites.items()}
        forward += [f"{e.name} = {code(e.definition.xreplace(subs))}" for e in self.net.errors]
        forward.append(f"{self.net.total.name} = {code(self.net.total.definition.xreplace(subs))}")
        backward = [f"{d.symbol.name} = {code(self.delta_rewrites.get(d.symbol, d.definition))}"
                    for d in self.bp.ordered()]
        gradient = [f"_g_{p.canonical} = {code(self.bp.gradients[p.canonical])}" for p in self.net.params]
        return forward, backward, gradient

    def expressions(self) -> dict[str, sp.Expr]:
        """The expression behind each net, δ and gradient line, as the lines print it (by target)."""
        exprs = {n.name: n.definition for layer in self.net.layers for n in layer.nets}
        exprs.update({d.symbol.name: self.delta_rewrites.get(d.symbol, d.definition) for d in self.bp.ordered()})
        exprs.update({f"_g_{p.canonical}": self.bp.gradients[p.canonical] for p in self.net.params})
        return {name: _evaluated(e) for name, e in exprs.items()}

    @cached_property
    def source(self) -> str:
        """def evaluate(v): the whole program, returning (values, gradients)."""
        names = [n.name for n in self.net.nodes.values()] + [d.symbol.name for d in self.bp.ordered()]
        body = [f"{leaf} = v[{leaf!r}]" for leaf in self.leaves]
        body += self.forward_lines + self.backward_lines + self.gradient_lines
        values = ", ".join(f"{n!r}: {n}" for n in names)
        values += "".join(f", {self.net.delta_name(p.name)!r}: _g_{p.canonical}" for p in self.net.params)
        grads = ", ".join(f"{p.canonical!r}: _g_{p.canonical}" for p in self.net.params)
        body.append(f"return {{{values}}}, {{{grads}}}")
        return "def evaluate(v):\n" + "\n".join("    " + line for line in body) + "\n"

    @cached_property
    def function(self):
        namespace = dict(RUNTIME)
        exec(compile(self.source, "<derive generated>", "exec"), namespace)  # our own generated code only
        return namespace["evaluate"]

    def run(self, point: Mapping[str, object]):
        """The generated function at `point`; a number past float64 (math's OverflowError, a log outside its
        domain) is SpecError naming the stage, not a traceback. No RuntimeWarning escapes."""
        try:
            with np.errstate(all="ignore"):
                return self.function(point)
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            raise SpecError("values", "numbers whose forward pass, loss and gradients stay finite in float64",
                            got=f"{exc.__class__.__name__}: {exc}", source=self.net.spec.source) from None

    def evaluate(self, leaves: Mapping[str, object] | None = None) -> Evaluation:
        """Evaluate at the given leaf values (default: the spec's), returning floats."""
        point = self.net.leaf_values() if leaves is None else dict(leaves)
        values, grads = self.run(point)
        values = {k: float(v) for k, v in values.items()}
        return Evaluation(values=values, gradients={k: float(v) for k, v in grads.items()},
                          loss=values[self.net.total.name],
                          outputs=[values[o.name] for o in self.net.outputs])


def needed_lines(lines: list[str], wanted: set[str]) -> list[str]:
    """The lines `wanted` depends on, in order (dead code such as ∂E/∂input dropped)."""
    keep, need = [], set(wanted)
    for line in reversed(lines):
        target, expr = line.split(" = ", 1)
        if target in need:
            keep.append(line)
            need |= {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    return keep[::-1]


def _activation_lines(layer: Layer, dialect: Dialect) -> list[str]:
    """The activation of one layer, in its registry entry's stable form."""
    entry = activation(layer.activation)
    if entry.coupled:
        return entry.layer_lines([n.name for n in layer.nets], [o.name for o in layer.outs], layer.number, dialect)
    template = dialect.activation(layer.activation)
    return [f"{o.name} = {template.format(x=n.name)}" for n, o in zip(layer.nets, layer.outs)]


def _stable_rewrites(net: Graph, bp: Backprop):
    """Where the loss takes logs of outputs whose activation has stable logs (sigmoid, softmax): the logs
    as symbols computed from the pre-activations, and the output layer's δ with ∂E/∂out multiplied out
    (no division by out)."""
    top = net.layers[-1]
    entry = activation(top.activation)
    if not LOSSES[net.spec.loss].takes_logs or entry.log_lines is None or top.fused:
        return {}, {}
    defined = {line.split(" = ", 1)[0] for line in _log_lines(net, NUMPY)}
    logs: dict[sp.Expr, tuple[sp.Symbol, str]] = {}
    for o in top.outs:
        for expr, name in ((sp.log(o.symbol), f"_log_{o.name}"), (sp.log(1 - o.symbol), f"_log1m_{o.name}")):
            if name in defined:
                logs[expr] = (sp.Symbol(name, real=True), name)
    deltas = {bp.deltas[o.name].symbol: bp.deltas[o.name].definition for o in top.outs if o.name in bp.deltas}
    outs = {o.symbol for o in top.outs}
    rewrites = {}
    for n in top.nets:
        d = bp.deltas[n.name]
        direct = _out_free(d.definition.xreplace(deltas), outs)
        if direct is not None:
            rewrites[d.symbol] = sp.collect(sp.expand(direct), list(outs))
    return logs, rewrites


WHOLE_CANCEL_OUTS = 3   # up to this many outputs a δ that does not cancel term by term is cancelled whole


def _out_free(expr: sp.Expr, outs: set) -> sp.Expr | None:
    """`expr` with no output in a denominator, or None. Term by term first (each term of a δ is one
    ∂E/∂out times one ∂out/∂net, whose outs cancel on their own): cancelling the whole sum over a wide
    softmax builds one fraction over every output and takes minutes (softmax + bce, 11 outputs)."""
    terms = [sp.cancel(t) for t in sp.Add.make_args(expr)]
    if not any(sp.fraction(t)[1].free_symbols & outs for t in terms):
        return sp.Add(*terms)
    if len(outs) > WHOLE_CANCEL_OUTS:
        return None
    whole = sp.cancel(expr)
    return None if sp.fraction(whole)[1].free_symbols & outs else whole


def _log_lines(net: Graph, dialect: Dialect, logs=True) -> list[str]:
    """The output layer's stable logs, as its registry entry writes them (none when the loss takes no log)."""
    top = net.layers[-1]
    if not logs:
        return []
    return activation(top.activation).log_lines([n.name for n in top.nets], [o.name for o in top.outs],
                                                top.number, dialect)


def compile_program(net: Graph, bp: Backprop) -> Program:
    return Program(net, bp)
