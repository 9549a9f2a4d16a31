"""Hand values against exact ones, knowing the printed digits: rounded, truncated, propagated or mismatch.

A printed "0.519" has three decimals. It is `rounded` when the exact value rounds to it,
`truncated` when only cutting the digits gives it, `propagated` when redoing the calculation
from the other printed values of the same table (the ones it is computed from) gives it, and a
`mismatch` otherwise. Every verdict carries a sentence saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import sympy as sp

from derive.core.primitives import LOSSES
from derive.errors import DeriveError, NotSupported, SpecError
from derive.core.limits import MAX_HAND_CHARS, MAX_HAND_EXPONENT, numeral
from derive.check.batch_hand import BatchEvaluator, batch_quantity
from derive.check.quantities import PRECISION, Evaluator, NotReal, Quantity, Recipe, parse_key, printed_number

__all__ = ["HandCheck", "HandReport", "check_hand", "VERDICTS", "decimals", "fit"]

VERDICTS = ("rounded", "truncated", "propagated", "mismatch")


@dataclass
class HandCheck:
    """One [hand] entry: the printed string, the exact value, the verdict and why."""

    name: str
    hand: str
    exact: float
    verdict: str
    digits: int                        # decimals printed (negative: 1.5e2 is rounded to tens)
    explanation: str
    exact_text: str                    # the exact value with a few more digits than printed
    recomputed: float | None = None    # the value redone from printed intermediates, when that is the verdict
    propagated_from: dict[str, str] = field(default_factory=dict)   # printed key -> printed string used
    formula: str = ""                  # how it was redone: "dE_o1/dh1 + dE_o2/dh1"

    @property
    def ok(self) -> bool:
        return self.verdict != "mismatch"

    def as_json(self) -> dict:
        out = {"name": self.name, "hand": self.hand, "exact": self.exact, "verdict": self.verdict,
               "digits": self.digits, "explanation": self.explanation}
        if self.verdict == "propagated":
            out.update(recomputed=self.recomputed, propagated_from=self.propagated_from, formula=self.formula)
        return out


@dataclass
class HandReport:
    """Every [hand] entry of a spec, checked; `ok` when nothing is a mismatch."""

    checks: list[HandCheck]
    source: str | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def mismatches(self) -> list[HandCheck]:
        return [c for c in self.checks if not c.ok]

    def verdicts(self) -> dict[str, str]:
        return {c.name: c.verdict for c in self.checks}

    def as_json(self) -> dict:
        return {"checks": [c.as_json() for c in self.checks]}


def decimals(text: str) -> int:
    """How many decimals a printed number shows: "0.69630" → 5, "1832.0" → 1, "-3" → 0, "15e1" → −1."""
    return -Decimal(text.strip()).as_tuple().exponent


def fit(value: sp.Expr, text: str) -> str | None:
    """"rounded" if value rounds to the printed text, "truncated" if only cutting digits gives it, else None."""
    target = Decimal(text.strip())
    x = _decimal(value)
    with localcontext() as ctx:
        ctx.prec = _PREC
        step = Decimal(1).scaleb(target.as_tuple().exponent)
        if any(x.quantize(step, rounding=r) == target for r in (ROUND_HALF_UP, ROUND_HALF_EVEN)):
            return "rounded"
        if x.quantize(step, rounding=ROUND_DOWN) == target:
            return "truncated"
    return None


def check_hand(net, hand: dict[str, str] | None = None) -> HandReport:
    """Check every entry of the spec's [hand] table (or of `hand`) against the network's exact values."""
    table = dict(net.spec.hand if hand is None else hand)
    graph, source = net.graph, net.spec.source
    quantities = {}
    for key, text in table.items():
        try:
            quantities[key] = parse_key(graph, key)
            if net.spec.samples:
                quantities[key] = batch_quantity(net, key, quantities[key])
            numeral(text, f"hand.{key}")   # the grammar first: no Decimal is made of an unchecked string
        except SpecError as exc:
            raise exc.in_file(source) if source and exc.source is None else exc
        except (ArithmeticError, ValueError):
            raise SpecError(f"hand.{key}", 'a finite decimal number as a string ("0.519")', got=text,
                            source=source) from None
    printed = {q: printed_number(table[key]) for key, q in quantities.items()}
    if net.spec.samples:   # the batch's loss, gradients and updates (check/batch_hand.py)
        exact, redo = BatchEvaluator(net), BatchEvaluator(net, printed)
    else:
        cancel = _stable_loss_is_finite(net)
        exact = Evaluator(graph, net.spec.learning_rate, cancel=cancel)
        redo = Evaluator(graph, net.spec.learning_rate, printed, cancel=cancel)
    names = {q: key for key, q in quantities.items()}
    lr = net.spec.learning_rate
    checks = []
    for key, q in quantities.items():
        try:
            checks.append(_check(key, q, exact.get(q), redo, names, table, lr))
        except NotReal as exc:
            entry = LOSSES[net.spec.loss]
            raise NotSupported(f"{source or 'spec'}: hand.{key}: its exact value is {exc.value}, not a finite real "
                               f"number at {PRECISION} digits: loss {net.spec.loss!r} ({entry.description}) is not "
                               "defined at the spec's numbers (a target or an output outside the domain of its logs), "
                               "or an output saturates (rounds to 0 or 1, so ∂E/∂out is 0/0); derive gradients and "
                               "check --numeric take such a net") from None
    return HandReport(checks, source)


def _stable_loss_is_finite(net) -> bool:
    """Whether the loss is finite in float64 in its stable form (logs from the pre-activation): then a partial
    that is 0/0 factor by factor is a saturated output's, and its cancelled closed form (a − t) is the value;
    where the loss itself is infinite (a lone softmax output under bce) it has none."""
    try:
        return math.isfinite(net.evaluation.loss)
    except DeriveError:
        return False


def _check(key: str, q: Quantity, exact: sp.Expr, redo: Evaluator, names: dict, table: dict,
           lr: float) -> HandCheck:
    text = table[key]
    digits = decimals(text)
    shown = _show(exact, digits)
    common = dict(name=key, hand=text, exact=float(exact), digits=digits, exact_text=shown)
    how = fit(exact, text)
    recipes = [r for r in redo.recipes(q) if r.used]
    carried = next((r for r in recipes if fit(r.value, text)), None)
    rounded = _cut(exact, digits, ROUND_HALF_UP)
    if how == "rounded":
        return HandCheck(verdict="rounded", explanation=f"exact {shown} rounds to {text} ({_places(digits)})",
                         **common)
    if how == "truncated":
        also = f"; redoing it from the printed {_list(carried, names, table)} gives {text} too" if carried else ""
        return HandCheck(verdict="truncated", explanation=f"exact {shown} rounds to {rounded}; cut after "
                         f"{_places(digits)} it is {text} (the digits are truncated){also}", **common)
    if carried is not None:
        formula = _formula(carried, names, table, digits, redo.graph, lr)
        verb = {"rounded": "rounds to", "truncated": "cut short is"}[fit(carried.value, text)]
        return HandCheck(verdict="propagated", recomputed=float(carried.value),
                         propagated_from={names[u]: table[names[u]] for u in _ordered(carried, names)},
                         formula=formula,
                         explanation=f"exact {shown} rounds to {rounded}, but redone from the printed "
                                     f"{_list(carried, names, table)}: {formula}, which {verb} {text}", **common)
    redone = "".join(f"; redone from the printed {_list(r, names, table)}: {_formula(r, names, table, digits, redo.graph, lr)}"
                     for r in recipes[:1])
    off = float(printed_number(text) - exact)
    return HandCheck(verdict="mismatch", explanation=f"exact {shown} rounds to {rounded} (cut short: "
                     f"{_cut(exact, digits, ROUND_DOWN)}){redone}; the printed {text} is off by {off:+.3g}",
                     **common)


# --- formatting ------------------------------------------------------------------------------------

_FAR = Decimal(10) ** (MAX_HAND_EXPONENT + 10)   # past any printable hand value: exact values are clamped here
_PREC = 2 * (MAX_HAND_EXPONENT + 10) + MAX_HAND_CHARS + PRECISION   # enough digits to quantize anything clamped


def _decimal(value: sp.Expr) -> Decimal:
    """The exact value as a Decimal, clamped to ±1e410 (and 0 below 1e-410), so rounding it stays in range."""
    value = sp.sympify(value)
    with localcontext() as ctx:
        ctx.prec = PRECISION + 30
        if value.is_Rational:
            if value != 0 and abs(value) < sp.Rational(1, 10 ** (MAX_HAND_EXPONENT + 10)):
                return Decimal(0)
            if abs(value) > 10 ** (MAX_HAND_EXPONENT + 10):
                return _FAR.copy_sign(Decimal(int(sp.sign(value))))
            return Decimal(int(value.p)) / Decimal(int(value.q))
        x = sp.Float(value, PRECISION)
        if x != 0 and abs(x) < sp.Float(f"1e-{MAX_HAND_EXPONENT + 10}"):
            return Decimal(0)
        if abs(x) > sp.Float(f"1e{MAX_HAND_EXPONENT + 10}"):
            return _FAR.copy_sign(Decimal(1 if x > 0 else -1))
        return Decimal(str(x))


def _cut(value: sp.Expr, digits: int, rounding) -> str:
    with localcontext() as ctx:
        ctx.prec = _PREC
        return str(_decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=rounding))


def _show(value: sp.Expr, digits: int) -> str:
    """The value with up to four more decimals than printed (enough to see why it rounds as it does)."""
    keep = max(digits, 0)
    text = f"{float(value):.{keep + 4}f}"
    whole, _, decimals_ = text.partition(".")
    decimals_ = decimals_.rstrip("0").ljust(keep, "0")
    return f"{whole}.{decimals_}" if decimals_ else whole


def _places(digits: int) -> str:
    return "a whole number" if digits == 0 else f"{digits} decimal{'s' * (digits != 1)}" if digits > 0 else \
        f"a multiple of 1e{-digits}"


def _key(q: Quantity, names: dict) -> str:
    return names.get(q, q.label())


def _ordered(recipe: Recipe, names: dict) -> list[Quantity]:
    """The printed values a recipe used, in the table's order."""
    order = list(names)
    return sorted(recipe.used, key=order.index)


