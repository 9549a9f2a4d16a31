"""Plain-text rendering for a terminal: tables of numbers and derivations written as the notes do.

Rendering only: every number comes from the Network's evaluation, every formula from its derivation.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import sympy as sp
from sympy.printing.str import StrPrinter

from derive.core.derivation import Derivation, Factor
from derive.core.limits import MAX_PATHS

__all__ = ["table", "partial", "path_text", "derivation_text", "number", "formula", "TextPrinter", "at"]


class TextPrinter(StrPrinter):
    """SymPy's str in the notes' order, ReLU's step written 𝟙[net > 0] (not Heaviside(net, 0))."""

    def _print_Heaviside(self, expr):
        return f"𝟙[{self._print(expr.args[0])} > 0]"


def formula(expr: sp.Expr) -> str:
    """An expression for the terminal, terms in the order the rules build them."""
    return TextPrinter({"order": "none"}).doprint(expr)


def number(x: float, digits: int = 9) -> str:
    return f"{x:.{digits}f}" if abs(x) >= 1e-4 or x == 0 else f"{x:.{digits}e}"


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A left-aligned text table with a rule under the header."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def partial(num: str, den: str) -> str:
    return f"∂{num}/∂{den}"


def path_text(path: Iterable[Factor]) -> str:
    return " · ".join(partial(f.num, f.den) for f in path)


def delta_text(d: Derivation, values: dict[str, float]) -> str:
    """The δ form of ∂E/∂p and its value: what `chain` prints for a net with too many paths."""
    lhs = partial(d.total, d.param.name)
    value = values.get(d.net.notation.delta.format(name=d.param.name))
    lines = [f"{d.path_count} paths from {d.total} to {d.param.name}: more than {MAX_PATHS}, so not written out; "
             "the δ form (the same sum, shared) instead:",
             f"{lhs} = {sp.sstr(d.delta_form, order='none')}"]
    lines += [f"  {sp.sstr(x.symbol)} = {sp.sstr(x.definition, order='none')}" for x in d.deltas_used()[:20]]
    if value is not None:
        lines.append(f"{lhs} = {number(value)}")
    return "\n".join(lines)


def derivation_text(d: Derivation, values: dict[str, float], stable: dict | None = None) -> str:
    """∂E/∂p as the sum over paths, each factor in closed form and as a number, then the total; past
    MAX_PATHS paths (counted first, never enumerated) the δ form instead, with a line saying so."""
    if d.path_count > MAX_PATHS:
        return delta_text(d, values)
    lines = [f"{partial(d.total, d.param.name)} = " + "\n    + ".join(path_text(p) for p in d.paths), ""]
    subs = {sp.Symbol(k, real=True): v for k, v in values.items()}
    seen = set()
    for path in d.paths:
        for f in path:
            if (f.num, f.den) in seen:
                continue
            seen.add((f.num, f.den))
            value = at(f.closed, subs)
            lines.append(f"  {partial(f.num, f.den):<22} = {formula(f.closed):<32} = {shown(value)}")
    products = []
    for path in d.paths:
        product = 1.0
        for f in path:
            product *= at(f.closed, subs)
        products.append(product)
    lines.append("")
    if not all(math.isfinite(p) for p in products):
        lines.append(stable_total(d, values, stable))
        return "\n".join(lines)
    terms = number(products[0]) + "".join(
        f" {'−' if p < 0 else '+'} {number(abs(p))}" for p in products[1:])
    lines.append(f"{partial(d.total, d.param.name)} = {terms} = {number(sum(products))}")
    return "\n".join(lines)


UNREPRESENTABLE = "not representable in float64"


def at(expr: sp.Expr, subs: dict) -> float:
    """A closed form at float values; nan where SymPy's arithmetic gives no real number (1/0.0 is zoo)."""
    try:
        return float(expr.xreplace(subs))
    except TypeError:
        return math.nan


def shown(x: float) -> str:
    """A factor's number, or the words saying float64 cannot hold it (0/0 at a saturated output)."""
    return number(x) if math.isfinite(x) else UNREPRESENTABLE


def stable_total(d: Derivation, values: dict[str, float], stable: dict | None = None) -> str:
    """The total through the δ form, when a path's product is 0/0 or ∞·0 in float64 (a saturated output):
    the gradient the program computes from the stable δ of the output's net (a − t for sigmoid + bce),
    each δ it uses with its value (`stable`: the program's δ rewrites, symbol -> the form it computes)."""
    value = values[d.net.notation.delta.format(name=d.param.name)]
    lines = [f"  (a path's product is {UNREPRESENTABLE} at these values, a saturated output: "
             "the total is the δ form, its δ terms computed in their stable forms)"]
    for x in d.deltas_used()[:20]:
        form = (stable or {}).get(x.symbol, x.definition)
        lines.append(f"  {sp.sstr(x.symbol)} = {sp.sstr(form, order='none')} = {shown(values[x.symbol.name])}")
    lines.append(f"{partial(d.total, d.param.name)} = {sp.sstr(d.delta_form, order='none')} = {number(value)}")
    return "\n".join(lines)
