"""Every command on a batch spec (values.inputs/targets as rows, values.reduction mean|sum).

Expected numbers are tests/reference.py's per-sample floats (no derive), reduced here by hand, and a
plain full-batch gradient-descent loop written here on top of them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import derive
import reference
from derive import strategies as ds
from derive.render.batch import batch_chain_text, batch_gradients_text
from derive.render.latex.batch import batch_steps
from pdflatex import assert_compiles, needs_pdflatex

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
BATCH = EXAMPLES / "batches" / "batch_2_3_2.toml"
LAYERS, ACTS = [2, 3, 2], ["sigmoid", "sigmoid"]
X = [[0.5, -0.2], [0.1, 0.9], [-0.7, 0.3]]
T = [[0.0, 1.0], [1.0, 0.0], [0.3, 0.6]]
W = [0.2, -0.4, 0.7, 0.1, -0.3, 0.5, 0.6, -0.2, 0.4, -0.5, 0.3, 0.8]
B = [0.1, -0.1, 0.2, 0.05, -0.15]
LR = 0.5


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True, text=True)


def per_sample(w=W, b=B):
    """[(E_s, outputs_s, {param: ∂E_s/∂param})] by the independent reference."""
    out = []
    for x, t in zip(X, T):
        e, o, gw, gb = reference.gradients(LAYERS, ACTS, "half_sse", list(w), list(b), "per_neuron", x, t)
        out.append((e, o, {**{f"w{i + 1}": g for i, g in enumerate(gw)}, **{f"b{i + 1}": g for i, g in enumerate(gb)}}))
    return out


def reduced(reduction="mean", w=W, b=B):
    """(batch loss, batch gradients) as the mean (or sum) of the reference's per-sample numbers."""
    rows = per_sample(w, b)
    k = 1 / len(rows) if reduction == "mean" else 1.0
    return k * sum(r[0] for r in rows), {p: k * sum(r[2][p] for r in rows) for p in rows[0][2]}


def spec_text(reduction="mean", hand="", extra=""):
    return (f'[network]\nlayers = {LAYERS}\nactivations = ["sigmoid", "sigmoid"]\nloss = "half_sse"\n'
            f'[values]\ninputs = {X}\ntargets = {T}\nweights = {W}\nbiases = {B}\nlearning_rate = {LR}\n'
            f'reduction = "{reduction}"\n{extra}' + (f"[hand]\n{hand}" if hand else ""))


