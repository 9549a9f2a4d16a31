"""The matrix path reads the registry (derive.core.primitives): hidden leaky_relu, softplus and relu in the
matrix form (file 001's), differentiated elementwise by f′(Z_l) where the entry has no closed form in A.

Expected values come from elsewhere: the core's scalar chain rule (prove_matrix_form), backprop and
finite differences written out here in plain NumPy, the notes' LaTeX conventions, and pdflatex."""

import dataclasses
import json
import tomllib

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

import derive
import derive.core.matrix as matrix_module
from derive.cli import main
from derive.core.fitspec import HIDDEN_ACTIVATIONS, OUTPUT_PAIRS, fit_spec_from_dict
from derive.core.matrix import MatrixDerivation
from derive.core.matrix_proof import prove_matrix_form
from derive.core.primitives import ACTIVATIONS
from derive.errors import DeriveError, SpecError
from derive.numeric.fit import _sample_losses, compiled, run_fit
from derive.render.latex.matrix import fit_tex, matrix_latex, small_proof
from pdflatex import assert_compiles, needs_pdflatex


# --- the proof: matrix form = the scalar chain rule, for the new hidden activations ------------------

@pytest.mark.parametrize("layers, activations, loss", [
    ((2, 2, 1), ("leaky_relu", "sigmoid"), "bce"),
    ((2, 2, 1), ("softplus", "sigmoid"), "bce"),
    ((2, 2, 1), ("relu", "sigmoid"), "bce"),
    ((2, 3, 3), ("softplus", "softmax"), "cross_entropy"),           # uses y1 + y2 + y3 = 1
    ((2, 2, 2, 1), ("leaky_relu", "softplus", "sigmoid"), "bce"),   # two slope layers, one kinked
    ((1, 2, 1), ("leaky_relu", "identity"), "half_sse"),
])
def test_matrix_form_equals_scalar_derivation_with_slope_layers(layers, activations, loss):
    proof = prove_matrix_form(layers, activations, loss, 2)
    assert proof.holds, proof.failures
    n_params = sum(a * b + b for a, b in zip(layers, layers[1:]))
    assert proof.checked == 2 * sum(layers[1:]) + n_params          # Z_l entries for m = 2, then every parameter
    assert "kink split by sign" in proof.method


def test_proof_catches_a_derivative_that_disagrees_with_the_rule(monkeypatch):
    """leaky_relu's registry derivative with slope 0.1 below zero while its rule has 0.01: the scalar side
    (the derivative) and the matrix side (f′ of the rule) disagree in ∂L/∂W1, ∂L/∂b1 only."""
    wrong = dataclasses.replace(ACTIVATIONS["leaky_relu"],
                                derivative=lambda out, net: sp.Rational(1, 10) + sp.Rational(9, 10) * sp.Heaviside(net, 0))
    monkeypatch.setitem(ACTIVATIONS, "leaky_relu", wrong)
    proof = prove_matrix_form((2, 2, 1), ("leaky_relu", "sigmoid"), "bce", 2)
    assert not proof.holds
    assert all("W1" in f or "b1" in f for f in proof.failures) and len(proof.failures) == 6


def test_proof_checks_the_kink_itself(monkeypatch):
    """relu′ as SymPy's plain diff(Max(0, z)) = Heaviside(z) is 1/2 at z = 0, where the registry's derivative
    (and the slope kernel) is 0: the proof's net = 0 case finds it."""
    z = sp.Symbol("z", real=True)
    half_at_zero = sp.Lambda(z, sp.diff(sp.Max(0, z), z))
    assert half_at_zero(0) == sp.Rational(1, 2)
    monkeypatch.setattr(matrix_module, "slope", lambda name, Z: ElementwiseApplyFunction(half_at_zero, Z))
    wrong = MatrixDerivation((2, 2, 1), ("relu", "sigmoid"), "bce", batch=2)
    proof = prove_matrix_form((2, 2, 1), ("relu", "sigmoid"), "bce", 2, derivation=wrong)
    assert not proof.holds and len(proof.failures) == 6