def _list(recipe: Recipe, names: dict, table: dict) -> str:
    return ", ".join(f"{names[u]} = {table[names[u]]}" for u in _ordered(recipe, names))


def _formula(recipe: Recipe, names: dict, table: dict, digits: int, graph, lr: float) -> str:
    """"dE_o1/dh1 + dE_o2/dh1 = 0.022 + 0.009 = 0.031": the recipe in names, in numbers, and its value."""
    q, result = recipe.quantity, _show(recipe.value, digits)
    if q.kind == "value":
        return f"{_key(q, names)} = {sp.sstr(graph.nodes[q.a].definition, order='none')} = {result}"
    if q.kind == "updated":
        grad = Quantity("partial", graph.total.name, q.a)
        shown = table[names[grad]] if grad in recipe.used else _show(recipe.gradient, digits + 1)
        return (f"{_key(q, names)} = {q.a} − lr·{_key(grad, names)} = "
                f"{graph.leaf_values()[q.a]:g} − {lr:g} × {shown} = {result}")
    def name(f):
        return _key(Quantity("partial", f.a, f.b), names)
    def number(f, v):
        p = Quantity("partial", f.a, f.b)
        return table[names[p]] if p in recipe.used else _show(v, digits)
    symbols = " + ".join("·".join(name(f) for f in fs) for fs in recipe.terms)
    numbers = " + ".join(" × ".join(number(f, v) for f, v in zip(fs, vs))
                         for fs, vs in zip(recipe.terms, recipe.factors))
    return f"{symbols} = {numbers} = {result}"