@pytest.fixture
def spec(tmp_path):
    def write(reduction="mean", hand="", extra="", name="b.toml"):
        path = tmp_path / name
        path.write_text(spec_text(reduction, hand, extra))
        return path
    return write


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradients_json_is_the_reduction_of_the_samples(spec, reduction):
    done = run("gradients", spec(reduction), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    loss, grads = reduced(reduction)
    assert data["loss"] == pytest.approx(loss, rel=1e-12) and data["reduction"] == reduction
    for p, g in grads.items():
        assert data["gradients"][p] == pytest.approx(g, rel=1e-10, abs=1e-15)
        assert data["updated"][p] == pytest.approx((W + B)[int(p[1:]) - 1 + (len(W) if p[0] == "b" else 0)] - LR * g)
    for got, (e, o, g) in zip(data["samples"], per_sample()):
        assert got["loss"] == pytest.approx(e) and got["outputs"] == pytest.approx(o)
        assert got["gradients"]["w7"] == pytest.approx(g["w7"])


def test_gradients_text_shows_every_sample_and_the_batch():
    done = run("gradients", BATCH)
    assert done.returncode == 0, done.stderr
    loss, grads = reduced()
    assert f"E_total = 1/3 · (E_total[1] + E_total[2] + E_total[3]) = {loss:.9f}" in done.stdout
    assert "sample 3" in done.stdout and f"{per_sample()[2][0]:.9f}" in done.stdout
    assert f"{grads['w7']:.9f}" in done.stdout


def test_chain_writes_the_mean_of_the_samples_chain_rules():
    done = run("chain", BATCH, "w1")
    assert done.returncode == 0, done.stderr
    per = [r[2]["w1"] for r in per_sample()]
    assert "∂E_total/∂w1 = 1/3 · (∂E_total[1]/∂w1 + ∂E_total[2]/∂w1 + ∂E_total[3]/∂w1)" in done.stdout
    assert all(f"{abs(g):.9f}" in done.stdout for g in per)
    assert done.stdout.rstrip().endswith(f"= {sum(per) / 3:.9f}")
    data = json.loads(run("chain", BATCH, "w1", "--json").stdout)
    assert data["value"] == pytest.approx(sum(per) / 3) and data["samples"] == pytest.approx(per)
    assert data["reduction"] == "mean" and len(data["paths"]) == 2


def test_check_numeric_checks_the_batch_gradients(spec):
    for reduction in ("mean", "sum"):
        done = run("check", spec(reduction), "--numeric", "--json")
        assert done.returncode == 0, done.stdout
        data = json.loads(done.stdout)["numeric"]
        loss, grads = reduced(reduction)
        assert data["agree"] and data["loss"] == pytest.approx(loss)
        assert data["params"]["w3"]["complex_step"] == pytest.approx(grads["w3"], rel=1e-9)


def test_check_numeric_catches_a_wrong_batch_gradient():
    net = derive.load(BATCH)
    _, grads = reduced()
    one = per_sample()[0][2]     # sample 1's gradient, not the batch's: wrong
    assert derive.check_numeric(net, gradients=grads).ok
    assert derive.check_numeric(net, gradients=one).failures


def test_hand_values_on_a_batch_name_the_batch(spec):
    loss, grads = reduced()
    hand = (f'E_total = "{loss:.4f}"\n"dE_total/dw7" = "{grads["w7"]:.3f}"\n"w7+" = "{0.6 - LR * grads["w7"]:.3f}"\n'
            f'"dE_total/dw1" = "{grads["w1"] + 0.01:.4f}"\n')
    done = run("check", spec(hand=hand), "--json")
    assert done.returncode == 1
    verdicts = {c["name"]: c["verdict"] for c in json.loads(done.stdout)["checks"]}
    assert verdicts == {"E_total": "rounded", "dE_total/dw7": "rounded", "w7+": "rounded", "dE_total/dw1": "mismatch"}
    # an update redone from the printed (rounded) batch gradient is `propagated`
    hand = f'"dE_total/dw7" = "0.03"\n"w7+" = "{0.6 - LR * 0.03:.3f}"\n'
    checks = json.loads(run("check", spec(hand=hand), "--json").stdout)["checks"]
    assert checks[1]["verdict"] == "propagated" and checks[1]["propagated_from"] == {"dE_total/dw7": "0.03"}
    done = run("check", spec(hand='out_o1 = "0.6"\n'))
    assert done.returncode == 2 and "one value per sample" in done.stderr and len(done.stderr.splitlines()) == 1


def descend(epochs, lr=LR, reduction="mean", stop_below=None):
    """Full-batch gradient descent by hand: (params, loss of the last epoch, epochs run)."""
    w, b = list(W), list(B)
    for epoch in range(epochs):
        loss, g = reduced(reduction, w, b)
        w = [v - lr * g[f"w{i + 1}"] for i, v in enumerate(w)]
        b = [v - lr * g[f"b{i + 1}"] for i, v in enumerate(b)]
        if stop_below is not None and loss < stop_below:
            return w + b, loss, epoch + 1
    return w + b, loss, epochs


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_train_is_full_batch_gradient_descent(spec, reduction):
    done = run("train", spec(reduction), "--epochs", 40, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    params, loss, _ = descend(40, reduction=reduction)
    assert data["loss"] == pytest.approx(loss, rel=1e-10)
    assert list(data["params"].values()) == pytest.approx(params, rel=1e-9, abs=1e-12)
    assert len(data["outputs"]) == 3 and len(data["outputs"][0]) == 2


def test_train_stops_below_and_runs_in_float32():
    params, loss, run_for = descend(2000, stop_below=0.1)
    data = json.loads(run("train", BATCH, "--epochs", 2000, "--stop-below", 0.1, "--json").stdout)
    assert data["epochs_run"] == run_for and data["stopped_at_epoch"] == run_for - 1
    assert data["loss"] == pytest.approx(loss, rel=1e-9)
    f32 = json.loads(run("train", BATCH, "--epochs", 100, "--dtype", "float32", "--json").stdout)
    assert list(f32["params"].values()) == pytest.approx(descend(100)[0], abs=2e-5)
    done = run("train", BATCH, "--backend", "numba")
    assert done.returncode == 2 and "batch" in done.stderr and "Traceback" not in done.stderr


def test_sweep_trains_every_copy_on_the_batch():
    data = json.loads(run("sweep", BATCH, "--lr", "0.1,0.5", "--epochs", 30, "--json").stdout)
    for copy, lr in zip(data["copies"], (0.1, 0.5)):
        assert copy["loss"] == pytest.approx(descend(30, lr=lr)[1], rel=1e-9)


def test_latex_substitutes_each_samples_numbers():
    done = run("latex", BATCH, "w7", "--steps", "numbers,update", "--digits", "3")
    assert done.returncode == 0, done.stderr
    per = [r[2]["w7"] for r in per_sample()]
    text = done.stdout
    assert text.startswith("% dE_total/dw7\n\\begin{align*}") and r"\frac{1}{3}\sum_{s=1}^{3}" in text
    for s, g in enumerate(per, 1):   # each sample's row ends in its ∂E/∂w7, to 3 significant digits
        row = next(line for line in text.splitlines() if rf"\right|_{{s={s}}}" in line)
        assert float(re.findall(r"= (-?[0-9.]+) \\\\$", row)[-1]) == pytest.approx(g, rel=5e-3)
    _, grads = reduced()
    mean = re.search(r"= \\frac\{1\}\{3\}\\left\((.*)\\right\) = (-?[0-9.]+)", text)
    terms = [float(x.replace(" ", "")) for x in re.findall(r"-? ?[0-9.]+", mean.group(1).replace("- ", "-"))]
    assert terms == pytest.approx(per, rel=5e-3) and float(mean.group(2)) == pytest.approx(grads["w7"], rel=5e-3)
    new = re.search(r"0\.6 - 0\.5 \\times (-?[0-9.]+) = (-?[0-9.]+)", text)
    assert float(new.group(1)) == pytest.approx(grads["w7"], rel=5e-3)
    assert float(new.group(2)) == pytest.approx(0.6 - LR * grads["w7"], rel=1e-3)


def test_no_partial_output_before_an_error():
    done = run("latex", BATCH, "w99")
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1
    done = run("latex", BATCH, "--steps", "numbers,delta")
    assert done.returncode == 2 and done.stdout == "" and "one-sample steps" in done.stderr


def test_a_sample_that_overflows_is_named(spec):
    path = spec(extra="")
    path.write_text(path.read_text().replace("[0.3, 0.6]]", "[1e308, 0.6]]", 1))   # (t − o)²/2 overflows
    for command in (["gradients"], ["chain", "w1"], ["latex", "w1"], ["train"]):
        done = run(*command[:1], path, *command[1:])
        assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1, command
        assert "Traceback" not in done.stderr


@needs_pdflatex
def test_notes_on_a_batch_compile(tmp_path):
    out = tmp_path / "batch.tex"
    done = run("notes", BATCH, "-o", out, "--pdf")
    assert done.returncode == 0, done.stderr
    tex = out.read_text()
    loss, grads = reduced()
    assert "A batch of 3 samples" in tex and f"{loss:.3g}" in tex and f"{grads['w7']:.3g}" in tex
    assert (tmp_path / "batch.pdf").exists()
    assert_compiles(out)
    md = tmp_path / "batch.md"
    assert run("notes", BATCH, "-o", md).returncode == 0 and "| sample |" in md.read_text()


def test_notes_on_a_large_batch_use_one_row_per_sample(tmp_path):
    rows = 12
    rng = np.random.default_rng(0)
    xs, ts = rng.uniform(-1, 1, (rows, 2)).round(2).tolist(), rng.uniform(0, 1, (rows, 2)).round(2).tolist()
    path = tmp_path / "big.toml"
    path.write_text(spec_text().replace(str(X), str(xs)).replace(str(T), str(ts)))
    out = tmp_path / "big.tex"
    assert run("notes", path, "-o", out).returncode == 0
    tex = out.read_text()
    assert r"\right|_{s=12}" in tex and "sample 12" not in tex.split("Forward pass")[1].split("Every gradient")[0]
    chain = run("chain", path, "w1").stdout
    assert chain.count("\n") < 60 and "∂E_total[1]/∂w1 + … + ∂E_total[12]/∂w1" in chain


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds.networks(activations=["identity", "sigmoid", "tanh", "relu", "softmax"], samples=(2, 6), max_layers=4,
                   max_width=3))
def test_drawn_batches_reduce_the_reference_and_pass_the_numeric_check(net):
    """Any drawn batch net: its gradients are the reduction of the reference's per-sample ones, they pass
    the finite-difference / complex-step check of the batch loss, and every batch renderer runs."""
    s = net.spec
    per = [reference.gradients(list(s.layers), list(s.activations), s.loss, list(s.weights), list(s.biases), s.bias,
                               list(x), list(t)) for x, t in s.samples]
    k = 1 / len(per) if s.reduction == "mean" else 1.0
    loss = k * sum(p[0] for p in per)
    grads = {**{f"w{i + 1}": k * sum(p[2][i] for p in per) for i in range(len(s.weights))},
             **{f"b{i + 1}": k * sum(p[3][i] for p in per) for i in range(len(s.biases))}}
    assert net.loss() == pytest.approx(loss, rel=1e-9, abs=1e-12)
    for name, g in net.gradients().items():
        assert g == pytest.approx(grads[name], rel=1e-7, abs=1e-10)
    assert derive.check_numeric(net).ok
    d = net.derivation(net.params[0])
    last = float(batch_chain_text(d, net).rstrip().rsplit("= ", 1)[1])
    assert last == pytest.approx(grads[net.params[0]], rel=1e-6, abs=1e-9)
    assert "sample" in batch_gradients_text(net) and batch_steps(d, net).rows
