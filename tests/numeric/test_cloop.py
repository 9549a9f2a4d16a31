"""The C backend (extra `compiled`): the same runs as the NumPy/Python default, to float64's tolerance
after -ffast-math's reassociation and libmvec's exp (a few ulps); its cache; its one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

import derive
from derive.cli import main
from derive.errors import NotSupported
from derive.extras import MissingExtra
from derive.numeric import cloop
from derive.numeric.sweep import sweep, train_copies

HAVE_COMPILER = any(shutil.which(c) for c in ("cc", "gcc"))
needs_c = pytest.mark.skipif(not HAVE_COMPILER, reason="no C compiler on the PATH (apt-get install gcc)")
RTOL = 1e6 * np.finfo(np.float64).eps          # ~2e-10: thousands of epochs of last-bit differences


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory, monkeypatch):
    """One cache folder for this module's tests (the user's ~/.cache is left alone)."""
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "derive-c-cache"))


def _cffi():
    return pytest.importorskip("cffi", reason="the extra `compiled` is not installed: pip install -e '.[compiled]'")


NETS = [   # layers, activations, loss, bias
    ([2, 2, 2], ["sigmoid", "sigmoid"], "half_sse", "shared"),
    ([2, 3, 2], ["tanh", "sigmoid"], "bce", "per_neuron"),
    ([2, 3, 3], ["relu", "softmax"], "cross_entropy", "per_neuron"),
    ([3, 2, 1], ["leaky_relu", "identity"], "mse", "per_neuron"),
    ([2, 2, 2, 1], ["softplus", "tanh", "sigmoid"], "half_sse", "none"),
]


def _net(layers, acts, loss, bias, seed=0):
    rng = np.random.default_rng(seed)
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    n_b = {"none": 0, "shared": len(layers) - 1, "per_neuron": sum(layers[1:])}[bias]
    targets = rng.uniform(0.1, 0.9, layers[-1])
    if loss == "cross_entropy":
        targets = targets / targets.sum()
    return derive.network(layers, acts, inputs=rng.uniform(-1, 1, layers[0]).tolist(), targets=targets.tolist(),
                          weights=rng.uniform(-1, 1, n_w).tolist(), biases=rng.uniform(-0.5, 0.5, n_b).tolist(),
                          loss=loss, bias=bias)


@needs_c
@pytest.mark.parametrize("layers, acts, loss, bias", NETS, ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else v)
def test_c_sweep_equals_the_numpy_default(layers, acts, loss, bias):
    _cffi()
    net = _net(layers, acts, loss, bias)
    a = sweep(net, copies=37, seed=5, epochs=400, stop_below=1e-3)
    b = sweep(net, copies=37, seed=5, epochs=400, stop_below=1e-3, backend="c")
    assert b.stopped_at_epoch.tolist() == a.stopped_at_epoch.tolist()
    np.testing.assert_allclose(b.loss, a.loss, rtol=RTOL, atol=1e-14)
    for name in a.params:
        np.testing.assert_allclose(b.params[name], a.params[name], rtol=RTOL, atol=1e-14, err_msg=name)
    np.testing.assert_allclose(b.outputs, a.outputs, rtol=RTOL, atol=1e-14)


@needs_c
@pytest.mark.parametrize("name, kw", [("mazur_2_2_2", {}), ("seven_1_1", {"stop_below": 1e-7}),
                                      ("seven_2_2_2", {"stop_below": 1e-7})])
def test_c_single_run_equals_the_python_loop(examples, name, kw):
    _cffi()
    python = derive.load(examples / f"{name}.toml").train(**kw)
    c = derive.load(examples / f"{name}.toml").train(backend="c", **kw)
    assert (c.stopped_at_epoch, c.epochs_run) == (python.stopped_at_epoch, python.epochs_run)
    assert c.params == pytest.approx(python.params, rel=RTOL, abs=1e-14)
    assert c.losses == pytest.approx(python.losses, rel=RTOL, abs=1e-14)


@needs_c
def test_c_mazur_reaches_the_notes_outputs(examples):
    _cffi()
    r = derive.load(examples / "mazur_2_2_2.toml").train(epochs=10_000, lr=0.5, backend="c")
    assert [f"{o:.9f}" for o in r.outputs] == ["0.015913620", "0.984064274"]     # file 000, after 10,000


@needs_c
def test_c_extreme_preactivations_stay_finite():
    _cffi()
    net = derive.network([1, 2], ["sigmoid"], inputs=[1.0], targets=[0.2, 0.8], weights=[1e4, -1e4], biases=[0.0, 0.0])
    a, b = net.train(epochs=5, lr=0.1, stop_below=0.0), net.train(epochs=5, lr=0.1, stop_below=0.0, backend="c")
    assert all(np.isfinite([b.loss, *b.params.values(), *b.outputs]))
    assert b.params == pytest.approx(a.params, rel=RTOL)


@needs_c
def test_a_built_loop_is_cached_on_disk(monkeypatch):
    _cffi()
    source = cloop.loop_source_c(_net(*NETS[1], seed=9).program, _net(*NETS[1], seed=9).trained)
    first = cloop.build(source)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or pytest.fail("compiled again"))
    assert cloop.build(source) == first and calls == []
    assert first.parent == cloop.cache_dir() and first.stat().st_size > 0


@needs_c
def test_a_loop_the_compiler_rejects_is_one_line():
    _cffi()
    with pytest.raises(NotSupported, match="could not build the training loop") as caught:
        cloop.build("this is not C;\n")
    assert "\n" not in str(caught.value)


def test_missing_cffi_is_one_line_naming_the_extra(examples, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "cffi", None)
    cloop._loaded.cache_clear()
    assert main(["train", str(examples / "seven_3_2.toml"), "--backend", "c"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install" in err and "compiled" in err


def test_missing_compiler_is_one_line_naming_it(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CC", raising=False)
    with pytest.raises(MissingExtra, match="C compiler.*gcc") as caught:
        cloop.compiler()
    assert "\n" not in str(caught.value)


def test_c_backend_refuses_data_and_float32(examples):
    net = derive.load(examples / "mazur_2_2_2.toml")
    with pytest.raises(NotSupported, match="c backend"):
        train_copies(net, {}, [0.5], epochs=3, dtype="float32", backend="c")
    with pytest.raises(derive.DeriveError, match="backend"):
        net.train(epochs=3, dtype="float32", backend="c")


@needs_c
def test_loading_the_library_leaves_subnormals_alone():
    """-ffast-math at link time would add crtfastmath.o: flush-to-zero for the whole process on loading."""
    _cffi()
    derive.network([1, 1], ["sigmoid"], inputs=[1.0], targets=[0.5], weights=[0.3], biases=[0.1]).train(
        epochs=3, lr=0.1, backend="c")
    tiny = np.array([1e-310])
    assert (tiny * np.array([1.0]))[0] == 1e-310 and np.nextafter(0.0, 1.0) > 0
