"""File 001's matrix form in LaTeX (derive.render.latex.matrix): golden strings from the notes, the printer being
the scalar derivations' one, and `derive notes` for fit specs, compiled by pdflatex (marked `latex`)."""

import dataclasses
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main
from derive.core.primitives import ACTIVATIONS
from derive.render.latex import DerivePrinter, NAME_RULES
from derive.render.latex.matrix import MatrixPrinter, chain_latex, fit_tex, small_proof
from derive.core.fitspec import load_fit_spec
from derive.core.matrix import MATRIX, MatrixDerivation
from derive.render.latex.matrix import matrix_latex
from pdflatex import assert_compiles, needs_pdflatex

ROOT = Path(__file__).resolve().parents[2]
FIT_EXAMPLES = sorted((ROOT / "worked_examples").glob("file001_*.toml"))


def same_tex(ours: str, notes: str) -> bool:
    """Equal up to what only changes the look: \\boldsymbol (the notes' bold matrices), \\left/\\right, spaces."""
    def norm(text):
        text = re.sub(r"\\boldsymbol\{(\\?\w+)\}", r"\1", text)
        return re.sub(r"\\left|\\right|\s+", "", text)
    return norm(ours) == norm(notes)


# --- golden strings: the notes' own LaTeX (../shared/notes/001_*, the b2 and b1 slides) -----------------

# the b2 slide: ∂L/∂b2 = ∂L/∂Z2 ∂Z2/∂b2 = 1ᵀ(−(Y − A2))
NOTES_B2_CHAIN = r"\frac{\partial \boldsymbol{L}}{\partial \boldsymbol{Z}_{2}} \frac{\partial \boldsymbol{Z}_{2}}{\partial \boldsymbol{b}_{2}}"
NOTES_B2 = r"\mathbf{1}^{T} (-(\boldsymbol{Y} - \boldsymbol{A}_{2}))"
# the b1 slide: ∂L/∂b1 = ∂L/∂Z2 ∂Z2/∂A1 ∂A1/∂Z1 ∂Z1/∂b1 = 1ᵀ(−(Y − A2)W2ᵀ ⊙ A1 ⊙ (1 − A1))
NOTES_B1_CHAIN = (r"\frac{\partial \boldsymbol{L}}{\partial \boldsymbol{Z}_{2}} \frac{\partial \boldsymbol{Z}_{2}}"
                  r"{\partial \boldsymbol{A}_{1}} \frac{\partial \boldsymbol{A}_{1}}{\partial \boldsymbol{Z}_{1}} "
                  r"\frac{\partial \boldsymbol{Z}_{1}}{\partial \boldsymbol{b}_{1}}")
NOTES_B1 = (r"\mathbf{1}^{T} (-(\boldsymbol{Y} - \boldsymbol{A}_{2}) \boldsymbol{W}_{2}^{T} \boldsymbol{\odot} "
            r"\boldsymbol{A}_{1} \boldsymbol{\odot} (1 - \boldsymbol{A}_{1}))")
# the W2 and W1 slides are pictures in the OCR; their formulas as issue 6 quotes them
NOTES_W2 = r"A_{1}^{T} (-(Y - A_{2}))"
NOTES_W1 = r"X^{T} (-(Y - A_{2}) W_{2}^{T} \odot A_{1} \odot (1 - A_{1}))"
# the notes' code averages at the end: w2_grad = np.dot(self.a1.T, err) / m, b1_grad = np.sum(…) / m
AVERAGE = r"\frac{1}{m} "

GOLDEN = {"W2": NOTES_W2, "b2": NOTES_B2, "W1": NOTES_W1, "b1": NOTES_B1}


@pytest.fixture(scope="module")
def summed():
    return MatrixDerivation((30, 10, 1), ("sigmoid", "sigmoid"), "bce", average=False)


@pytest.fixture(scope="module")
def averaged():
    return MatrixDerivation((30, 10, 1), ("sigmoid", "sigmoid"), "bce")


@pytest.mark.parametrize("param", sorted(GOLDEN))
def test_gradient_as_the_slides_write_it(summed, param):
    assert same_tex(matrix_latex(summed.gradient(param)), GOLDEN[param])


@pytest.mark.parametrize("param", sorted(GOLDEN))
def test_gradient_averaged_as_the_code_does(averaged, param):
    assert same_tex(matrix_latex(averaged.gradient(param)), AVERAGE + GOLDEN[param])


@pytest.mark.parametrize("param, chain", [("b2", NOTES_B2_CHAIN), ("b1", NOTES_B1_CHAIN)])
def test_chain_as_the_slides_write_it(summed, param, chain):
    assert same_tex(chain_latex(summed, summed.steps[param]), chain)


def test_golden_comparison_can_fail(summed):
    """The normaliser keeps what matters: a missing minus or a swapped factor is a difference."""
    assert not same_tex(matrix_latex(summed.gradient("b2")), r"\mathbf{1}^{T} (Y - A_{2})")
    assert not same_tex(matrix_latex(summed.gradient("W1")), NOTES_B1)


# --- one renderer -------------------------------------------------------------------------------------

def test_printer_is_the_derive_printer_with_the_matrix_name_table():
    assert issubclass(MatrixPrinter, DerivePrinter)
    assert "matrix" in NAME_RULES
    printer = MatrixPrinter(MATRIX)
    md = MatrixDerivation((2, 3, 1), ("tanh", "sigmoid"), "bce")
    assert printer.doprint(md.Z[1]) == "Z_{1}" and printer.doprint(md.ones) == r"\mathbf{1}"
    assert printer.doprint(md.D[2]) == r"\delta_{2}"
    assert r"\left(1 - \left(A_{1} \odot A_{1}\right)\right)" in md.latex("W1")   # tanh: 1 − A1 ⊙ A1


