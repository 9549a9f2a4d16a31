"""File 001's matrix form in LaTeX, by the same renderer as the scalar derivations, and its notes document.

`MatrixPrinter` is a `DerivePrinter` for the "matrix" notation (names from `names.NAME_RULES`:
Z1 -> Z_{1}, ones -> \\mathbf{1}) that writes the notes' forms: −(Y − A2), A1 ⊙ (1 − A1), 1ᵀ, no
reordering. `derivation_latex`/`forward_latex` are what `MatrixDerivation.latex()` delegates to;
`fit_tex`/`fit_markdown` write `derive notes` for a fit spec: the data, the forward pass, the loss and
every ∂L/∂W_l, ∂L/∂b_l, with the proof that they equal the scalar chain rule.
"""

from __future__ import annotations

from functools import lru_cache

from sympy import HadamardProduct, MatAdd, MatMul

from derive.core.matrix import MATRIX, MatrixDerivation, slope_activation
from derive.core.matrix_proof import prove_matrix_form
from derive.core.primitives import ACTIVATIONS
from derive.render.latex.blocks import Equation, Figure, Heading, Row, Text
from derive.render.latex.document import render_markdown, render_tex
from derive.render.latex.names import latex_name
from derive.render.latex.printer import DerivePrinter, number

__all__ = ["MatrixPrinter", "matrix_latex", "derivation_latex", "forward_latex", "fit_blocks", "fit_tex",
           "fit_markdown", "small_proof"]


def _activation_tex(name: str) -> str:
    """An activation's operator as the notes set it: its registry entry's LaTeX, read when used ("" for
    identity, A = Z; there is no table of its own here)."""
    return ACTIVATIONS[name].latex


# one sample's loss ℓ_i in the notes' lower-case names (y, a: sample i's target and output rows)
SAMPLE_LOSS_TEX = {
    "half_sse": r"\frac{1}{2} \sum_{k} \left(y_{ik} - a_{ik}\right)^{2}",
    "bce": r"-\left(y_{i} \log a_{i} + \left(1 - y_{i}\right) \log \left(1 - a_{i}\right)\right)",
    "cross_entropy": r"-\sum_{k} y_{ik} \log a_{ik}",
}
LOSS_WORDS = {"half_sse": "half the squared error", "bce": "binary cross-entropy",
              "cross_entropy": "cross-entropy (softmax output)"}


def _negated(expr) -> bool:
    return isinstance(expr, MatMul) and expr.args[0] == -1


def _rest(expr):
    """−1 · M → M (the rest of a negated product)."""
    rest = expr.args[1:]
    return rest[0] if len(rest) == 1 else MatMul(*rest, evaluate=False)


class MatrixPrinter(DerivePrinter):
    """The derive printer for matrix expressions, in the notes' forms and the matrix notation's names."""

    def __init__(self, notation):
        super().__init__(preset=notation.name)
        self.nt = notation

    def _print_MatrixSymbol(self, expr):
        return self.nt.ones_latex if expr.name == self.nt.ones else latex_name(expr.name, self.preset)

    def _print_OneMatrix(self, expr):
        return "1"

    def _wrap(self, arg):
        s = self._print(arg)
        return rf"\left({s}\right)" if isinstance(arg, (MatAdd, HadamardProduct)) else s

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self._wrap(a) for a in expr.args)

    def _print_MatAdd(self, expr):
        out = self._print(expr.args[0])
        for arg in expr.args[1:]:
            out += f" - {self._wrap(_rest(arg))}" if _negated(arg) else f" + {self._print(arg)}"
        return out

    def _print_MatMul(self, expr):
        args = list(expr.args)
        if args[0] == -1:
            return "-" + (self._wrap(_rest(expr)) if len(args) == 2 else self._print(_rest(expr)))
        scalar = ""
        if not args[0].is_Matrix and (args[0].is_number or args[0].is_Symbol):
            scalar = self._print(args.pop(0)) + " "
        return scalar + " ".join(rf"\left({self._print(a)}\right)" if _negated(a) and (i or scalar) else self._wrap(a)
                                 for i, a in enumerate(args))

    def _print_ElementwiseApplyFunction(self, expr):
        """The elementwise slope f′(Z_l) as the activation's operator with a prime: relu′(Z1)."""
        name = slope_activation(expr)
        if name is None:
            return super()._print_ElementwiseApplyFunction(expr)
        return rf"{_activation_tex(name)}'\left({self._print(expr.expr)}\right)"

    def _print_Transpose(self, expr):
        return f"{self._wrap(expr.arg)}^{{T}}"