def test_proof_fails_without_the_softplus_slope(monkeypatch):
    monkeypatch.setitem(ACTIVATIONS, "softplus",
                        dataclasses.replace(ACTIVATIONS["softplus"], matrix_factor=lambda A, J: []))
    wrong = MatrixDerivation((2, 2, 1), ("softplus", "sigmoid"), "bce", batch=2)
    assert not prove_matrix_form((2, 2, 1), ("softplus", "sigmoid"), "bce", 2, derivation=wrong)


# --- the derivation: registry tables, refusals, LaTeX --------------------------------------------------

def test_closed_forms_stay_and_slopes_are_elementwise_apply_functions():
    md = MatrixDerivation((3, 4, 2, 1), ("softplus", "tanh", "sigmoid"), "bce")
    assert md.slope_layers == {1: "softplus"}
    slopes = md.deltas[md.D[1]].atoms(ElementwiseApplyFunction)
    assert len(slopes) == 1 and next(iter(slopes)).expr == md.Z[1]
    assert not md.deltas[md.D[2]].atoms(ElementwiseApplyFunction)         # tanh: 1 − A2 ⊙ A2, in A


def test_slope_evaluates_explicitly():
    md = MatrixDerivation((1, 2, 1), ("leaky_relu", "sigmoid"), "bce", batch=1)
    (slope,) = md.deltas[md.D[1]].atoms(ElementwiseApplyFunction)
    explicit = slope.xreplace({md.Z[1]: sp.Matrix([[3, -5]])}).doit()
    assert explicit == sp.Matrix([[1, sp.Rational(1, 100)]])


@pytest.mark.parametrize("activations, loss, why", [
    (("softmax", "sigmoid"), "bce", "'softmax' is coupled"),
    (("relu", "sigmoid"), "mse", "no ∂L/∂Z = −(Y − A)"),          # mse has no link
    (("relu", "tanh"), "bce", "no ∂L/∂Z = −(Y − A)"),             # bce's link is sigmoid
    (("relu", "softmax"), "bce", "no ∂L/∂Z = −(Y − A)"),
])
def test_refused(activations, loss, why):
    with pytest.raises(derive.NotSupported, match=why.replace("(", r"\(").replace(")", r"\)")):
        MatrixDerivation((2, 2, 2), activations, loss)


