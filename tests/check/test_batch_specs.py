"""Batch specs: values.inputs / values.targets as rows, the loss the mean (or sum) of the samples' losses.

Expected gradients are tests/reference.py's per-sample gradients (plain floats, no derive), averaged
or summed here."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import derive
import reference
from derive.core.limits import MAX_SAMPLES
from derive.core.spec import spec_from_dict
from derive.errors import NotSupported, SpecError, UserCodeError

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
BATCH = derive.load(EXAMPLES / "batches" / "batch_2_3_2.toml")


def reference_batch(spec, reduction):
    per = [reference.gradients(list(spec.layers), list(spec.activations), spec.loss, list(spec.weights),
                               list(spec.biases), spec.bias, list(x), list(t)) for x, t in spec.samples]
    gw = np.array([p[2] for p in per]).sum(axis=0)
    gb = np.array([p[3] for p in per]).sum(axis=0)
    k = 1 / len(per) if reduction == "mean" else 1.0
    return {**{f"w{i + 1}": k * g for i, g in enumerate(gw)}, **{f"b{i + 1}": k * g for i, g in enumerate(gb)}}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_batch_gradients_are_the_reduction_of_the_samples(reduction):
    net = derive.Network(dataclasses.replace(BATCH.spec, reduction=reduction))
    want = reference_batch(net.spec, reduction)
    got = net.gradients()
    assert set(got) == set(want)
    for name in want:
        assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-15)


def sig(z):
    return 1 / (1 + np.exp(-z))


def batch_backprop(W, b, X, T, hidden=lambda H: H * (1 - H)):
    H = sig(X @ W[0].T + b[0])
    O = sig(H @ W[1].T + b[1])
    d2 = (O - T) * O * (1 - O) / len(X)
    d1 = d2 @ W[1] * hidden(H)
    return [d1.T @ X, d2.T @ H], [d1.sum(0), d2.sum(0)]


def test_matrix_form_gets_the_batch_as_rows_and_agrees():
    seen = {}

    def spy(W, b, X, T):
        seen["X"], seen["T"] = X, T
        return batch_backprop(W, b, X, T)
    assert derive.check_gradients(BATCH, spy, form="matrices", points=3).agree
    assert seen["X"].shape == (3, 2) and seen["T"].shape == (3, 2)


def test_batch_mistakes_are_named():
    def summed(W, b, X, T):
        dW, db = batch_backprop(W, b, X, T)
        return [3 * g for g in dW], [3 * g for g in db]
    report = derive.check_gradients(BATCH, summed, form="matrices", points=2)
    assert [(m.mistake.name, m.where) for m in report.mistakes] == [("batch-reduction", "summed, m = 3")]
    report = derive.check_gradients(BATCH, lambda W, b, X, T: batch_backprop(W, b, X, T, hidden=lambda H: H),
                                    form="matrices", points=2)
    assert [(m.mistake.name, m.where) for m in report.mistakes] == [("activation-in-backward", "hidden layer 1")]
    with pytest.raises(UserCodeError, match=r"expected shape \(2,\), got shape \(3, 2\).*bias-not-summed"):
        derive.check_gradients(BATCH, lambda W, b, X, T: (batch_backprop(W, b, X, T)[0],
                                                          [np.zeros(3), np.zeros((3, 2))]), form="matrices")


def test_dict_form_on_a_batch():
    want = reference_batch(BATCH.spec, "mean")
    assert derive.check_gradients(BATCH, lambda params: want).agree


BASE = {"network": {"layers": [1, 1], "activations": ["sigmoid"]},
        "values": {"inputs": [[0.1], [0.2]], "targets": [[0.0], [1.0]], "weights": [0.5], "biases": [0.1]}}


def spec_with(**values):
    return spec_from_dict({**BASE, "values": {**BASE["values"], **values}})


def test_batch_spec_validation():
    assert len(spec_with().samples) == 2 and spec_with().reduction == "mean"
    with pytest.raises(SpecError, match=r"values.targets: expected 2 rows of 1 numbers"):
        spec_with(targets=[[0.0]])
    with pytest.raises(SpecError, match=r"values.inputs\[1\]"):
        spec_with(inputs=[[0.1], [0.2, 0.3]])
    with pytest.raises(SpecError, match="values.reduction"):
        spec_with(reduction="median")
    with pytest.raises(SpecError, match="values.reduction: expected several samples"):
        spec_with(inputs=[0.1], targets=[0.0], reduction="sum")


def test_one_sample_values_say_so_and_the_commands_take_the_batch():
    with pytest.raises(NotSupported, match="several samples"):
        BATCH.values()
    assert len(BATCH.sample_evaluations) == 3
    done = subprocess.run([sys.executable, "-m", "derive", "gradients", str(EXAMPLES / "batches" / "batch_2_3_2.toml")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "a batch of 3 samples" in done.stdout and "Traceback" not in done.stderr


def test_a_mistake_together_with_the_batch_summed_is_named():
    """σ for σ′ in the hidden layer and the batch summed where its mean belongs: neither alone explains it."""
    def both(W, b, X, T):
        dW, db = batch_backprop(W, b, X, T, hidden=lambda H: H)
        return [3 * g for g in dW], [3 * g for g in db]
    report = derive.check_gradients(BATCH, both, form="matrices", points=2)
    assert [(m.mistake.name, m.where, m.also.mistake.name, m.also.where) for m in report.mistakes] == \
        [("activation-in-backward", "hidden layer 1", "batch-reduction", "summed, m = 3")]


def test_a_batch_has_at_most_max_samples_rows():
    rows = MAX_SAMPLES + 1
    with pytest.raises(SpecError, match=rf"values.inputs: expected at most {MAX_SAMPLES} \(a data-set spec"):
        spec_with(inputs=[[0.1]] * rows, targets=[[0.0]] * rows)
    assert len(spec_with(inputs=[[0.1]] * MAX_SAMPLES, targets=[[0.0]] * MAX_SAMPLES).samples) == MAX_SAMPLES
