"""Matrix-form backprop (file 001): the layer-wise derivation with SymPy matrix expressions.

For a batch of m samples in the rows of X, layer by layer Z_l = A_{l-1} W_l + 1 b_l, A_l = act(Z_l)
(A_0 = X). With an output activation and loss whose ∂L/∂Z is −(Y − A) (the loss's registry `link`:
sigmoid with bce, softmax with cross-entropy, identity with ½ squared error), averaging over the m
samples as the notes' code does:
    ∂L/∂W2 = (1/m) A1ᵀ(−(Y − A2)),   ∂L/∂b2 = (1/m) 1ᵀ(−(Y − A2)),
    ∂L/∂W1 = (1/m) Xᵀ(−(Y − A2)W2ᵀ ⊙ A1 ⊙ (1 − A1)),   ∂L/∂b1 = (1/m) 1ᵀ(…).
A hidden layer's ∂A/∂Z is its registry entry's `matrix_factor` (closed form in A, as the notes write
A1 ⊙ (1 − A1)) or, where it has none, the elementwise slope f′(Z_l): a SymPy ElementwiseApplyFunction
of the derivative of the entry's own rule, printed as relu′(Z1) and generated as `_slope_relu(Z1)`.
The back-propagated terms δ_l = ∂L/∂Z_l are named once (linear cost) and substituted only for display.
The same expressions give the LaTeX (`latex`, rendered by derive.render.latex.matrix) and the NumPy code `fit` runs (`numpy_source`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import HadamardProduct, MatAdd, MatMul, MatrixSymbol, OneMatrix, Transpose
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.core.primitives import LOSSES, activation
from derive.errors import NotSupported

__all__ = ["MatrixNotation", "MATRIX", "MatrixDerivation", "Step", "slope", "slope_activation"]


@dataclass(frozen=True)
class MatrixNotation:
    """Names of the matrix form, as data: X, Z1, A1, W1, b1, …, Y, L, m; δ terms dZ1, …"""

    name: str = "matrix"
    input: str = "X"
    pre: str = "Z{l}"
    act: str = "A{l}"
    weight: str = "W{l}"
    bias: str = "b{l}"
    target: str = "Y"
    loss: str = "L"
    batch: str = "m"
    ones: str = "ones"          # the column of m ones, 1 in the notes
    ones_latex: str = r"\mathbf{1}"
    delta: str = "dZ{l}"        # ∂L/∂Z_l in generated code


MATRIX = MatrixNotation()


# every elementwise slope f′ built: its Lambda → the activation's name (for the code and the LaTeX). Lambdas
# are equal up to their variable's name, so two activations with the same derivative share the later name
# (the same function, so the same numbers).
_SLOPES: dict[sp.Lambda, str] = {}


def _slope_lambda(name: str) -> sp.Lambda:
    """f′ as a Lambda, the derivative of the entry's rule, built from the registry each time (never stale).
    The rule is written piecewise first, so that a kink's derivative takes the value the registry's
    derivative and slope kernel take there (relu′(0) = 0, not SymPy's Heaviside(0) = 1/2)."""
    z = sp.Symbol("z", real=True)
    lam = sp.Lambda(z, sp.diff(activation(name).rule(z).rewrite(sp.Piecewise), z))
    _SLOPES[lam] = name
    return lam


def slope(name: str, Z) -> ElementwiseApplyFunction:
    """f′(Z) elementwise for the activation `name`: explicit evaluation applies the Lambda natively."""
    return ElementwiseApplyFunction(_slope_lambda(name), Z)


def slope_activation(expr) -> str | None:
    """The activation whose slope f′ the ElementwiseApplyFunction `expr` applies (None: not one of ours)."""
    return _SLOPES.get(expr.function) if isinstance(expr, ElementwiseApplyFunction) else None


def _hidden_factors(name: str, A, Z, J) -> tuple[list, bool]:
    """∂A/∂Z of a hidden layer as Hadamard factors, and whether it is the generic slope f′(Z)."""
    entry = activation(name)
    if entry.coupled or entry.output_only:
        why = "coupled: its ∂A/∂Z is no Hadamard factor" if entry.coupled else "for the output layer only"
        raise NotSupported(f"matrix form: hidden activation {name!r} is {why}")
    if entry.matrix_factor is not None:
        return list(entry.matrix_factor(A, J)), False
    return [slope(name, Z)], True


def _mul(*args):
    return MatMul(*args, evaluate=False)


def _add(*args):
    return MatAdd(*args, evaluate=False)


def _neg(arg):
    return MatMul(sp.S.NegativeOne, arg, evaluate=False)


@dataclass(frozen=True)
class Step:
    """∂L/∂param by the chain rule: the factors' names (from L down) and the closed form."""

    param: str
    chain: tuple[str, ...]       # e.g. ("L", "Z2", "A1", "Z1", "W1")
    delta_form: sp.MatrixExpr    # in the named δ terms
    expr: sp.MatrixExpr          # δ terms substituted, as the notes write it


class MatrixDerivation:
    """The layer-wise matrix derivation of a net with `layers` sizes and batch size m (a symbol or an int)."""

    def __init__(self, layers, activations, loss, *, batch=None, average=True, notation=MATRIX):
        link = LOSSES[loss].link if loss in LOSSES else None
        if link is None or link != activations[-1]:
            raise NotSupported(f"matrix form: output {activations[-1]!r} with loss {loss!r} has no ∂L/∂Z = −(Y − A)")
        activation(activations[-1])          # the output is the loss's link: coupled only as softmax is
        self.layers, self.activations, self.loss = tuple(layers), tuple(activations), loss
        self.notation, self.average = notation, average
        nt = notation
        self.m = sp.Symbol(nt.batch, positive=True, integer=True) if batch is None else sp.Integer(batch)
        m, L = self.m, len(layers) - 1
        self.X = MatrixSymbol(nt.input, m, layers[0])
        self.Y = MatrixSymbol(nt.target, m, layers[-1])
        self.ones = MatrixSymbol(nt.ones, m, 1)
        self.W = {l: MatrixSymbol(nt.weight.format(l=l), layers[l - 1], layers[l]) for l in range(1, L + 1)}
        self.b = {l: MatrixSymbol(nt.bias.format(l=l), 1, layers[l]) for l in range(1, L + 1)}
        self.Z = {l: MatrixSymbol(nt.pre.format(l=l), m, layers[l]) for l in range(1, L + 1)}
        self.A = {0: self.X, **{l: MatrixSymbol(nt.act.format(l=l), m, layers[l]) for l in range(1, L + 1)}}
        self.D = {l: MatrixSymbol(nt.delta.format(l=l), m, layers[l]) for l in range(1, L + 1)}
        self.forward = {self.Z[l]: _add(_mul(self.A[l - 1], self.W[l]), _mul(self.ones, self.b[l]))
                        for l in range(1, L + 1)}
        self.slope_layers: dict[int, str] = {}    # hidden layers whose ∂A/∂Z is f′(Z_l): l -> activation
        self.deltas = self._deltas()
        self.steps = self._steps()

    @property
    def depth(self) -> int:
        return len(self.layers) - 1

    def _deltas(self) -> dict:
        """δ_L = −(Y − A_L); δ_{l} = δ_{l+1} W_{l+1}ᵀ ⊙ ∂A_l/∂Z_l, each in the next one's symbol."""
        L = self.depth
        deltas = {self.D[L]: _neg(_add(self.Y, _neg(self.A[L])))}
        for l in range(L - 1, 0, -1):
            J = OneMatrix(self.m, self.layers[l])
            back = _mul(self.D[l + 1], Transpose(self.W[l + 1]))
            factors, generic = _hidden_factors(self.activations[l - 1], self.A[l], self.Z[l], J)
            if generic:
                self.slope_layers[l] = self.activations[l - 1]
            deltas[self.D[l]] = HadamardProduct(back, *factors, evaluate=False) if factors else back
        return deltas

    def _steps(self) -> dict[str, Step]:
        scale = [1 / self.m] if self.average else []
        steps = {}
        for l in range(self.depth, 0, -1):
            path = [self.notation.loss] + [n for k in range(self.depth, l, -1)
                                           for n in (self.Z[k].name, self.A[k - 1].name)] + [self.Z[l].name]
            for param, left in ((self.W[l], Transpose(self.A[l - 1])), (self.b[l], Transpose(self.ones))):
                form = _mul(*scale, left, self.D[l])
                steps[param.name] = Step(param.name, (*path, param.name), form, self.nested(form))
        return steps

    def nested(self, expr):
        """An expression with every δ term replaced by its definition (the notes' one-line form)."""
        for symbol in sorted(self.deltas, key=lambda d: d.name):
            expr = expr.xreplace({symbol: self.deltas[symbol]})
        return expr

    def gradient(self, param: str) -> sp.MatrixExpr:
        return self.steps[param].expr

    # --- explicit matrices (for proofs) --------------------------------------------------------
    def explicit(self, param: str, values: dict) -> sp.Matrix:
        """∂L/∂param as an explicit matrix, given explicit matrices for X, Y, W, b and every A_l."""
        table = {self.ones: sp.ones(int(self.m), 1), **values}
        expr = self.steps[param].expr.xreplace(table)
        return sp.Matrix(expr.doit().as_explicit()) if hasattr(expr.doit(), "as_explicit") else sp.Matrix(expr.doit())

    def explicit_forward(self, l: int, values: dict) -> sp.Matrix:
        """Z_l = A_{l-1} W_l + 1 b_l as an explicit matrix."""
        expr = self.forward[self.Z[l]].xreplace({self.ones: sp.ones(int(self.m), 1), **values})
        return sp.Matrix(expr.doit().as_explicit())

    # --- NumPy code -----------------------------------------------------------------------------
    def numpy_source(self) -> str:
        """def step(X, Y, W1, b1, …, lr): forward, δ terms, gradients and in-place update; returns Z_L, A_L.

        Generated from the same expressions as the derivation. Activations call `_act_<name>` and
        elementwise slopes f′ `_slope_<name>` (stable forms supplied by the caller's namespace, e.g.
        derive.numeric.fit's, built from the registry); b_l are rows (1, n_l)."""
        params = [p for l in range(1, self.depth + 1) for p in (self.W[l].name, self.b[l].name)]
        body = []
        for l in range(1, self.depth + 1):
            body.append(f"{self.Z[l].name} = {self._gen(self.forward[self.Z[l]])}")
            body.append(f"{self.A[l].name} = _act_{self.activations[l - 1]}({self.Z[l].name})")
        for symbol, definition in self.deltas.items():
            body.append(f"{symbol.name} = {self._gen(definition)}")
        for name, step in self.steps.items():
            body.append(f"_g_{name} = {self._gen(step.delta_form)}")
        body.append("if lr != 1:")
        body += [f"    _g_{name} *= lr" for name in params]
        body += [f"{name} -= _g_{name}" for name in params]
        body.append(f"return {self.Z[self.depth].name}, {self.A[self.depth].name}")
        args = ", ".join([self.X.name, self.Y.name, *params, "lr"])
        m = self.notation.batch
        return (f"def step({args}):\n    {m} = {self.X.name}.shape[0]\n"
                + "\n".join("    " + line for line in body) + "\n")


    def _gen(self, expr) -> str:
        """NumPy code for one expression, the ones column renamed to the name the code printer knows."""
        return _code(expr.xreplace({self.ones: MatrixSymbol(MATRIX.ones, self.m, 1)}))

    def numpy_gradients_source(self) -> str:
        """def gradients(X, Y, W1, b1, …): the forward pass, δ terms and [∂L/∂W1, ∂L/∂b1, …] (no update),
        from the same expressions as `numpy_source` (what check-code compares a data-set spec with)."""
        params = [p for l in range(1, self.depth + 1) for p in (self.W[l].name, self.b[l].name)]
        body = []
        for l in range(1, self.depth + 1):
            body.append(f"{self.Z[l].name} = {self._gen(self.forward[self.Z[l]])}")
            body.append(f"{self.A[l].name} = _act_{self.activations[l - 1]}({self.Z[l].name})")
        body += [f"{symbol.name} = {self._gen(definition)}" for symbol, definition in self.deltas.items()]
        body += [f"_g_{name} = {self._gen(step.delta_form)}" for name, step in self.steps.items()]
        body.append(f"return [{', '.join(f'_g_{name}' for name in params)}]")
        args = ", ".join([self.X.name, self.Y.name, *params])
        return (f"def gradients({args}):\n    {self.notation.batch} = {self.X.name}.shape[0]\n"
                + "\n".join("    " + line for line in body) + "\n")

    def numpy_forward_source(self) -> str:
        """def forward(X, W1, b1, …): the pre-activation Z_L of the output layer (for predictions)."""
        params = [p for l in range(1, self.depth + 1) for p in (self.W[l].name, self.b[l].name)]
        body = []
        for l in range(1, self.depth + 1):
            body.append(f"{self.Z[l].name} = {self._gen(self.forward[self.Z[l]])}")
            if l < self.depth:
                body.append(f"{self.A[l].name} = _act_{self.activations[l - 1]}({self.Z[l].name})")
        body.append(f"return {self.Z[self.depth].name}")
        return f"def forward({', '.join([self.X.name, *params])}):\n" + "\n".join("    " + b for b in body) + "\n"


def _rest(expr):
    """−1 · M → M (the rest of a negated product)."""
    rest = expr.args[1:]
    return rest[0] if len(rest) == 1 else MatMul(*rest, evaluate=False)



def _code(expr) -> str:
    """NumPy source for our matrix expressions: @, .T, *, sums over the batch for 1ᵀ·, broadcasting for 1·b."""
    if isinstance(expr, MatrixSymbol):
        return expr.name
    if isinstance(expr, OneMatrix):
        return "1"
    if isinstance(expr, Transpose):
        return f"{_code(expr.arg)}.T"
    if isinstance(expr, HadamardProduct):
        return " * ".join(f"({_code(a)})" if isinstance(a, MatAdd) else _code(a) for a in expr.args)
    if isinstance(expr, ElementwiseApplyFunction):
        name = slope_activation(expr)
        if name is None:
            raise NotSupported(f"no NumPy form for the elementwise function {expr.function}")
        return f"_slope_{name}({_code(expr.expr)})"
    if isinstance(expr, MatAdd):
        parts = [_code(expr.args[0])]
        for arg in expr.args[1:]:
            negative = isinstance(arg, MatMul) and arg.args[0] == -1
            parts.append(f"- {_paren(_rest(arg))}" if negative else f"+ {_code(arg)}")
        return " ".join(parts)
    if isinstance(expr, MatMul):
        return _matmul_code(list(expr.args))
    raise NotSupported(f"no NumPy form for {type(expr).__name__}")


def _matmul_code(args) -> str:
    if args[0] == -1:
        return f"-{_paren(args[1])}" if len(args) == 2 else f"-({_matmul_code(args[1:])})"
    if not args[0].is_Matrix:                       # (1/m) · M: divide at the end, as the notes do
        return f"{_matmul_code(args[1:])} / {sp.pycode(1 / args[0])}"
    first, rest = args[0], args[1:]
    if isinstance(first, Transpose) and first.arg.name == MATRIX.ones:   # 1ᵀ M: column sums
        return f"{_paren(_matmul_code(rest) if len(rest) > 1 else rest[0])}.sum(axis=0, keepdims=True)"
    if isinstance(first, MatrixSymbol) and first.name == MATRIX.ones:    # 1 b: b broadcast over rows
        return _matmul_code(rest) if len(rest) > 1 else _code(rest[0])
    return " @ ".join(_paren(a) for a in args)


def _paren(expr) -> str:
    code = expr if isinstance(expr, str) else _code(expr)
    simple = isinstance(expr, (MatrixSymbol, Transpose)) or (isinstance(expr, str) and code.isidentifier())
    return code if simple else f"({code})"