def matrix_latex(expr, notation=MATRIX) -> str:
    """LaTeX of a matrix expression in the notes' form."""
    return MatrixPrinter(notation).doprint(expr)


def _name(md, name: str) -> str:
    return latex_name(name, md.notation.name)


def _partial(md, num: str, den: str) -> str:
    return rf"\frac{{\partial {_name(md, num)}}}{{\partial {_name(md, den)}}}"


def chain_latex(md, step) -> str:
    """The chain of partials from L down to the parameter: ∂L/∂Z2 ∂Z2/∂A1 ∂A1/∂Z1 ∂Z1/∂W1."""
    return " ".join(_partial(md, a, b) for a, b in zip(step.chain, step.chain[1:]))


def derivation_latex(md, param: str | None = None) -> str:
    """One aligned line per parameter (or only `param`): ∂L/∂W = chain = closed form."""
    lines = [rf"{_partial(md, s.chain[0], s.param)} &= {chain_latex(md, s)} = {matrix_latex(s.expr, md.notation)}"
             for s in ([md.steps[param]] if param else md.steps.values())]
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def _forward_rows(md) -> list[tuple[str, str]]:
    rows = []
    for l in range(1, md.depth + 1):
        Z, A = md.Z[l], md.A[l]
        rows.append((matrix_latex(Z, md.notation), matrix_latex(md.forward[Z], md.notation)))
        act = _activation_tex(md.activations[l - 1])
        z = matrix_latex(Z, md.notation)
        rows.append((matrix_latex(A, md.notation), rf"{act}\left({z}\right)" if act else z))
    return rows


def forward_latex(md) -> str:
    """Z_l = A_{l-1} W_l + 1 b_l and A_l = act(Z_l), layer by layer, as one aligned block."""
    lines = [f"{lhs} &= {rhs}" for lhs, rhs in _forward_rows(md)]
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


# --- derive notes for a fit spec -------------------------------------------------------------------

@lru_cache(maxsize=16)
def small_proof(activations: tuple[str, ...], loss: str, average: bool, m: int):
    """The matrix form proved equal to the scalar chain rule on a small net of the same activations:
    two inputs, two units per hidden layer, one output (two for softmax), m samples."""
    layers = (2,) * len(activations) + ((2,) if ACTIVATIONS[activations[-1]].coupled else (1,))
    return layers, prove_matrix_form(layers, activations, loss, m, average=average)


def _data_text(spec) -> str:
    d = spec.data
    features = "all features" if d.features is None else f"feature column{'s' if len(d.features) > 1 else ''} {', '.join(map(str, d.features))}"
    split = (f"split by train\\_test\\_split (test\\_size {number(d.test_size, 6)}, random\\_state {d.random_state})"
             if d.test_size else "no train/test split")
    prep = [f"divided by {number(d.divide_by, 6)}"] if d.divide_by else []
    prep += ["standardised by StandardScaler fitted on the training part"] if d.scale == "standard" else []
    return (f"Data set: scikit-learn's {d.dataset.replace('_', chr(92) + '_')}, {features}; {split}; "
            + (", then ".join(prep) if prep else "no scaling") + ".")