def test_fitspec_tables_from_the_registry():
    assert OUTPUT_PAIRS == {("identity", "half_sse"), ("sigmoid", "bce"), ("softmax", "cross_entropy")}
    assert set(HIDDEN_ACTIVATIONS) == {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus"}


def test_latex_writes_the_slope_with_a_prime():
    md = MatrixDerivation((30, 10, 1), ("relu", "sigmoid"), "bce")
    assert matrix_latex(md.gradient("W1")) == (r"\frac{1}{m} X^{T} \left(-\left(Y - A_{2}\right) W_{2}^{T} \odot "
                                               r"\operatorname{relu}'\left(Z_{1}\right)\right)")
    deep = MatrixDerivation((3, 4, 2, 1), ("softplus", "leaky_relu", "sigmoid"), "bce")
    assert r"\odot \operatorname{softplus}'\left(Z_{1}\right)" in matrix_latex(deep.gradient("b1"))
    assert r"\odot \operatorname{leaky\,relu}'\left(Z_{2}\right)" in matrix_latex(deep.gradient("W2"))
    assert r"A_{1} &= \operatorname{softplus}\left(Z_{1}\right)" in deep.forward_latex()


# --- the generated step against backprop and finite differences written out in NumPy -------------------

HAND = {   # f and f′, written out here (not the registry's kernels)
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
    "softplus": (lambda z: np.log1p(np.exp(z)), lambda z: 1 / (1 + np.exp(-z))),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
}


def _hand_forward(params, hidden, output, X):
    A, cache = X, []
    for l, W, b in zip(range(len(params) // 2), params[::2], params[1::2]):
        Z = A @ W + b
        cache.append((A, Z))
        if l < len(hidden):
            A = HAND[hidden[l]][0](Z)
        elif output == "sigmoid":
            A = 1 / (1 + np.exp(-Z))
        else:
            A = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    return A, cache


def _hand_loss(params, hidden, output, X, Y, average):
    A, _ = _hand_forward(params, hidden, output, X)
    per_sample = (-(Y * np.log(A) + (1 - Y) * np.log(1 - A)) if output == "sigmoid" else -Y * np.log(A)).sum(axis=1)
    return per_sample.mean() if average else per_sample.sum()


def _hand_backprop(params, hidden, output, X, Y, average):
    A, cache = _hand_forward(params, hidden, output, X)
    delta = (A - Y) / (len(X) if average else 1)
    grads = []
    for l in range(len(cache) - 1, -1, -1):
        A_prev, _ = cache[l]
        grads = [A_prev.T @ delta, delta.sum(axis=0, keepdims=True)] + grads
        if l:
            delta = (delta @ params[2 * l].T) * HAND[hidden[l - 1]][1](cache[l - 1][1])
    return grads


@pytest.mark.parametrize("layers, hidden, output, loss, average", [
    ((3, 4, 2, 1), ("leaky_relu", "softplus"), "sigmoid", "bce", True),
    ((3, 5, 1), ("softplus",), "sigmoid", "bce", False),
    ((4, 3, 3), ("leaky_relu",), "softmax", "cross_entropy", True),
    ((3, 4, 3, 1), ("relu", "tanh"), "sigmoid", "bce", True),
])
def test_generated_step_gradients(layers, hidden, output, loss, average):
    rng = np.random.default_rng(3)
    m = 6
    X = rng.normal(size=(m, layers[0]))
    Y = (np.eye(layers[-1])[rng.integers(0, layers[-1], m)] if layers[-1] > 1
         else rng.integers(0, 2, (m, 1)).astype(float))
    params = []
    for a, b in zip(layers, layers[1:]):
        params += [rng.normal(size=(a, b)), rng.normal(size=(1, b))]
    step, _, _ = compiled(layers, (*hidden, output), loss, average)
    updated = [p.copy() for p in params]
    lr = 0.5
    step(X, Y, *updated, lr)
    got = [(before - after) / lr for before, after in zip(params, updated)]

    for g, want in zip(got, _hand_backprop(params, hidden, output, X, Y, average)):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-14)
    h = 1e-6                                     # central differences of the loss itself
    for k, P in enumerate(params):
        numeric = np.zeros_like(P)
        for index in np.ndindex(P.shape):
            up, down = [p.copy() for p in params], [p.copy() for p in params]
            up[k][index] += h
            down[k][index] -= h
            numeric[index] = (_hand_loss(up, hidden, output, X, Y, average)
                              - _hand_loss(down, hidden, output, X, Y, average)) / (2 * h)
        np.testing.assert_allclose(got[k], numeric, rtol=1e-6, atol=1e-8)


def test_generated_step_calls_the_slope_kernels():
    _, _, md = compiled((3, 4, 1), ("softplus", "sigmoid"), "bce", True)
    source = md.numpy_source()
    assert "dZ1 = dZ2 @ W2.T * _slope_softplus(Z1)" in source and "A1 = _act_softplus(Z1)" in source


def test_unknown_loss_is_an_error_not_half_sse():
    Z = A = Y = np.zeros((2, 1))
    with pytest.raises(DeriveError, match="bxe"):
        _sample_losses(Z, A, Y, "bxe")


def test_stable_losses_match_the_written_out_ones():
    Z = np.array([[-3.0, 0.5, 2.0], [1.0, -1.0, 0.25]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(_sample_losses(Z, s, Y, "bce"), (-(Y * np.log(s) + (1 - Y) * np.log(1 - s))).sum(axis=1),
                               rtol=1e-13)
    soft = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(_sample_losses(Z, soft, Y, "cross_entropy"), (-Y * np.log(soft)).sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(_sample_losses(Z, s, Y, "half_sse"), 0.5 * ((Y - s) ** 2).sum(axis=1), rtol=1e-15)
    clipped = np.clip(soft, 0.3, 0.7)
    np.testing.assert_allclose(_sample_losses(Z, soft, Y, "cross_entropy", 0.3), (-Y * np.log(clipped)).sum(axis=1),
                               rtol=1e-15)


# --- derive fit and derive notes on fit specs with the new hidden activations --------------------------

def _spec_text(hidden: str, epochs: int = 15) -> str:
    return (f'title = "breast cancer, {hidden} hidden layer"\n'
            f'[network]\nlayers = [30, 6, 1]\nactivations = ["{hidden}", "sigmoid"]\nloss = "bce"\n'
            '[data]\ndataset = "breast_cancer"\ntest_size = 0.2\nrandom_state = 0\nscale = "standard"\n'
            '[init]\nweights = "normal"\nseed = 0\nstd = 0.1\n'
            f'[fit]\nepochs = {epochs}\nlearning_rate = 0.5\nreport_loss = "mean"\n')


@pytest.mark.parametrize("hidden", ["softplus", "leaky_relu"])
def test_fit_command_trains_with_the_new_hidden_activations(tmp_path, capsys, hidden):
    pytest.importorskip("sklearn", reason="needs the data extra: pip install -e '.[data]'")
    path = tmp_path / f"{hidden}.toml"
    path.write_text(_spec_text(hidden))
    assert main(["fit", str(path), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    losses = run["losses"]
    assert len(losses) == 15 and all(np.isfinite(losses))
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.5 * losses[0]
    assert run["accuracy"] > 0.85


def test_fit_spec_with_relu_hidden_trains_like_written_out_numpy():
    """One full-batch epoch of a relu hidden layer: derive against the update written out here."""
    pytest.importorskip("sklearn", reason="needs the data extra: pip install -e '.[data]'")
    spec = fit_spec_from_dict({"network": {"layers": [30, 4, 1], "activations": ["relu", "sigmoid"], "loss": "bce"},
                               "data": {"dataset": "breast_cancer", "scale": "standard"},
                               "init": {"weights": "normal", "seed": 1, "std": 0.3}, "fit": {"epochs": 2}})
    result = run_fit(spec)
    rng = np.random.RandomState(1)
    W1, W2 = rng.normal(0, 0.3, (30, 4)), rng.normal(0, 0.3, (4, 1))
    b1, b2 = np.zeros((1, 4)), np.zeros((1, 1))
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    raw = sklearn_datasets.load_breast_cancer()
    X = (raw.data - raw.data.mean(axis=0)) / raw.data.std(axis=0)
    y = raw.target.reshape(-1, 1).astype(float)
    for _ in range(2):
        H = np.maximum(X @ W1 + b1, 0)
        a = 1 / (1 + np.exp(-(H @ W2 + b2)))
        d2 = (a - y) / len(X)
        d1 = d2 @ W2.T * (X @ W1 + b1 > 0)
        W2, b2, W1, b1 = W2 - H.T @ d2, b2 - d2.sum(axis=0), W1 - X.T @ d1, b1 - d1.sum(axis=0)
    np.testing.assert_allclose(result.params["W1"], W1, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(result.params["W2"], W2, rtol=1e-10, atol=1e-13)


def test_notes_for_a_softplus_fit_spec():
    spec = fit_spec_from_dict(tomllib.loads(_spec_text("softplus")))
    small_proof.cache_clear()
    text = fit_tex(spec)
    assert r"A_{1} &= \operatorname{softplus}\left(Z_{1}\right)" in text
    assert r"W_{2}^{T} \odot \operatorname{softplus}'\left(Z_{1}\right)" in text
    assert "These 4 formulas are proved equal to the scalar chain rule" in text and "NOT" not in text


def test_bad_hidden_activation_still_one_clear_error():
    with pytest.raises(SpecError) as err:
        fit_spec_from_dict({"network": {"layers": [30, 3, 1], "activations": ["softmax", "sigmoid"], "loss": "bce"},
                            "data": {"dataset": "breast_cancer"}}, source="x.toml")
    assert err.value.key == "network.activations[0]"


@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("hidden", ["softplus", "leaky_relu"])
def test_notes_for_the_new_hidden_activations_compile(tmp_path, hidden):
    path = tmp_path / f"{hidden}.toml"
    path.write_text(_spec_text(hidden))
    out = tmp_path / f"{hidden}.tex"
    assert main(["notes", str(path), "-o", str(out)]) == 0
    text = out.read_text()
    assert "'\\left(Z_{1}\\right)" in text and "proved equal to the scalar chain rule" in text
    assert_compiles(out)
