"""Matrix-form backprop (file 001): derivation, proof against the scalar core, LaTeX, generated NumPy code;
softmax with cross-entropy as the notes derive it; file 001's softmax numbers and file 002's examples."""

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

import derive
from derive.core.matrix import MatrixDerivation
from derive.core.primitives import ACTIVATIONS
from derive.render.latex.matrix import matrix_latex
from derive.core.matrix_proof import prove_matrix_form, softmax_cross_entropy_steps, softmax_general

import reference


# --- proof: matrix form = the scalar chain rule summed over samples ------------------------------

@pytest.mark.parametrize("m", [2, 3])
def test_matrix_form_equals_scalar_derivation_on_2_2_1(m):
    proof = prove_matrix_form((2, 2, 1), ("sigmoid", "sigmoid"), "bce", m)
    assert proof.holds, proof.failures
    assert proof.checked == 2 * m + m + 9        # Z1 and Z2 entries, then 6 weights and 3 biases


@pytest.mark.parametrize("layers, activations, loss", [
    ((2, 3, 3), ("sigmoid", "softmax"), "cross_entropy"),     # uses y1 + y2 + y3 = 1
    ((2, 2, 2, 1), ("tanh", "sigmoid", "sigmoid"), "bce"),     # deeper, another hidden activation
    ((1, 1), ("identity",), "half_sse"),                       # the linear neuron of file 001
])
def test_matrix_form_equals_scalar_derivation_other_nets(layers, activations, loss):
    assert prove_matrix_form(layers, activations, loss, 2)


@pytest.mark.slow
def test_matrix_form_equals_scalar_derivation_expanded_in_the_leaves():
    proof = prove_matrix_form((2, 2, 1), ("sigmoid", "sigmoid"), "bce", 2, expanded=True)
    assert proof.holds and proof.method.startswith("expanded")


def test_proof_fails_without_the_sigmoid_derivative(monkeypatch):
    no_factor = dataclasses.replace(ACTIVATIONS["sigmoid"], matrix_factor=lambda A, J: [])   # ∂A/∂Z forgotten
    monkeypatch.setitem(ACTIVATIONS, "sigmoid", no_factor)
    wrong = MatrixDerivation((2, 2, 1), ("sigmoid", "sigmoid"), "bce", batch=2)
    proof = prove_matrix_form((2, 2, 1), ("sigmoid", "sigmoid"), "bce", 2, derivation=wrong)
    assert not proof.holds
    assert all("W1" in f or "b1" in f for f in proof.failures) and len(proof.failures) == 6


def test_proof_fails_when_the_average_is_missing():
    summed = MatrixDerivation((2, 2, 1), ("sigmoid", "sigmoid"), "bce", batch=2, average=False)
    assert not prove_matrix_form((2, 2, 1), ("sigmoid", "sigmoid"), "bce", 2, derivation=summed)


# --- the notes' formulas, as the notes write them ------------------------------------------------

def test_gradients_as_the_notes_write_them_in_latex():
    md = MatrixDerivation((30, 10, 1), ("sigmoid", "sigmoid"), "bce")
    dW2, db2 = matrix_latex(md.gradient("W2")), matrix_latex(md.gradient("b2"))
    dW1, db1 = matrix_latex(md.gradient("W1")), matrix_latex(md.gradient("b1"))
    err = r"-\left(Y - A_{2}\right)"
    hidden = err + r" W_{2}^{T} \odot A_{1} \odot \left(1 - A_{1}\right)"
    assert dW2 == r"\frac{1}{m} A_{1}^{T} \left(" + err + r"\right)"
    assert db2 == r"\frac{1}{m} \mathbf{1}^{T} \left(" + err + r"\right)"
    assert dW1 == r"\frac{1}{m} X^{T} \left(" + hidden + r"\right)"
    assert db1 == r"\frac{1}{m} \mathbf{1}^{T} \left(" + hidden + r"\right)"
    assert md.steps["W1"].chain == ("L", "Z2", "A1", "Z1", "W1")
    latex = md.latex()
    assert latex.count(r"\\") == 3 and r"\frac{\partial L}{\partial W_{1}}" in latex