def _training_text(spec) -> str:
    f, init = spec.fit, spec.init
    weights = (f"normal({number(init.mean)}, {number(init.std)}) after np.random.seed({init.seed})"
               if init.weights == "normal" else init.weights)
    per_sample = f.updates == "per_sample"
    activations = ", ".join(spec.activations).replace("_", "\\_")     # leaky\_relu: text, not math
    return (f"Network {'-'.join(map(str, spec.layers))}, activations {activations}, loss "
            f"{LOSS_WORDS[spec.loss]}; weights initialised to {weights}, biases to {init.biases}. "
            f"Training: {f.epochs} epoch{'' if f.epochs == 1 else 's'} of {'per-sample' if per_sample else 'full-batch'} gradient descent, "
            f"learning rate ${number(f.learning_rate, 6)}$"
            + ("; each update uses one sample, so $m = 1$ and $X$, $Y$ are single rows." if per_sample else
               f"; the $m$ training samples are the rows of $X$ and $Y$"
               + (", and the gradients are averaged over them." if f.average else ", gradients summed over them."))
            + f" The loss reported per epoch is the {f.report_loss} over the samples"
            + (f", with $a$ clipped to $[{number(f.loss_clip)}, 1 - {number(f.loss_clip)}]$ before the log."
               if f.loss_clip else "."))


def _loss_blocks(md, spec) -> list:
    L, out = _name(md, md.notation.loss), md.depth
    scale = r"\frac{1}{m} " if md.average else ""
    total = r"\ell_{i}" if spec.fit.updates == "per_sample" else rf"{scale}\sum_{{i=1}}^{{m}} \ell_{{i}}"
    rows = [Row(L, rf"= {total}, \qquad \ell_{{i}} = {SAMPLE_LOSS_TEX[spec.loss]}")]
    error = md.deltas[md.D[out]]
    dZ = MatMul(1 / md.m, error, evaluate=False) if md.average else error
    rows.append(Row(_partial(md, md.notation.loss, md.Z[out].name), f"= {matrix_latex(dZ, md.notation)}"))
    note = ("The output activation and the loss pair so that the derivative of the loss by the output "
            "layer's pre-activation is the error $-(Y - A)$ (file 001).")
    if md.average:
        note += (" The notes' slides write the sums over the batch; their code divides each gradient by $m$ "
                 "(w2\\_grad = np.dot(self.a1.T, err) / m), and so do the formulas here.")
    return [Heading("Loss", 1), Text(note), Equation(rows)]


def _gradient_blocks(md, proof: tuple) -> list:
    """Every ∂L/∂W_l, ∂L/∂b_l (chain, then closed form) and what SymPy proved: proof = (layers, result, m)."""
    out = [Heading("Gradients in matrix form", 1),
           Text("Each gradient by the chain rule from $L$ down to the parameter, then in closed form "
                r"($\odot$: elementwise product; $\mathbf{1}$: the column of $m$ ones).")]
    for step in md.steps.values():
        rows = [Row(_partial(md, step.chain[0], step.param), f"= {chain_latex(md, step)}"),
                Row("", f"= {matrix_latex(step.expr, md.notation)}")]
        out += [Heading(rf"$\partial {_name(md, step.chain[0])} / \partial {_name(md, step.param)}$", 2),
                Equation(rows)]
    layers, result, m = proof
    sizes = "-".join(map(str, layers))
    verdict = ("proved equal" if result.holds else "NOT proved equal (failures: " + ", ".join(result.failures) + ")")
    out += [Heading("Proof", 1),
            Text(f"These {len(md.steps)} formulas are {verdict} to the scalar chain rule (the core's "
                 f"per-weight derivation, {'averaged' if md.average else 'summed'} over the samples) by SymPy: "
                 f"on a {sizes} net with the same activations and loss and $m = {m}$ "
                 f"samples: {result.checked} matrix entries (forward and gradients), each a {result.method}. "
                 "The formulas hold for any layer sizes and batch size; the proof is run on a small net because "
                 "its cost grows with the number of entries.")]
    return out