def test_derivation_lines_and_forward(averaged):
    text = averaged.latex()
    assert text.count(r"\\") == 3
    assert (r"\frac{\partial L}{\partial W_{2}} &= \frac{\partial L}{\partial Z_{2}} \frac{\partial Z_{2}}"
            r"{\partial W_{2}} = \frac{1}{m} A_{1}^{T}") in text
    assert r"A_{2} &= \sigma\left(Z_{2}\right)" in averaged.forward_latex()


def test_core_imports_no_latex():
    code = ("import sys, derive, derive.core.matrix, derive.core.matrix_proof\n"
            "print([m for m in sys.modules if m.startswith('derive.render.latex')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


# --- derive notes for fit specs ------------------------------------------------------------------------

def test_notes_for_the_dual_layer(tmp_path, capsys):
    out = tmp_path / "dual.tex"
    assert main(["notes", str(ROOT / "worked_examples/file001_dual_layer.toml"), "-o", str(out)]) == 0
    text = out.read_text()
    assert r"breast\_cancer, all features; split by train\_test\_split (test\_size 0.2, random\_state 0)" in text
    assert "StandardScaler" in text and "1000 epochs of full-batch" in text
    assert r"Z_{1} &= X W_{1} + \mathbf{1} b_{1}" in text
    assert text.count(r"\subsection*{$\partial L / \partial") == 4
    assert r"&= \frac{1}{m} X^{T} \left(-\left(Y - A_{2}\right) W_{2}^{T} \odot A_{1}" in text
    assert "These 4 formulas are proved equal to the scalar chain rule" in text
    assert "on a 2-2-1 net" in text and "$m = 2$" in text
    # the update step and the run (issue 11): the notes print accuracy 0.956140350877193, loss 0.0688368213
    assert r"W_{1} &\leftarrow W_{1} - \eta\, \frac{\partial L}{\partial W_{1}}" in text
    assert r"$\eta = 1$" in text and "once an epoch" in text
    assert r"\text{accuracy} &= 0.956140" in text and r"&= 0.0688368" in text and "114 test samples" in text
    assert "accuracy agrees" in text and "loss agrees" in text
    if importlib.util.find_spec("matplotlib"):
        assert r"\includegraphics[width=0.8\linewidth]{dual-loss.png}" in text
        assert (tmp_path / "dual-loss.png").read_bytes().startswith(b"\x89PNG")


def test_notes_markdown_and_per_sample(tmp_path):
    out = tmp_path / "neuron.md"
    assert main(["notes", str(ROOT / "worked_examples/file001_neuron.toml"), "-o", str(out), "--no-run"]) == 0
    text = out.read_text()
    assert text.startswith("# ") and "$$\n\\begin{aligned}" in text and r"\begin{document}" not in text
    assert "so $m = 1$" in text and r"\frac{1}{m}" not in text
    assert "diabetes, feature column 2; no train/test split; no scaling" in text
    assert "A_{1} &= Z_{1}" in text                                  # identity: no empty function name
    assert "These 2 formulas are proved equal" in text
    assert "after every sample" in text and "The run" not in text and not list(tmp_path.glob("*.png"))


def test_notes_multiclass_has_softmax(tmp_path):
    text = fit_tex(load_fit_spec(ROOT / "worked_examples/file001_digits_multiclass.toml"))
    assert r"A_{2} &= \operatorname{softmax}\left(Z_{2}\right)" in text and "on a 2-2-2 net" in text


def test_a_failed_proof_is_reported_not_hidden(monkeypatch):
    no_factor = dataclasses.replace(ACTIVATIONS["sigmoid"], matrix_factor=lambda A, J: [])   # ∂A/∂Z forgotten
    monkeypatch.setitem(ACTIVATIONS, "sigmoid", no_factor)
    small_proof.cache_clear()
    try:
        text = fit_tex(load_fit_spec(ROOT / "worked_examples/file001_dual_layer.toml"))
    finally:
        small_proof.cache_clear()
    assert "NOT proved equal" in text and "proved equal to" not in text.replace("NOT proved equal", "")


def test_bad_fit_spec_is_one_line_exit_2(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text((ROOT / "worked_examples/file001_dual_layer.toml").read_text()
                    .replace('dataset = "breast_cancer"', 'dataset = "mnist"'))
    assert main(["notes", str(spec), "-o", str(tmp_path / "x.tex")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "data.dataset" in err and err.count("\n") == 1
    assert not (tmp_path / "x.tex").exists()


@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("spec", FIT_EXAMPLES, ids=[p.stem for p in FIT_EXAMPLES])
def test_every_fit_example_compiles(tmp_path, spec):
    """pdflatex compiles each file 001 example's notes with no error and nothing wider than the page."""
    out = tmp_path / f"{spec.stem}.tex"
    assert main(["notes", str(spec), "-o", str(out), "--no-run"]) == 0     # the run: test_notes_for_the_dual_layer
    assert_compiles(out)


@pytest.mark.latex
@needs_pdflatex
def test_notes_with_the_run_compile(tmp_path):
    """The document with the run's results and (with matplotlib) the loss curve compiles, figure found."""
    out = tmp_path / "dual.tex"
    assert main(["notes", str(ROOT / "worked_examples/file001_dual_layer.toml"), "-o", str(out)]) == 0
    assert_compiles(out)