def test_forward_latex_and_shapes():
    md = MatrixDerivation((4, 3, 2), ("sigmoid", "softmax"), "cross_entropy")
    assert r"Z_{1} &= X W_{1} + \mathbf{1} b_{1}" in md.forward_latex()
    assert md.gradient("W1").shape == (4, 3) and md.gradient("b2").shape == (1, 2)


def test_unsupported_output_pair_is_refused():
    with pytest.raises(derive.NotSupported):
        MatrixDerivation((2, 1), ("sigmoid",), "half_sse")


# --- the generated NumPy code against the independent scalar reference ---------------------------

@pytest.mark.parametrize("layers, activations, loss, average", [
    ((3, 4, 1), ("sigmoid", "sigmoid"), "bce", True),
    ((3, 4, 3), ("tanh", "softmax"), "cross_entropy", False),
    ((2, 3, 2, 1), ("sigmoid", "identity", "sigmoid"), "bce", True),
    ((2, 1), ("identity",), "half_sse", True),
])
def test_generated_step_is_one_gradient_step_on_the_batch(layers, activations, loss, average):
    rng = np.random.default_rng(1)
    md = MatrixDerivation(layers, activations, loss, average=average)
    namespace = {"_act_sigmoid": lambda z: 1 / (1 + np.exp(-z)), "_act_tanh": np.tanh,
                 "_act_identity": lambda z: z,
                 "_act_softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)}
    exec(md.numpy_source(), namespace)
    m = 5
    X = rng.normal(size=(m, layers[0]))
    Y = np.eye(layers[-1])[rng.integers(0, layers[-1], m)] if layers[-1] > 1 else rng.integers(0, 2, (m, 1)) * 1.0
    weights = list(rng.normal(size=sum(a * b for a, b in zip(layers, layers[1:]))))
    biases = list(rng.normal(size=sum(layers[1:])))
    mats, w_at, b_at = [], 0, 0
    for a, b in zip(layers, layers[1:]):   # canonical numbering: by destination j, then source i
        mats.append(np.array([[weights[w_at + j * a + i] for j in range(b)] for i in range(a)]))
        mats.append(np.array([biases[b_at:b_at + b]]))
        w_at, b_at = w_at + a * b, b_at + b
    before = [M.copy() for M in mats]
    namespace["step"](X, Y, *mats, 0.1)
    gw, gb = np.zeros(len(weights)), np.zeros(len(biases))
    for x, t in zip(X, Y):
        _, _, w_grad, b_grad = reference.gradients(layers, activations, loss, weights, biases, "per_neuron",
                                                   list(x), list(t))
        gw += w_grad
        gb += b_grad
    if average:
        gw, gb = gw / m, gb / m
    w_new, b_new = [], []
    for l in range(len(layers) - 1):
        w_new += [mats[2 * l][i, j] for j in range(layers[l + 1]) for i in range(layers[l])]
        b_new += list(mats[2 * l + 1][0])
    w_old = [before[2 * l][i, j] for l in range(len(layers) - 1) for j in range(layers[l + 1]) for i in range(layers[l])]
    np.testing.assert_allclose(w_new, np.array(w_old) - 0.1 * gw, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b_new, np.array(biases) - 0.1 * gb, rtol=1e-12, atol=1e-14)


def test_file002_three_layer_forward_pass_in_matrix_form():
    md = MatrixDerivation((2, 3, 2, 2), ("sigmoid", "sigmoid", "identity"), "half_sse")
    namespace = {"_act_sigmoid": lambda z: 1 / (1 + np.exp(-z)), "_act_identity": lambda z: z}
    exec(md.numpy_forward_source(), namespace)
    W1, b1 = np.array([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]]), np.array([[0.1, 0.2, 0.3]])
    W2, b2 = np.array([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]), np.array([[0.1, 0.2]])
    W3, b3 = np.array([[0.1, 0.3], [0.2, 0.4]]), np.array([[0.1, 0.2]])
    y = namespace["forward"](np.array([[1.0, 0.5]]), W1, b1, W2, b2, W3, b3)
    np.testing.assert_allclose(y[0], [0.31682708, 0.69627909], atol=5e-9)     # printed to 8 decimals


