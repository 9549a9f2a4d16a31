"""Every registry entry checked the same way (HIPS autograd's primitive checker): its closed-form local
derivative against sympy.diff of its rule, and every kernel (NumPy in both dtypes, complex, plain-float
template, numba template, in place, slope) against its rule at random points and at the extremes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from derive.check.numerical import COMPLEX_RUNTIME
from derive.core.primitives import ACTIVATIONS, LOSSES, Activation, PrimitiveError, activation, loss
from derive.errors import DeriveError
from derive.numeric.codegen import SCALAR_RUNTIME
from derive.numeric.numba_loop import NUMBA

ELEMENTWISE = [name for name, e in ACTIVATIONS.items() if not e.coupled]
RNG = np.random.default_rng(7)
POINTS = np.concatenate([RNG.uniform(-4, 4, 40), [-0.3, 0.25, 1.5, -2.0]])
POINTS = POINTS[np.abs(POINTS) > 1e-3]          # away from relu's kink
Z = sp.Symbol("z", real=True)


def exact(entry: Activation, x: float) -> float:
    return float(entry.rule(Z).subs(Z, sp.Float(x, 30)).evalf(30))


def exact_slope(entry: Activation, x: float) -> float:
    return float(sp.diff(entry.rule(Z), Z).subs(Z, sp.Float(x, 30)).evalf(30))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_local_derivative_is_the_derivative_of_the_rule(name):
    entry = activation(name)
    out, net = sp.Symbol("out", real=True), sp.Symbol("net", real=True)
    closed = entry.derivative(out, net).subs(out, entry.rule(net))      # written in out: substitute
    reference = sp.diff(entry.rule(net), net)
    for x in POINTS[:12]:
        a = float(closed.subs(net, sp.Float(x, 30)).evalf(30))
        b = float(reference.subs(net, sp.Float(x, 30)).evalf(30))
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), (name, x)


def test_softmax_local_is_the_jacobian():
    entry = activation("softmax")
    nets = sp.symbols("z1:4", real=True)
    outs = sp.symbols("a1:4", real=True)
    forward = entry.forward(nets)
    point = {z: sp.Rational(v, 10) for z, v in zip(nets, (3, -7, 12))}
    values = {a: f.subs(point) for a, f in zip(outs, forward)}
    for j in range(3):
        for i in range(3):
            closed = entry.local(outs, nets, j, i).subs(values)
            assert float(closed) == pytest.approx(float(sp.diff(forward[j], nets[i]).subs(point)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_array_kernel_equals_the_rule_and_keeps_the_dtype(name, dtype):
    entry = activation(name)
    x = POINTS.astype(dtype)
    got = entry.array(x.copy(), np)
    assert got.dtype == dtype
    want = np.array([exact(entry, float(v)) for v in x])
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_scalar_and_numba_templates_equal_the_rule(name):
    entry = activation(name)
    for template in {entry.scalar, NUMBA.activation(name)}:
        f = eval(compile(f"lambda x: {template.format(x='x')}", "<template>", "eval"), dict(SCALAR_RUNTIME))
        for v in POINTS:
            assert f(float(v)) == pytest.approx(exact(entry, float(v)), rel=1e-12, abs=1e-15), (name, template, v)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_slope_equals_the_derivative(name):
    entry = activation(name)
    got = entry.slope(POINTS.copy(), np)
    want = np.array([exact_slope(entry, float(v)) for v in POINTS])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if ACTIVATIONS[n].into is not None])
def test_in_place_kernel_equals_the_array_kernel(name):
    entry = activation(name)
    out = np.empty_like(POINTS)
    entry.into(POINTS, out, np)
    np.testing.assert_array_equal(out, entry.array(POINTS.copy(), np))


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if ACTIVATIONS[n].analytic])
def test_complex_kernel_gives_the_derivative_by_the_complex_step(name):
    entry = activation(name)
    f = COMPLEX_RUNTIME[f"_act_{name}"]
    h = 1e-30
    got = np.imag(f(POINTS + 1j * h)) / h
    want = np.array([exact_slope(entry, float(v)) for v in POINTS])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_kernels_stay_finite_and_silent_at_the_extremes(name, dtype):
    entry = activation(name)
    x = np.array([-1e4, -800.0, -90.0, 90.0, 800.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = entry.array(x.reshape(1, -1).copy() if entry.coupled else x.copy(), np)
        assert np.all(np.isfinite(got))
        if not entry.coupled:
            assert np.all(np.isfinite(entry.slope(x.copy(), np)))


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_local_is_the_derivative_of_its_rule(name):
    entry = loss(name)
    t, o = sp.symbols("t o", positive=True)
    for output_first in (False, True):
        closed = entry.local(t, o, 3, output_first)
        reference = sp.diff(entry.per_output(t, o, 3, output_first), o)
        assert sp.simplify(closed - reference) == 0


@pytest.mark.parametrize("name", [n for n, l in LOSSES.items() if l.samples is not None])
def test_loss_per_sample_kernel_equals_the_sum_of_its_terms(name):
    entry = loss(name)
    link = activation(entry.link or "identity")
    Zs = RNG.uniform(-3, 3, (5, 3))
    A = link.array(Zs.copy(), np)
    Y = RNG.uniform(0, 1, (5, 3))
    if link.name == "softmax":
        Y = Y / Y.sum(axis=1, keepdims=True)
    t, o = sp.symbols("t o")
    term = sp.lambdify((t, o), entry.per_output(t, o, 3, True), "math")
    want = [sum(term(Y[s, j], A[s, j]) for j in range(3)) for s in range(5)]
    np.testing.assert_allclose(entry.samples(Zs, A, Y, np), want, rtol=1e-12)
    if entry.clipped is not None:
        np.testing.assert_allclose(entry.clipped(A, Y, np, 1e-12), want, rtol=1e-9)


def test_an_unknown_or_incomplete_entry_is_a_clear_error(monkeypatch):
    with pytest.raises(PrimitiveError, match="no activation 'swish'.*known: identity"):
        activation("swish")
    half = Activation("half", rule=lambda z: z, derivative=None, array=lambda x, xp: x, scalar="{x}", latex="")
    monkeypatch.setitem(ACTIVATIONS, "half", half)
    with pytest.raises(PrimitiveError, match="'half' is incomplete: it needs derivative, slope"):
        activation("half")
    assert issubclass(PrimitiveError, DeriveError)     # the command line prints it as one line, exit 2


def test_every_entry_is_complete():
    for name in ACTIVATIONS:
        assert activation(name).name == name
    assert math.isclose(float(activation("leaky_relu").array(np.array([-2.0]), np)[0]), -0.02)
