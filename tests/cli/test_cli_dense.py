"""Values specs past the weight-by-weight limit on the command line (issue 14's size goal): gradients, chain,
train and check --numeric answer in matrix form (numbers against tests/reference.py); every other command
refuses in one line saying which commands take the net."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from derive.cli import main
from derive.core.limits import MAX_SCALAR_WEIGHTS
from reference import gradients as reference_gradients

LAYERS = [50, 30, 20]          # 2,100 weights: just past the scalar limit


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    rng = random.Random(7)
    n_w = sum(a * b for a, b in zip(LAYERS, LAYERS[1:]))
    assert n_w > MAX_SCALAR_WEIGHTS
    values = {"inputs": [rng.uniform(0, 1) for _ in range(LAYERS[0])],
              "targets": [rng.uniform(0.1, 0.9) for _ in range(LAYERS[-1])],
              "weights": [rng.uniform(-0.3, 0.3) for _ in range(n_w)],
              "biases": [rng.uniform(-0.1, 0.1) for _ in range(sum(LAYERS[1:]))]}
    path = tmp_path_factory.mktemp("dense") / "big.toml"
    path.write_text('[network]\nlayers = [50, 30, 20]\nactivations = ["sigmoid", "sigmoid"]\nloss = "half_sse"\n\n'
                    "[values]\n" + "".join(f"{k} = {v!r}\n" for k, v in values.items())
                    + 'learning_rate = 0.5\n\n[hand]\nE_total = "0.5"\n')
    E, _, gw, gb = reference_gradients(LAYERS, ["sigmoid", "sigmoid"], "half_sse", values["weights"], values["biases"],
                                       "per_neuron", values["inputs"], values["targets"])
    return str(path), E, gw + gb


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_gradients_json_in_matrix_form(big, capsys):
    path, E, grads = big
    status, out, _ = run(capsys, "gradients", path, "--json")
    obj = json.loads(out)
    assert status == 0 and obj["form"] == "matrix" and obj["loss"] == pytest.approx(E, rel=1e-12)
    assert len(obj["gradients"]) == len(grads)
    for name, value in zip([f"w{i + 1}" for i in range(2100)] + [f"b{i + 1}" for i in range(50)], grads):
        assert obj["gradients"][name] == pytest.approx(value, rel=1e-10, abs=1e-14), name


def test_gradients_and_chain_text_in_matrix_form(big, capsys):
    path, _, grads = big
    status, out, _ = run(capsys, "gradients", path)
    assert status == 0 and "matrix form: 2100 weights" in out
    status, out, _ = run(capsys, "chain", path, "w1501")          # W2[0, 0]: hidden neuron 1 to output 1
    assert status == 0 and "w1501 is W2[0, 0]: from neuron 1 of layer 1 to neuron 1 of layer 2" in out
    assert out.rstrip().splitlines()[-2].endswith(f"= {grads[1500]:.9f}")
    status, out, _ = run(capsys, "chain", path, "w1", "--json")
    assert status == 0 and json.loads(out)["value"] == pytest.approx(grads[0], rel=1e-10)


def test_train_in_matrix_form_is_one_reference_step(big, capsys):
    path, _, grads = big
    status, out, _ = run(capsys, "train", path, "--epochs", "1", "--json")
    obj = json.loads(out)
    text = open(path).read()
    w1 = float(text.split("weights = [")[1].split(",")[0])
    assert status == 0 and obj["params"]["w1"] == pytest.approx(w1 - 0.5 * grads[0], rel=1e-12)


def test_check_numeric_in_matrix_form(big, capsys):
    path, _, _ = big
    status, out, _ = run(capsys, "check", path, "--numeric")
    assert status == 0 and "1000 gradients: all agree" in out and "[hand]: not checked" in out


@pytest.mark.parametrize("argv", [["check"], ["latex", "w1"], ["notes", "-o", "NOTES"], ["sweep", "--lr", "0.1,0.2"],
                                  ["check-code", "x.py:f", "--form", "matrices"], ["chain", "w1", "--prove"]])
def test_the_other_commands_refuse_in_one_line(big, tmp_path, capsys, argv):
    path, _, _ = big
    argv = [str(tmp_path / "n.md") if a == "NOTES" else a for a in argv]
    status, out, err = run(capsys, argv[0], path, *argv[1:])
    assert status == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "2000 weights" in err


USER = """import numpy as np
X = np.array({x})
T = np.array({t})