# --- softmax with cross-entropy: ∂L/∂z1 = −(y1 − a1), as file 001 derives it ---------------------

def test_softmax_cross_entropy_steps_for_three_classes():
    steps = softmax_cross_entropy_steps(3)
    assert all(s.verified for s in steps), [s.label for s in steps if not s.verified]
    a1, a2, a3, y1 = sp.symbols("a1 a2 a3 y1", positive=True)
    by_label = {s.label: s.expr for s in steps}
    assert sp.simplify(by_label["da2/dz1"] - (-sp.Symbol("a2", positive=True) * sp.Symbol("a1", positive=True))) == 0
    final = steps[-1]
    assert "y1 + … + y3 = 1" in final.label
    assert str(final.expr) == "a1 - y1"


@pytest.mark.parametrize("K", [2, 4, 6])
def test_softmax_cross_entropy_for_k_classes(K):
    steps = softmax_cross_entropy_steps(K, i=2)
    assert all(s.verified for s in steps)
    assert str(steps[-1].expr) == "a2 - y2"


def test_softmax_cross_entropy_for_symbolic_k():
    expected, holds = softmax_general()
    assert holds and "Sum(y[k], (k, 1, K))" in str(expected)


@pytest.mark.parametrize("probabilities, z_printed, softmax_printed, exact_rounded", [
    ((0.9, 0.8, 0.7), ("2.20", "1.39", "0.85"), ("0.59", "0.26", "0.15"), ("0.59", "0.26", "0.15")),
    # the notes' 0.74 comes from the rounded z: the exact softmax is 0.7347 → 0.73 (a propagated value)
    ((0.5, 0.2, 0.1), ("0.0", "-1.39", "-2.20"), ("0.74", "0.18", "0.08"), ("0.73", "0.18", "0.08")),
])
def test_file001_softmax_hand_values(probabilities, z_printed, softmax_printed, exact_rounded):
    z = [-math.log(1 / p - 1) for p in probabilities]          # the notes' z = −ln(1/p − 1)
    assert [float(f"{v:.{len(s.split('.')[1])}f}") for v, s in zip(z, z_printed)] == [float(s) for s in z_printed]

    def softmax_by_derive(inputs):
        net = derive.network([3, 3], ["softmax"], loss="cross_entropy", inputs=inputs, targets=[0, 0, 1],
                             weights=[1, 0, 0, 0, 1, 0, 0, 0, 1], bias="none")
        return [f"{o:.2f}" for o in net.evaluation.outputs]

    assert softmax_by_derive([float(s) for s in z_printed]) == list(softmax_printed)
    assert softmax_by_derive(z) == list(exact_rounded)


# --- file 002 -----------------------------------------------------------------------------------

def test_file002_and_perceptron():
    net = derive.network([2, 1], ["identity"], inputs=[0, 0], targets=[0], weights=[0.5, 0.5], biases=[-0.7])
    for x1 in (0, 1):
        for x2 in (0, 1):
            leaves = dict(net.graph.leaf_values(), i1=float(x1), i2=float(x2))
            tmp = net.program.evaluate(leaves).outputs[0]
            assert (1 if tmp > 0 else 0) == (x1 and x2)


def test_file002_softmax_spec(examples):
    outputs = derive.load(examples / "file002_softmax.toml").evaluation.outputs
    np.testing.assert_allclose(outputs, [0.01821127, 0.24519181, 0.73659691], atol=5e-9)


@pytest.mark.latex
def test_matrix_latex_compiles(tmp_path):
    import shutil
    import subprocess
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    md = MatrixDerivation((30, 10, 1), ("sigmoid", "sigmoid"), "bce")
    deep = MatrixDerivation((4, 5, 3, 2), ("tanh", "sigmoid", "softmax"), "cross_entropy")
    body = "".join(f"\\[{block}\\]\n" for block in (md.forward_latex(), md.latex(), deep.latex()))
    (tmp_path / "m.tex").write_text("\\documentclass{article}\\usepackage{amsmath,amssymb}\n"
                                    f"\\begin{{document}}\n{body}\\end{{document}}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "m.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
