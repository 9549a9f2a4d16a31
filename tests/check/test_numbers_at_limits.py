"""Numbers at the limits through every stage (issue 14): each ends in a DeriveError of one line or a
result, never a Python exception, a RuntimeWarning or a pass against an infinite gradient."""

from __future__ import annotations

import io
import warnings

import pytest

import derive
from derive.errors import DeriveError, Diverged, NotSupported, SpecError
from derive.numeric.sweep import sweep
from derive.numeric.train import check_finite


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_identity_output_with_bce_trains_to_a_clear_line():
    # was ValueError: math domain error from the generated loop (log of an output above 1)
    net = derive.network([3, 1], ["identity"], inputs=[1.755, -0.717, 1.806], targets=[1.0],
                         weights=[-1.76, 0.903, 1.645], biases=[0.91], loss="bce", learning_rate=-0.069)
    with pytest.raises(Diverged, match="training diverged"):
        net.train(epochs=3, out=io.StringIO())


def test_gradients_at_1e308_are_a_spec_error():
    # was OverflowError: (34, 'Numerical result out of range') from the generated evaluation code
    net = derive.network([2, 3], ["identity"], inputs=[2.0, 3.0], targets=[27.0, -30.0, 1e-300],
                         weights=[3.0, 4.0, 5.0, 6.0, 7.0, 8.0], biases=[1.0, 2.0, -1e308])
    with pytest.raises(SpecError, match="values: expected numbers whose forward pass, loss and gradients"):
        net.gradients()


def test_check_gradients_never_passes_against_an_infinite_derived_gradient():
    net = derive.network([3, 2], ["identity"], inputs=[2.0, 3.0, 4.0], targets=[-1.58, -0.65],
                         weights=[0, -0.7, 0.68, 6.0, 1e308, -1.85], biases=[1.5, -0.8])
    with pytest.raises(DeriveError):
        derive.check_gradients(net, lambda p: {k: 1e308 for k in net.trained}, points=0)


@pytest.mark.parametrize("dtype, x", [("float64", 1e200), ("float32", 1e30)])
def test_check_numeric_past_the_dtype_is_one_line(dtype, x):
    # float32: was RuntimeWarnings (overflow in cast, invalid value) and NaN in the report; (x·1e10)²/2 overflows
    net = derive.network([1, 1], ["identity"], inputs=[x], targets=[0.0], weights=[1e10], biases=[0.0])
    with pytest.raises(SpecError, match=f"stay finite in {dtype}"):
        derive.check_numeric(net, dtype=dtype)


def test_check_numeric_relu_rows_are_python_bools():
    # was a NumPy bool in the row (check --numeric --json on a ReLU net: TypeError)
    net = derive.network([2, 2, 1], ["relu", "sigmoid"], inputs=[0.5, -0.2], targets=[1.0],
                         weights=[0.3, -0.4, 0.2, 0.5, 0.6, -0.1], biases=[0.1, 0.1, 0.0])
    report = derive.check_numeric(net)
    assert all(type(row.ok) is bool for row in report.rows)


def test_hand_value_whose_exact_value_is_not_real():
    # was TypeError: cannot create mpf from zoo (bce with a target outside [0, 1])
    net = derive.network([1, 1], ["softmax"], inputs=[2.0], targets=[10.0], weights=[3.0], biases=[1.0],
                         loss="bce", hand={"b1+": "1.03"})
    with pytest.raises(NotSupported, match="not a finite real number"):
        net.check_hand()


def test_hand_value_against_an_exact_value_far_past_any_exponent():
    # was decimal.InvalidOperation: an exact value near 1e-3e306 (a weight of 1.8e308 in a softmax)
    net = derive.network([3, 3], ["softmax"], inputs=[0.0, 2.9, 4.0], targets=[1.0, 0.0, 0.0],
                         weights=[1.0, -0.0, 0.0, 0.0, -0.9, 1.7976931348623157e308, 1.92, 1.04, 1.0],
                         biases=[0.0, 0.0, 0.0], loss="cross_entropy", hand={"out_o1": "0.01821127"})
    assert net.check_hand().verdicts() == {"out_o1": "mismatch"}


def test_sweep_limits():
    net = derive.network([1, 1], ["sigmoid"], inputs=[1.0], targets=[0.5], weights=[0.3], biases=[0.0])
    with pytest.raises(SpecError, match="--scale"):
        _sweep(net, 1e308, 3)
    with pytest.raises(SpecError, match="--copies: expected at most"):
        _sweep(net, 1.0, 10**9)


def _sweep(net, scale, copies):
    return sweep(net, copies=copies, scale=scale, epochs=3)


def test_train_float32_with_a_value_float32_cannot_hold():
    # was RuntimeWarning: overflow encountered in cast, then a run on inf
    net = derive.network([1, 1], ["sigmoid"], inputs=[1e39], targets=[0.5], weights=[0.3], biases=[0.0])
    with pytest.raises(SpecError, match="numbers that float32 can hold"):
        net.train(epochs=2, dtype="float32")


def test_train_float32_that_overflows_warns_nothing():
    net = derive.network([1, 1], ["identity"], inputs=[1e18], targets=[0.0], weights=[1e18], biases=[0.0])
    with pytest.raises(Diverged, match="float32"):   # (1e18)² is past float32 before any update: said at the start
        check_finite(net.train(epochs=3, dtype="float32", lr=1.0))


def test_a_test_split_that_leaves_no_training_sample():
    # fuzz case c04527 (seed 0): test_size 0.9999999999999999 made scikit-learn's ValueError escape
    from derive.core.fitspec import fit_spec_from_dict
    from derive.numeric.fit import run_fit
    spec = fit_spec_from_dict({"network": {"layers": [10, 1], "activations": ["identity"], "loss": "half_sse"},
                               "data": {"dataset": "diabetes", "test_size": 0.9999999999999999}})
    with pytest.raises(SpecError, match="data.test_size: expected a fraction that leaves samples"):
        run_fit(spec, epochs=1)