def gradients(params):
    w1 = np.array([params[f"w{{i + 1}}"] for i in range(1500)]).reshape(30, 50)
    w2 = np.array([params[f"w{{i + 1501}}"] for i in range(600)]).reshape(20, 30)
    b1 = np.array([params[f"b{{i + 1}}"] for i in range(30)])
    b2 = np.array([params[f"b{{i + 31}}"] for i in range(20)])
    a1 = 1 / (1 + np.exp(-(w1 @ X + b1)))
    a2 = 1 / (1 + np.exp(-(w2 @ a1 + b2)))
    d2 = (a2 - T) * a2 * (1 - a2){bug}
    d1 = (w2.T @ d2) * a1 * (1 - a1)
    g = np.concatenate([np.outer(d1, X).ravel(), np.outer(d2, a1).ravel(), d1, d2])
    return {{name: float(v) for name, v in zip([f"w{{i + 1}}" for i in range(2100)] + [f"b{{i + 1}}" for i in range(50)], g)}}
"""


@pytest.mark.parametrize("bug, status", [("", 0), (" * 2", 1)])
def test_check_code_in_matrix_form(big, tmp_path, capsys, bug, status):
    path, _, _ = big
    text = open(path).read()
    x = text.split("inputs = ")[1].split("\n")[0]
    t = text.split("targets = ")[1].split("\n")[0]
    code = tmp_path / "mine.py"
    code.write_text(USER.format(x=x, t=t, bug=bug))
    got, out, err = run(capsys, "check-code", path, f"{code}:gradients", "--points", "1", "--json")
    obj = json.loads(out)
    assert got == status and obj["form"] == "matrix" and obj["agree"] is (status == 0), err
    if status:
        assert obj["params"]["w2100"]["got"] == pytest.approx(2 * obj["params"]["w2100"]["expected"], rel=1e-9)


# --- the issue's own shapes: [50] * 40 (97,500 weights, 39 deep) and [1, 100000] ran past 2 minutes in
# every command; now the matrix form answers, checked against tests/reference.py ----------------------

def _issue_spec(tmp_path, layers, bias):
    rng = random.Random(3)
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    values = {"inputs": [round(rng.uniform(0, 1), 3) for _ in range(layers[0])],
              "targets": [round(rng.uniform(0.1, 0.9), 2) for _ in range(layers[-1])],
              "weights": [round(rng.uniform(-0.3, 0.3), 2) for _ in range(n_w)],
              "biases": [round(rng.uniform(-0.1, 0.1), 3) for _ in range(sum(layers[1:]))] if bias else []}
    path = tmp_path / "issue.toml"
    path.write_text(f"[network]\nlayers = {layers}\nactivations = {['sigmoid'] * (len(layers) - 1)}\n"
                    f'loss = "half_sse"\nbias = "{"per_neuron" if bias else "none"}"\n\n[values]\n'
                    + "".join(f"{k} = {v!r}\n" for k, v in values.items() if v) + "learning_rate = 0.5\n")
    if len(layers) == 2 and not bias:      # one sigmoid layer: o = σ(w x), ∂E/∂w = (o − t) o (1 − o) x, by hand
        x, t, w = values["inputs"][0], np.array(values["targets"]), np.array(values["weights"])
        o = 1 / (1 + np.exp(-w * x))        # (tests/reference.py builds a 100,000² output Jacobian here)
        return str(path), 0.5 * float(np.sum((o - t) ** 2)), list((o - t) * o * (1 - o) * x)
    E, _, gw, gb = reference_gradients(layers, ["sigmoid"] * (len(layers) - 1), "half_sse", values["weights"],
                                       values["biases"], "per_neuron" if bias else "none", values["inputs"],
                                       values["targets"])
    return str(path), E, gw + gb


@pytest.mark.parametrize("layers, bias", [([50] * 40, True), ([1, 100_000], False)], ids=["50x40", "1-100000"])
def test_the_issues_large_shapes_answer_in_matrix_form(tmp_path, capsys, layers, bias):
    path, E, grads = _issue_spec(tmp_path, layers, bias)
    status, out, _ = run(capsys, "gradients", path, "--json")
    obj = json.loads(out)
    assert status == 0 and obj["form"] == "matrix" and obj["loss"] == pytest.approx(E, rel=1e-12)
    got = list(obj["gradients"].values())
    assert len(got) == len(grads)
    for i in sorted({0, 1, len(grads) // 2, len(grads) - 1}):
        assert got[i] == pytest.approx(grads[i], rel=1e-9, abs=1e-300), i
    assert run(capsys, "train", path, "--epochs", "2")[0] == 0
    status, _, err = run(capsys, "notes", path, "-o", str(tmp_path / "n.md"))
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err