def _update_blocks(md, spec) -> list:
    """W_l ← W_l − η ∂L/∂W_l for every parameter, with the spec's learning rate."""
    per_sample = spec.fit.updates == "per_sample"
    rows = [Row(_name(md, step.param), rf"\leftarrow {_name(md, step.param)} - \eta\, "
                                         rf"{_partial(md, step.chain[0], step.param)}") for step in md.steps.values()]
    when = "after every sample" if per_sample else "once an epoch, on the whole training set"
    return [Heading("One step of gradient descent", 1),
            Text(f"Every parameter moves against its gradient, {when}, with learning rate "
                 f"$\\eta = {number(spec.fit.learning_rate, 6)}$:"), Equation(rows)]


def _result_blocks(result, figure: str | None) -> list:
    """What the run gave: epochs, the final loss, the test accuracy, the notes' numbers checked, the curve."""
    spec, losses = result.spec, result.losses
    rows = [Row(r"\text{epochs}", f"= {result.epochs}"),
            Row(rf"L_{{\text{{epoch }} 1}}", f"= {number(losses[0], 6)}"),
            Row(rf"L_{{\text{{epoch }} {len(losses)}}}", f"= {number(losses[-1], 6)}")]
    if result.accuracy is not None:
        rows.append(Row(r"\text{accuracy}", rf"= {number(result.accuracy, 6)} \quad \text{{on the {result.n_test} "
                        rf"test samples ({result.n_train} trained on)}}"))
    out = [Heading("The run", 1), Text(f"Training as set above (the loss is the {spec.fit.report_loss} over the "
                                       "training samples, before each epoch's update):"), Equation(rows)]
    checked = [e for e in result.expectations]
    if checked:
        verdict = ", ".join(f"{e.name} {'agrees' if e.ok else 'DISAGREES'} ({e.printed} printed)" for e in checked)
        out.append(Text(f"The notes' numbers: {verdict.replace('_', chr(92) + '_')}."))
    if figure:
        out.append(Figure(rf"\includegraphics[width=0.8\linewidth]{{{figure}}}", "The loss per epoch.",
                          f"![the loss per epoch]({figure})"))
    return out


def fit_blocks(spec, result=None, figure: str | None = None) -> list:
    """The notes document for a fit spec: data and training, forward pass, loss, gradients, the update,
    proof, and (given a FitResult of derive.numeric.fit.run_fit) the run's results and loss curve."""
    per_sample = spec.fit.updates == "per_sample"
    average = spec.fit.average and not per_sample
    md = MatrixDerivation(spec.layers, spec.activations, spec.loss, average=average)
    m = 1 if per_sample else 2
    layers, proof = small_proof(tuple(spec.activations), spec.loss, average, m)
    forward = Equation([Row(lhs, f"= {rhs}") for lhs, rhs in _forward_rows(md)])
    return ([Heading("Data and training", 1), Text(_data_text(spec)), Text(_training_text(spec)),
             Heading("Forward pass in matrix form", 1),
             Text(r"Layer by layer, with $A_{0} = X$ and the bias row added to every sample's row:"), forward]
            + _loss_blocks(md, spec) + _gradient_blocks(md, (layers, proof, m)) + _update_blocks(md, spec)
            + (_result_blocks(result, figure) if result is not None else []))


def fit_tex(spec, result=None, figure: str | None = None) -> str:
    return render_tex(spec.title or "Backpropagation in matrix form", fit_blocks(spec, result, figure))


def fit_markdown(spec, result=None, figure: str | None = None) -> str:
    return render_markdown(spec.title or "Backpropagation in matrix form", fit_blocks(spec, result, figure))


# the core's MatrixDerivation is shown through this printer: hooks attached here, not imported upward
MatrixDerivation.latex = lambda self, param=None: derivation_latex(self, param)
MatrixDerivation.latex.__doc__ = "The derivation as LaTeX: one aligned line per parameter (or only `param`)."
MatrixDerivation.forward_latex = lambda self: forward_latex(self)
